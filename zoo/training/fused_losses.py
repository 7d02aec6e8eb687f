"""PyTorch's fused cross-entropy kernels behind the Keras-named losses, where the two agree.

``SparseCategoricalCrossentropy(from_logits=True)`` computed the Keras way (log-softmax, gather, mean) costs
about twice ``nn.CrossEntropyLoss`` per training step: three kernels forward and backward instead of one
fused pair. Each function here is that loss's reduced value through ``F.cross_entropy`` /
``F.binary_cross_entropy_with_logits``, equal to Keras 3's formula to float tolerance. It answers ``None``
whenever anything is unusual (probabilities rather than logits, mismatched shapes or dtypes, an input
without a class axis): the Keras-way function in ``zoo.training.losses`` then computes the value, and is the
one place that checks inputs and explains what is wrong with them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

#: ``fused(input, target, reduction, **loss_options) -> Tensor | None``, reduction ``"mean"`` or ``"sum"``.
FusedLoss = Callable[..., "Tensor | None"]

# ignore_index for "ignore nothing": no label equals it, so an out-of-range label still raises in the kernel
# (torch's default, -100, would silently ignore a label of -100).
_NO_CLASS = torch.iinfo(torch.int64).min


def sparse_categorical_crossentropy(
    input: Tensor, target: Tensor, reduction: str, from_logits: bool = False, ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor | None:  # fmt: skip
    if not from_logits or input.ndim < 2 or not input.is_floating_point():
        return None
    if target.ndim == input.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    class_axis = axis % input.ndim
    if target.shape != input.shape[:class_axis] + input.shape[class_axis + 1 :]:
        return None
    logits = input if class_axis == 1 else input.movedim(class_axis, 1)
    target = target.long()
    if ignore_class is None:
        return F.cross_entropy(logits, target, reduction=reduction, ignore_index=_NO_CLASS)
    total = F.cross_entropy(logits, target, reduction="sum", ignore_index=ignore_class)
    if reduction == "sum":
        return total
    # Keras' masked mean: over the kept entries, 0 when none is kept (F.cross_entropy's mean gives NaN then)
    return total / (target != ignore_class).sum().clamp_min(1)


def categorical_crossentropy(
    input: Tensor, target: Tensor, reduction: str, from_logits: bool = False, label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor | None:  # fmt: skip
    """Probability targets; torch smooths them as Keras does: ``t * (1 - s) + s / classes``."""
    if not from_logits or input.ndim < 2 or input.shape != target.shape or input.dtype != target.dtype:
        return None
    if not input.is_floating_point():
        return None
    class_axis = axis % input.ndim
    if class_axis != 1:
        input, target = input.movedim(class_axis, 1), target.movedim(class_axis, 1)
    return F.cross_entropy(input, target, reduction=reduction, label_smoothing=label_smoothing)


def binary_crossentropy(
    input: Tensor, target: Tensor, reduction: str, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor | None:
    """Keras averages the last axis per sample first: the overall mean is the same number, a sum is not
    (it is the sum over elements divided by the last axis' size)."""
    if not from_logits or input.shape != target.shape or not input.is_floating_point():
        return None
    target = target.to(input.dtype)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    value = F.binary_cross_entropy_with_logits(input, target, reduction=reduction)
    if reduction == "sum" and input.ndim >= 2:
        value = value / input.shape[-1]
    return value


#: The per-sample loss function's name -> its fused reduced form.
FUSED: dict[str, FusedLoss] = {
    fn.__name__: fn for fn in (sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy)
}
