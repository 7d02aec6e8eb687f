"""Core Keras layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
Masking and Embedding, as plain ``nn.Module``s."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._base import activation_repr, check_rank, float_input, get_activation, get_mask, with_mask
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
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        if self.noise_shape is None:
            y = F.dropout(x, self.rate, True)
        else:
            if len(self.noise_shape) != x.ndim:
                raise DataError(
                    f"Dropout: noise_shape {self.noise_shape} has {len(self.noise_shape)} axes, "
                    f"input shape {tuple(x.shape)} has {x.ndim}."
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
    """Reshape everything but the batch axis to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape: Sequence[int]) -> None:
        super().__init__()
        self.target_shape = tuple(int(d) for d in target_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return x.reshape(x.shape[0], *self.target_shape)
        except RuntimeError:
            raise DataError(
                f"Reshape{self.target_shape}: cannot reshape input of shape {tuple(x.shape)} "
                f"({x[0].numel()} values per sample) to (batch, {', '.join(map(str, self.target_shape))})."
            ) from None

    def extra_repr(self) -> str:
        return f"target_shape={self.target_shape}"


class Permute(Layer):
    """Permute non-batch axes, numbered from 1 as in Keras: ``Permute((2, 1))`` swaps the last two of 3-D."""

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise OptionError(f"Permute: dims must be a permutation of 1..{len(self.dims)}, got {self.dims}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, len(self.dims) + 1, f"for dims={self.dims}")
        return x.permute(0, *self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class RepeatVector(Layer):
    """``(N, F) -> (N, n, F)``."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_rank(self, x, 2)
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def extra_repr(self) -> str:
        return f"n={self.n}"


class Lambda(Layer):
    """Wraps a function of tensors as a layer (it has no parameters of its own)."""

    def __init__(self, function: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        if not callable(function):
            raise ArgumentError(f"Lambda expects a callable, got {type(function).__name__}.")
        self.function = function

    def forward(self, *inputs: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.function(*inputs, **kwargs)

    def extra_repr(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


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
