"""Keras pooling layers, channels-first. ``padding="same"`` pads like TensorFlow (extra at the end): max
pooling ignores the padding, average pooling divides by the number of real values under the window."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from zoo.errors import DataError, OptionError
from zoo.layers._base import check_rank, get_mask, resolve_mask, tuple_n
from zoo.layers._keras import Layer
from zoo.layers.convolutional import _check_padding, pad_input

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class _Pool(Layer):
    rank = keras_channels = 2
    kind = "max"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.pool_size = tuple_n(pool_size, self.rank, f"{name} pool_size")
        self.strides = self.pool_size if strides is None else tuple_n(strides, self.rank, f"{name} strides")
        self.padding = _check_padding(name, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, self.rank + 2, "(batch, channels, spatial...)")
        if (
            any(size < k for size, k in zip(x.shape[2:], self.pool_size, strict=True))
            and self.padding == "valid"
        ):
            raise DataError(
                f"{type(self).__name__}(pool_size={self.pool_size}) needs spatial sizes of at least the pool "
                f"size with padding='valid', got input shape {tuple(x.shape)}."
            )
        ones = (1,) * self.rank
        if self.kind == "max":
            padded = pad_input(x, self.padding, self.pool_size, self.strides, ones, value=float("-inf"))
            return _MAX[self.rank](padded, self.pool_size, self.strides)
        padded = pad_input(x, self.padding, self.pool_size, self.strides, ones)
        pooled = _AVG[self.rank](padded, self.pool_size, self.strides)
        if padded is x:
            return pooled
        real = pad_input(torch.ones_like(x[:1, :1]), self.padding, self.pool_size, self.strides, ones)
        return pooled / _AVG[self.rank](real, self.pool_size, self.strides)

    def extra_repr(self) -> str:
        return f"pool_size={self.pool_size}, strides={self.strides}, padding={self.padding!r}"


class MaxPooling1D(_Pool):
    rank = keras_channels = 1
    kind = "max"


class MaxPooling2D(_Pool):
    rank = keras_channels = 2
    kind = "max"


class MaxPooling3D(_Pool):
    rank = keras_channels = 3
    kind = "max"


class AveragePooling1D(_Pool):
    rank = keras_channels = 1
    kind = "avg"


class AveragePooling2D(_Pool):
    rank = keras_channels = 2
    kind = "avg"


class AveragePooling3D(_Pool):
    rank = keras_channels = 3
    kind = "avg"


class _GlobalPool(Layer):
    """Reduces all spatial axes: ``(N, C, ...) -> (N, C)`` (``keepdims=True`` keeps them as size 1).

    ``data_format="channels_last"`` takes ``(N, ..., C)``, e.g. the ``(N, T, F)`` output of a recurrent
    layer. The 1-D forms honour a ``(N, T)`` mask (``mask=``, ``lengths=`` or one attached by
    ``Embedding(mask_zero=True)``): padded steps do not count.
    """

    rank = 2
    kind = "max"

    def __init__(self, data_format: str = "channels_first", keepdims: bool = False) -> None:
        super().__init__()
        if data_format not in ("channels_first", "channels_last"):
            raise OptionError(f"{type(self).__name__}: data_format must be channels_first or channels_last.")
        self.data_format = data_format
        self.keepdims = keepdims

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        last = self.data_format == "channels_last"
        check_rank(
            self,
            x,
            self.rank + 2,
            "(batch, spatial..., channels)" if last else "(batch, channels, spatial...)",
        )
        dims = tuple(range(1, x.ndim - 1)) if last else tuple(range(2, x.ndim))
        if self.rank == 1:
            if mask is None and lengths is None:
                mask = get_mask(x)  # attached by Embedding(mask_zero=True) or Masking
            mask = resolve_mask(self, x if last else x.transpose(1, 2), mask, lengths)
        elif mask is not None or lengths is not None:
            raise OptionError(f"{type(self).__name__} takes no mask; only the 1-D global poolings do.")
        if mask is not None:
            m = mask[:, :, None] if last else mask[:, None, :]
            if self.kind == "max":
                x = x.masked_fill(~m, float("-inf"))
                return x.amax(dim=dims, keepdim=self.keepdims)
            total = (x * m).sum(dim=dims, keepdim=self.keepdims)
            return total / m.sum(dim=dims, keepdim=self.keepdims).clamp(min=1)
        if self.kind == "max":
            return x.amax(dim=dims, keepdim=self.keepdims)
        return x.mean(dim=dims, keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"data_format={self.data_format!r}"


class GlobalMaxPooling1D(_GlobalPool):
    rank, kind = 1, "max"


class GlobalAveragePooling1D(_GlobalPool):
    rank, kind = 1, "avg"


class GlobalMaxPooling2D(_GlobalPool):
    rank, kind = 2, "max"


class GlobalAveragePooling2D(_GlobalPool):
    rank, kind = 2, "avg"
