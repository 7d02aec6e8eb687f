"""The applications contract, applied by the core to every application of every plugin.

``zoo.load(name, **options)`` (and ``zoo.get("applications", ...)``) come here, not straight to a builder:

1. **before the build**, every keras.applications option the core knows (:data:`OPTIONS`) is checked for
   its value, and, when the entry's metadata declares ``options=(...)``, for being supported: an option the
   entry does not declare is a :class:`zoo.errors.OptionError` naming the application, the option and what it
   supports, never silently ignored. An option left at its neutral value (``include_top=True``,
   ``pooling=None`` ...) asks nothing and is not passed on. An entry that declares nothing supports the
   options its builder names as parameters (a builder taking only ``**kwargs`` names none: it would swallow
   ``include_top=False`` unseen), so a minimal plugin needs no metadata to serve what it takes.
2. **after the build**, the core puts the model in eval mode, freezes it for ``trainable=False`` (unless the
   builder takes ``trainable`` itself, e.g. to spare a new head), attaches ``model.zoo`` from the entry's
   metadata when the builder did not, and fires the ``zoo_model_built`` hook once.

This module is the one place that knows the options; :mod:`zoo.applications.builder`'s ``check_options``
reads the same checks. Importing it does not import torch.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zoo._gc import without_gc
from zoo.errors import OptionError, PluginError, ZooError


def _bool(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, bool):
            raise OptionError(f"{name} must be True or False, got {value!r}.")

    return check


def _optional_bool(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            raise OptionError(f"{name} must be None (the default), True or False, got {value!r}.")

    return check


def _pooling(value: Any) -> None:
    if value not in (None, "avg", "max"):
        raise OptionError(f"pooling must be None, 'avg' or 'max', got {value!r}.")


def _positive_int(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise OptionError(f"{name} must be a positive int, got {value!r}.")

    return check


def _shape(value: Any) -> None:
    ok = isinstance(value, (tuple, list)) and value and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    )
    if value is not None and not ok:
        raise OptionError(f"input_shape must be a tuple of positive ints such as (3, 224, 224), got {value!r}.")


def _activation(value: Any) -> None:
    if value is None or callable(value):
        return
    if not isinstance(value, str):
        raise OptionError(
            f"classifier_activation must be None (logits), an activation name ('softmax', 'sigmoid' ...) or a "
            f"callable, got {value!r}."
        )
    if value in ("linear", "softmax"):
        return
    from zoo.errors import UnknownNameError
    from zoo.plugins import get_registry

    try:
        get_registry().lookup("activations", value)
    except UnknownNameError as error:
        raise OptionError(f"classifier_activation: {error}") from None


def _anything(value: Any) -> None:
    return None


@dataclass(frozen=True)
class Option:
    """One ``zoo.load`` keyword the core knows: its neutral value (asks nothing of the builder) and its
    value check. ``needs``: the option an entry must support for this one to be served (``pooling`` and
    ``features_only`` work on the model without its top)."""

    neutral: Any
    check: Callable[[Any], None] = _anything
    needs: str | None = None
    doc: str = ""


#: Every keras.applications-style option the core knows. ``trainable`` is applied by the core itself, so
#: every application supports it; ``progress``, ``sha256`` and ``preprocessing`` go with ``weights``.
OPTIONS: dict[str, Option] = {
    "weights": Option(None, doc="a variant tag, 'imagenet', None, a file or a URL"),
    "include_top": Option(True, _bool("include_top"), doc="False: the model without its classifier"),
    "pooling": Option(None, _pooling, doc="'avg' or 'max' after the features"),
    "num_classes": Option(None, _positive_int("num_classes"), doc="a new classifier of this size"),
    "trainable": Option(True, _bool("trainable"), doc="False: every parameter frozen"),
    "input_shape": Option(None, _shape, doc="(channels, height, width) of the inputs, checked by the core"),
    "classifier_activation": Option(None, _activation, doc="None (logits), 'softmax', 'sigmoid' ... on the output"),
    "features_only": Option(False, _bool("features_only"), needs="include_top", doc="the feature maps"),
    "out_indices": Option(None, needs="include_top", doc="which feature levels"),
    "progress": Option(None, _optional_bool("progress"), needs="weights"),
    "sha256": Option(None, needs="weights"),
    "preprocessing": Option(None, needs="weights"),
}

#: Applied by the core, so always supported whatever an entry declares.
CORE_OPTIONS = frozenset({"trainable", "input_shape", "classifier_activation"})

#: Keras' names for options the core knows by another: ``classes`` is ``num_classes``.
ALIASES = {"classes": "num_classes"}


def normalize(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with Keras' aliases replaced by the core's names (``classes=10`` -> ``num_classes=10``)."""
    out = dict(options)
    for alias, name in ALIASES.items():
        if alias in out:
            value = out.pop(alias)
            if name in out and out[name] != value:
                raise OptionError(f"give {alias}= (Keras' name) or {name}=, not both ({alias}={value!r}, {name}={out[name]!r}).")
            out[name] = value
    return out


def check_values(options: Mapping[str, Any]) -> None:
    """The values of the known options, and how they combine: one rule for every builder."""
    for key, value in options.items():
        if key in OPTIONS:
            OPTIONS[key].check(value)
    include_top = options.get("include_top", True)
    if include_top and options.get("pooling") is not None:
        raise OptionError(
            "pooling applies to the feature extractor only: pass include_top=False together with "
            f"pooling={options['pooling']!r} (with include_top=True the model ends in its classifier)."
        )
    if options.get("sha256") is not None and "weights" in options and options["weights"] is None:
        raise OptionError(
            "sha256= checks the weights zoo.load downloads or reads; with weights=None nothing is loaded: drop "
            "sha256= or name the weights (a variant, a file or a URL)."
        )
    if options.get("num_classes") is not None and not include_top:
        raise OptionError("num_classes sets the size of the classifier; it needs include_top=True.")
    if options.get("classifier_activation") is not None and (not include_top or options.get("features_only")):
        raise OptionError(
            "classifier_activation applies to the classifier's output; it needs include_top=True (and no "
            "features_only), as in keras.applications."
        )


def supported(entry: Any) -> tuple[str, ...] | None:
    """The options an entry declares in its metadata, else those its builder names as parameters (plus the
    core's); None only when the builder's signature cannot be read."""
    declared = getattr(entry.meta, "options", None)
    if declared is None:
        declared = _named_by_builder(entry)
        if declared is None:
            return None
    return tuple(dict.fromkeys((*declared, *sorted(CORE_OPTIONS))))


def _named_by_builder(entry: Any) -> tuple[str, ...] | None:
    try:
        params = inspect.signature(entry.resolve()).parameters
    except (TypeError, ValueError):
        return None
    return tuple(key for key in OPTIONS if key in params)


def _declared_where(entry: Any) -> str:
    if getattr(entry.meta, "options", None) is not None:
        return f"declared by plugin {entry.plugin!r} in its metadata 'options'"
    return (
        f"the options its builder names as parameters; plugin {entry.plugin!r} declares no 'options' in its "
        "metadata, and a builder taking **kwargs would swallow any other unseen"
    )


def check(entry: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments for ``entry``'s builder: ``options`` checked against the contract.

    Raises :class:`OptionError` for a bad value or an option the entry does not support."""
    options = normalize(options)
    check_values(options)
    check_input_shape(entry, options)
    check_variant(entry, options.get("weights"))
    declared = supported(entry)
    if declared is None:
        return dict(options)
    name = entry.qualified_name
    passed: dict[str, Any] = {}
    for key, value in options.items():
        option = OPTIONS.get(key)
        if option is None:
            _typo(entry, key, declared)
            passed[key] = value  # a builder's own keyword (its signature checks it)
            continue
        if key in declared:
            passed[key] = value
            continue
        if _is_neutral(option, value):
            continue
        if key == "weights" and not entry.meta.weights:
            raise OptionError(
                f"application {name!r} has no pretrained weights (its metadata lists none) and takes no "
                f"weights file: pass weights=None (or leave it out), got weights={value!r}."
            )
        if key == "weights" or (option.needs == "weights" and entry.meta.weights) or option.needs in declared:
            passed[key] = value  # published variants the builder reads; or served on what it needs
            continue
        raise OptionError(
            f"application {name!r} does not support {key}={value!r}: it supports "
            f"{', '.join(declared)} ({_declared_where(entry)})."
        )
    return passed


def accepted(entry: Any) -> list[str]:
    """What ``zoo.load`` takes for ``entry``: its declared options, the core's, Keras' aliases, and
    ``input_tensor`` (or every option the core knows when the entry declares none)."""
    declared = supported(entry) or tuple(OPTIONS)
    return list(dict.fromkeys((*declared, *sorted(CORE_OPTIONS), *ALIASES, "input_tensor")))


def _typo(entry: Any, key: str, declared: tuple[str, ...]) -> None:
    """A keyword the core does not know, close to one it does (``clases=``), is refused before anything is
    downloaded or built; others go to the builder, whose own signature may take them (torchvision's
    ``dropout=``)."""
    import difflib

    try:
        params = inspect.signature(entry.resolve()).parameters
    except (TypeError, ValueError):
        params = {}
    if key in params:
        return
    names = accepted(entry)
    close = difflib.get_close_matches(key, [*names, *OPTIONS], n=1, cutoff=0.75)
    if close:
        raise unknown_option(entry, key, close[0])


def unknown_option(entry: Any, key: str, close: str | None = None) -> OptionError:
    """The error for a keyword ``entry`` does not take: the application, the keyword, the closest match and
    what it takes."""
    import difflib

    names = accepted(entry)
    if close is None:
        found = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
        close = found[0] if found else None
    hint = f" Did you mean {close!r}?" if close else ""
    return OptionError(
        f"application {entry.qualified_name!r} takes no option {key!r}.{hint} It takes: {', '.join(names)}."
    )


def check_variant(entry: Any, weights: Any) -> None:
    """A bare word given as ``weights`` (no path separator, dot or URL scheme, no such file) must name one of
    the entry's published variants: ``weights="v2"`` where only ``v1`` exists is refused with the closest tags
    before a builder that trusts its caller loads something else."""
    import difflib
    import os

    meta = entry.meta
    if not isinstance(weights, str) or not meta.weights or meta.variant(weights) is not None:
        return
    word = weights.strip()
    if any(c in word for c in (os.sep, os.altsep or os.sep, ".", ":")) or os.path.exists(word):
        return  # a file, a URL or an Enum.TAG spelling: the builder resolves it
    tags = list(meta.weights)
    close = difflib.get_close_matches(word.lower(), [t.lower() for t in tags], n=1, cutoff=0.6)
    hint = f" Did you mean {next(t for t in tags if t.lower() == close[0])!r}?" if close else ""
    raise OptionError(
        f"application {entry.qualified_name!r} has no weights {weights!r}.{hint} Use one of its variants "
        f"({', '.join(tags)}), 'imagenet' (the default), None for random initialisation, a file path or a URL."
    )


def check_input_shape(entry: Any, options: Mapping[str, Any]) -> None:
    """``input_shape=`` is one sample's ``(channels, height, width)``, channels-first as everywhere in zoo,
    and no smaller than the architecture's minimum; a channels-last tuple gets the channels-first spelling."""
    shape = options.get("input_shape")
    if shape is None:
        return
    shape = tuple(shape)
    name = entry.qualified_name
    if len(shape) != 3:
        raise OptionError(
            f"application {name!r}: input_shape is one image's (channels, height, width), got {shape} "
            f"({len(shape)} values; no batch axis)."
        )
    size = getattr(entry.meta, "input_size", None)
    channels = size[0] if isinstance(size, tuple) and len(size) == 3 else 3
    if shape[-1] in (1, 3, 4) and shape[0] > shape[-1] and shape[0] != channels:
        raise OptionError(
            f"application {name!r}: input_shape={shape} looks channels-last (Keras' (height, width, channels)); "
            f"zoo models are channels-first: input_shape={(shape[-1], *shape[:-1])}."
        )
    builds_for_it = "input_shape" in (entry.meta.options or ())  # the builder makes the network for that shape
    if shape[0] != channels and not builds_for_it:
        raise OptionError(f"application {name!r} takes {channels}-channel images; input_shape={shape} has {shape[0]}.")
    min_h, min_w = _min_size(entry.meta)
    if shape[1] < min_h or shape[2] < min_w:
        raise OptionError(
            f"application {name!r} needs images of at least {min_h}x{min_w} pixels; input_shape={shape} is "
            f"{shape[1]}x{shape[2]}."
        )


def _is_neutral(option: Option, value: Any) -> bool:
    return value is option.neutral or (value == option.neutral and type(value) is type(option.neutral))


# -- the build ---------------------------------------------------------------------------------------------
#: Set while the core builds an application: ``finish`` then leaves the hook to the core (fired once).
_building: contextvars.ContextVar[bool] = contextvars.ContextVar("zoo_core_build", default=False)


def core_fires_hook() -> bool:
    """True inside a core build: a builder's ``finish`` must not fire ``zoo_model_built`` itself."""
    return _building.get()


@without_gc  # constructing a network is an allocation burst (zoo/_gc.py says why)
def build(entry: Any, args: tuple[Any, ...], options: Mapping[str, Any]) -> Any:
    """Check, build, then apply eval mode, freezing, ``model.zoo``, ``classifier_activation`` and
    ``zoo_model_built``."""
    options = normalize(options)
    kwargs = check(entry, options)
    builder = entry.resolve()
    takes = _takes(builder, "trainable", entry)
    if not takes:
        kwargs.pop("trainable", None)
    for key in ("input_shape", "classifier_activation"):  # the core's, unless the builder declares them
        if not _takes(builder, key, entry):
            kwargs.pop(key, None)
    token = _building.set(True)
    try:
        model = builder(*args, **kwargs)
    except ZooError:
        raise  # says what was wrong already
    except TypeError as error:
        unknown = _unexpected_keyword(error, kwargs)
        if unknown is not None:
            raise _refused_option(entry, unknown) from None
        _blame_own_options(entry, kwargs, error)
        entry.blame(error)
        raise
    except Exception as error:
        if isinstance(error, ValueError):
            _blame_own_options(entry, kwargs, error)
        entry.blame(error)
        raise
    finally:
        _building.reset(token)
    activation = options.get("classifier_activation")
    if activation is not None and not _takes(builder, "classifier_activation", entry):
        add_classifier_activation(model, activation)
    return finish_build(entry, model, dict(options), freeze=not takes and options.get("trainable") is False)


def _refused_option(entry: Any, key: str) -> ZooError:
    """The builder refused the keyword ``key``: the user's typo, or, when the entry declares it in its
    metadata ``options``, the plugin's promise its builder does not keep."""
    if key in (getattr(entry.meta, "options", None) or ()):
        return PluginError(
            f"application {entry.qualified_name!r} declares option {key!r} in its metadata 'options', but its "
            f"builder ({entry.describe()['target']}) takes no {key!r} keyword: plugin {entry.plugin!r} must add "
            f"the parameter {key!r} to the builder or drop it from 'options'."
        )
    return unknown_option(entry, key)


def _blame_own_options(entry: Any, kwargs: Mapping[str, Any], error: Exception) -> None:
    """A builder's own keywords (torchvision's ``dropout=``, ``groups=``) go unchecked to its constructor, so
    a wrong one fails deep inside it (``'<' not supported between 'str' and 'int'``): when the call gave any,
    the error names them and the application, as an ``OptionError`` (the original chained)."""
    own = {k: v for k, v in kwargs.items() if k not in OPTIONS}
    if not own or isinstance(error, ZooError):
        return
    given = ", ".join(f"{k}={v!r}" for k, v in own.items())
    raise OptionError(
        f"application {entry.qualified_name!r} failed to build with its builder's own option(s) {given}: "
        f"{type(error).__name__}: {error}. Check their types and values in the documentation of the "
        f"architecture's constructor (they go to it unchecked)."
    ) from error


def _unexpected_keyword(error: TypeError, kwargs: Mapping[str, Any]) -> str | None:
    """The keyword of ``kwargs`` a builder (or the constructor it calls) refused, if that is the error."""
    import re

    found = re.search(r"unexpected keyword argument '(\w+)'", str(error))
    return found.group(1) if found and found.group(1) in kwargs else None


class ClassifierActivation:
    """Forward hook: the activation ``classifier_activation=`` names, applied to the model's output (its
    state-dict keys and class stay as they were)."""

    def __init__(self, activation: Any) -> None:
        from zoo.training.activations import get

        self.name = activation if isinstance(activation, str) else getattr(activation, "__name__", "custom")
        self.fn = None if activation == "softmax" else get(activation)  # softmax over the class axis

    def __call__(self, module: Any, args: Any, output: Any) -> Any:
        return output.softmax(-1) if self.fn is None else self.fn(output)


def add_classifier_activation(model: Any, activation: Any) -> None:
    hook = ClassifierActivation(activation)
    model.register_forward_hook(hook)
    model.classifier_activation = hook.name


def _takes(builder: Callable[..., Any], keyword: str, entry: Any) -> bool:
    """Whether the builder accepts ``keyword`` (an explicit parameter or ``**kwargs``)."""
    declared = entry.meta.options
    if declared is not None:
        return keyword in declared
    try:
        params = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == keyword or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def watch_channels(model: Any, name: str) -> None:
    """A forward pre-hook that warns when a batch of images looks channels-last (``(N, H, W, 3)``), before
    the first convolution fails on it or, worse, a model with 1-channel stems accepts it."""
    from zoo.layers._keras import watch_application_channels

    watch_application_channels(model, name)


def finish_build(entry: Any, model: Any, options: dict[str, Any], *, freeze: bool) -> Any:
    from torch import nn

    from zoo.applications.info import ModelInfo

    if not isinstance(model, nn.Module):
        raise PluginError(
            f"application {entry.qualified_name!r} of plugin {entry.plugin!r} built a "
            f"{type(model).__name__}, not a torch.nn.Module; an application's builder must return one."
        )
    model.eval()
    if freeze:
        from zoo.applications.freezing import freeze as freeze_all

        freeze_all(model)
    elif options.get("trainable") is False:
        _check_frozen(entry, model)
    if options.get("num_classes") is not None and options.get("include_top", True):
        _check_classes(entry, model, options["num_classes"])
    if options.get("input_shape") is not None:
        _check_built_for(entry, model, tuple(options["input_shape"]))
    if not isinstance(getattr(model, "zoo", None), ModelInfo):
        model.zoo = info_from_meta(entry, options)  # type: ignore[assignment]
    for key in ("input_shape", "classifier_activation"):  # rebuilt by zoo.save_pretrained's folders too
        if isinstance(options.get(key), (str, tuple, list)):
            model.zoo.load_options[key] = options[key]
    watch_channels(model, entry.qualified_name)
    from zoo.plugins import get_plugin_manager

    seen = {**dict.fromkeys(("pooling", "num_classes")), "include_top": True, "trainable": True, **options}
    get_plugin_manager().call_each("zoo_model_built", model=model, name=model.zoo.name, options=seen)
    return model


def _check_frozen(entry: Any, model: Any) -> None:
    """A builder that takes ``trainable`` itself may leave a new head trainable, but one that leaves every
    parameter trainable ignored ``trainable=False``: the "frozen" backbone would train."""
    params = list(model.parameters())
    if params and all(p.requires_grad for p in params):
        from zoo.errors import PluginError

        raise PluginError(
            f"application {entry.qualified_name!r} of plugin {entry.plugin!r} takes trainable=False but its "
            f"builder left all {len(params)} parameters trainable; it must freeze them (zoo.freeze) "
            "or not take trainable (the core then freezes the model)."
        )


def _check_built_for(entry: Any, model: Any, shape: tuple[int, ...]) -> None:
    """``input_shape=`` that the built model's own size check refuses (a fixed-size ViT asked for 256x256)
    is refused now, not at the first forward pass."""
    from zoo.applications.builder import InputSizeCheck
    from zoo.errors import DataError

    for hook in model._forward_pre_hooks.values():
        if isinstance(hook, InputSizeCheck):
            try:
                hook.check_size(shape[1], shape[2])
            except DataError:
                h, w = hook.min_size
                takes = f"takes {h}x{w} images only" if hook.fixed else f"needs images of at least {h}x{w}"
                fix = (
                    f"leave input_shape out and resize images to {h}x{w}, or build it for that size with the "
                    "architecture's own option where it has one (torchvision's image_size=, timm's img_size=; "
                    "random weights only)"
                    if hook.fixed else "give a larger input_shape"
                )  # fmt: skip
                raise OptionError(
                    f"application {entry.qualified_name!r} {takes}, so input_shape={shape} cannot be served: {fix}."
                ) from None


def _check_classes(entry: Any, model: Any, num_classes: int) -> None:
    """``num_classes=3`` that the builder ignored leaves its default classifier (1000 outputs): no layer with
    a size attribute (``out_features``, ``out_channels``, ``units``) has ``num_classes`` outputs."""
    sizes = {
        size
        for module in model.modules()
        for size in (getattr(module, a, None) for a in ("out_features", "out_channels", "units"))
        if isinstance(size, int)
    }
    if sizes and num_classes not in sizes:
        from zoo.errors import PluginError

        raise PluginError(
            f"application {entry.qualified_name!r} of plugin {entry.plugin!r} was asked for num_classes="
            f"{num_classes}, but no layer of the model its builder returned has {num_classes} outputs: the "
            "builder ignored it. It must build that classifier, or not take num_classes (declare options=(...) "
            "without it)."
        )


_NOT_REBUILDING = {"weights", "progress", "sha256", "preprocessing", "trainable"}


def info_from_meta(entry: Any, options: Mapping[str, Any]) -> Any:
    """``model.zoo`` for a builder that did not make one: what the entry's metadata says of the weights."""
    from zoo.applications.info import ModelInfo

    meta = entry.meta
    weights = options.get("weights")
    # left out: the builder's default, which the contract takes to be the entry's default variant
    chosen = weights if "weights" in options else "imagenet"
    tag = meta.variant(chosen) if isinstance(chosen, str) else None
    variant = meta.weights[tag] if tag else None
    include_top = options.get("include_top", True)
    categories = None
    if variant is not None and include_top and options.get("num_classes") is None:
        categories = category_list(variant.categories or meta.categories)
    preprocessing = dict(variant.preprocessing) if variant is not None and variant.preprocessing else {}
    return ModelInfo(
        name=entry.name,
        weights=tag,
        sha256=variant.sha256 if variant is not None else None,
        source=variant.url if variant is not None else None,
        categories=categories,
        preprocessing=preprocessing,
        min_size=_min_size(meta),
        include_top=include_top,
        pooling=options.get("pooling"),
        load_options={k: v for k, v in options.items() if k not in _NOT_REBUILDING and v is not None},
    )


def category_list(ref: Any) -> list[str] | None:
    """The names a categories field gives: the list itself, or a shared list's name (``"imagenet1k"``)."""
    if ref is None:
        return None
    if isinstance(ref, str):
        from zoo.applications import table

        try:
            return table.categories(ref)
        except KeyError:
            raise ZooError(f"categories {ref!r} names no category list zoo knows; give the names as a list.") from None
    return [str(c) for c in ref]


def _min_size(meta: Any) -> tuple[int, int]:
    """The smallest input the metadata allows (``min_size``); 1x1 when it says nothing (``input_size`` is the
    default size, not a minimum)."""
    return tuple(meta.min_size) if meta.min_size else (1, 1)  # type: ignore[return-value]


# -- zoo predict ---------------------------------------------------------------------------------------
PREDICT_KEYS = ("crop", "mean", "std")


def why_not_predict(entry: Any, weights: Any) -> str | None:
    """Why ``zoo predict`` cannot classify with ``entry``'s ``weights`` (None: it can), from metadata only."""
    meta = entry.meta
    if not meta.weights:
        return (
            f"{entry.qualified_name} has no pretrained weights in its metadata, so zoo predict has no category "
            "names and no preprocessing for it: it needs a weights variant declaring categories and "
            "preprocessing (crop, mean, std)."
        )
    tag = meta.variant(weights) if weights is None or isinstance(weights, str) else None
    if tag is None:
        return None  # a file or URL: the loaded model says (categories are checked after loading)
    variant = meta.weights[tag]
    missing = []
    if not (variant.categories or meta.categories):
        missing.append("categories")
    prep = variant.preprocessing or {}
    if not all(k in prep for k in PREDICT_KEYS):
        missing.append(f"preprocessing ({', '.join(k for k in PREDICT_KEYS if k not in prep)})")
    if missing:
        return (
            f"{entry.qualified_name} weights {tag!r}: the metadata gives no {' and no '.join(missing)}, which "
            "zoo predict needs; pass --categories for the names (or ask the plugin to declare them)."
        )
    return None
