"""``zoo.load(name, features_only=True, out_indices=...)``: a CNN's feature maps at each scale, as a list.

What a detector or segmenter wants from a backbone is the last feature map at each stride (2, 4, 8, 16,
32). timm models say where those are (``model.feature_info``: module, channels, reduction), and zoo uses
timm's own list. For the other CNNs the levels are found from the network itself: one forward pass on a
fake tensor (FakeTensorMode: shapes only, no arithmetic) records each module's output shape, and at each
stride the level is the last module to finish *at the shallowest depth* that has an output at that stride
(``layer1`` of a ResNet, ``denseblock2`` of a DenseNet, ``Mixed_6e`` of Inception; not the first conv of
the next stage, which still runs at the old stride inside the block that downsamples). The model returned
is torchvision's ``create_feature_extractor`` over those modules (a ``torch.fx.GraphModule``, so it prints,
traces, exports and compiles), ending in a list instead of a dict, as timm's ``features_only`` models do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.errors import ZooError
from zoo.utils.modes import in_mode

#: Families features_only does not serve, and why: transformers (no (N, C, H, W) maps at growing strides)
#: and zoo-keras' networks (Keras layers do not trace with torch.fx).
UNSUPPORTED = {"vision_transformer": "a ViT has one scale of tokens", "swin_transformer": "Swin's maps are channels-last",
               "maxvit": "MaxViT's blocks are windowed attention", "keras": "Keras layers do not trace with torch.fx"}  # fmt: skip


@dataclass(frozen=True)
class FeatureLevel:
    """One returned feature map: ``index`` into the model's levels, the module it is the output of, its
    channels and its reduction (input size / map size)."""

    index: int
    module: str
    channels: int
    reduction: int


def load(name: str, *, features_only: Any = False, out_indices: Any = None, **options: Any) -> nn.Module:
    """``zoo.load`` with ``features_only``/``out_indices``: the application without its top, cut into levels."""
    import zoo

    if not isinstance(features_only, bool):
        raise ZooError(f"features_only must be True or False, got {features_only!r}.")
    if not features_only:
        raise ZooError("out_indices picks feature levels; it needs features_only=True.")
    from zoo.applications import contract

    options = contract.normalize(options)  # Keras' classes= is num_classes=
    for option in ("include_top", "pooling", "num_classes"):
        if options.get(option) not in (None, False) or (
            option == "include_top" and options.get(option) is False
        ):
            raise ZooError(
                f"features_only=True returns the feature maps, so {option}= does not apply; drop it."
            )
    entry = zoo.plugins.get_registry().lookup("applications", name)
    contract.check(entry, {"features_only": True, **options, "include_top": False})  # supported at all?
    facts = entry.describe()
    family = facts.get("family")
    if family in UNSUPPORTED:
        raise ZooError(
            f"{facts['name']}: features_only does not serve it ({UNSUPPORTED[family]}); it is for CNNs."
        )
    size = facts.get("input_size") or 224
    size = int(size if isinstance(size, int) else size[-1])
    try:
        model = zoo.get("applications", name, include_top=False, **options)
    except ZooError:
        raise  # already says what is wrong (an option the application does not take, ...)
    except (TypeError, ValueError) as exc:
        raise ZooError(
            f"{facts['name']}: features_only cuts the model without its top, which it does not build ({exc})."
        ) from None
    extractor = extract(model, out_indices, name=facts["name"], size=size)
    if getattr(extractor, "zoo", None) is not None:  # what rebuilds it (zoo.save_pretrained): these levels
        kept = {k: v for k, v in extractor.zoo.load_options.items() if k != "include_top"}
        chosen = [level.index for level in extractor.zoo.feature_info]
        extractor.zoo.load_options = {**kept, "features_only": True, "out_indices": chosen}
    if options.get("trainable") is False:  # a new root module: freeze it again, BatchNorm kept in eval
        zoo.freeze(extractor)
    return extractor


def extract(model: nn.Module, out_indices: Sequence[int] | None, *, name: str, size: int) -> nn.Module:
    """The feature-extractor view of ``model`` (built without its top); ``model.zoo`` carries over, with
    ``feature_info`` the list of returned :class:`FeatureLevel`."""
    from torchvision.models.feature_extraction import create_feature_extractor

    levels = feature_levels(model, size=size)
    if not levels:
        raise ZooError(f"{name} has no (N, C, H, W) feature maps to return; features_only is for CNNs.")
    chosen = select(levels, out_indices, name=name)
    try:
        extractor = create_feature_extractor(
            model, return_nodes={level.module: str(level.index) for level in chosen}
        )
    except Exception as exc:  # noqa: BLE001 - fx tracing fails in many ways; say which model and why
        raise ZooError(
            f"{name}: cannot trace the network to cut out its feature maps ({type(exc).__name__}: {exc})."
        ) from None
    _return_a_list(extractor)
    _take_input_checks(model, extractor)
    info = getattr(model, "zoo", None)
    if info is not None:
        import dataclasses

        extractor.zoo = dataclasses.replace(info, include_top=False, pooling=None, feature_info=list(chosen))  # type: ignore[assignment]
    return extractor


def feature_levels(model: nn.Module, *, size: int) -> list[FeatureLevel]:
    """Every level the model has, finest first: timm's ``feature_info`` when the model carries it, else
    found from a shape-only forward pass (see the module's docstring)."""
    timm_info = getattr(model, "feature_info", None)
    if isinstance(timm_info, list) and timm_info and isinstance(timm_info[0], dict):
        return [
            FeatureLevel(i, f["module"], int(f["num_chs"]), int(f["reduction"]))
            for i, f in enumerate(timm_info)
        ]
    outputs = _output_shapes(model, size)
    best: dict[int, tuple[int, str, int]] = {}  # reduction -> (depth, module, channels) of the chosen output
    for module, channels, height in outputs:
        if height <= 1:  # a global pool: no longer a map
            continue
        reduction = 2 ** round(math.log2(size / height))
        depth = module.count(".")
        if reduction not in best or depth <= best[reduction][0]:
            best[reduction] = (depth, module, channels)
    return [FeatureLevel(i, best[r][1], best[r][2], r) for i, r in enumerate(sorted(best))]


def select(levels: list[FeatureLevel], out_indices: Sequence[int] | None, *, name: str) -> list[FeatureLevel]:
    """``out_indices`` (default: every level) into ``levels``; negative ones count from the end. An index
    out of range is an error listing the levels (timm#2242 drops them silently)."""
    if out_indices is None:
        return levels
    if isinstance(out_indices, int) and not isinstance(out_indices, bool):
        out_indices = (out_indices,)
    if isinstance(out_indices, (str, bytes)) or not isinstance(out_indices, Sequence) or not out_indices:
        raise ZooError(f"out_indices must be a non-empty sequence of level indices, got {out_indices!r}.")
    described = ", ".join(f"{lv.index}: {lv.module} ({lv.channels} ch, /{lv.reduction})" for lv in levels)
    picked: list[FeatureLevel] = []
    for index in out_indices:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ZooError(f"out_indices holds {index!r}; give whole numbers.")
        if not -len(levels) <= index < len(levels):
            raise ZooError(
                f"{name} has {len(levels)} feature levels (0..{len(levels) - 1}, or -{len(levels)}..-1), "
                f"so out_indices={tuple(out_indices)} cannot take {index}. Its levels: {described}."
            )
        level = levels[index]
        if level in picked:
            raise ZooError(f"out_indices names level {level.index} twice ({tuple(out_indices)}).")
        picked.append(level)
    return sorted(picked, key=lambda lv: lv.index)


def _output_shapes(model: nn.Module, size: int) -> list[tuple[str, int, int]]:
    """(module, channels, height) of every 4-D output, in the order the modules finish."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    names = {module: name for name, module in model.named_modules() if name}
    seen: list[tuple[str, int, int]] = []

    def record(module: nn.Module, args: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor) and out.ndim == 4:
            seen.append((names[module], int(out.shape[1]), int(out.shape[-2])))

    handles = [module.register_forward_hook(record) for module in names]
    try:
        with in_mode(model, False), FakeTensorMode(allow_non_fake_inputs=True) as mode, torch.no_grad():
            model(mode.from_tensor(torch.zeros(1, 3, size, size)))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def _take_input_checks(model: nn.Module, extractor: nn.Module) -> None:
    """The extractor is a new root module, so the model's forward pre-hooks (zoo.load's input checks: the
    size, channels-last, channel count and dtype watches) would be lost; it takes the model's input, so they
    are its own. They find the stem by its path, which the extractor keeps."""
    with_kwargs = model._forward_pre_hooks_with_kwargs
    for hook_id, hook in model._forward_pre_hooks.items():
        extractor.register_forward_pre_hook(hook, with_kwargs=hook_id in with_kwargs)


def _return_a_list(extractor: torch.fx.GraphModule) -> None:
    """create_feature_extractor returns a dict {index: map}; timm's features_only models return a list."""
    graph = extractor.graph
    output = next(node for node in graph.nodes if node.op == "output")
    maps = output.args[0]
    output.args = ([maps[key] for key in sorted(maps, key=int)],)
    graph.lint()
    extractor.recompile()
