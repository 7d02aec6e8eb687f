"""Locally-connected layers: convolutions whose weights are not shared across positions (torch has none).

Channels-first like the convolutions; ``padding="valid"`` only, as in Keras. Weights have one kernel per
output position, so the input's spatial size is part of the layer and inferred on the first call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import DataError
from zoo.layers._base import LazyLayer, activation_repr, check_rank, float_input, get_activation, tuple_n
from zoo.layers._keras import Weight
from zoo.layers.convolutional import _check_padding


class _LocallyConnected(LazyLayer):
    rank = 2
    # torch's own initialisation is kept: Keras' fans for this (positions, in, filters) layout differ
    keras_weights = {"kernel": Weight(("weight",)), "bias": Weight(("bias",))}

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        activation: str | Callable | None = None,
        use_bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.filters = filters
        self.kernel_size = tuple_n(kernel_size, self.rank, f"{name} kernel_size")
        self.strides = tuple_n(strides, self.rank, f"{name} strides")
        _check_padding(name, padding, ("valid",))
        self.weight = nn.UninitializedParameter()  # (positions, C * prod(kernel), filters)
        self.bias = nn.UninitializedParameter() if use_bias else None  # (filters, *out_spatial)
        self.activation = get_activation(activation)

    def _out_spatial(self, x: torch.Tensor) -> tuple[int, ...]:
        out = tuple(
            (s - k) // st + 1 for s, k, st in zip(x.shape[2:], self.kernel_size, self.strides, strict=True)
        )
        if any(o <= 0 for o in out):
            raise DataError(
                f"{type(self).__name__}: kernel {self.kernel_size} is larger than input shape {tuple(x.shape)}."
            )
        return out

    def build(self, x: torch.Tensor) -> None:
        check_rank(self, x, self.rank + 2, "(batch, channels, spatial...)")
        out = self._out_spatial(x)
        self.weight.materialize((math.prod(out), x.shape[1] * math.prod(self.kernel_size), self.filters))
        if self.bias is not None:
            self.bias.materialize((self.filters, *out))

    def reset_parameters(self) -> None:
        fan_in = self.weight.shape[1]
        bound = math.sqrt(6.0 / (fan_in + self.filters))  # glorot uniform, Keras' default
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, self.rank + 2, "(batch, channels, spatial...)")
        x = float_input(x, self.weight.dtype)
        out = self._out_spatial(x)
        positions, patch, _ = self.weight.shape
        if math.prod(out) != positions or x.shape[1] * math.prod(self.kernel_size) != patch:
            raise DataError(
                f"{type(self).__name__}({self.filters}) was built for {patch // math.prod(self.kernel_size)} "
                f"channels and {positions} output positions, got input shape {tuple(x.shape)} "
                f"({x.shape[1]} channels, output {out}); unshared weights fix the input size."
            )
        patches = self._patches(x)  # (N, C * prod(kernel), positions)
        y = torch.einsum("ncp,pcf->nfp", patches, self.weight).reshape(x.shape[0], self.filters, *out)
        if self.bias is not None:
            y = y + self.bias
        return y if self.activation is None else self.activation(y)

    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"filters={self.filters}, kernel_size={self.kernel_size}, activation={activation_repr(self.activation)}"


class LocallyConnected1D(_LocallyConnected):
    """Unshared 1-D convolution over ``(N, C, L)`` -> ``(N, filters, L_out)``."""

    rank = 1

    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        windows = x.unfold(2, self.kernel_size[0], self.strides[0])  # (N, C, positions, k)
        return windows.permute(0, 1, 3, 2).reshape(x.shape[0], -1, windows.shape[2])


class LocallyConnected2D(_LocallyConnected):
    """Unshared 2-D convolution over ``(N, C, H, W)`` -> ``(N, filters, H_out, W_out)``."""

    rank = 2

    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        return F.unfold(x, self.kernel_size, stride=self.strides)
