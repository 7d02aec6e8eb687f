"""Keras' activation functions as plain ``tensor -> tensor`` functions, and ``get``, the one resolver.

``get("relu")``, ``get({"name": "leaky_relu", "negative_slope": 0.1})``, ``get(torch.tanh)`` and
``get(None)`` (linear) all give a function. ``hard_sigmoid`` follows Keras 3: ``relu6(x + 3) / 6`` (slope
1/6, the same as ``torch.nn.functional.hardsigmoid``); Keras 1-2 used slope 0.2 (``0.2 * x + 0.5``
clipped), available as ``hard_sigmoid(x, slope=0.2)``.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "Activation",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_swish",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return torch.softmax(x, dim=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return torch.log_softmax(x, dim=axis)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return F.elu(x, alpha=alpha)


def selu(x: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with Keras' (and torch's) constants 1.0507009873554805 / 1.6732632423543772."""
    return F.selu(x)


def softplus(x: Tensor) -> Tensor:
    return F.softplus(x)


def softsign(x: Tensor) -> Tensor:
    return x / (1.0 + x.abs())


def relu(
    x: Tensor, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """Keras' ``relu``: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``. Defaults give ``max(x, 0)``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    positive = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else F.relu(x)
    if max_value is not None:
        positive = positive.clamp(0.0, max_value)
    if negative_slope != 0.0:
        positive = positive - negative_slope * F.relu(threshold - x)
    return positive


def relu6(x: Tensor) -> Tensor:
    return F.relu6(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """Keras 3's default slope is 0.2 (torch's ``F.leaky_relu`` defaults to 0.01)."""
    return F.leaky_relu(x, negative_slope)


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    return F.gelu(x, approximate="tanh" if approximate else "none")


def silu(x: Tensor) -> Tensor:
    return F.silu(x)


def mish(x: Tensor) -> Tensor:
    return F.mish(x)


def tanh(x: Tensor) -> Tensor:
    return torch.tanh(x)


def sigmoid(x: Tensor) -> Tensor:
    return torch.sigmoid(x)


def hard_sigmoid(x: Tensor, slope: float = 1.0 / 6.0, offset: float = 0.5) -> Tensor:
    """``clip(slope * x + offset, 0, 1)``: Keras 3 (slope 1/6) by default; ``slope=0.2`` is Keras 2."""
    return (slope * x + offset).clamp(0.0, 1.0)


def hard_swish(x: Tensor) -> Tensor:
    return x * hard_sigmoid(x)


def exponential(x: Tensor) -> Tensor:
    return torch.exp(x)


def linear(x: Tensor) -> Tensor:
    return x


class Activation:
    """A registered activation. Called with a tensor it applies the function; called without one it
    returns the activation with those options bound, so that both ``zoo.get("activations", "relu")``
    (-> a callable) and ``zoo.get("activations", "relu", x)`` (-> a tensor) work, as do options:
    ``zoo.get("activations", "leaky_relu", negative_slope=0.1)``."""

    def __init__(self, fn: Callable[..., Tensor], **options: Any) -> None:
        functools.update_wrapper(self, fn)
        if options:  # refused now, not when the activation is first applied
            from zoo.registry import check_keywords, keywords_of

            check_keywords(f"activation {getattr(fn, '__name__', fn)!r}", options, keywords_of(fn, skip=1))
        self.fn, self.options = fn, options

    def __call__(self, x: Tensor | None = None, **kwargs: Any) -> Any:
        options = {**self.options, **kwargs}
        if x is None:
            return Activation(self.fn, **options)
        return self.fn(x, **options)

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"Activation({self.fn.__name__}{options})"


#: What the plugin registers (``zoo.training.activations:registered.relu``).
registered = types.SimpleNamespace(
    **{
        fn.__name__: Activation(fn)
        for fn in (
            softmax, log_softmax, elu, selu, softplus, softsign, relu, relu6, leaky_relu, gelu, silu, mish,
            tanh, sigmoid, hard_sigmoid, hard_swish, exponential, linear,
        )
    }
)  # fmt: skip


def build(target: Any, *args: Any, **options: Any) -> Any:
    """What an ``activations`` entry builds from its target, the one rule for every plugin's: the hook's
    contract makes a target a function or an ``nn.Module`` class mapping a tensor to a tensor, not a
    factory. ``zoo.get("activations", name)`` gives the activation (options bound), ``(name, x)`` applies it;
    zoo's own targets are :class:`Activation` objects, which do both."""
    if isinstance(target, type):
        module = target(**options)
        return module(*args) if args else module
    activation = target if isinstance(target, Activation) else Activation(target)
    return activation(*args, **options)


def get(identifier: Any) -> Callable[[Tensor], Tensor]:
    """The activation ``identifier`` names: a registered name (any plugin's), a ``{"name": ..., **kwargs}``
    dict (or Keras' ``{"class_name": ..., "config": {...}}``), ``None`` (linear), an ``nn.Module`` class (instantiated) or a callable (returned as is)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        from zoo.plugins import get_registry

        return get_registry().lookup("activations", identifier)()  # the entry builds by build() above
    from zoo.training.resolve import module_class_or_callable, name_and_config

    if isinstance(identifier, Mapping):
        name, config = name_and_config(identifier, "activation")
        fn = get(name)
        return Activation(fn, **config) if config else fn
    return module_class_or_callable(
        identifier, "activation must be a name ('relu'), a dict, None or a callable tensor -> tensor"
    )
