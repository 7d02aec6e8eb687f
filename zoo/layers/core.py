"""Core Keras layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
Masking and Embedding, as plain ``nn.Module``s."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._base import (
    activation_repr,
    check_rank,
    float_input,
    get_activation,
    get_mask,
    is_int,
    with_mask,
)
from zoo.layers._keras import Layer, Weight
from zoo.layers._tracing import is_tracing


class Dense(Layer):
    """``activation(x @ W.T + b)`` over the last axis (Keras ``Dense``); any leading axes are kept.

    Without ``input_dim`` (or ``input_shape``) the input size is inferred on the first call
    (``nn.LazyLinear``). Weights start as in Keras (``glorot_uniform`` kernel, zero bias).
    """

    keras_weights = {
        "kernel": Weight(("linear.weight",), "glorot_uniform"),
        "bias": Weight(("linear.bias",), "zeros"),
    }
    keras_input_size = ("input_dim", -1, 1)

    def __init__(
        self,
        units: int,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        input_dim: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units <= 0:
            raise OptionError(f"Dense: units must be a positive int, got {units!r}.")
        self.units = units = int(units)
        self.linear = (
            nn.Linear(input_dim, units, bias=use_bias) if input_dim else nn.LazyLinear(units, bias=use_bias)
        )
        self.activation = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, range(1, 9))
        mask, x = get_mask(x), float_input(x, self.linear.weight.dtype)
        in_features = getattr(self.linear, "in_features", 0)
        if in_features and x.shape[-1] != in_features:
            raise DataError(
                f"Dense({self.units}) was built for {in_features} input features, got input shape "
                f"{tuple(x.shape)} (last axis {x.shape[-1]})."
            )
        y = self.linear(x)
        if self.activation is not None:
            y = self.activation(y)
        return with_mask(y, mask)

    def extra_repr(self) -> str:
        return f"units={self.units}, activation={activation_repr(self.activation)}"


class Activation(Layer):
    """Applies an activation given by registered name or as a callable."""

    def __init__(self, activation: str | Callable) -> None:
        super().__init__()
        self.activation_name = activation if isinstance(activation, str) else activation_repr(activation)
        self.fn = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.fn is None else self.fn(x)
        return with_mask(y, get_mask(x))

    def extra_repr(self) -> str:
        return self.activation_name


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training; ``noise_shape`` shares the drop pattern
    along axes of size 1 (Keras semantics, batch axis included)."""

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise OptionError(f"Dropout: rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        shape = (
            noise_shape if noise_shape is None or not hasattr(noise_shape, "__iter__") else tuple(noise_shape)
        )
        if shape is not None and not (
            isinstance(shape, tuple) and all(n is None or (is_int(n) and n >= 1) for n in shape)
        ):
            raise OptionError(
                "Dropout: noise_shape is the drop pattern's shape, batch axis included: a tuple with one entry "
                f"per input axis, 1 to share along it, None for the input's size, e.g. (None, 1, 64); got {noise_shape!r}."
            )
        self.noise_shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        if self.noise_shape is None:
            y = F.dropout(x, self.rate, True)
        else:
            if len(self.noise_shape) != x.ndim or any(
                n not in (None, 1, d) for n, d in zip(self.noise_shape, x.shape, strict=False)
            ):
                raise DataError(
                    f"Dropout: noise_shape {self.noise_shape} does not fit input shape {tuple(x.shape)}: it needs "
                    f"one entry per input axis ({x.ndim}), each 1 (shared), None or the input's size."
                )
            shape = [d if n is None else n for n, d in zip(self.noise_shape, x.shape, strict=True)]
            keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1.0 - self.rate)
            y = x * keep / (1.0 - self.rate)
        return with_mask(y, get_mask(x))

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, range(1, 9))
        return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(-1, 1)


class Reshape(Layer):
    """Reshape everything but the batch axis to ``target_shape`` (one entry may be -1, or ``None`` as Keras
    lets it be, for "the rest"). An int is the 1-tuple it can only mean (``Reshape(5)`` is ``(5,)``)."""

    def __init__(self, target_shape: int | Sequence[int]) -> None:
        super().__init__()
        self.target_shape = _target_shape(target_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, range(1, 9))
        try:
            return x.reshape(x.shape[0], *self.target_shape)
        except RuntimeError:  # say which sizes disagree only when they do (nothing to count per call)
            per_sample, known = math.prod(x.shape[1:]), math.prod(d for d in self.target_shape if d != -1)
            if -1 not in self.target_shape:
                raise DataError(
                    f"Reshape{self.target_shape}: the target shape holds {known} values per sample, the input "
                    f"shape {tuple(x.shape)} holds {per_sample}; the two sizes must be equal."
                ) from None
            if per_sample % known:
                raise DataError(
                    f"Reshape{self.target_shape}: the target shape needs a multiple of {known} values per "
                    f"sample (its -1 takes the rest), the input shape {tuple(x.shape)} holds {per_sample}."
                ) from None
            raise

    def extra_repr(self) -> str:
        return f"target_shape={self.target_shape}"


def _target_shape(value: object) -> tuple[int, ...]:
    """Keras' ``target_shape`` rule: whole numbers >= 0 and at most one unknown (-1 or None), stored as -1.
    A fractional size would otherwise be truncated (``2.5`` reshaping to 2) without a word."""
    if is_int(value):
        value = (value,)
    dims = tuple(value) if hasattr(value, "__iter__") and not isinstance(value, str) else None
    valid = dims is not None and all(d is None or (is_int(d) and d >= -1) for d in dims)
    if (
        not valid
        or sum(d is None or d == -1 for d in dims) > 1
        or (0 in dims and any(d in (None, -1) for d in dims))
    ):
        raise OptionError(
            "Reshape: target_shape is one sample's shape without the batch axis, a tuple of whole numbers "
            ">= 0 with at most one -1 (None) for the rest (not beside a 0, where the rest is any size), e.g. "
            f"Reshape((4, -1)); got {value!r}."
        )
    return tuple(-1 if d is None else int(d) for d in dims)


class Permute(Layer):
    """Permute non-batch axes, numbered from 1 as in Keras: ``Permute((2, 1))`` swaps the last two of 3-D."""

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        items = tuple(dims) if hasattr(dims, "__iter__") and not isinstance(dims, str) else None
        if items is None or not all(is_int(d) for d in items):
            raise OptionError(
                "Permute: dims must be a tuple of the non-batch axes in their new order, numbered from 1 (the "
                f"batch axis 0 stays first), e.g. Permute((2, 1)) to swap the two axes of (batch, a, b); got {dims!r}."
            )
        self.dims = tuple(int(d) for d in items)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise OptionError(f"Permute: dims must be a permutation of 1..{len(self.dims)}, got {self.dims}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, len(self.dims) + 1, f"for dims={self.dims}")
        return x.permute(0, *self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class RepeatVector(Layer):
    """``(N, F) -> (N, n, F)``."""

    def __init__(self, n: int) -> None:  # the annotation refuses a fractional n (int() would truncate it)
        super().__init__()
        if n < 0:
            raise OptionError(f"RepeatVector: n is the number of repeats, a whole number >= 0, got {n!r}.")
        self.n = int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 2)
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def extra_repr(self) -> str:
        return f"n={self.n}"


class Lambda(Layer):
    """Wraps a function of tensors as a layer (it has no parameters of its own).

    Keras' other arguments: ``arguments`` (keywords passed to the function on every call); ``mask`` (a
    callable ``mask(inputs, previous_mask)`` or a fixed tensor: the mask attached to the output, where
    Keras' ``compute_mask`` gives it); ``output_shape``, which zoo does not need (it learns the shape by
    running the function, on fake tensors for ``zoo.Input``), so it is taken as a declaration and checked
    against each output on real data: a tuple is one sample's shape (``None`` for a free size), a callable
    maps the input shape to the output shape, batch axis included, as in Keras.
    """

    def __init__(
        self,
        function: Callable[..., torch.Tensor],
        output_shape: Sequence[int | None] | Callable | None = None,
        mask: Callable | torch.Tensor | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not callable(function):
            raise ArgumentError(f"Lambda expects a callable, got {type(function).__name__}.")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ArgumentError(
                f"Lambda: arguments must be a dict of keyword arguments for the function, got "
                f"{type(arguments).__name__}."
            )
        names = [key for key in arguments or {} if not isinstance(key, str)]
        if names:
            raise ArgumentError(
                f"Lambda: arguments' keys are the function's keyword names (str), got {names[0]!r} "
                f"({type(names[0]).__name__})."
            )
        if mask is not None and not (callable(mask) or isinstance(mask, torch.Tensor)):
            raise ArgumentError(
                f"Lambda: mask must be a callable mask(inputs, previous_mask) or a tensor, got {type(mask).__name__}."
            )
        if is_int(output_shape):
            output_shape = (output_shape,)
        if output_shape is not None and not callable(output_shape) and not _is_shape(output_shape):
            raise ArgumentError(
                "Lambda: output_shape is one sample's output shape without the batch axis (a tuple of ints, "
                f"None for a free size) or a callable of the input shape, got {output_shape!r}."
            )
        self.function = function
        self._output_shape = (
            output_shape if callable(output_shape) or output_shape is None else tuple(output_shape)
        )
        self.mask = mask
        self.arguments = dict(arguments or {})

    def forward(self, *inputs: torch.Tensor, **kwargs) -> torch.Tensor:
        y = self.function(*inputs, **{**self.arguments, **kwargs})
        if self._output_shape is not None and isinstance(y, torch.Tensor) and not is_tracing():
            self._check_output_shape(inputs, y)
        if self.mask is None:
            return y
        first = inputs[0] if len(inputs) == 1 else list(inputs)
        previous = get_mask(inputs[0]) if len(inputs) == 1 else [get_mask(x) for x in inputs]
        return with_mask(y, self.mask(first, previous) if callable(self.mask) else self.mask)

    def _check_output_shape(self, inputs: tuple, y: torch.Tensor) -> None:
        if callable(self._output_shape):
            shapes = [tuple(x.shape) if isinstance(x, torch.Tensor) else x for x in inputs]
            declared = self._output_shape(shapes[0] if len(shapes) == 1 else shapes)
            if not _is_shape(declared):
                raise ArgumentError(
                    f"Lambda: the output_shape callable must return the output's shape (a tuple of ints, batch "
                    f"axis included), got {declared!r} for input shape(s) {', '.join(map(str, shapes))}."
                )
            declared = tuple(declared)
        else:
            declared = (y.shape[0], *self._output_shape)
        if len(declared) != y.ndim or any(
            d is not None and d != s for d, s in zip(declared, y.shape, strict=False)
        ):
            raise DataError(
                f"Lambda({activation_repr(self.function)}): output_shape declares {declared} (batch axis "
                f"included), but the function returned shape {tuple(y.shape)}; fix output_shape or leave it "
                "out (zoo does not need it)."
            )

    def extra_repr(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


def _is_shape(value: object) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or (is_int(d) and d >= 0) for d in value)


class Masking(Layer):
    """Marks timesteps whose features all equal ``mask_value`` as padding for the layers that follow.

    Input ``(N, T, ...)``; masked steps are zeroed in the output and the ``(N, T)`` mask travels with it.
    """

    def __init__(self, mask_value: float = 0.0) -> None:
        super().__init__()
        self.mask_value = float(mask_value)

    def compute_mask(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, range(3, 9), "(batch, time, features...)")
        return (x != self.mask_value).flatten(2).any(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.compute_mask(x)
        keep = mask.reshape(*mask.shape, *([1] * (x.ndim - 2))).to(x.dtype)
        return with_mask(x * keep, mask)

    def extra_repr(self) -> str:
        return f"mask_value={self.mask_value}"


class Embedding(Layer):
    """Integer ids ``(N, ...)`` -> vectors ``(N, ..., output_dim)``.

    With ``mask_zero=True`` id 0 is padding: the output carries the mask ``ids != 0``, which recurrent
    layers, ``TimeDistributed`` and global 1-D pooling honour (``compute_mask`` gives it explicitly), and
    ``input_dim`` must count the padding id (vocabulary size + 1).
    """

    keras_weights = {"embeddings": Weight(("embedding.weight",), "random_uniform")}  # Keras: U(-0.05, 0.05)

    def __init__(self, input_dim: int, output_dim: int, mask_zero: bool = False) -> None:
        super().__init__()
        self.input_dim, self.output_dim, self.mask_zero = int(input_dim), int(output_dim), bool(mask_zero)
        self.embedding = nn.Embedding(self.input_dim, self.output_dim)

    def compute_mask(self, ids: torch.Tensor) -> torch.Tensor | None:
        return ids != 0 if self.mask_zero else None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor):
            ids = torch.as_tensor(ids)
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise ArgumentError(
                f"Embedding expects integer ids, got a {ids.dtype} tensor of shape {tuple(ids.shape)}; "
                "convert with ids.long()."
            )
        # Reading values is eager-only: a trace cannot follow it (the export ran eagerly first, checked).
        if not is_tracing() and ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.input_dim):
            raise DataError(
                f"Embedding({self.input_dim}, {self.output_dim}): ids must lie in [0, {self.input_dim}), got "
                f"values in [{int(ids.min())}, {int(ids.max())}] (input shape {tuple(ids.shape)}); "
                "input_dim must be the vocabulary size + 1 when 0 is padding."
            )
        return with_mask(self.embedding(ids), self.compute_mask(ids))

    def extra_repr(self) -> str:
        return f"{self.input_dim}, {self.output_dim}, mask_zero={self.mask_zero}"
