"""Keras advanced-activation layers (parametrised activations)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import DataError, OptionError
from zoo.layers._base import LazyLayer, float_input, get_mask, is_int, with_mask
from zoo.layers._keras import Layer, Weight


class _Pointwise(Layer):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return with_mask(self.fn(x), get_mask(x))

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LeakyReLU(_Pointwise):
    """``x`` if ``x >= 0`` else ``negative_slope * x`` (Keras default slope 0.3)."""

    def __init__(self, negative_slope: float = 0.3) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(_Pointwise):
    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class ThresholdedReLU(_Pointwise):
    """``x`` if ``x > theta`` else 0."""

    def __init__(self, theta: float = 1.0) -> None:
        super().__init__()
        self.theta = theta

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x > self.theta, x, torch.zeros_like(x))

    def extra_repr(self) -> str:
        return f"theta={self.theta}"


class Softmax(_Pointwise):
    """Softmax over ``axis`` (an int; the rank is known only at the call, so the axis is checked there)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.ndim <= self.axis < x.ndim:
            raise DataError(
                f"Softmax(axis={self.axis}) got input shape {tuple(x.shape)} ({x.ndim}-D); axis must lie in "
                f"-{x.ndim}..{x.ndim - 1} (axis=-1, the default, for the last)."
            )
        return F.softmax(x, dim=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class ReLU(_Pointwise):
    """Keras ``ReLU``: ``max_value`` caps the output; below ``threshold`` it is ``negative_slope * (x - threshold)``."""

    def __init__(
        self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0
    ) -> None:
        super().__init__()
        if max_value is not None and max_value < 0:
            raise OptionError(f"ReLU: max_value must be >= 0, got {max_value}.")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        return y if self.max_value is None else y.clamp(max=self.max_value)

    def extra_repr(self) -> str:
        return f"max_value={self.max_value}, negative_slope={self.negative_slope}, threshold={self.threshold}"


class PReLU(LazyLayer):
    """``x`` if ``x >= 0`` else ``alpha * x`` with a learned ``alpha`` per input element (Keras), shared
    along ``shared_axes`` (numbered from 1, batch excluded: ``(2, 3)`` gives one alpha per channel of a
    channels-first image, like ``torch.nn.PReLU(C)``)."""

    keras_weights = {"alpha": Weight(("alpha",))}

    def __init__(
        self, alpha_initializer: float = 0.0, shared_axes: int | Sequence[int] | None = None
    ) -> None:
        super().__init__()
        self.alpha_initializer = float(alpha_initializer)
        if is_int(shared_axes):
            shared_axes = (shared_axes,)  # Keras takes one axis as an int
        axes = () if shared_axes is None else tuple(shared_axes) if hasattr(shared_axes, "__iter__") else None
        if axes is None or not all(
            is_int(a) and a >= 1 for a in axes
        ):
            raise OptionError(
                "PReLU: shared_axes are axes numbered from 1, as in Keras (axis 0 is the batch, which alpha "
                f"never spans; negative axes are not taken), e.g. shared_axes=(2, 3) for one alpha per channel "
                f"of (batch, channels, height, width); got {shared_axes!r}."
            )
        self.shared_axes = tuple(int(a) for a in axes)
        self.alpha = nn.UninitializedParameter()

    def build(self, x: torch.Tensor) -> None:
        beyond = [a for a in self.shared_axes if a >= x.ndim]
        if beyond:  # it would be ignored: a full-size alpha, as if nothing were shared
            raise DataError(
                f"PReLU(shared_axes={self.shared_axes}) got input shape {tuple(x.shape)} ({x.ndim}-D), which has "
                f"no axis {beyond[0]}; shared axes lie in 1..{x.ndim - 1} (axis 0 is the batch)."
            )
        shape = [1 if axis in self.shared_axes else d for axis, d in enumerate(x.shape[1:], start=1)]
        self.alpha.materialize(tuple(shape))

    def reset_parameters(self) -> None:
        nn.init.constant_(self.alpha, self.alpha_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            torch.broadcast_shapes(self.alpha.shape, x.shape[1:])
        except RuntimeError:
            raise DataError(
                f"PReLU was built for inputs (batch, {', '.join(map(str, self.alpha.shape))}), got {tuple(x.shape)}."
            ) from None
        mask, x = get_mask(x), float_input(x, self.alpha.dtype)
        return with_mask(torch.where(x >= 0, x, self.alpha * x), mask)

    def extra_repr(self) -> str:
        return f"shared_axes={self.shared_axes}"
