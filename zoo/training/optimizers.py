"""``torch.optim`` optimizers under Keras' names, taking Keras' argument names and defaults.

``zoo.get("optimizers", "adam", model.parameters(), lr=1e-3)`` builds ``torch.optim.Adam``. Keras
spellings are translated: ``learning_rate`` -> ``lr``, ``epsilon`` -> ``eps``, ``beta_1``/``beta_2`` ->
``betas``, RMSprop's ``rho`` -> ``alpha``; ``clipnorm`` (each weight's gradient), ``global_clipnorm`` (all of
them together) and ``clipvalue`` are kept on the optimizer and applied by ``fit`` before each step.
``weight_decay=`` where Keras' decoupled rule and torch's L2 one differ needs ``decoupled_weight_decay=``. Where Keras' default differs from torch's, the Keras-named builder uses the
Keras default (README table); PyTorch names (``lr``, ``eps``, ``alpha``) are accepted unchanged.

Adam and AdamW by name use torch's fused kernel (``fused=True``: one kernel per step instead of about a dozen
tensor operations per parameter; the same update to float rounding) when every parameter is a floating
tensor on a device that has it; passing ``fused=``, ``foreach=``, ``capturable=`` or ``differentiable=``
leaves the choice to torch as given.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable
from typing import Any

import torch

from zoo.errors import ArgumentError, OptionError
from zoo.training.arguments import check_options

# name -> (torch class name, Keras defaults applied when the user does not set them)
KERAS_DEFAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 0.01}),
    "rmsprop": ("RMSprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    "adagrad": ("Adagrad", {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": ("Adadelta", {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    "adam": ("Adam", {"lr": 0.001, "eps": 1e-7}),
    "adamw": ("AdamW", {"lr": 0.001, "eps": 1e-7, "weight_decay": 0.004}),
    "adamax": ("Adamax", {"lr": 0.001, "eps": 1e-7}),
    "nadam": ("NAdam", {"lr": 0.001, "eps": 1e-7}),
    # Not in Keras (or different there): torch's own defaults.
    "radam": ("RAdam", {}),
    "asgd": ("ASGD", {}),
    "rprop": ("Rprop", {}),
    "lbfgs": ("LBFGS", {}),
    "sparse_adam": ("SparseAdam", {}),
    "adafactor": ("Adafactor", {}),
}

_RENAMES = {"learning_rate": "lr", "epsilon": "eps"}
#: torch optimizers whose fused kernel the Keras-named builder picks (the ones a fit spends time in).
_FUSED = {"Adam", "AdamW"}
_IMPLEMENTATION_ARGS = ("fused", "foreach", "capturable", "differentiable")


_CLIPPING = ("clipnorm", "global_clipnorm", "clipvalue")
#: Keras names whose weight_decay= differs from the torch class's: Keras decays every optimizer's weights
#: decoupled from the gradient (``w -= lr * wd * w`` before the update, AdamW's rule), torch adds
#: ``wd * w`` to the gradient (L2), which Adam's normalisation then largely cancels.
_DECAY_MEANS_TWO_THINGS = {"sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"}


def translate(torch_name: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keras argument names -> torch ones; returns (torch kwargs, zoo extras such as clipnorm)."""
    kwargs = dict(kwargs)
    extras = {k: kwargs.pop(k) for k in _CLIPPING if k in kwargs}
    given = [k for k in _CLIPPING if extras.get(k) is not None]
    if len(given) > 1:
        raise ArgumentError(f"give only one of clipnorm, global_clipnorm and clipvalue (Keras' rule), got {given}.")
    for key in given:
        value = extras[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
            raise OptionError(
                f"{key} must be a number > 0 (the largest gradient {'value' if key == 'clipvalue' else 'norm'} "
                f"kept), got {value!r}."
            )
    for keras_name, torch_arg in _RENAMES.items():
        if keras_name in kwargs:
            if torch_arg in kwargs:
                raise ArgumentError(f"give either {keras_name}= or {torch_arg}=, not both.")
            kwargs[torch_arg] = kwargs.pop(keras_name)
    if "beta_1" in kwargs or "beta_2" in kwargs:
        if "betas" in kwargs:
            raise ArgumentError("give either beta_1/beta_2 or betas=, not both.")
        kwargs["betas"] = (kwargs.pop("beta_1", 0.9), kwargs.pop("beta_2", 0.999))
    if torch_name == "RMSprop" and "rho" in kwargs:
        kwargs["alpha"] = kwargs.pop("rho")
    return kwargs, {k: v for k, v in extras.items() if v is not None}


def _weight_decay(name: str, cls: type, kwargs: dict[str, Any]) -> float:
    """Settle what ``weight_decay=`` means; returns the decoupled decay zoo applies itself (0: none).

    Where Keras and torch disagree the caller says which it means with ``decoupled_weight_decay=``
    (torch.optim.Adam's own argument): True is Keras' rule, False torch's. Plain SGD is the one case
    where both rules make the same update."""
    decay = kwargs.get("weight_decay", 0)
    native = "decoupled_weight_decay" in inspect.signature(cls).parameters
    decoupled = kwargs.get("decoupled_weight_decay") if native else kwargs.pop("decoupled_weight_decay", None)
    if name not in _DECAY_MEANS_TWO_THINGS or not decay or isinstance(decay, torch.Tensor):
        return 0.0
    plain_sgd = name == "sgd" and not kwargs.get("momentum") and not kwargs.get("nesterov")
    if decoupled is None and not plain_sgd:
        raise ArgumentError(
            f"optimizer {name!r}: weight_decay= means two things here. Keras decays the weights decoupled "
            f"from the gradient (w -= lr * weight_decay * w, AdamW's rule); torch.optim.{cls.__name__} adds "
            "weight_decay * w to the gradient (L2), which gives another training. Say which: "
            "decoupled_weight_decay=True (Keras') or decoupled_weight_decay=False (torch's)."
        )
    if not decoupled or native:
        return 0.0
    kwargs["weight_decay"] = 0
    return float(decay)


def _decay_before_step(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    """Keras' decoupled weight decay, before the update with the group's current learning rate."""
    with torch.no_grad():
        for group in optimizer.param_groups:
            decay = group.get("decoupled_weight_decay", 0.0)
            if decay:
                for p in group["params"]:
                    if p.grad is not None:
                        p.mul_(1 - group["lr"] * decay)


_KERAS_NAMES = ("learning_rate", "epsilon", "beta_1", "beta_2", *_CLIPPING)


def _check_learning_rate(name: str, kwargs: dict[str, Any]) -> None:
    """``learning_rate``/``lr`` must be a finite number >= 0 (a tensor is left to torch)."""
    for key in ("learning_rate", "lr"):
        if key not in kwargs or isinstance(kwargs[key], torch.Tensor):
            continue
        value = kwargs[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise OptionError(
                f"optimizer {name!r}: {key} must be a finite number >= 0, got {value!r} "
                f"({type(value).__name__}); e.g. {key}=1e-3."
            )


def build(name: str, params: Iterable[Any], **kwargs: Any) -> torch.optim.Optimizer:
    torch_name, defaults = KERAS_DEFAULTS[name]
    cls = getattr(torch.optim, torch_name, None)
    if cls is None:
        raise OptionError(f"torch.optim.{torch_name} is not in torch {torch.__version__}; upgrade torch.")
    from zoo.registry import check_keywords, keywords_of

    own = keywords_of(cls, skip=1)
    if own is not None:
        keras = [*_KERAS_NAMES, *(("rho",) if torch_name == "RMSprop" else ())]
        zoo_own = ["decoupled_weight_decay"] if name in _DECAY_MEANS_TWO_THINGS else []
        check_keywords(f"optimizer {name!r} (torch.optim.{torch_name})", kwargs, list(dict.fromkeys([*own, *keras, *zoo_own])))
    _check_learning_rate(name, kwargs)
    kwargs = check_options(f"optimizer {name!r} (torch.optim.{torch_name})", cls, kwargs, skip=1)
    kwargs, extras = translate(torch_name, kwargs)
    decoupled = _weight_decay(name, cls, kwargs)
    for key, value in defaults.items():
        kwargs.setdefault(key, value)
    if (torch_name in _FUSED and not isinstance(params, torch.Tensor)  # a bare tensor: torch says what is wrong
            and not any(arg in kwargs for arg in _IMPLEMENTATION_ARGS)):  # fmt: skip
        params = _materialised(params)
        if _fusable(params):
            kwargs["fused"] = True
    try:
        optimizer = cls(params, **kwargs)
    except TypeError as error:
        raise ArgumentError(f"optimizer {name!r} (torch.optim.{torch_name}): {error}") from None
    except ValueError as error:  # torch's own range checks ("Invalid beta parameter at index 0: 2.0")
        raise OptionError(f"optimizer {name!r} (torch.optim.{torch_name}): {error}") from None
    for key, value in extras.items():
        setattr(optimizer, key, value)
    if decoupled:
        for group in optimizer.param_groups:
            group.setdefault("decoupled_weight_decay", decoupled)  # in state_dict: survives a checkpoint
        optimizer.register_step_pre_hook(_decay_before_step)
    return optimizer


def _materialised(params: Iterable[Any]) -> list[Any]:
    """``params`` as a list (parameter groups' own ``params`` too), so it can be looked at and then used."""
    out = []
    for item in params:
        if isinstance(item, dict) and "params" in item:
            group = item["params"]
            item = {**item, "params": [group] if isinstance(group, torch.Tensor) else list(group)}
        out.append(item)
    return out


def _fusable(params: list[Any]) -> bool:
    """Every parameter a floating tensor on a device with torch's fused optimizer kernels."""
    from torch.nn.parameter import is_lazy
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

    devices = set(_get_fused_kernels_supported_devices())
    tensors = [t for item in params for t in (item["params"] if isinstance(item, dict) else [item])]
    return bool(tensors) and all(
        isinstance(t, torch.Tensor) and not is_lazy(t) and t.is_floating_point() and t.device.type in devices
        for t in tensors
    )


class DeferredOptimizer:
    """Keras' ``optimizer=Adam(learning_rate=1e-3)``: an optimizer named and configured before there are
    parameters (``zoo.get("optimizers", "adam", learning_rate=1e-3)``, no parameters given). ``compile`` and
    ``fit`` call it with the model's parameters; its arguments are checked now, on a stand-in parameter."""

    def __init__(self, name: str, kwargs: dict[str, Any]) -> None:
        build(name, [torch.nn.Parameter(torch.zeros(1))], **kwargs)  # a wrong argument fails here, by name
        self.name, self.kwargs = name, dict(kwargs)

    def __call__(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        return build(self.name, params, **self.kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({args}) (built on the model's parameters by compile/fit)"


def _factory(name: str):
    def factory(
        params: Iterable[Any] | float | None = None, *more: Any, **kwargs: Any
    ) -> torch.optim.Optimizer | DeferredOptimizer:
        """Parameters first is torch's order (``SGD(model.parameters(), 0.1)``: the learning rate may follow);
        a number first is Keras' positional ``learning_rate`` (``Adam(1e-3)``); without parameters it is the
        optimizer ``compile``/``fit`` build on the model's."""
        if isinstance(params, (bool, str, bytes)):
            raise ArgumentError(
                f"optimizer {name!r} takes the parameters or the learning rate first, got {params!r}; e.g. "
                f"{name}(model.parameters(), lr=1e-3) or {name}(learning_rate=1e-3)."
            )
        number_first = isinstance(params, numbers.Real)
        extra = len(more) - (0 if number_first else 1)
        if extra > 0:
            raise ArgumentError(
                f"optimizer {name!r}: give the options after the "
                f"{'learning rate' if number_first else 'parameters and learning rate'} as keywords "
                f"(Keras' beta_1=..., torch's betas=...), got {extra} more positional arguments."
            )
        rate = params if number_first else (more[0] if more else None)
        if rate is not None:
            if "learning_rate" in kwargs or "lr" in kwargs:
                raise ArgumentError(f"optimizer {name!r}: the learning rate was given twice, by position and by keyword.")
            kwargs = {"learning_rate": rate, **kwargs}
        if number_first:
            params = None
        if params is None:
            return DeferredOptimizer(name, kwargs)
        return build(name, params, **kwargs)

    torch_name = KERAS_DEFAULTS[name][0]
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (
        f"``torch.optim.{torch_name}`` with Keras argument names and defaults {KERAS_DEFAULTS[name][1]}. "
        f"{factory.__doc__}"
    )
    return factory


sgd = _factory("sgd")
rmsprop = _factory("rmsprop")
adagrad = _factory("adagrad")
adadelta = _factory("adadelta")
adam = _factory("adam")
adamw = _factory("adamw")
adamax = _factory("adamax")
nadam = _factory("nadam")
radam = _factory("radam")
asgd = _factory("asgd")
rprop = _factory("rprop")
lbfgs = _factory("lbfgs")
sparse_adam = _factory("sparse_adam")
adafactor = _factory("adafactor")

# Keras' class names: keras.optimizers.Adam(1e-3) is zoo.optimizers.Adam(1e-3).
SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam, Adafactor = (
    sgd, rmsprop, adagrad, adadelta, adam, adamw, adamax, nadam, adafactor,
)
