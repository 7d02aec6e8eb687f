"""``zoo.load("timm:NAME", ...)``: a timm architecture with keras.applications options, its weights
fetched through zoo's cache.

The weights are timm's own: the file of a pretrained config (Hugging Face Hub or release URL), read
with ``weights_only``/safetensors, then handed to timm's ``load_pretrained`` so that timm's checkpoint
filter, input-conv adaptation and label offset apply exactly as in ``timm.create_model(pretrained=True)``.
The model is built with its parameters on the meta device and the file's tensors are *assigned*, which
skips timm's random initialisation of weights that are overwritten at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import nn

import zoo
from zoo.plugin import (
    ChosenWeights,
    WeightsFileError,
    check_options,
    choose_preprocessing,
    content_sha256,
    empty_weights,
    fetch,
    fetch_spec,
    file_sha256,
    finish,
    in_model_dtypes,
    load_state_dict,
    means_default_weights,
    meta_tensors,
    without_gc,
)
from zoo_timm import catalogue

log = logging.getLogger("zoo_timm")
_build_lock = threading.Lock()


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
    """Build timm's ``arch`` the keras.applications way; see ``zoo.load`` and the README's timm section.

    ``weights`` is ``"imagenet"`` (timm's default pretrained config), a config tag such as ``"a1_in1k"``,
    None (random), a local file or a URL. Extra ``kwargs`` go to ``timm.create_model`` (e.g.
    ``drop_rate=0.2``, ``in_chans=1``).
    """
    options = dict(weights=weights, include_top=include_top, pooling=pooling, num_classes=num_classes,
                   trainable=trainable, progress=progress, sha256=sha256, **kwargs)  # fmt: skip
    check_options(include_top, pooling, num_classes, trainable)
    label = name or f"timm:{arch}"
    chosen = resolve_weights(arch, weights, progress=progress, sha256=sha256)
    chosen = _with_preprocessing(arch, chosen, preprocessing, label)
    if chosen.path is not None and chosen.facts["num_classes"] == 0 and include_top and num_classes is None:
        raise zoo.OptionError(
            f"{label} weights {chosen.tag} hold only features (no classifier): pass include_top=False, or "
            "num_classes=N for a new classifier."
        )
    full_name = f"{arch}.{chosen.tag}" if chosen.tag else arch
    new_head: nn.Module | None = None
    dropped: list[str] = []
    if chosen.path is None:
        import timm

        model = timm.create_model(full_name, pretrained=False, **_with(kwargs, num_classes=num_classes))
    else:
        model = load_pretrained(
            full_name, chosen.path, custom_load=chosen.facts.get("custom_load", False), **kwargs
        )
        if num_classes is not None and num_classes != model.num_classes:
            new_head, dropped = _new_classifier(model, num_classes)
            log.info("%s: new %d-way classifier; dropped pretrained keys %s", label, num_classes, dropped)

    if not include_top:
        before = set(model.state_dict())
        model.reset_classifier(0, global_pool=pooling or "")
        dropped += sorted(before - set(model.state_dict()) - set(dropped))
    facts = chosen.facts
    size = tuple(facts["input_size"][-2:])
    fixed = bool(facts.get("fixed_input_size"))
    known_min = facts.get("min_input_size")
    min_size = size if fixed else tuple(known_min[-2:]) if known_min else (32, 32)
    categories = _categories(model, facts) if chosen.path and num_classes is None and include_top else None
    return finish(
        model, name=label, chosen=chosen, options=options, new_head=new_head, dropped=dropped,
        categories=categories, preprocessing=facts.get("zoo_preprocessing") or preprocessing_of(facts),
        min_size=min_size,  # type: ignore[arg-type]
        fixed_size=fixed, check_size=fixed or bool(known_min),
    )  # fmt: skip


def _with(kwargs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**kwargs, **{k: v for k, v in extra.items() if v is not None}}


# -- which weights ---------------------------------------------------------------------------------------
def find_variant(arch: str, weights: str) -> str | None:
    """The config tag ``weights`` names: ``imagenet``/``DEFAULT`` = timm's default, a tag, or ``arch.tag``."""
    facts = catalogue.architecture(arch)
    spelled = weights.strip()
    if means_default_weights(spelled):
        return facts["default_weights"]
    if spelled.lower().startswith(arch.lower() + "."):
        spelled = spelled[len(arch) + 1 :]
    return next((t for t in facts["weights"] if t.lower() == spelled.lower()), None)


def resolve_weights(
    arch: str, weights: Any, *, progress: bool | None = None, sha256: str | None = None
) -> ChosenWeights:
    facts = catalogue.architecture(arch)
    tag = facts["default_weights"]
    default = facts["weights"][tag] if tag else facts["defaults"]
    if weights is None:
        return ChosenWeights(None, default, None, None, None)
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if not isinstance(weights, str):
        raise zoo.ArgumentError(
            f"weights must be 'imagenet', a config tag, None, a file path or a URL, got {type(weights).__name__}."
        )
    if "://" in weights:
        path = fetch([weights], sha256=sha256, progress=progress, entry=f"timm:{arch}")
        return ChosenWeights(tag, default, path, weights, content_sha256(path) or sha256)
    found = find_variant(arch, weights)
    if found is not None:
        path, spec = fetch_variant(arch, found, progress=progress, sha256=sha256)
        return ChosenWeights(
            found, facts["weights"][found], path, spec["url"], content_sha256(path) or sha256
        )
    path = Path(weights).expanduser()
    if path.is_file():  # a local file: no config tag (unless preprocessing= names one), its own digest
        return ChosenWeights(None, default, path, str(path), file_sha256(path))
    if means_default_weights(weights):
        raise zoo.OptionError(
            f"timm has no pretrained weights for {arch}: pass weights=None for random initialisation."
        )
    if (
        os.sep in weights
        or (os.altsep and os.altsep in weights)
        or weights.endswith((".pth", ".bin", ".safetensors"))
    ):
        raise WeightsFileError(
            f"weights file {weights!r} does not exist; give the path of a saved state dict."
        )
    tags = ", ".join(facts["weights"]) or "none"
    raise zoo.OptionError(
        f"timm:{arch} has no weights {weights!r}: use 'imagenet' (timm's default, {tag}), one of its config "
        f"tags ({tags}), None for random initialisation, a file path or a URL."
    )


def fetch_variant(
    arch: str, tag: str, *, progress: bool | None = None, sha256: str | None = None
) -> tuple[Path, dict]:
    """Fetch a config's file through zoo's cache, trying its files in timm's order (hub safetensors, hub
    ``pytorch_model.bin``, release URL: the catalogue's ``alternates``, as ``zoo download`` does); returns
    the file and the spec it came from."""
    variant = catalogue.architecture(arch)["weights"][tag]
    specs = [
        {**spec, "sha256": sha256 or spec.get("sha256")} for spec in (variant, *variant.get("alternates", ()))
    ]
    path = fetch_spec({**specs[0], "alternates": specs[1:]}, progress=progress, entry=f"timm:{arch}")
    return path, next((spec for spec in specs if spec["filename"] == path.name), specs[0])


# -- building and loading ------------------------------------------------------------------------------
def load_pretrained(full_name: str, path: Path, *, custom_load: bool = False, **kwargs: Any) -> nn.Module:
    """``timm.create_model(full_name, pretrained=True)`` reading the weights from ``path``.

    timm's loader runs unchanged (its filter function, channel adaptation, label offset); only its
    ``load_state_dict`` assigns the tensors into a meta-device model. A model whose constructor cannot run
    that way, or a config with a custom (``.npz``) loader, is built the ordinary way from the same file.
    """
    import timm

    if not custom_load:
        try:
            return _load_on_meta(full_name, path, kwargs)
        except _MetaBuildUnsupported as exc:
            log.info("%s: building without the meta device (%s)", full_name, exc)
    overlay = {"file": str(path), "url": None, "hf_hub_id": None}
    try:
        return timm.create_model(full_name, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs)
    except (RuntimeError, KeyError) as exc:
        raise _not_fitting(path, full_name, exc) from None


class _MetaBuildUnsupported(Exception):
    """The meta-device path does not apply to this model; the ordinary build does."""


def _load_on_meta(full_name: str, path: Path, kwargs: dict[str, Any]) -> nn.Module:
    import timm
    from timm.models import _builder

    calls: list[dict[str, Any]] = []
    try:
        with _deferred_timm_loading(_builder, calls), empty_weights(tensor_math_in_init=True):
            model = timm.create_model(full_name, pretrained=True, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any constructor that cannot run on meta gets the ordinary build
        raise _MetaBuildUnsupported(f"{type(exc).__name__}: {exc}") from exc
    if len(calls) != 1:
        raise _MetaBuildUnsupported("timm did not load weights through load_pretrained")
    call = calls[0]
    state = load_state_dict(path)
    cfg = {**call["pretrained_cfg"], "state_dict": state, "file": None, "source": ""}
    model.load_state_dict = functools.partial(_assigning_load, model, path)  # type: ignore[method-assign]
    try:
        _builder.load_pretrained(model, **{**call, "pretrained_cfg": cfg})
    except (RuntimeError, KeyError) as exc:
        raise _not_fitting(path, full_name, exc) from None
    finally:
        del model.load_state_dict
    missing = meta_tensors(model)
    if missing:
        raise WeightsFileError(f"the weights in {path} leave timm's {full_name} tensors unset: {missing[:5]}")
    return model


def _not_fitting(path: Path, full_name: str, exc: Exception) -> WeightsFileError:
    detail = str(exc).split("\n\t", 1)[-1].strip()[:600]
    return WeightsFileError(
        f"the weights in {path} do not fit timm's {full_name}: {detail}. Is the file for this architecture?"
    )


def _assigning_load(
    model: nn.Module, path: Path, state_dict: Any, strict: bool = True, assign: bool = False
) -> Any:
    state_dict = in_model_dtypes(state_dict, model.state_dict(keep_vars=True), path)
    return nn.Module.load_state_dict(model, state_dict, strict=strict, assign=True)


@contextlib.contextmanager
def _deferred_timm_loading(builder_module: Any, calls: list[dict[str, Any]]) -> Iterator[None]:
    """Within this block timm's ``load_pretrained`` only records its arguments (the model is still on the
    meta device); the caller runs it afterwards. The patch is process-wide while it lasts (hence the lock
    between zoo's builds), but defers only this thread's calls: a ``timm.create_model(pretrained=True)``
    another thread runs meanwhile loads its weights as usual."""
    original = builder_module.load_pretrained
    signature = inspect.signature(original)
    builder_thread = threading.get_ident()

    @functools.wraps(original)
    def record(model: nn.Module, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != builder_thread:
            return original(model, *args, **kwargs)
        call = signature.bind(model, *args, **kwargs)
        call.apply_defaults()
        arguments = {name: value for name, value in call.arguments.items() if name != "model"}
        calls.append({**arguments, "pretrained_cfg": dict(arguments.get("pretrained_cfg") or {})})
        return None

    with _build_lock:
        builder_module.load_pretrained = record
        try:
            yield
        finally:
            builder_module.load_pretrained = original


def _new_classifier(model: nn.Module, num_classes: int) -> tuple[nn.Module, list[str]]:
    """Give ``model`` a freshly initialised ``num_classes``-way head; returns it and the keys it replaced."""
    head = model.get_classifier()
    prefix = next((f"{n}." for n, m in model.named_modules() if m is head), None)
    dropped = [k for k in model.state_dict() if prefix and k.startswith(prefix)]
    model.reset_classifier(num_classes)
    return model.get_classifier(), dropped


# -- what model.zoo carries -------------------------------------------------------------------------------
def _with_preprocessing(arch: str, chosen: ChosenWeights, requested: Any, label: str) -> ChosenWeights:
    """``preprocessing=``: a config tag's (its facts, as if that config's file) or a dict over the default."""
    if requested is None:
        return chosen
    variants = catalogue.architecture(arch)["weights"]
    tag, prep = choose_preprocessing(
        requested, preprocessing_of(chosen.facts),
        lambda t: preprocessing_of(variants[found]) if (found := find_variant(arch, t)) else None,
        label, list(variants),
    )  # fmt: skip
    if tag is not None:
        tag = find_variant(arch, tag)
        return ChosenWeights(tag, variants[tag], chosen.path, chosen.source, chosen.sha256)
    return ChosenWeights(chosen.tag, {**chosen.facts, "zoo_preprocessing": prep}, chosen.path, chosen.source,
                         chosen.sha256)  # fmt: skip


def preprocessing_of(facts: dict[str, Any]) -> dict[str, Any]:
    """timm's eval transform as zoo's preprocessing dict: resize the shorter side to ``crop / crop_pct``,
    centre-crop, normalise (``timm.data.create_transform`` for ``crop_mode='center'``)."""
    import math

    h, w = facts["input_size"][-2:]
    crop_pct = facts.get("crop_pct") or 1.0
    return {
        "resize": math.floor(min(h, w) / crop_pct),
        "crop": h if h == w else [h, w],
        "mean": list(facts["mean"]),
        "std": list(facts["std"]),
        "interpolation": facts.get("interpolation") or "bilinear",
        "antialias": True,
        "crop_mode": facts.get("crop_mode", "center"),
    }


def _categories(model: nn.Module, facts: dict[str, Any]) -> list[str] | None:
    """ImageNet-1k names in zoo's spelling; other ImageNet subsets from timm's label tables; else None."""
    n = facts["num_classes"]
    if n == 1000:
        from zoo.plugin import category_names

        return category_names("imagenet1k")
    try:
        from timm.data import ImageNetInfo, infer_imagenet_subset

        subset = infer_imagenet_subset(model)
        if subset:
            info = ImageNetInfo(subset)
            if info.num_classes() == n:
                return [info.index_to_description(i) for i in range(n)]
    except Exception:  # noqa: BLE001 - category names are a convenience; the model is fine without them
        return None
    return None
