"""``zoo.load(name, ...)``: a torchvision architecture with keras.applications options, built on the meta
device and filled with memory-mapped weights.

Order of work: resolve which weights (a variant of the table, a file, a URL, or none); read the file's
tensors (``weights_only``, ``mmap``); build the architecture without allocating weights; *assign* the
tensors; then adapt (drop the top, pool, resize the head, freeze) and attach ``model.zoo``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo._gc import without_gc
from zoo.applications import families, table
from zoo.applications.freezing import freeze, freeze_except
from zoo.applications.info import ModelInfo
from zoo.applications.loading import (
    MissingWeightsFileError,
    WeightsFileError,
    load_state_dict,
    rename_legacy_keys,
    with_metadata,
)
from zoo.applications.local_weights import choose_preprocessing, file_sha256
from zoo.applications.meta import empty_weights, meta_tensors
from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._tracing import is_tracing

log = logging.getLogger("zoo.applications")


@dataclass
class ChosenWeights:
    """The weights chosen: facts of a variant (or the default's, for files), and where they are.

    Public so that a plugin's builder (zoo-timm) resolves into the same shape and can ``finish`` with it.
    """

    tag: str | None
    facts: dict[str, Any]
    path: Path | None
    source: str | None
    sha256: str | None


@without_gc  # constructing a network is an allocation burst (zoo/_gc.py says why)
def build(
    arch: str,
    *,
    weights: str | os.PathLike[str] | None = "imagenet",
    include_top: bool = True,
    pooling: str | None = None,
    num_classes: int | None = None,
    trainable: bool = True,
    progress: bool | None = None,
    sha256: str | None = None,
    name: str | None = None,
    preprocessing: str | dict[str, Any] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build ``arch`` (a torchvision model name) the keras.applications way; see ``zoo.load``.

    ``preprocessing`` (a variant tag, or a dict of preprocessing keys) says how the images for a weights
    file or URL must be prepared; by default, as for the recommended variant.

    Extra ``kwargs`` go to the torchvision builder (e.g. ``dropout=0.3``); they override the arguments the
    weights need, so use them knowingly.
    """
    options = dict(weights=weights, include_top=include_top, pooling=pooling, num_classes=num_classes,
                   trainable=trainable, progress=progress, sha256=sha256, **kwargs)  # fmt: skip
    check_options(include_top, pooling, num_classes, trainable)
    arch_facts = table.architecture(arch)
    spec = families.family(arch_facts["family"])
    chosen = _resolve_weights(arch, weights, progress=progress, sha256=sha256)
    chosen = _with_preprocessing(arch, chosen, preprocessing)

    import torchvision.models

    builder = getattr(torchvision.models, arch)
    if chosen.path is not None and chosen.facts["categories"] is None and include_top and num_classes is None:
        raise OptionError(
            f"{arch} weights {chosen.tag} hold only the convolutional features (their classifier is not "
            "trained): pass include_top=False, or num_classes=N for a new classifier."
        )
    new_head: nn.Module | None = None
    dropped: list[str] = []
    if chosen.path is None:
        model = _build_random(builder, spec, num_classes, kwargs)
    else:
        model, new_head, dropped = _build_pretrained(
            arch, builder, spec, chosen, num_classes, include_top, kwargs
        )

    full_keys = list(model.state_dict())
    if not include_top:
        model = families.FeatureExtractor(model, arch_facts["family"], pooling)
        kept = set(model.state_dict())
        dropped += [k for k in full_keys if k not in kept and k not in dropped]
    min_size = tuple(chosen.facts["min_size"])
    custom = kwargs.get("image_size", kwargs.get("input_size"))  # a ViT/MaxViT built for another size
    if custom is not None:
        min_size = tuple(custom) if isinstance(custom, (tuple, list)) else (custom, custom)
    categories = chosen.facts["categories"] if chosen.path and num_classes is None and include_top else None
    return finish(
        model, name=name or arch, chosen=chosen, options=options, new_head=new_head, dropped=dropped,
        categories=table.categories(categories) if categories else None,
        preprocessing=chosen.facts["preprocessing"], min_size=min_size, fixed_size=spec.fixed_size,
    )  # fmt: skip


def finish(
    model: nn.Module,
    *,
    name: str,
    chosen: ChosenWeights,
    options: dict[str, Any],
    new_head: nn.Module | None,
    dropped: list[str],
    categories: list[str] | None,
    preprocessing: dict[str, Any],
    min_size: tuple[int, int],
    fixed_size: bool = False,
    check_size: bool = True,
) -> nn.Module:
    """The steps every application builder ends with, shared so that a plugin's models (zoo-timm) behave
    exactly like the built-ins: eval mode, freezing that spares a new head, the input-size check (unless
    ``check_size`` is False: a size the builder only guesses), ``model.zoo``, and the ``zoo_model_built`` hook.

    ``options`` are the keyword arguments of the ``zoo.load`` call, for the hook.
    """
    model.eval()
    if not options.get("trainable", True):
        if new_head is not None:
            freeze_except(model, new_head)
        else:
            freeze(model)
    if check_size:
        model.register_forward_pre_hook(InputSizeCheck(name, tuple(min_size), fixed_size))  # type: ignore[arg-type]
    model.zoo = ModelInfo(  # type: ignore[assignment]
        name=name,
        weights=chosen.tag,
        sha256=chosen.sha256,
        source=chosen.source,
        categories=categories,
        preprocessing=preprocessing,
        min_size=min_size,
        dropped_keys=dropped if chosen.path else [],
        include_top=options.get("include_top", True),
        pooling=options.get("pooling"),
        load_options={k: v for k, v in options.items() if k not in _NOT_REBUILDING and v is not None},
    )
    from zoo.applications.contract import core_fires_hook

    if not core_fires_hook():  # inside zoo.load the core fires it, once, for every application
        from zoo.plugins import get_plugin_manager

        get_plugin_manager().call_each("zoo_model_built", model=model, name=name, options=options)
    return model


_NOT_REBUILDING = {"weights", "progress", "sha256", "preprocessing", "trainable"}


def check_options(include_top: Any, pooling: Any, num_classes: Any, trainable: Any) -> None:
    """The keras.applications options checked up front, before any download or build: the contract's one
    rule (:func:`zoo.applications.contract.check_values`), for builders called outside ``zoo.load``."""
    from zoo.applications.contract import check_values

    check_values(dict(include_top=include_top, pooling=pooling, num_classes=num_classes, trainable=trainable))


def _resolve_weights(arch: str, weights: Any, *, progress: bool | None, sha256: str | None) -> ChosenWeights:
    facts = table.architecture(arch)
    default = facts["weights"][facts["default_weights"]]
    if weights is None:
        return ChosenWeights(None, default, None, None, None)
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if not isinstance(weights, str) and isinstance(getattr(weights, "url", None), str):
        # a torchvision Weights enum member: take the variant with the same file
        filename = weights.url.rsplit("/", 1)[-1]
        tag = next((t for t, v in facts["weights"].items() if v["filename"] == filename), None)
        if tag is None:
            raise OptionError(
                f"{weights!r} are not weights of {arch}; its variants are {', '.join(facts['weights'])}."
            )
        weights = tag
    if not isinstance(weights, str):
        raise ArgumentError(
            "weights must be 'imagenet', a variant tag, None, a file path or a URL, "
            f"got {type(weights).__name__}."
        )
    if "://" in weights:
        return _from_url(arch, weights, progress=progress, sha256=sha256)
    tag = table.find_variant(arch, weights)
    if tag is not None:
        variant = facts["weights"][tag]
        return _from_url(arch, variant["url"], progress=progress, sha256=sha256, tag=tag)
    path = Path(weights).expanduser()
    if path.is_file():
        tag = table.variant_for_file(arch, path.name)  # a file named as a published variant's is that variant
        digest = file_sha256(path)
        _check_local_hash(path, digest, sha256)
        return ChosenWeights(tag, facts["weights"][tag] if tag else default, path, str(path), digest)
    looks_like_path = os.sep in weights or "." in weights or (os.altsep or os.sep) in weights
    if path.is_dir():
        raise WeightsFileError(
            f"weights {weights!r} is a folder, not a weights file; give the path of a saved state dict "
            "(a folder zoo.save_pretrained wrote loads with zoo.load(FOLDER))."
        )
    if looks_like_path:
        raise MissingWeightsFileError(
            f"weights file {weights!r} does not exist; give the path of a saved state dict."
        )
    variants = ", ".join(facts["weights"])
    raise OptionError(
        f"{arch} has no weights {weights!r}: use 'imagenet' (the recommended {facts['default_weights']}), "
        f"one of {variants}, None for random initialisation, a file path or a URL."
    )


def _check_local_hash(path: Path, digest: str, sha256: str | None) -> None:
    from zoo.errors import IntegrityError
    from zoo.hub.hashes import expected

    want = expected(sha256, None)
    if want is not None and not want.matches(digest):
        raise IntegrityError(
            f"{path} has sha256 {digest}, but sha256={sha256!r} was given: it is not the file meant."
        )


def _with_preprocessing(
    arch: str, chosen: ChosenWeights, requested: str | dict[str, Any] | None
) -> ChosenWeights:
    if requested is None:
        return chosen
    variants = table.architecture(arch)["weights"]
    tag, prep = choose_preprocessing(
        requested, chosen.facts["preprocessing"],
        lambda t: variants[found]["preprocessing"] if (found := table.find_variant(arch, t)) else None,
        arch, list(variants),
    )  # fmt: skip
    if tag is not None:
        tag = table.find_variant(arch, tag)
        return ChosenWeights(tag, variants[tag], chosen.path, chosen.source, chosen.sha256)
    return ChosenWeights(
        chosen.tag, {**chosen.facts, "preprocessing": prep}, chosen.path, chosen.source, chosen.sha256
    )


def _from_url(
    arch: str, url: str, *, progress: bool | None, sha256: str | None, tag: str | None = None
) -> ChosenWeights:
    """Fetch through zoo's cache; a URL of a known variant gets that variant's hash and facts."""
    from zoo import hub

    facts = table.architecture(arch)
    if tag is None:
        tag = next((t for t, v in facts["weights"].items() if v["url"] == url), None)
    variant = facts["weights"][tag] if tag else facts["weights"][facts["default_weights"]]
    if tag is not None:
        path = hub.fetch([variant["url"]], sha256=sha256 or variant["sha256"], size=variant["size"],
                         filename=variant["filename"], progress=progress, entry=arch)  # fmt: skip
    else:
        path = hub.fetch([url], sha256=sha256, progress=progress, entry=arch)
    digest = hub.content_sha256(path) or sha256 or (variant["sha256"] if tag else None)
    return ChosenWeights(tag, variant, path, variant["url"] if tag else url, digest)


def _build_pretrained(
    arch: str,
    builder: Any,
    spec: families.Family,
    chosen: ChosenWeights,
    num_classes: int | None,
    include_top: bool,
    kwargs: dict[str, Any],
) -> tuple[nn.Module, nn.Module | None, list[str]]:
    """Meta-device build + assigned, memory-mapped tensors; then a new head when ``num_classes`` asks.

    With ``include_top=False`` or ``num_classes``, a file may lack the parts that are replaced or cut off
    (a backbone-only checkpoint, as self-supervised and detection backbones ship). Returns the model, the
    new head (or None) and the pretrained keys the new head replaced.
    """
    state = rename_legacy_keys(load_state_dict(chosen.path), table.architecture(arch)["family"])  # type: ignore[arg-type]
    config = {**chosen.facts["build"], **kwargs}
    if spec.aux:  # zoo drops auxiliary classifiers: skip building them and their keys in the file
        config["aux_logits"] = False
        state = with_metadata({k: v for k, v in state.items() if k.split(".", 1)[0] not in spec.aux}, state)
    head_key = f"{spec.classifier}.weight"
    swap = num_classes is not None
    if swap and head_key in state and state[head_key].shape[0] == num_classes:
        config["num_classes"], swap = num_classes, False  # the file already has this head
    with empty_weights(tensor_math_in_init=spec.tensor_math_in_init):
        model = builder(weights=None, **config)
    optional = _replaced_keys(model, spec, arch, include_top, num_classes)
    assign_weights(model, state, name=arch, source=chosen.source, optional=optional)
    absent = [k for k in optional if k not in state]
    if absent:
        log.info("%s: %s has no %s (%d keys: %s); loaded as a backbone", arch, chosen.source,
                 "classifier" if num_classes is not None else "top", len(absent), ", ".join(absent[:4]))  # fmt: skip
    if not swap:
        return model, None, []
    new_head, dropped = families.replace_classifier(model, spec.classifier, num_classes,  # type: ignore[arg-type]
                                                    device="cpu" if absent else None)  # fmt: skip
    dropped = [k for k in dropped if k in state]  # a head the file lacked was never pretrained
    log.info(
        "%s: new %d-way classifier %r; dropped pretrained keys %s",
        arch,
        num_classes,
        spec.classifier,
        dropped,
    )
    return model, new_head, dropped


def _replaced_keys(
    model: nn.Module, spec: families.Family, arch: str, include_top: bool, num_classes: int | None
) -> list[str]:
    """Keys the result will not use: the classifier a new head replaces, or all a feature extractor cuts."""
    tensors = model.state_dict(keep_vars=True)
    if not include_top:
        extractor = families.FeatureExtractor(model, table.architecture(arch)["family"])
        kept = {id(t) for t in extractor.state_dict(keep_vars=True).values()}
        return [k for k, t in tensors.items() if id(t) not in kept]
    if num_classes is not None:
        return [k for k in tensors if k.startswith(spec.classifier + ".")]
    return []


def _build_random(
    builder: Any, spec: families.Family, num_classes: int | None, kwargs: dict[str, Any]
) -> nn.Module:
    """``weights=None``: torchvision's own initialisation, without the auxiliary heads (one output tensor)."""
    config: dict[str, Any] = {}
    if spec.aux:
        config.update(aux_logits=False, init_weights=True)
    if num_classes is not None:
        config["num_classes"] = num_classes
    return builder(weights=None, **{**config, **kwargs})


def assign_weights(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    *,
    name: str,
    source: str | None,
    optional: Collection[str] = (),
) -> None:
    """Assign ``state``'s tensors into ``model`` (built under ``empty_weights``): every key must fit and no
    tensor may stay on the meta device, except the ``optional`` keys (parts the caller replaces or cuts
    off), which the file may lack; anything else is a :class:`WeightsFileError` naming ``source``."""
    expected = model.state_dict(keep_vars=True)
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected]
    shapes = [k for k in state if k in expected and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or shapes:
        raise WeightsFileError(_mismatch(name, source, state, missing, unexpected, shapes, expected))
    model.load_state_dict(in_model_dtypes(state, expected, source), strict=False, assign=True)
    left = [k for k in meta_tensors(model) if k not in optional]
    if left:
        raise WeightsFileError(f"the weights in {source} leave {name} tensors unset: {', '.join(left[:5])}")


def in_model_dtypes(
    state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], source: object
) -> dict[str, torch.Tensor]:
    """``state`` with every tensor in the dtype of the model's own: ``assign=True`` would otherwise hand a
    float16 checkpoint's dtype to the model (which then fails at its first float32 input), where
    ``load_state_dict``'s copy converts. A float where the model keeps integers, or the reverse, is no
    precision choice but a wrong file."""
    cast = {}
    for key, tensor in state.items():
        if key not in expected or not isinstance(tensor, torch.Tensor):
            continue  # the caller's key check reports it
        want = expected[key].dtype
        if tensor.dtype == want:
            continue
        if tensor.is_floating_point() != want.is_floating_point or tensor.is_complex() != want.is_complex:
            raise WeightsFileError(
                f"the weights in {source} hold {key} as {tensor.dtype}, where the model keeps {want}: "
                "is this a weights file of this architecture?"
            )
        cast[key] = tensor.to(want)
    return {**state, **cast}


def _mismatch(
    name: str,
    source: str | None,
    state: dict[str, torch.Tensor],
    missing: list[str],
    unexpected: list[str],
    shapes: list[str],
    expected: dict[str, torch.Tensor],
) -> str:
    from zoo.applications import signatures

    text = f"the weights in {source} do not fit {name}: {mismatch_summary(state, missing, unexpected, shapes, expected)}."
    fits = signatures.fitting(state, exclude=name)
    if fits:
        text += (
            " They fit " + "; ".join(f"{arch} {how}" for arch, how in fits[:3]) + " - is the file for that?"
        )
    return text + (
        " For a checkpoint with another classifier size pass num_classes=N; for one without a classifier, "
        "include_top=False (or num_classes=N for a new head)."
    )


def mismatch_summary(
    state: Mapping[str, Any], missing: list[str], unexpected: list[str], shapes: list[str],
    expected: Mapping[str, Any],
) -> str:
    """``3 missing keys (a, b, c); 1 tensors of other shapes (fc.weight: file (10, 4) vs model (5, 4))``:
    the one wording of a state dict that does not fit a model, for every reader of weights files."""
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({_few(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({_few(unexpected)})")
    if shapes:
        shown = ", ".join(
            f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}" for k in shapes[:3]
        )
        parts.append(f"{len(shapes)} tensors of other shapes ({shown}{', ...' if len(shapes) > 3 else ''})")
    return "; ".join(parts)


def _few(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (f", ... {len(keys) - n} more" if len(keys) > n else "")


class InputSizeCheck:
    """Forward pre-hook: a too-small image (or, for a fixed-size architecture such as ViT, one of another
    size) fails here with a clear message, not deep inside a conv. ``zoo.load(..., input_shape=...)``
    asks the same of the shape before the model is returned (:meth:`check_size`)."""

    def __init__(self, name: str, min_size: tuple[int, int], fixed: bool) -> None:
        self.name, self.min_size, self.fixed = name, min_size, fixed

    def __call__(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if is_tracing():  # sizes are symbolic or traced values there; the eager call checked them
            return
        if not args or not isinstance(args[0], torch.Tensor) or args[0].ndim != 4:
            shape = tuple(args[0].shape) if args and isinstance(args[0], torch.Tensor) else None
            raise DataError(
                f"{self.name} expects a batch of images shaped (N, C, H, W), got {shape or type(args[0]).__name__}."
            )
        h, w = args[0].shape[-2:]
        self.check_size(h, w)

    def check_size(self, h: int, w: int) -> None:
        min_h, min_w = self.min_size
        if self.fixed:
            if (h, w) != (min_h, min_w):
                raise DataError(f"{self.name} takes {min_h}x{min_w} images only, got {h}x{w}; resize them first "
                                 "(model.zoo.transforms() does).")  # fmt: skip
        elif h < min_h or w < min_w:
            raise DataError(
                f"{self.name} needs images of at least {min_h}x{min_w} pixels, got {h}x{w}; resize them "
                "first (model.zoo.transforms() does)."
            )
