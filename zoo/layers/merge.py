"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot, and their
functional forms (``concatenate([a, b])`` ...). Each takes a list of tensors or several tensors."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._base import is_int
from zoo.layers._keras import Layer


def _inputs(layer: str, inputs: tuple) -> list[torch.Tensor]:
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if len(inputs) < 2:
        raise DataError(f"{layer} needs at least 2 inputs, got {len(inputs)}.")
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise ArgumentError(f"{layer}: input {i} is a {type(x).__name__}, not a tensor.")
    return list(inputs)


def _shapes(inputs: Sequence[torch.Tensor]) -> str:
    return ", ".join(str(tuple(x.shape)) for x in inputs)


class _Elementwise(Layer):
    """Combines same-shaped (or broadcastable) inputs elementwise."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        xs = _inputs(name, inputs)
        try:
            torch.broadcast_shapes(*(x.shape for x in xs))
        except RuntimeError:
            raise DataError(f"{name}: inputs must have the same shape, got {_shapes(xs)}.") from None
        return self.combine(xs)

    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class Add(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if len(xs) != 2:
            raise DataError(f"Subtract takes exactly 2 inputs, got {len(xs)} with shapes {_shapes(xs)}.")
        return xs[0] - xs[1]


class Multiply(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return Add.combine(self, xs) / len(xs)


class Maximum(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(_Elementwise):
    def combine(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(Layer):
    """Joins inputs along ``axis`` (Keras default -1, the feature axis; use 1 for channels-first maps)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        xs = _inputs("Concatenate", inputs)
        rank = xs[0].ndim
        if any(x.ndim != rank for x in xs) or not -rank <= self.axis < rank:
            raise DataError(
                f"Concatenate(axis={self.axis}): inputs must have the same rank, with axis inside it; "
                f"got shapes {_shapes(xs)}."
            )
        axis = self.axis % rank
        # Under torch.jit.trace sizes are tensors, which compare by identity; torch.cat checks them anyway.
        rest = [x.shape[:axis] + x.shape[axis + 1 :] for x in xs]
        if not torch.jit.is_tracing() and any(r != rest[0] for r in rest[1:]):
            raise DataError(
                f"Concatenate(axis={self.axis}): inputs must match on every axis except {self.axis}; "
                f"got shapes {_shapes(xs)}."
            )
        return torch.cat(xs, dim=axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Dot(Layer):
    """Keras ``Dot``: per-sample dot product of two tensors over ``axes`` (an int or one per input,
    counting the batch axis as 0); ``normalize=True`` gives cosine similarity. ``(N, d) . (N, d) -> (N, 1)``;
    ``(N, A, K) . (N, K, B)`` with ``axes=(2, 1)`` -> ``(N, A, B)``."""

    def __init__(self, axes: int | Sequence[int], normalize: bool = False) -> None:
        super().__init__()
        pair = (
            (axes, axes)
            if is_int(axes)
            else tuple(axes)
            if hasattr(axes, "__iter__") and not isinstance(axes, str)
            else ()
        )
        if len(pair) != 2 or not all(is_int(a) for a in pair):  # int() would truncate 1.5 to 1 unseen
            raise OptionError(
                f"Dot: axes must be an int or a pair of ints (one axis per input), got {axes!r}."
            )
        self.axes = (int(pair[0]), int(pair[1]))
        self.normalize = normalize

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        xs = _inputs("Dot", inputs)
        if len(xs) != 2:
            raise DataError(f"Dot takes exactly 2 inputs, got {len(xs)} with shapes {_shapes(xs)}.")
        x, y = xs
        ax, ay = (a % t.ndim if -t.ndim <= a < t.ndim else None for a, t in zip(self.axes, xs, strict=True))
        if (
            x.ndim < 2 or y.ndim < 2 or ax in (None, 0) or ay in (None, 0)
            or x.shape[0] != y.shape[0] or x.shape[ax] != y.shape[ay]
        ):  # fmt: skip
            raise DataError(
                f"Dot(axes={self.axes}): needs two batched inputs with equal sizes on the dot axes; "
                f"got shapes {_shapes(xs)}."
            )
        if self.normalize:
            x, y = F.normalize(x, dim=ax), F.normalize(y, dim=ay)
        n, k = x.shape[0], x.shape[ax]
        xm, ym = x.movedim(ax, -1), y.movedim(ay, 1)
        out = xm.reshape(n, -1, k) @ ym.reshape(n, k, -1)
        out = out.reshape(n, *xm.shape[1:-1], *ym.shape[2:])
        return out.unsqueeze(-1) if out.ndim == 1 else out

    def extra_repr(self) -> str:
        return f"axes={self.axes}, normalize={self.normalize}"


def concatenate(inputs: Sequence[torch.Tensor], axis: int = -1) -> torch.Tensor:
    return Concatenate(axis)(list(inputs))


def add(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Add()(list(inputs))


def subtract(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Subtract()(list(inputs))


def multiply(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Multiply()(list(inputs))


def average(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Average()(list(inputs))


def maximum(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Maximum()(list(inputs))


def minimum(inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    return Minimum()(list(inputs))


def dot(inputs: Sequence[torch.Tensor], axes: int | Sequence[int], normalize: bool = False) -> torch.Tensor:
    return Dot(axes, normalize)(list(inputs))
