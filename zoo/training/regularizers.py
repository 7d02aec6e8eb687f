"""Keras' weight regularizers: callables mapping a tensor to a scalar penalty, ``L2(0.01)(w)``.

Formulas and defaults follow ``keras/src/regularizers/regularizers.py``: ``L1`` is ``l1 * sum(|x|)``,
``L2`` is ``l2 * sum(x**2)`` (no one-half), ``L1L2`` both (constructed directly its factors default to 0, by
the name ``"l1_l2"`` to 0.01 each, as in Keras). A layer given ``kernel_regularizer=`` applies it to its
weight in PyTorch layout (``(out, in)`` for ``Dense``); the sums are the same as for Keras' ``(in, out)``
kernel, and ``OrthogonalRegularizer``'s ``mode="rows"`` takes the rows of the tensor it is given (for a
torch weight: one row per output unit).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from zoo.errors import OptionError

__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "l1_l2"]


def _factor(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a non-negative finite number, got {value!r}.")
    return float(value)


class Regularizer:
    """Base class: ``penalty = regularizer(tensor)``, a scalar tensor added to the training loss."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)``."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """``L1L2`` with Keras' defaults for the name ``"l1_l2"`` (0.01 each; the class itself defaults to 0)."""
    return L1L2(l1=l1, l2=l2)


class OrthogonalRegularizer(Regularizer):
    """``factor`` times the mean absolute cosine between distinct rows (``mode="rows"``) or columns of a
    2-D tensor: it pushes them towards orthogonality."""

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise OptionError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}.")
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            raise OptionError(
                f"OrthogonalRegularizer needs a 2-D tensor (a Dense weight), got shape {tuple(x.shape)}."
            )
        vectors = x if self.mode == "rows" else x.T
        unit = torch.nn.functional.normalize(vectors, dim=1, eps=1e-12)
        size = unit.shape[0]
        if size < 2:
            return x.new_zeros(())
        product = unit @ unit.T
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1) / 2.0
        return self.factor * 0.5 * off_diagonal.abs().sum() / pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}
