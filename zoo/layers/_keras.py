"""Keras' shared layer keywords, for every zoo layer through one base class, ``Layer``.

Keras layers share keywords that say nothing about a layer's own computation: ``name=``, ``input_shape=``
/ ``input_dim=``, ``trainable=``, ``<weight>_initializer=`` / ``<weight>_regularizer=`` /
``<weight>_constraint=``, ``activity_regularizer=`` and, on layers with a channel axis, ``data_format=``.
Rather than repeating them in every constructor, ``Layer.__init_subclass__`` wraps each subclass's
``__init__``: the wrapper takes these keywords off, checks the others against the constructor's signature
(an unknown keyword names the layer, lists what it takes and the closest match, as a ``zoo.ArgumentError``),
runs the constructor, then applies them. A layer says what applies to it with three class attributes:

* ``keras_weights``: Keras' weight names (``kernel``, ``bias``, ``recurrent`` ...) -> ``Weight`` (where
  the tensors live and Keras' default initializer);
* ``keras_input_size``: ``(argument, axis, rank)``: the constructor argument that fixes the input size,
  the axis of ``input_shape`` that gives it (so a layer given ``input_shape=`` is built at once) and the
  rank of one sample, when fixed (so ``input_dim=n`` means ``input_shape=(n,)`` for ``Dense``,
  ``(None, n)`` for ``LSTM``);
* ``keras_channels``: the spatial rank of a channels-first layer (0: any rank), which enables
  ``data_format="channels_last"`` and the warning for inputs that look channels-last.

Initializers of a lazily built weight are applied in a forward pre-hook right after torch materialises it
(``load_state_dict`` cancels them: loaded weights win). Regularizers are evaluated when asked for
(``layer.losses``, ``regularization_loss``, which ``zoo.fit`` adds to the loss); constraints are applied by
``apply_constraints`` (``zoo.fit`` calls it after each optimizer step).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import inspect
import itertools
import numbers
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from zoo.errors import ArgumentError, DataError, OptionError, ZooError
from zoo.models import endpoints
from zoo.models.endpoints import keras_attribute
from zoo.models.trainable import Trainable
from zoo.models.weights import WeightArrays
from zoo.naming import snake_case

_COMMON = ("name", "input_shape", "input_dim", "trainable", "activity_regularizer")
_ROLE_SUFFIXES = ("initializer", "regularizer", "constraint")
_ROLE_KIND = {"initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints"}
_DATA_FORMATS = ("channels_first", "channels_last")
_MAX_ACTIVITY_RECORDS = 64  # outside zoo.fit nobody clears them: keep memory bounded
#: Constructor parameters that size a layer's weights or output: an ``int`` one must be positive.
_SIZES = frozenset({"units", "filters", "input_dim", "output_dim", "in_channels", "input_size", "depth_multiplier", "groups"})
_KINDS = {
    "bool": ("bool", False), "bool|None": ("bool", True), "Optional[bool]": ("bool", True),
    "int": ("int", False), "int|None": ("int", True), "Optional[int]": ("int", True),
    "float": ("float", False), "float|None": ("float", True), "Optional[float]": ("float", True),
}  # fmt: skip
_typed_cache: dict[type, dict[str, tuple[str, bool]]] = {}


@dataclass(frozen=True)
class Weight:
    """One Keras weight of a layer: the attribute paths of its tensors (torch may keep two, e.g. an RNN's
    two biases) and the initializer Keras uses by default (``None`` keeps the layer's own)."""

    paths: tuple[str, ...]
    initializer: str | None = None


class LayerWarning(UserWarning):
    """A layer was given something that probably does not mean what was meant (e.g. channels-last data)."""


_uids: dict[str, itertools.count] = {}


def _unique_name(cls: type) -> str:
    prefix = snake_case(cls.__name__).lstrip("_")  # a private base class names its layers as the public one would
    n = next(_uids.setdefault(prefix, itertools.count()))
    return prefix if n == 0 else f"{prefix}_{n}"


def _resolve(kind: str, spec: Any, what: str) -> Any:
    """A registered name, a ``{"class_name": ..., "config": ...}`` / ``{"name": ..., **config}`` dict, or a
    callable -> the object; ``None`` stays ``None``."""
    if spec is None or (callable(spec) and not isinstance(spec, (str, type))):
        return spec
    from zoo.api import get

    if isinstance(spec, str):
        return get(kind, spec)
    if isinstance(spec, type):
        return spec()
    if isinstance(spec, Mapping):
        from zoo.training.resolve import name_and_config

        name, config = name_and_config(spec, kind[:-1])
        return get(kind, name, **config)
    raise ArgumentError(
        f"{what} must be the name of one of the {kind} (zoo list {kind}), a dict or a callable, got "
        f"{type(spec).__name__} {spec!r}."
    )


def _check_shape(value: Any, layer: str) -> tuple[int | None, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (tuple, list)) and all(
        v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0) for v in value
    ):
        return tuple(value)
    raise ArgumentError(
        f"{layer}: input_shape is the shape of one sample without the batch axis, a tuple of positive ints "
        f"(None for a free size), e.g. input_shape=(3, 224, 224); got {value!r}."
    )


def looks_channels_last(shape: tuple[int | None, ...], spatial: int) -> bool:
    """Whether a per-sample ``(C, *spatial)`` shape looks like ``(*spatial, C)``: a last axis of 1, 3 or 4
    smaller than every other axis (a ``(256, 4, 4)`` feature map does not qualify, a ``(28, 28, 1)`` image
    does)."""
    if len(shape) != spatial + 1 or any(s is None for s in shape):
        return False
    last = shape[-1]
    return last in (1, 3, 4) and all(s > last for s in shape[:-1])  # type: ignore[operator]


def channels_last_advice(layer: str, shape: tuple[int, ...], what: str, batched: bool) -> str:
    ndim = len(shape) + (0 if batched else 1)  # the batched data's rank
    order = (0, ndim - 1, *range(1, ndim - 1))
    fix = "" if batched else f"input_shape={(shape[-1], *shape[:-1])} for channels-first data; else "
    return (
        f"{layer}: {what} {tuple(shape)} looks channels-last (last axis {shape[-1]}), but zoo layers are "
        f"channels-first (batch, channels, spatial...). Give {fix}permute the data (x.permute{order}) or "
        "give the layer data_format='channels_last'."
    )


class Layer(Trainable, WeightArrays, nn.Module):
    """The base of every zoo layer: Keras' shared keywords (see the module docstring), ``name``,
    ``input_shape``, ``get_config()``, ``losses`` and ``trainable`` (a property: False freezes the layer)."""

    keras_weights: ClassVar[Mapping[str, Weight]] = {}
    keras_input_size: ClassVar[tuple[str, int, int | None] | None] = None
    keras_channels: ClassVar[int | None] = None

    name: str
    input_shape: tuple[int | None, ...] | None

    def __init__(self) -> None:
        super().__init__()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not hasattr(init, "__zoo_original__"):
            cls.__init__ = _keras_init(init)  # type: ignore[method-assign]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "training" in kwargs:  # Keras' layer(x, training=True): the mode for this call, not an input
            from zoo.utils.modes import call_with_training

            return call_with_training(super().__call__, self, args, kwargs)
        return super().__call__(*args, **kwargs)  # looked up per call: torch.fx patches nn.Module.__call__

    # -- what Keras users read ------------------------------------------------------------------------
    def __dir__(self) -> list[str]:
        return endpoints.visible(super().__dir__())

    @keras_attribute
    def output(self) -> Any:
        """Keras' ``layer.output`` in a model, for ``zoo.Model(model.input, layer.output)``; see
        zoo.models.endpoints (``model.get_layer`` makes the model's)."""
        return endpoints.output_of(self)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as given (by parameter name, Keras keywords included), so that
        ``type(layer)(**layer.get_config())`` builds the same layer afresh."""
        return dict(self.__dict__.get("_zoo_config", {}))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Keras' ``layer.losses``: this layer's weight penalties (now) and the activity penalties of its
        calls since they were last collected. Nested layers have their own."""
        return [*_weight_penalties(self), *self.__dict__.get("_zoo_activity_losses", ())]

    def extra_repr(self) -> str:
        return ""

    def keras_post_init(self) -> None:
        """Runs once the Keras keywords are applied (initializers included): for what Keras does after its
        initializers, e.g. LSTM's ``unit_forget_bias``."""


def _accepted(cls: type) -> tuple[list[str], bool]:
    """The keyword names ``cls``'s constructor takes, and whether it passes unknown ones on (a ``**kwargs``
    that reaches no zoo constructor). A ``**kwargs`` that reaches a parent zoo layer's constructor adds
    that constructor's names."""
    names: list[str] = []
    for klass in cls.__mro__:
        original = getattr(klass.__dict__.get("__init__"), "__zoo_original__", None)
        if original is None:
            continue
        params = list(inspect.signature(original).parameters.values())[1:]
        names += [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return list(dict.fromkeys(names)), False
    return list(dict.fromkeys(names)), True


def _typed(cls: type) -> dict[str, tuple[str, bool]]:
    """The constructor parameters of ``cls`` annotated ``bool``, ``int`` or ``float`` (``| None``: optional) -> (kind,
    optional), over the zoo constructors a ``**kwargs`` reaches (as ``_accepted``); cached per class."""
    typed = _typed_cache.get(cls)
    if typed is not None:
        return typed
    typed = {}
    for klass in cls.__mro__:
        original = getattr(klass.__dict__.get("__init__"), "__zoo_original__", None)
        if original is None:
            continue
        params = list(inspect.signature(original).parameters.values())[1:]
        for p in params:
            annotation = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
            kind = _KINDS.get(annotation.replace(" ", ""))
            if kind is not None and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                typed.setdefault(p.name, kind)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    _typed_cache[cls] = typed
    return typed


def _check_types(cls: type, values: Mapping[str, Any]) -> None:
    """A ``bool`` parameter given anything but a bool (``"False"`` would read as True), an ``int`` one given
    a bool or a float, a ``float`` one given no number (``Dropout("0.5")``), or a size that is not
    positive: a ``zoo.ArgumentError`` / ``zoo.OptionError``."""
    for name, (kind, optional) in _typed(cls).items():
        if name not in values:
            continue
        value = values[name]
        if value is None and optional:
            continue
        if kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ArgumentError(
                    f"{cls.__name__}: {name} must be True or False, got {value!r} ({type(value).__name__})."
                )
            continue
        if kind == "float":
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ArgumentError(
                    f"{cls.__name__}: {name} must be a number, got {value!r} ({type(value).__name__})."
                )
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            what = "a positive int" if name in _SIZES else "an int"
            raise OptionError(f"{cls.__name__}: {name} must be {what}, got {value!r} ({type(value).__name__}).")
        if name in _SIZES and value <= 0:
            raise OptionError(f"{cls.__name__}: {name} must be a positive int, got {value!r}.")


def _keras_init(init: Callable[..., None]) -> Callable[..., None]:
    signature = inspect.signature(init)
    var_keyword = next((p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)

    @functools.wraps(init)
    def __init__(self: Layer, *args: Any, **kwargs: Any) -> None:
        if self.__dict__.get("_zoo_constructing"):  # a super().__init__ inside: the outer call does the rest
            init(self, *args, **kwargs)
            return
        object.__setattr__(self, "_zoo_constructing", True)
        try:
            own, keras = _split(type(self), kwargs)
            try:
                bound = signature.bind(self, *args, **own)
            except TypeError as error:
                raise ArgumentError(f"{type(self).__name__}: {error}.") from None
            config = dict(list(bound.arguments.items())[1:])
            _check_types(type(self), {**config, **config.get(var_keyword, {})} if var_keyword else config)
            _input_size(type(self), keras, own, set(signature.parameters))
            init(self, *args, **own)
        finally:
            self.__dict__.pop("_zoo_constructing", None)
        object.__setattr__(self, "_zoo_config", {**config, **keras})
        _apply(self, keras)
        self.keras_post_init()

    __init__.__zoo_original__ = init  # type: ignore[attr-defined]
    return __init__


def _keras_names(cls: type, accepted: list[str]) -> list[str]:
    names = [n for n in _COMMON if n not in accepted]
    names += [f"{role}_{s}" for role in cls.keras_weights for s in _ROLE_SUFFIXES]
    if cls.keras_channels is not None:
        names.append("data_format")
    return [n for n in dict.fromkeys(names) if n not in accepted]


def _split(cls: type, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The constructor's own keywords and the Keras ones; anything else is an ArgumentError."""
    accepted, passes_on = _accepted(cls)
    keras_names = _keras_names(cls, accepted)
    own: dict[str, Any] = {}
    keras: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in keras_names:
            keras[key] = value
        elif key in accepted or passes_on:
            own[key] = value
        else:
            raise ArgumentError(_unknown_message(cls, key, accepted + keras_names))
    return own, keras


#: Keras keywords zoo knowingly does not take, with why and what to do: a did-you-mean guess for them
#: (``renorm`` -> ``center``) would send the user the wrong way.
_KERAS_ONLY = {
    "renorm": "batch renormalization is not implemented; leave renorm out (False, Keras' default)",
    "renorm_clipping": "batch renormalization is not implemented",
    "renorm_momentum": "batch renormalization is not implemented",
    "rms_scaling": "for RMS normalization use torch.nn.RMSNorm (a plain torch module works in any zoo model)",
    "input_length": "Keras 3 removed it too: the sequence length comes from the input (Input((T,)) or "
                    "input_shape=(T,) to build at once)",
    "unroll": "it only changes how TensorFlow runs the loop; zoo always runs torch's fused recurrent kernel, "
              "so leave it out",
    "time_major": "Keras 3 removed it; inputs are (batch, time, features), as there",
}  # fmt: skip


def _unknown_message(cls: type, key: str, accepted: list[str]) -> str:
    if key in _KERAS_ONLY:
        return f"{cls.__name__} does not support Keras' {key}=: {_KERAS_ONLY[key]}."
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    extra = ""
    if key.endswith(_ROLE_SUFFIXES) and cls.keras_weights:
        extra = f" Its weights are named {', '.join(cls.keras_weights)} (Keras' names)."
    elif key.endswith(_ROLE_SUFFIXES):
        extra = " It has no weights to initialise, regularise or constrain."
    elif key == "data_format":
        extra = " It has no channel axis (convolution, pooling and BatchNormalization layers take data_format)."
    return f"{cls.__name__} takes no keyword {key!r}.{hint}{extra} It takes: {', '.join(accepted)}."


def _input_size(cls: type, keras: dict[str, Any], own: dict[str, Any], params: set[str]) -> None:
    """``input_shape=`` / ``input_dim=`` -> the constructor's input-size argument (so the layer is built at
    once), and the size argument -> ``input_shape`` where the sample's rank is known."""
    name = cls.__name__
    if "input_shape" in keras and "input_dim" in keras:
        raise ArgumentError(f"{name}: give input_shape= or input_dim=, not both.")
    data_format = keras.get("data_format", "channels_first")
    if data_format not in _DATA_FORMATS:
        raise ArgumentError(f"{name}: data_format must be one of {_DATA_FORMATS}, got {data_format!r}.")
    if "input_shape" in keras:
        shape = keras["input_shape"] = _check_shape(keras["input_shape"], name)
        spatial = cls.keras_channels
        if spatial and "data_format" not in keras and looks_channels_last(shape, spatial):
            warnings.warn(channels_last_advice(name, shape, "input_shape", batched=False), LayerWarning, stacklevel=4)
    if cls.keras_input_size is None:
        if "input_dim" in keras:
            raise ArgumentError(f"{name} takes no input_dim; give input_shape= (one sample's shape).")
        return
    argument, axis, rank = cls.keras_input_size
    if "input_dim" in keras:
        size = keras.pop("input_dim")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ArgumentError(f"{name}: input_dim must be a positive int, got {size!r}.")
    elif keras.get("input_shape"):
        size = keras["input_shape"][-1 if data_format == "channels_last" else axis]
    else:
        size = own.get(argument)
    if size is None or argument not in params:
        return
    if own.get(argument) is None:
        own[argument] = size
    if "input_shape" not in keras and rank is not None:
        keras["input_shape"] = (None,) * (rank - 1) + (size,)


def _apply(layer: Layer, keras: dict[str, Any]) -> None:
    cls = type(layer)
    name = keras.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ArgumentError(f"{cls.__name__}: name must be a non-empty string, got {name!r}.")
    object.__setattr__(layer, "name", name or _unique_name(cls))
    object.__setattr__(layer, "input_shape", keras.get("input_shape"))
    for role, weight in cls.keras_weights.items():
        initializer = keras.get(f"{role}_initializer", weight.initializer)
        regularizer = keras.get(f"{role}_regularizer")
        constraint = keras.get(f"{role}_constraint")
        tensors = [(path, _locate(layer, path)) for path in weight.paths]
        present = [(path, owner, attr) for path, (owner, attr) in tensors if getattr(owner, attr) is not None]
        if not present:
            given = [f"{role}_{s}" for s in _ROLE_SUFFIXES if keras.get(f"{role}_{s}") is not None]
            if given:
                raise ArgumentError(
                    f"{cls.__name__}: {', '.join(given)} given, but this layer has no {role} "
                    f"(use_bias=False?)."
                )
            continue
        init = _resolve("initializers", initializer, f"{cls.__name__} {role}_initializer")
        reg = _resolve("regularizers", regularizer, f"{cls.__name__} {role}_regularizer")
        con = _resolve("constraints", constraint, f"{cls.__name__} {role}_constraint")
        for path, owner, attr in present:
            if init is not None:
                _initialize(owner, attr, init)
            if reg is not None:
                layer.__dict__.setdefault("_zoo_regularizers", []).append((path, reg))
            if con is not None:
                layer.__dict__.setdefault("_zoo_constraints", []).append((path, con))
    activity = _resolve("regularizers", keras.get("activity_regularizer"), f"{cls.__name__} activity_regularizer")
    if activity is not None:
        object.__setattr__(layer, "_zoo_activity_regularizer", activity)
        object.__setattr__(layer, "_zoo_activity_losses", [])
        layer.register_forward_hook(_record_activity)
    if keras.get("data_format") == "channels_last":
        object.__setattr__(layer, "data_format", "channels_last")
        layer.register_forward_pre_hook(_to_channels_first, prepend=True)
        layer.register_forward_hook(_to_channels_last)
    elif cls.keras_channels and "data_format" not in keras and "data_format" not in layer.__dict__:
        handle = layer.register_forward_pre_hook(_warn_channels_last, prepend=True)
        object.__setattr__(layer, "_zoo_warn_hook", handle.id)
    if keras.get("trainable") is not None:
        layer.trainable = keras["trainable"]


def _locate(layer: nn.Module, path: str) -> tuple[nn.Module, str]:
    owner_path, _, attr = path.rpartition(".")
    return (layer.get_submodule(owner_path) if owner_path else layer), attr


# -- initializers of lazily built weights ---------------------------------------------------------------
def _initialize(owner: nn.Module, attr: str, init: Callable[[torch.Tensor], Any]) -> None:
    tensor = getattr(owner, attr)
    if not is_lazy(tensor):
        init(tensor)
        return
    pending = owner.__dict__.get("_zoo_pending_init")
    if pending is None:
        pending = []
        object.__setattr__(owner, "_zoo_pending_init", pending)
        handle = owner.register_forward_pre_hook(_run_pending)  # after torch's own materialising hook
        object.__setattr__(owner, "_zoo_pending_hook", handle.id)
        owner.register_load_state_dict_post_hook(_cancel_pending)
    pending.append((attr, init))


def _run_pending(module: nn.Module, args: Any) -> None:
    """Initialise the weights torch's lazy hook has just sized. Inside ``zoo.Input`` recording this runs under
    fake-tensor mode, where the weights are real but an initializer that reads values (``trunc_normal_``:
    he_normal, glorot_normal, lecun_normal) would fail: it runs with fake mode off, as the sizing did."""
    from torch._subclasses.fake_tensor import unset_fake_temporarily

    pending = module.__dict__.get("_zoo_pending_init", [])
    for attr, init in list(pending):
        tensor = getattr(module, attr)
        if not is_lazy(tensor):
            with unset_fake_temporarily():
                init(tensor)
            pending.remove((attr, init))
    if not pending:
        module._forward_pre_hooks.pop(module.__dict__.get("_zoo_pending_hook"), None)


def _cancel_pending(module: nn.Module, incompatible_keys: Any) -> None:
    module.__dict__.get("_zoo_pending_init", []).clear()


# -- data_format and the channels-last warning ----------------------------------------------------------
def _to_channels_first(module: nn.Module, args: tuple) -> tuple:
    if not args or not isinstance(args[0], torch.Tensor) or args[0].ndim < 3:
        return args
    return (args[0].movedim(-1, 1), *args[1:])


def _to_channels_last(module: nn.Module, args: tuple, output: Any) -> Any:
    if isinstance(output, torch.Tensor) and output.ndim >= 3:
        return output.movedim(1, -1)
    return output


def _warn_channels_last(module: nn.Module, args: tuple) -> None:
    """Once, on the first call: warn (before a lazy layer builds itself) when the input looks channels-last."""
    module._forward_pre_hooks.pop(module.__dict__.get("_zoo_warn_hook"), None)
    x = args[0] if args else None
    spatial = type(module).keras_channels
    if not isinstance(x, torch.Tensor) or not spatial or x.ndim != spatial + 2:
        return
    shape = tuple(x.shape)
    if looks_channels_last(shape[1:], spatial):
        warnings.warn(channels_last_advice(type(module).__name__, shape, "input shape", batched=True), LayerWarning, stacklevel=2)


class ApplicationChannels:
    """Forward pre-hook for a whole application (``zoo.load``'s core adds it): a batch the network cannot
    take is a ``zoo.DataError`` that says how to fix it, before the stem convolution fails with torch's words
    ("expected input to have 3 channels, but got 224", "expected scalar type Byte but found Float") or,
    worse, a 1-channel stem accepts a channels-last batch.

    * channels-last (a last axis of 1, 3 or 4, smaller than the others, that is what the model takes while
      axis 1 is not): refused, saying ``x.permute(0, 3, 1, 2)``; one that looks so but fits warns, once;
    * another channel count than ``channels``: refused, with the usual conversion (grayscale, alpha);
    * a dtype the stem's weight does not have (uint8 pixels, float64): refused, saying the conversion
      (autocast, which casts for the stem itself, aside).

    ``channels`` is what the application declares it takes (:func:`application_channels`): the stem may see
    more than the image (toy_cnn's CoordConv adds two coordinate channels, so its stem takes 5). ``stem`` is
    the path of the first convolution, read anew on each call, so a stem replaced since the build
    (``model.conv1 = nn.Conv2d(1, 64, 7, 2, 3)`` for grayscale) says the channels from then on.

    Every call reads only rank, axis sizes and dtype (nothing on the device: about 2 µs), and nothing while
    tracing, exporting or compiling (the checks would enter the graph). Picklable; the class attributes keep
    hooks pickled before ``stem`` existed working."""

    stem: tuple[str, ...] | None = None
    stem_channels: int | None = None

    def __init__(
        self, name: str, channels: int | None = None, stem: str | None = None, stem_channels: int | None = None
    ) -> None:
        self.name, self.channels, self.warned = name, channels, False
        if stem is not None:
            self.stem, self.stem_channels = tuple(stem.split(".")) if stem else (), stem_channels

    def __call__(self, module: nn.Module, args: tuple) -> None:
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or torch.jit.is_tracing() or torch.compiler.is_compiling():
            return
        channels, weight = self.channels, None
        if self.stem is not None:
            stem = module
            for part in self.stem:
                stem = stem._modules.get(part) if stem is not None else None
            # the Parameter itself: a parametrized weight (weight_norm) would be computed anew by stem.weight
            weight = stem._parameters.get("weight") if stem is not None else None
            now = getattr(stem, "in_channels", None)
            if now != self.stem_channels:  # replaced (or removed) since the build: it says
                channels = now if isinstance(now, int) and now > 0 else None
        shape = x.shape
        if channels is not None and shape[1] != channels:
            if looks_channels_last(tuple(shape[1:]), 2):
                fix = "" if shape[-1] == channels else f" Then: {channel_advice(self.name, shape[-1], channels)}"
                raise DataError(self._channels_last(shape) + fix)
            raise DataError(channel_advice(self.name, shape[1], channels, shape=tuple(shape)))
        if weight is not None and x.dtype != weight.dtype:
            self._check_dtype(x, weight.dtype)
        if not self.warned and looks_channels_last(tuple(shape[1:]), 2):
            self.warned = True
            warnings.warn(self._channels_last(shape), LayerWarning, stacklevel=3)

    def _channels_last(self, shape: torch.Size) -> str:
        return (
            f"{self.name}: input shape {tuple(shape)} looks channels-last (last axis {shape[-1]}), but zoo "
            "applications are channels-first (N, C, H, W): give x.permute(0, 3, 1, 2) (model.zoo.transforms() "
            "and zoo.preprocess_input make channels-first tensors from images)."
        )

    def _check_dtype(self, x: torch.Tensor, wanted: torch.dtype) -> None:
        if _AUTOCAST_CASTS.issuperset((x.dtype, wanted)) and _autocasting(x.device.type):
            return  # autocast casts both for the stem (it leaves float64 alone)
        convert = _CONVERT.get(wanted, f"x.to({wanted})")
        if x.dtype == torch.uint8:
            raise DataError(
                f"{self.name} got a uint8 batch (raw pixels?), but it takes normalised {wanted} images: convert "
                f"with {convert} / 255 and normalise (zoo.preprocess_input(x, model) does both), or use "
                "model.zoo.transforms()."
            )
        if not x.is_floating_point():
            raise DataError(
                f"{self.name} takes normalised {wanted} images, got a {x.dtype} batch: convert with {convert} "
                "(and normalise: model.zoo.transforms() and zoo.preprocess_input do)."
            )
        raise DataError(
            f"{self.name}'s weights are {wanted}, but the batch is {x.dtype}: convert it with {convert} (or "
            f"convert the model: model.to({x.dtype}))."
        )


_AUTOCAST_CASTS = frozenset({torch.float32, torch.float16, torch.bfloat16})


def _autocasting(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:  # a device type autocast does not know (meta)
        return False


#: How a tensor becomes a dtype, as users spell it.
_CONVERT = {torch.float32: "x.float()", torch.float16: "x.half()", torch.bfloat16: "x.bfloat16()",
            torch.float64: "x.double()"}  # fmt: skip


def channel_advice(name: str, got: int, wanted: int, *, shape: tuple[int, ...] | None = None) -> str:
    """``name takes 3-channel images, got 1: x.expand(-1, 3, -1, -1) for grayscale``: the one wording of a
    wrong channel count, for the application watch and ``model.zoo.transforms()`` (``shape`` given: the
    input's, whose channel axis is ``shape[-3]``)."""
    batched = shape is None or len(shape) == 4
    lead, take = ("-1, ", ":, ") if batched else ("", "")
    fixes = {
        (1, 3): f"x.expand({lead}3, -1, -1) repeats a grayscale channel",
        (4, 3): f"x[{take}:3] drops an alpha channel",
        (3, 1): "torchvision.transforms.v2.functional.rgb_to_grayscale(x) makes grayscale",
        (4, 1): f"torchvision.transforms.v2.functional.rgb_to_grayscale(x[{take}:3]) makes grayscale",
    }
    layout = f"(N, {wanted}, H, W) batches" if batched else f"({wanted}, H, W) images"
    fix = fixes.get((got, wanted), f"give {layout} (model.zoo.transforms() makes them from images)")
    where = f" (shape {shape})" if shape is not None else ""
    return f"{name} takes {wanted}-channel images, got {got}{where}: {fix}."


def application_channels(model: nn.Module, name: str) -> int | None:
    """The image channels an application takes, as declared: the ``zoo.load`` options it was built with
    (``input_shape=(C, H, W)``, timm's ``in_chans``), else its metadata's ``input_size`` ``(C, H, W)``, else
    its weights' per-channel ``mean``; None when nothing says (the watch then asks the stem). Declared
    facts, not the stem's ``in_channels``, because a network may add channels of its own before its stem
    (toy_cnn's CoordConv) or reduce them (tiny_digits averages them)."""
    info = getattr(model, "zoo", None)
    options = getattr(info, "load_options", None) or {}
    shape = options.get("input_shape")
    if isinstance(shape, (tuple, list)) and len(shape) == 3 and isinstance(shape[0], int):
        return shape[0]
    if isinstance(options.get("in_chans"), int):
        return options["in_chans"]
    from zoo.plugins import get_registry

    try:
        size = get_registry().lookup("applications", name).meta.input_size
    except (ZooError, AttributeError):
        size = None
    if isinstance(size, tuple) and len(size) == 3:
        return size[0]
    mean = (getattr(info, "preprocessing", None) or {}).get("mean")
    return len(mean) if isinstance(mean, (list, tuple)) and mean else None


def watch_application_channels(model: nn.Module, name: str) -> None:
    """The channels come from :func:`application_channels`, the stem's where nothing is declared; the stem is
    the first convolution in the model (every application's). A model whose forward needs several inputs
    (video QA's ``video, question``) takes no image batch first, so it is not watched: its own checks speak."""
    if _required_inputs(model) > 1:
        return
    path, stem = next(((p, m) for p, m in model.named_modules() if isinstance(m, nn.Conv2d)), (None, None))
    stem_channels = stem.in_channels if stem is not None and isinstance(stem.in_channels, int) else None
    channels = application_channels(model, name)
    model.register_forward_pre_hook(
        ApplicationChannels(name, stem_channels if channels is None else channels, path, stem_channels),
        prepend=True,
    )


def _required_inputs(model: nn.Module) -> int:
    try:
        params = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in positional and p.default is inspect.Parameter.empty for p in params)


# -- penalties and constraints --------------------------------------------------------------------------
_PASS = threading.local()  # .on inside activity_pass: zoo.fit's and evaluate's own forward passes


@contextlib.contextmanager
def activity_pass(layers: Iterable[nn.Module]) -> Iterator[None]:
    """Around one forward pass of ``zoo.fit`` or ``evaluate``: the activity penalties recorded are this
    pass's, and only its (earlier ones, such as those of the fake-tensor pass that builds a ``zoo.Input``
    model, are dropped), in evaluation mode and without gradients too, since Keras' ``evaluate`` counts
    them as well. Outside such a pass a layer records in training mode with gradients on only."""
    for layer in layers:
        layer.__dict__.get("_zoo_activity_losses", []).clear()
    outer = getattr(_PASS, "on", False)
    _PASS.on = True
    try:
        yield
    finally:
        _PASS.on = outer


def _record_activity(module: nn.Module, args: tuple, output: Any) -> None:
    if not (getattr(_PASS, "on", False) or (module.training and torch.is_grad_enabled())):
        return
    out = output[0] if isinstance(output, (tuple, list)) else output
    if not isinstance(out, torch.Tensor):
        return
    records = module.__dict__["_zoo_activity_losses"]
    batch = out.shape[0] if out.ndim else 1
    records.append(module.__dict__["_zoo_activity_regularizer"](out) / batch)  # Keras divides by the batch
    del records[:-_MAX_ACTIVITY_RECORDS]


def _weight_penalties(layer: nn.Module) -> list[torch.Tensor]:
    penalties = []
    for path, regularizer in layer.__dict__.get("_zoo_regularizers", ()):
        owner, attr = _locate(layer, path)
        tensor = getattr(owner, attr)
        if not is_lazy(tensor):
            penalties.append(regularizer(tensor))
    return penalties


def regularized_layers(model: nn.Module) -> list[Layer]:
    """The layers of ``model`` with a weight or activity regularizer (looked up once per fit)."""
    return [
        m for m in model.modules()
        if m.__dict__.get("_zoo_regularizers") or "_zoo_activity_regularizer" in m.__dict__
    ]  # fmt: skip


def constrained_layers(model: nn.Module) -> list[Layer]:
    return [m for m in model.modules() if m.__dict__.get("_zoo_constraints")]


def regularization_loss(layers: Iterable[nn.Module]) -> torch.Tensor | None:
    """The sum of the layers' penalties (weights now, activity since the last call), or ``None`` if there
    are none; the recorded activity penalties are consumed."""
    total: torch.Tensor | None = None
    for layer in layers:
        activity = layer.__dict__.get("_zoo_activity_losses", [])
        for penalty in (*_weight_penalties(layer), *activity):
            total = penalty if total is None else total + penalty
        activity.clear()
    return total


def apply_constraints(layers: Iterable[nn.Module]) -> None:
    """Project every constrained weight in place (after an optimizer step)."""
    from zoo.training.constraints import project_in_place

    for layer in layers:
        for path, constraint in layer.__dict__.get("_zoo_constraints", ()):
            owner, attr = _locate(layer, path)
            tensor = getattr(owner, attr)
            if not is_lazy(tensor):
                project_in_place(constraint, tensor)


Layer.__init__ = _keras_init(Layer.__init__)  # type: ignore[method-assign]
