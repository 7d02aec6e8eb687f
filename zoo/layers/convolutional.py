"""Keras convolution layers, channels-first ``(N, C, *spatial)`` as torch.

``padding="same"`` follows Keras/TensorFlow exactly: output size ``ceil(in / stride)`` and, when the
total padding is odd, the extra row/column goes at the end (bottom/right) — torch's symmetric
``padding=`` cannot express that for strided convolutions. ``"valid"`` pads nothing; ``Conv1D`` also takes
``"causal"`` (left padding only). The input channel count is inferred on the first call unless
``in_channels`` is given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import DataError, OptionError
from zoo.layers._base import (
    LazyLayer,
    activation_repr,
    check_rank,
    float_input,
    get_activation,
    is_int,
    maybe_lazy,
    tuple_n,
)
from zoo.layers._keras import Layer, Weight

_PADDINGS = ("valid", "same", "causal")


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding TensorFlow uses for ``"same"`` along one axis of length ``size``."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def pad_input(
    x: torch.Tensor,
    padding: str,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    value=0.0,
) -> torch.Tensor:
    """Pad the spatial axes of ``x`` for Keras ``padding`` (F.pad takes the last axis first)."""
    if padding == "valid":
        return x
    pads: list[int] = []
    spatial = x.shape[2:]
    for size, k, s, d in reversed(list(zip(spatial, kernel, stride, dilation, strict=True))):
        pads.extend(((k - 1) * d, 0) if padding == "causal" else same_padding(size, k, s, d))
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


def _check_padding(layer: str, padding: str, allowed: Sequence[str] = ("valid", "same")) -> str:
    """Keras' padding names only: torch's explicit ``padding=1`` is refused rather than taken, since the
    layers pad by name (``"same"`` is TensorFlow's asymmetric padding, which no int expresses) and an
    int in Keras code is a mistake; the message says what gives the same result."""
    if isinstance(padding, str) and padding.lower() in allowed:
        return padding.lower()
    hint = ""
    if isinstance(padding, (numbers.Integral, tuple, list)) and not isinstance(padding, bool):
        explicit = ""
        if layer == "Conv2DTranspose":
            explicit = f"; Cropping2D({padding!r}) after the layer crops as torch's padding= does"
        elif "Conv2D" in layer:
            explicit = f"; ZeroPadding2D({padding!r}) before the layer pads by that amount"
        hint = f" (torch's explicit amounts are not taken: padding='same' keeps the spatial size at stride 1{explicit})"
    raise OptionError(f"{layer}: padding must be one of {tuple(allowed)}, as in Keras, got {padding!r}{hint}.")


def _check_groups(layer: str, filters: int, groups: int, in_channels: int | None = None) -> None:
    """Keras' grouped convolution: each of ``groups`` groups maps ``channels / groups`` inputs to
    ``filters / groups`` outputs, so both must divide (torch would say it in its own words, late)."""
    if filters % groups:
        raise OptionError(
            f"{layer}: filters ({filters}) must be divisible by groups ({groups}): each group makes "
            "filters / groups of the output channels."
        )
    if in_channels and in_channels % groups:
        raise OptionError(
            f"{layer}: in_channels ({in_channels}) must be divisible by groups ({groups}): each group sees "
            "in_channels / groups of the input channels."
        )


def _check_kernel_fits(
    layer: str, x: torch.Tensor, padded: torch.Tensor, kernel: Sequence[int], dilation: Sequence[int]
) -> None:
    """A kernel wider than the (padded) input has no position to sit at: say so, not torch's
    "Kernel size can't be greater than actual input size"."""
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(size < span for size, span in zip(padded.shape[2:], spans, strict=True)):
        dilated = f" (dilated to {spans})" if spans != tuple(kernel) else ""
        raise DataError(
            f"{layer}: kernel_size {tuple(kernel)}{dilated} is larger than the spatial size "
            f"{tuple(padded.shape[2:])} of input shape {tuple(x.shape)} with padding='valid'; give a "
            "larger input, a smaller kernel_size, or padding='same'."
        )


_KERNEL_AND_BIAS = {
    "kernel": Weight(("conv.weight",), "glorot_uniform"),
    "bias": Weight(("conv.bias",), "zeros"),
}


class _Conv(Layer):
    rank = keras_channels = 2
    keras_weights = _KERNEL_AND_BIAS
    keras_input_size = ("in_channels", 0, None)
    _lazy = {1: nn.LazyConv1d, 2: nn.LazyConv2d, 3: nn.LazyConv3d}
    _eager = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        n = self.rank
        self.filters = filters
        self.kernel_size = tuple_n(kernel_size, n, f"{name} kernel_size")
        self.strides = tuple_n(strides, n, f"{name} strides")
        self.dilation_rate = tuple_n(dilation_rate, n, f"{name} dilation_rate")
        self.padding = _check_padding(name, padding, _PADDINGS if n == 1 else ("valid", "same"))
        _check_groups(name, filters, groups, in_channels)
        options = dict(stride=self.strides, dilation=self.dilation_rate, groups=groups, bias=use_bias)
        if in_channels:
            self.conv = self._eager[n](in_channels, filters, self.kernel_size, **options)
        else:
            self.conv = self._lazy[n](filters, self.kernel_size, **options)
        self.activation = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, self.rank + 2, f"(batch, channels, {'x'.join('.' * self.rank)} spatial)")
        x = float_input(x, self.conv.weight.dtype)
        name = type(self).__name__
        expected = getattr(self.conv, "in_channels", 0)
        if expected and x.shape[1] != expected:
            raise DataError(
                f"{name}({self.filters}) was built for {expected} input channels (axis 1), got "
                f"input shape {tuple(x.shape)}; zoo layers are channels-first."
            )
        groups = self.conv.groups
        if not expected and x.shape[1] % groups:  # before the lazy convolution builds itself for them
            raise DataError(
                f"{name}({self.filters}, groups={groups}): the input channels ({x.shape[1]}, axis 1 of input "
                f"shape {tuple(x.shape)}) must be divisible by groups ({groups}), as the filters "
                f"({self.filters}) are: each group sees channels / groups of them."
            )
        padded = pad_input(x, self.padding, self.kernel_size, self.strides, self.dilation_rate)
        if not expected:  # unbuilt: refuse the input before it builds the layer
            _check_kernel_fits(name, x, padded, self.kernel_size, self.dilation_rate)
        try:
            y = self.conv(padded)
        except RuntimeError:  # built: explain torch's error only when there is one (no cost per call)
            _check_kernel_fits(name, x, padded, self.kernel_size, self.dilation_rate)
            raise
        return y if self.activation is None else self.activation(y)

    def extra_repr(self) -> str:
        return (
            f"filters={self.filters}, padding={self.padding!r}, activation={activation_repr(self.activation)}"
        )


class Conv1D(_Conv):
    """1-D convolution over ``(N, C, L)``; ``padding`` may also be ``"causal"``."""

    rank = keras_channels = 1


class Conv2D(_Conv):
    """2-D convolution over ``(N, C, H, W)``."""

    rank = keras_channels = 2


class Conv3D(_Conv):
    """3-D convolution over ``(N, C, D, H, W)``."""

    rank = keras_channels = 3


class DepthwiseConv2D(LazyLayer):
    """One ``kernel_size`` filter per input channel (``depth_multiplier`` of them), channels kept apart."""

    keras_weights = {
        "depthwise": Weight(("weight",), "glorot_uniform"),
        "bias": Weight(("bias",), "zeros"),
    }
    keras_input_size = ("in_channels", 0, None)
    keras_channels = 2

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        dilation_rate: int | Sequence[int] = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = tuple_n(kernel_size, 2, "DepthwiseConv2D kernel_size")
        self.strides = tuple_n(strides, 2, "DepthwiseConv2D strides")
        self.dilation_rate = tuple_n(dilation_rate, 2, "DepthwiseConv2D dilation_rate")
        self.padding = _check_padding("DepthwiseConv2D", padding)
        self.depth_multiplier = depth_multiplier
        out = in_channels * depth_multiplier if in_channels else None
        self.weight = maybe_lazy(None if out is None else (out, 1, *self.kernel_size))
        self.bias = maybe_lazy(None if out is None else (out,)) if use_bias else None
        self.activation = get_activation(activation)
        if not self.has_uninitialized_params():
            self.reset_parameters()

    def build(self, x: torch.Tensor) -> None:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        out = x.shape[1] * self.depth_multiplier
        self.weight.materialize((out, 1, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((out,))

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        x = float_input(x, self.weight.dtype)
        channels = self.weight.shape[0] // self.depth_multiplier
        if x.shape[1] != channels:
            raise DataError(
                f"DepthwiseConv2D was built for {channels} input channels, got input shape {tuple(x.shape)}."
            )
        padded = pad_input(x, self.padding, self.kernel_size, self.strides, self.dilation_rate)
        try:
            y = F.conv2d(padded, self.weight, self.bias, self.strides, 0, self.dilation_rate, groups=channels)
        except RuntimeError:  # explain torch's error only when there is one
            _check_kernel_fits("DepthwiseConv2D", x, padded, self.kernel_size, self.dilation_rate)
            raise
        return y if self.activation is None else self.activation(y)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, depth_multiplier={self.depth_multiplier}, padding={self.padding!r}"


class SeparableConv2D(Layer):
    """Depthwise convolution followed by a 1x1 pointwise convolution to ``filters`` channels."""

    keras_weights = {
        "depthwise": Weight(("depthwise.weight",)),
        "pointwise": Weight(("pointwise.conv.weight",)),
        "bias": Weight(("pointwise.conv.bias",)),
    }
    keras_input_size = ("in_channels", 0, None)
    keras_channels = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        dilation_rate: int | Sequence[int] = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        _check_padding("SeparableConv2D", padding)  # named as itself, not as the depthwise part
        self.filters = filters
        self.depthwise = DepthwiseConv2D(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            dilation_rate,
            use_bias=False,
            in_channels=in_channels,
            data_format="channels_first",  # this layer warns about channels-last inputs, once
        )
        mid = in_channels * depth_multiplier if in_channels else None
        self.pointwise = Conv2D(filters, 1, use_bias=use_bias, in_channels=mid, data_format="channels_first")
        self.activation = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(self.depthwise(x))
        return y if self.activation is None else self.activation(y)


class Conv2DTranspose(LazyLayer):
    """Transposed 2-D convolution; output size ``in * stride`` with ``"same"``, ``(in - 1) * stride + k``
    with ``"valid"`` (Keras). For ``"same"`` it is exactly the gradient of a Keras ``"same"`` Conv2D."""

    keras_weights = {"kernel": Weight(("weight",), "glorot_uniform"), "bias": Weight(("bias",), "zeros")}
    keras_input_size = ("in_channels", 0, None)
    keras_channels = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.filters = filters
        self.kernel_size = tuple_n(kernel_size, 2, "Conv2DTranspose kernel_size")
        self.strides = tuple_n(strides, 2, "Conv2DTranspose strides")
        self.dilation_rate = tuple_n(dilation_rate, 2, "Conv2DTranspose dilation_rate")
        self.padding = _check_padding("Conv2DTranspose", padding)
        self.weight = maybe_lazy((in_channels, filters, *self.kernel_size) if in_channels else None)
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.activation = get_activation(activation)
        if not self.has_uninitialized_params():
            self.reset_parameters()

    def build(self, x: torch.Tensor) -> None:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        self.weight.materialize((x.shape[1], self.filters, *self.kernel_size))

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # torch's ConvTranspose2d default
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        x = float_input(x, self.weight.dtype)
        if x.shape[1] != self.weight.shape[0]:
            raise DataError(
                f"Conv2DTranspose({self.filters}) was built for {self.weight.shape[0]} input channels, got "
                f"input shape {tuple(x.shape)}."
            )
        crop, extra = [0, 0], [0, 0]
        if self.padding == "same":
            dims = zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate, strict=True)
            for i, (size, k, s, d) in enumerate(dims):
                before, _ = same_padding(size * s, k, s, d)
                full = (size - 1) * s + (k - 1) * d + 1
                crop[i] = before
                extra[i] = max(size * s - (full - before), 0)  # k < s: grow the end to in * stride
        y = F.conv_transpose2d(
            x, self.weight, self.bias, self.strides, 0, tuple(extra), 1, self.dilation_rate
        )
        if self.padding == "same":
            h, w = (size * s for size, s in zip(x.shape[2:], self.strides, strict=True))
            y = y[:, :, crop[0] : crop[0] + h, crop[1] : crop[1] + w]
        return y if self.activation is None else self.activation(y)

    def extra_repr(self) -> str:
        return (
            f"filters={self.filters}, padding={self.padding!r}, activation={activation_repr(self.activation)}"
        )


def _pairs(value: int | Sequence, what: str, other: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' ``1`` / ``(h, w)`` / ``((top, bottom), (left, right))`` forms (an entry of the pair may itself
    be one int) -> the last one. Amounts are whole numbers >= 0, as Keras requires: a negative padding
    would crop (and a negative cropping pad) without a word, so ``other`` names the layer that does that."""
    integral = is_int(value)
    iterable = hasattr(value, "__iter__") and not isinstance(value, str)  # a list from a saved config, numpy
    entries = (value, value) if integral else tuple(value) if iterable else ()
    try:
        if len(entries) != 2:
            raise OptionError(what)
        (t, b), (left, r) = (tuple_n(v, 2, what, minimum=0) for v in entries)
    except OptionError:
        raise OptionError(
            f"{what} must be an int, (rows, cols) or ((top, bottom), (left, right)), each a whole number "
            f">= 0 (as in Keras; {other} does the opposite); got {value!r}."
        ) from None
    return (t, b), (left, r)


class ZeroPadding2D(Layer):
    """Pads rows and columns of ``(N, C, H, W)`` with zeros."""

    keras_channels = 2

    def __init__(self, padding: int | Sequence = 1) -> None:
        super().__init__()
        self.padding = _pairs(padding, "ZeroPadding2D padding", "Cropping2D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        (t, b), (left, r) = self.padding
        return F.pad(x, (left, r, t, b))

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


class Cropping2D(Layer):
    """Removes rows and columns from the edges of ``(N, C, H, W)``."""

    keras_channels = 2

    def __init__(self, cropping: int | Sequence = ((0, 0), (0, 0))) -> None:
        super().__init__()
        self.cropping = _pairs(cropping, "Cropping2D cropping", "ZeroPadding2D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        (t, b), (left, r) = self.cropping
        h, w = x.shape[2:]
        if t + b >= h or left + r >= w:
            raise DataError(f"Cropping2D{self.cropping} crops away all of input shape {tuple(x.shape)}.")
        return x[:, :, t : h - b, left : w - r]

    def extra_repr(self) -> str:
        return f"cropping={self.cropping}"


class UpSampling2D(Layer):
    """Repeats rows and columns ``size`` times (``"nearest"``) or interpolates (``"bilinear"``)."""

    keras_channels = 2

    def __init__(self, size: int | Sequence[int] = 2, interpolation: str = "nearest") -> None:
        super().__init__()
        self.size = tuple_n(size, 2, "UpSampling2D size")
        if interpolation not in ("nearest", "bilinear", "bicubic"):
            raise OptionError(
                f"UpSampling2D: interpolation must be nearest, bilinear or bicubic, got {interpolation!r}."
            )
        self.interpolation = interpolation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 4, "(batch, channels, height, width)")
        if self.interpolation == "nearest":
            return x.repeat_interleave(self.size[0], 2).repeat_interleave(self.size[1], 3)
        return F.interpolate(x, scale_factor=self.size, mode=self.interpolation, align_corners=False)

    def extra_repr(self) -> str:
        return f"size={self.size}, interpolation={self.interpolation!r}"
