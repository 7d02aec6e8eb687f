"""The loss of one batch, weighted by ``sample_weight`` and ``class_weight`` (Keras semantics).

The user's loss object is never changed: a torch loss without a ``sample_weight=`` argument is called
through a shallow copy whose ``reduction`` is ``"none"``, and the weighted values are reduced here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch

from zoo.errors import DataError, OptionError


def compute_loss(loss: Any, y_pred: Any, y: Any, sample_weight: Any = None) -> torch.Tensor:
    """``loss(y_pred, y)``, or its ``sample_weight``-weighted mean (sum for ``reduction="sum"``)."""
    if loss is None:
        raise OptionError("no loss given: pass loss='mse' (a registered name), a loss module or a function.")
    if y is None:
        raise DataError(
            "the data gave no targets (y); fit and evaluate need (x, y) batches or y= with array x."
        )
    if sample_weight is None:
        return loss(y_pred, y)
    if _accepts_sample_weight(loss):
        return loss(y_pred, y, sample_weight=sample_weight)
    reduction = getattr(loss, "reduction", None)
    if reduction is None:
        raise OptionError(
            f"sample_weight/class_weight need a loss that takes sample_weight= or has a 'reduction' "
            f"attribute; {type(loss).__name__} has neither."
        )
    values = _unreduced(loss)(y_pred, y)
    weight = torch.as_tensor(sample_weight, device=values.device, dtype=values.dtype)
    weight = weight.reshape(weight.shape + (1,) * (values.ndim - weight.ndim))
    weighted = values * weight
    return weighted.sum() if reduction == "sum" else weighted.mean()


def _unreduced(loss: Any) -> Any:
    """A shallow copy of ``loss`` giving per-element values; it shares parameters and buffers with it."""
    per_element = copy.copy(loss)
    per_element.reduction = "none"
    return per_element


def _accepts_sample_weight(loss: Any) -> bool:
    from zoo.training.losses import Loss

    return isinstance(loss, Loss)


def class_weight_table(class_weight: Mapping[int, float]) -> torch.Tensor:
    """``{class index: weight}`` as a lookup tensor (classes not named weigh 1)."""
    if not class_weight:
        raise OptionError("class_weight must map class indices to weights, got an empty mapping.")
    keys = [int(k) for k in class_weight]
    if min(keys) < 0:
        raise OptionError(f"class_weight keys must be class indices >= 0, got {sorted(keys)}.")
    table = torch.ones(max(keys) + 1)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table


def apply_class_weight(table: torch.Tensor | None, y: Any, sample_weight: Any) -> Any:
    """The per-sample weights of a batch: each sample's class weight, times its ``sample_weight``."""
    if table is None or y is None:
        return sample_weight
    y = torch.as_tensor(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        index = y.argmax(-1)
    else:
        index = (y.squeeze(-1) if y.ndim >= 2 else y).round().long()
    weight = table[index]
    return weight if sample_weight is None else weight * torch.as_tensor(sample_weight, device=weight.device)
