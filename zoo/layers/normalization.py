"""BatchNormalization and LayerNormalization with Keras defaults (momentum 0.99, epsilon 1e-3).

Keras' ``momentum`` weighs the old running statistic, torch's the new one: running = momentum * running +
(1 - momentum) * batch. The feature size is inferred on the first call.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import DataError, OptionError
from zoo.layers._base import LazyLayer, float_input, get_mask, with_mask
from zoo.layers._keras import Weight


class BatchNormalization(LazyLayer):
    """Normalises over every axis but ``axis`` (default 1, the channel axis of channels-first inputs;
    ``axis=-1`` for ``(N, T, F)`` sequences), for inputs of any rank >= 2."""

    keras_weights = {
        "gamma": Weight(("weight",), "ones"),
        "beta": Weight(("bias",), "zeros"),
        "moving_mean": Weight(("running_mean",), "zeros"),
        "moving_variance": Weight(("running_var",), "ones"),
    }
    keras_channels = 0

    def __init__(
        self,
        axis: int = 1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
    ) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:  # outside, the running statistics diverge without a word
            raise OptionError(f"BatchNormalization: momentum must be in [0, 1] (Keras' 0.99), got {momentum!r}.")
        if not epsilon > 0:
            raise OptionError(f"BatchNormalization: epsilon must be > 0, got {epsilon!r}.")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.weight = nn.UninitializedParameter() if scale else None
        self.bias = nn.UninitializedParameter() if center else None
        self.running_mean = nn.UninitializedBuffer()
        self.running_var = nn.UninitializedBuffer()

    def _check_axis(self, x: torch.Tensor) -> None:
        if x.ndim < 2 or not -x.ndim <= self.axis < x.ndim:
            valid = f"axis must lie in -{x.ndim}..{x.ndim - 1}" if x.ndim >= 2 else "it takes a batch axis and at least one more"
            raise DataError(
                f"BatchNormalization(axis={self.axis}) got input shape {tuple(x.shape)} ({x.ndim}-D); {valid} "
                "(axis=1 for (batch, channels, ...), axis=-1 for (batch, time, features))."
            )

    def build(self, x: torch.Tensor) -> None:
        self._check_axis(x)  # the lazy build runs before forward
        features = x.shape[self.axis]
        for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
            if tensor is not None:
                tensor.materialize((features,))

    def reset_parameters(self) -> None:
        self.running_mean.zero_()
        self.running_var.fill_(1)
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_axis(x)
        if x.shape[self.axis] != self.running_mean.shape[0]:
            raise DataError(
                f"BatchNormalization was built for {self.running_mean.shape[0]} features on axis {self.axis}, "
                f"got input shape {tuple(x.shape)}."
            )
        moved = float_input(x, self.running_mean.dtype).movedim(self.axis, 1)
        y = F.batch_norm(
            moved, self.running_mean, self.running_var, self.weight, self.bias,
            self.training, 1.0 - self.momentum, self.epsilon,
        )  # fmt: skip
        return with_mask(y.movedim(1, self.axis), get_mask(x))

    def extra_repr(self) -> str:
        return f"axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}"


class LayerNormalization(LazyLayer):
    """Normalises each sample over the trailing ``axis`` (an int or several trailing axes)."""

    keras_weights = {"gamma": Weight(("weight",), "ones"), "beta": Weight(("bias",), "zeros")}

    def __init__(
        self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True
    ):
        super().__init__()
        axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else tuple(axis)
        if not axes or any(not isinstance(a, int) or isinstance(a, bool) for a in axes):
            raise OptionError(f"LayerNormalization: axis must be an int or a sequence of ints, got {axis!r}.")
        if not epsilon > 0:  # as BatchNormalization: 0 divides by zero on a constant sample, < 0 gives NaN
            raise OptionError(f"LayerNormalization: epsilon must be > 0, got {epsilon!r}.")
        self.axis = tuple(int(a) for a in axes)
        self.epsilon = epsilon
        self.weight = nn.UninitializedParameter() if scale else None
        self.bias = nn.UninitializedParameter() if center else None
        self.normalized_shape: tuple[int, ...] = ()

    def _shape(self, x: torch.Tensor) -> tuple[int, ...]:
        if any(not -x.ndim <= a < x.ndim for a in self.axis):
            raise DataError(
                f"LayerNormalization(axis={self.axis if len(self.axis) > 1 else self.axis[0]}) got input shape "
                f"{tuple(x.shape)} ({x.ndim}-D); axis must lie in 1..{x.ndim - 1} (or -{x.ndim - 1}..-1) and name "
                "trailing axes, e.g. axis=-1 for the last."
            )
        axes = sorted(a % x.ndim for a in self.axis)
        if axes != list(range(x.ndim - len(axes), x.ndim)) or axes[0] == 0:
            raise DataError(
                f"LayerNormalization(axis={self.axis}) normalises trailing non-batch axes; got input shape "
                f"{tuple(x.shape)}."
            )
        return tuple(x.shape[axes[0] :])

    def build(self, x: torch.Tensor) -> None:
        self.normalized_shape = self._shape(x)
        for p in (self.weight, self.bias):
            if p is not None:
                p.materialize(self.normalized_shape)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = self._shape(x)
        if self.normalized_shape and shape != self.normalized_shape:
            raise DataError(
                f"LayerNormalization was built for trailing shape {self.normalized_shape}, got input shape "
                f"{tuple(x.shape)}."
            )
        param = self.weight if self.weight is not None else self.bias
        y = F.layer_norm(float_input(x, None if param is None else param.dtype), shape, self.weight, self.bias, self.epsilon)
        return with_mask(y, get_mask(x))

    def extra_repr(self) -> str:
        return f"axis={self.axis}, epsilon={self.epsilon}"
