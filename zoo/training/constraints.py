"""Keras' weight constraints: projections applied to a weight after each optimizer step.

Formulas and defaults follow ``keras/src/constraints/constraints.py``. ``axis`` is in PyTorch's layout:
the default (``None``) takes the norm over every axis but the first, i.e. over the weights coming into
each output unit (``(out, in)`` for ``Dense``, ``(out, in, *kernel)`` for convolutions) — Keras' default
``axis=0`` for a ``Dense`` kernel and its advice ``axis=[0, 1, 2]`` for ``Conv2D``. A 1-D weight (a bias)
takes the norm of the whole vector, as Keras' ``axis=0`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from zoo.errors import OptionError

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"]

EPSILON = 1e-7  # Keras' backend.epsilon()


class Constraint:
    """Base class: ``constraint(w)`` returns the projected weight (the layer copies it into place)."""

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _NormConstraint(Constraint):
    def __init__(self, axis: int | Sequence[int] | None = None) -> None:
        self.axis = axis if axis is None or isinstance(axis, int) else tuple(int(a) for a in axis)

    def norms(self, w: Tensor) -> Tensor:
        default = tuple(range(1, w.ndim)) if w.ndim > 1 else (0,)
        axis = default if self.axis is None else self.axis
        return w.square().sum(dim=axis, keepdim=True).sqrt()

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MaxNorm(_NormConstraint):
    """Rescales the incoming weights of each unit whose norm exceeds ``max_value``."""

    def __init__(self, max_value: float = 2.0, axis: int | Sequence[int] | None = None) -> None:
        super().__init__(axis)
        self.max_value = float(max_value)

    def __call__(self, w: Tensor) -> Tensor:
        norms = self.norms(w)
        return w * (norms.clamp(0.0, self.max_value) / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(_NormConstraint):
    """Moves each unit's norm into ``[min_value, max_value]`` (all the way with ``rate=1``)."""

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: int | Sequence[int] | None = None,
    ) -> None:
        super().__init__(axis)
        if min_value > max_value:
            raise OptionError(f"MinMaxNorm: min_value {min_value} is above max_value {max_value}.")
        self.min_value, self.max_value, self.rate = float(min_value), float(max_value), float(rate)

    def __call__(self, w: Tensor) -> Tensor:
        norms = self.norms(w)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become 0."""

    def __call__(self, w: Tensor) -> Tensor:
        return w.clamp_min(0.0)


class UnitNorm(_NormConstraint):
    """The incoming weights of each unit scaled to norm 1."""

    def __call__(self, w: Tensor) -> Tensor:
        return w / (EPSILON + self.norms(w))


def project_in_place(constraint: Any, w: Tensor) -> None:
    """Project ``w`` in place (no autograd record), refusing a constraint that changes its shape."""
    with torch.no_grad():
        projected = constraint(w)
        if projected.shape != w.shape:
            raise OptionError(
                f"the constraint {constraint!r} returned shape {tuple(projected.shape)} for a weight of shape "
                f"{tuple(w.shape)}; a constraint must keep the shape."
            )
        w.copy_(projected)
