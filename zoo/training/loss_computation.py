"""The loss of one batch, weighted by ``sample_weight`` and ``class_weight`` (Keras semantics).

The user's loss object is never changed: a torch loss without a ``sample_weight=`` argument is called
through a shallow copy whose ``reduction`` is ``"none"``, and the weighted values are reduced here.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.errors import DataError, OptionError
from zoo.training.loss_checks import KERNEL_ERRORS, TORCH_CROSS_ENTROPY, check_batch, explain


def compute_loss(loss: Any, y_pred: Any, y: Any, sample_weight: Any = None) -> torch.Tensor:
    """``loss(y_pred, y)``, or its ``sample_weight``-weighted mean (sum for ``reduction="sum"``). A later
    batch's label outside ``nn.CrossEntropyLoss``'s classes is explained when torch fails on it."""
    try:
        return _weighted(loss, y_pred, y, sample_weight)
    except KERNEL_ERRORS:
        if isinstance(loss, nn.CrossEntropyLoss):
            explain(TORCH_CROSS_ENTROPY, y_pred, y, {"ignore_index": loss.ignore_index})
        raise


def _weighted(loss: Any, y_pred: Any, y: Any, sample_weight: Any) -> torch.Tensor:
    if loss is None:
        raise OptionError("no loss given: pass loss='mse' (a registered name), a loss module or a function.")
    if y is None:
        raise DataError(
            "the data gave no targets (y); fit and evaluate need (x, y) batches or y= with array x."
        )
    if isinstance(loss, nn.CrossEntropyLoss):
        check_batch(loss, TORCH_CROSS_ENTROPY, y_pred, y, {"ignore_index": loss.ignore_index})
    if (
        isinstance(loss, _ELEMENTWISE)
        and isinstance(y_pred, torch.Tensor)
        and isinstance(y, torch.Tensor)
        and (y_pred.shape != y.shape or not y.is_floating_point())
    ):  # (N, 1) against (N,): MSELoss broadcast to (N, N) with a warning, BCEWithLogitsLoss raised
        from zoo.training.losses import _prepare

        y_pred, y = _prepare(type(loss).__name__, y_pred, y)
    if sample_weight is None:
        return _per_sample_mean(loss(y_pred, y), None)
    if _accepts_sample_weight(loss):
        return loss(y_pred, y, sample_weight=sample_weight)
    reduction = getattr(loss, "reduction", None)
    if reduction is None:  # a function: Keras' custom losses return per-sample values, weighed here
        values = loss(y_pred, y)
        if not isinstance(values, torch.Tensor) or values.ndim == 0:
            raise OptionError(
                f"sample_weight/class_weight need per-sample loss values, but {getattr(loss, '__name__', type(loss).__name__)} "
                "returned one number for the batch: return one value per sample (reduce over the last axis "
                "only, e.g. ((y_true - y_pred) ** 2).mean(-1)), as Keras' custom losses do; or give a loss with "
                "sample_weight= or a 'reduction' attribute."
            )
        return _per_sample_mean(values, sample_weight)
    values = _unreduced(loss)(y_pred, y)
    from zoo.training.losses import _broadcast_weight

    weighted = values * _broadcast_weight(sample_weight, values)
    return weighted.sum() if reduction == "sum" else weighted.mean()


#: torch's element-wise losses: given Keras' shape rule (a trailing size-1 axis ignored, integer labels as
#: floats) so that a (N, 1) output against (N,) labels means what it means with the Keras-named losses.
_ELEMENTWISE = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss)


def _per_sample_mean(values: Any, sample_weight: Any) -> Any:
    """Keras' reduction of a loss that returned values per sample (a custom ``fn(y_true, y_pred)`` reduced
    over its last axis only, a module with ``reduction="none"``): the (weighted) sum over the number of
    values, ``sum_over_batch_size``. A scalar is the loss already."""
    if not isinstance(values, torch.Tensor) or values.ndim == 0:
        return values
    if sample_weight is None:
        return values.mean()
    from zoo.training.losses import _broadcast_weight

    return (values * _broadcast_weight(sample_weight, values)).mean()


def _unreduced(loss: Any) -> Any:
    """A shallow copy of ``loss`` giving per-element values; it shares parameters and buffers with it."""
    per_element = copy.copy(loss)
    per_element.reduction = "none"
    return per_element


def _accepts_sample_weight(loss: Any) -> bool:
    from zoo.training.losses import Loss

    return isinstance(loss, Loss) or getattr(loss, "takes_sample_weight", False)


class ClassWeights:
    """``class_weight={class index: weight}`` (Keras): each training sample weighs its class's weight.

    Checked when ``fit`` starts: a dict (a list is refused, with the dict it means), integer keys >= 0 (not
    ``"0"``), finite weights >= 0. Classes not named weigh 1.0, as in Keras 3's
    ``class_weight_to_sample_weights`` (``class_weight.get(c, 1.0)``). At the first batch, once the model's
    output says how many classes there are (its last axis; one output unit is the two classes 0 and 1), a
    key naming a class the model does not have, or a label outside those classes, is an error; a later
    batch's label beyond the classes is caught when indexing fails (free on batches that work).
    """

    def __init__(self, class_weight: Any) -> None:
        if not isinstance(class_weight, Mapping):
            example = (
                f" (e.g. {dict(enumerate(class_weight))!r})"
                if isinstance(class_weight, (list, tuple)) and len(class_weight) < 20
                else ""
            )
            raise OptionError(
                f"class_weight must be a dict {{class index: weight}}{example}, got {type(class_weight).__name__}."
            )
        if not class_weight:
            raise OptionError("class_weight must map class indices to weights, got an empty mapping.")
        self.mapping: dict[int, float] = {}
        for key, weight in class_weight.items():
            if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
                raise OptionError(
                    f"class_weight keys must be class indices (integers >= 0), got {key!r} "
                    f"({type(key).__name__}); e.g. class_weight={{0: 1.0, 1: 5.0}}."
                )
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not (
                math.isfinite(weight) and weight >= 0
            ):
                raise OptionError(f"class_weight[{key!r}] must be a finite number >= 0, got {weight!r}.")
            self.mapping[int(key)] = float(weight)
        self.table: torch.Tensor | None = None

    def _build(self, y_pred: Any) -> torch.Tensor:
        if not isinstance(y_pred, torch.Tensor):
            raise OptionError(
                "class_weight is for models with one output (as in Keras); this one returns a "
                f"{type(y_pred).__name__}. Pass sample_weight= per sample instead."
            )
        classes = 2 if y_pred.ndim < 2 or y_pred.shape[-1] == 1 else int(y_pred.shape[-1])
        outside = sorted(k for k in self.mapping if k >= classes)
        if outside:
            raise OptionError(
                f"class_weight names class(es) {outside}, but the model's output has {classes} classes "
                f"(0 to {classes - 1}); give weights for those classes only."
            )
        table = torch.ones(classes, device=y_pred.device)
        for key, weight in self.mapping.items():
            table[key] = weight
        return table

    def _check_labels(self, index: torch.Tensor) -> None:
        """Labels that are class indices of the table, else a ``DataError`` naming their range."""
        if not index.numel() or self.table is None:
            return
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= len(self.table):
            raise DataError(
                f"class_weight: the labels range over [{low}, {high}], but the model has {len(self.table)} "
                f"classes (0 to {len(self.table) - 1}); class weights need labels that are class indices."
            )

    def __call__(self, y_pred: Any, y: Any, sample_weight: Any) -> Any:
        """The per-sample weights of a batch: each sample's class weight, times its ``sample_weight``."""
        if y is None:
            return sample_weight
        first = self.table is None
        if first:
            self.table = self._build(y_pred)
        y = torch.as_tensor(y, device=self.table.device)
        if y.ndim >= 2 and y.shape[-1] > 1:
            index = y.argmax(-1)
        else:
            index = (y.squeeze(-1) if y.ndim >= 2 else y).round().long()
        if first:  # the first batch only: one device sync per fit
            self._check_labels(index)
        try:
            weight = self.table[index]
        except IndexError:  # a later label beyond the classes (a negative one is left to the loss's check)
            self._check_labels(index)
            raise
        if sample_weight is None:
            return weight
        return weight * torch.as_tensor(sample_weight, device=weight.device)
