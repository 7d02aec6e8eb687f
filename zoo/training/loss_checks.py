"""The first-batch checks of the losses that take probabilities, rates or class indices.

A model that outputs logits trained with ``loss="sparse_categorical_crossentropy"`` (``from_logits=False``,
Keras' default) learns next to nothing and says nothing: the loss clips the "probabilities" and its
gradient mostly vanishes. Every zoo application outputs logits, so this is the commonest Keras habit to go
wrong. A loss module therefore looks at its *first* batch (``Loss.forward`` calls :func:`check_batch`) and
raises a ``zoo.DataError`` naming the fix; later batches are not looked at, so training pays one device
sync per loss object, not one per step.

Class labels are different: one bad label in a later batch (or in ``validation_data``) reaches torch's
kernels, an ``IndexError`` or ``RuntimeError`` from deep inside ``cross_entropy``/``gather``. Checking
every batch would cost a min/max per step (measured at ~16 us inside a 350 us step of a tiny MLP, with
the caches cold: too much), so instead the losses catch torch's error and call :func:`explain`, which runs
the label check (``LABEL_CHECKS``) on that batch and raises the ``DataError`` naming the labels' range:
nothing is paid on batches that work. (On CUDA a bad label is a device-side assert, which cannot be caught;
there the first batch's check is what there is.)

What is checked (per loss function name):

* ``categorical_crossentropy`` / ``sparse_categorical_crossentropy`` (``from_logits=False``): predictions in
  ``[0, 1]`` whose rows (the class axis) sum to 1; the sparse one's labels in ``[0, classes)`` whatever
  ``from_logits`` (``ignore_class`` excepted);
* ``binary_crossentropy`` (``from_logits=False``) and ``kl_divergence``: predictions in ``[0, 1]``;
  ``binary_crossentropy``'s labels in ``[0, 1]`` (soft labels allowed) whatever ``from_logits``;
* ``poisson``: no negative rate;
* the opposite mistake, softmax twice: ``categorical_crossentropy`` / ``sparse_categorical_crossentropy``
  with ``from_logits=True``, and ``torch.nn.CrossEntropyLoss`` (``check_torch_loss``), given predictions
  that already are probabilities -- every row in ``[0, 1]`` and summing to 1 within 1e-4, over more than one
  class (logits practically never are; Keras only warns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from zoo.errors import DataError

#: How far a row of probabilities may sum from 1 (half precision rounds each value to ~3 digits).
_SUM_TOLERANCE = {torch.float16: 2e-2, torch.bfloat16: 2e-2}
_DEFAULT_SUM_TOLERANCE = 1e-3

_SOFTMAX = "softmax (Dense(n, activation='softmax') or zoo.layers.Softmax())"
_FIX = (
    "If the model outputs logits (zoo applications do, as do Dense layers without an activation), give the "
    "loss from_logits=True, e.g. loss={{'name': '{name}', 'from_logits': True}} or {cls}(from_logits=True); "
    "otherwise end the model with a {end}."
)


def _fix(name: str, end: str) -> str:
    cls = "".join(part.capitalize() for part in name.split("_"))
    return _FIX.format(name=name, cls=cls, end=end)


def _range(values: Tensor) -> tuple[float, float]:
    finite = values.detach().float()
    return float(finite.min()), float(finite.max())


def _check_probabilities(name: str, input: Tensor, axis: int | None, end: str) -> None:
    """Values in [0, 1]; with ``axis``, rows along it summing to 1."""
    if not input.is_floating_point() or input.numel() == 0:
        return
    low, high = _range(input)
    if low < 0.0 or high > 1.0:
        raise DataError(
            f"{name} got predictions in [{low:.4g}, {high:.4g}], which are not probabilities (they must lie in "
            f"[0, 1]): it was given from_logits=False. {_fix(name, end)}"
        )
    if axis is None or input.ndim == 0 or input.shape[axis] < 2:
        return
    sums = input.detach().float().sum(axis)
    worst = float((sums - 1.0).abs().max())
    if worst > _SUM_TOLERANCE.get(input.dtype, _DEFAULT_SUM_TOLERANCE):
        raise DataError(
            f"{name} got predictions whose rows sum to between {float(sums.min()):.4g} and {float(sums.max()):.4g} "
            f"along axis {axis}, not 1: they are not a probability distribution over the {input.shape[axis]} "
            f"classes. {_fix(name, _SOFTMAX)}"
        )


#: How close to 1 every row must sum for "already a softmax" (a softmax in float32 sums within ~1e-7).
_SOFTMAX_TOLERANCE = 1e-4


def _check_not_probabilities(name: str, input: Tensor, axis: int, fix: str) -> None:
    """``from_logits=True`` given a softmax: every row in [0, 1] summing to 1 is a ``DataError``."""
    if not input.is_floating_point() or input.numel() == 0 or input.ndim == 0 or input.shape[axis] < 2:
        return
    values = input.detach().float()
    if float(values.min()) < 0.0 or float(values.max()) > 1.0:
        return
    worst = float((values.sum(axis) - 1.0).abs().max())
    if worst <= _SOFTMAX_TOLERANCE:
        raise DataError(
            f"{name} takes logits (from_logits=True) but got predictions that already are probabilities: every "
            f"row lies in [0, 1] and sums to 1 over the {input.shape[axis]} classes (axis {axis}), so the "
            f"softmax would be applied twice and training would stall. {fix}"
        )


#: The name ``nn.CrossEntropyLoss`` is checked under (its options: ``{"ignore_index": ...}``).
TORCH_CROSS_ENTROPY = "torch.nn.CrossEntropyLoss"


def _torch_labels(input: Tensor, target: Tensor, ignore_index: int = -100, **_: Any) -> None:
    """Class-index targets (integers, one axis fewer than the input) in ``[0, classes)``; probability
    targets (floats of the input's shape) are not labels."""
    if input.ndim and target.ndim == input.ndim - 1 and not target.is_floating_point():
        check_labels(TORCH_CROSS_ENTROPY, target, input.shape[1 if input.ndim >= 2 else 0], ignore_index)


def _torch_cross_entropy(input: Tensor, target: Tensor, **options: Any) -> None:
    _torch_labels(input, target, **options)
    _check_not_probabilities(
        TORCH_CROSS_ENTROPY, input, 1 if input.ndim >= 2 else 0,
        "Either drop the model's final softmax (CrossEntropyLoss applies log-softmax itself), or keep it and use "
        "loss='sparse_categorical_crossentropy' (integer labels) / 'categorical_crossentropy' (one-hot), which "
        "take probabilities.",
    )  # fmt: skip


def _logits_fix(name: str) -> str:
    return (
        f"The model ends in a softmax: drop from_logits=True (e.g. loss='{name}'), or remove the final softmax "
        "so that the model outputs logits."
    )


def check_labels(name: str, target: Tensor, classes: int, ignore_class: int | None = None) -> None:
    """Integer class labels in ``[0, classes)`` (``ignore_class`` allowed), else a ``DataError``. Labels in
    range cost one min/max; the rest is looked at only when they are not."""
    if target.numel() == 0:
        return
    if target.is_floating_point() and not torch.equal(target, target.trunc()):
        wrong = target[target != target.trunc()]
        if ignore_class is None or bool((wrong != ignore_class).any()):
            raise DataError(
                f"{name} takes integer class labels; got non-integer values such as "
                f"{float(wrong[wrong != ignore_class][0] if ignore_class is not None else wrong[0]):.4g}. For "
                "one-hot or probability targets use categorical_crossentropy."
            )
    low, high = map(int, torch.aminmax(target.long() if target.dtype == torch.bool else target))
    if low >= 0 and high < classes:  # the common case: one reduction
        return
    labels = target if ignore_class is None else target[target != ignore_class]
    if labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0:  # no class count helps: a label is an index from 0, or a marker to skip
        raise DataError(
            f"{name}: the labels range over [{low}, {high}], and a class label is an index from 0 (the model has "
            f"{classes} outputs: labels 0 to {classes - 1}). Renumber the labels from 0; to skip entries marked "
            f"{low} (padding), pass {'ignore_index' if name == TORCH_CROSS_ENTROPY else 'ignore_class'}={low}."
        )
    if high >= classes:
        raise DataError(
            f"{name}: the labels range over [{low}, {high}] but the model has {classes} outputs, so labels must "
            f"lie in [0, {classes - 1}]. Give the model's last layer as many outputs as there are classes "
            f"(at least {high + 1}; zoo.load(..., classes={high + 1})), or renumber the labels from 0."
        )


def _categorical(input: Tensor, target: Tensor, from_logits: bool = False, axis: int = -1, **_: Any) -> None:
    if not from_logits:
        _check_probabilities("categorical_crossentropy", input, axis, _SOFTMAX)
    else:
        name = "categorical_crossentropy"
        _check_not_probabilities(name, input, axis, _logits_fix(name))


def _sparse_labels(input: Tensor, target: Tensor, ignore_class: int | None = None, axis: int = -1, **_: Any) -> None:
    if input.ndim:
        check_labels("sparse_categorical_crossentropy", target, input.shape[axis], ignore_class)


def _sparse(
    input: Tensor, target: Tensor, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
    **_: Any,
) -> None:  # fmt: skip
    _sparse_labels(input, target, ignore_class=ignore_class, axis=axis)
    if not from_logits:
        _check_probabilities("sparse_categorical_crossentropy", input, axis, _SOFTMAX)
    else:
        name = "sparse_categorical_crossentropy"
        _check_not_probabilities(name, input, axis, _logits_fix(name))


def _binary(input: Tensor, target: Tensor, from_logits: bool = False, **_: Any) -> None:
    if target.numel() and (target.is_floating_point() or target.dtype != torch.bool):
        low, high = _range(target)
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"binary_crossentropy takes labels in [0, 1] (0/1, or soft labels between), got labels in "
                f"[{low:.4g}, {high:.4g}]. Map them to 0/1 first (e.g. y = (y > 0) for {{-1, 1}} labels); for "
                "several classes use sparse_categorical_crossentropy; hinge losses take {-1, 1} labels."
            )
    if not from_logits:
        _check_probabilities("binary_crossentropy", input, None, "sigmoid (Dense(1, activation='sigmoid'))")


def _kl(input: Tensor, target: Tensor, **_: Any) -> None:
    if input.is_floating_point() and input.numel():
        low, high = _range(input)
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"kl_divergence compares probability distributions; it got predictions in [{low:.4g}, "
                f"{high:.4g}]. End the model with a softmax (zoo applications output logits: add "
                "zoo.layers.Softmax(), or zoo.load(..., classifier_activation='softmax'))."
            )


def _poisson(input: Tensor, target: Tensor, **_: Any) -> None:
    if input.is_floating_point() and input.numel():
        low = float(input.detach().min())
        if low < 0.0:
            raise DataError(
                f"poisson takes predicted rates, which cannot be negative; it got a prediction of {low:.4g}. End "
                "the model with a non-negative activation (e.g. Dense(1, activation='softplus') or 'exponential')."
            )


#: Loss function name -> its first-batch check ``check(input, target, **loss_options)``.
CHECKS: dict[str, Callable[..., None]] = {
    "categorical_crossentropy": _categorical,
    "sparse_categorical_crossentropy": _sparse,
    "binary_crossentropy": _binary,
    "kl_divergence": _kl,
    "poisson": _poisson,
    TORCH_CROSS_ENTROPY: _torch_cross_entropy,
}

#: Loss function name -> the part of its check that reads the class labels only (``explain``).
LABEL_CHECKS: dict[str, Callable[..., None]] = {
    "sparse_categorical_crossentropy": _sparse_labels,
    TORCH_CROSS_ENTROPY: _torch_labels,
}

#: What torch raises on a class index outside the outputs (``IndexError`` from ``cross_entropy``,
#: ``RuntimeError`` from ``gather``).
KERNEL_ERRORS = (IndexError, RuntimeError)


def check_batch(owner: Any, name: str, input: Any, target: Any, options: dict[str, Any]) -> None:
    """The first-batch checks of the loss ``owner`` (until one could look); later batches pay nothing."""
    if not owner.__dict__.get("_zoo_checked"):
        owner.__dict__["_zoo_checked"] = check(name, input, target, options)


def explain(name: str, input: Any, target: Any, options: dict[str, Any]) -> None:
    """After torch failed on a batch of loss ``name`` (a ``KERNEL_ERRORS``): when the class labels are what
    is wrong, raise the ``DataError`` that says so (the caller re-raises torch's error otherwise). Costs
    nothing on batches that work, so every batch of ``fit``, ``validation_data`` and ``evaluate`` is covered."""
    rule = LABEL_CHECKS.get(name)
    if rule is not None and type(target) is Tensor and isinstance(input, Tensor):  # not fake or meta tensors
        rule(input, target, **options)


def check(name: str, input: Any, target: Any, options: dict[str, Any]) -> bool:
    """Run ``name``'s first-batch check on real tensors; False when it could not look (symbolic or fake
    tensors while a graph is traced or compiled), so that the caller tries again on the next batch."""
    rule = CHECKS.get(name)
    if rule is None:
        return True
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)) or _symbolic(input, target):
        return False
    rule(input, target, **options)
    return True


def _symbolic(*tensors: Tensor) -> bool:
    if torch.compiler.is_compiling():
        return True
    from torch._subclasses.fake_tensor import is_fake

    return any(t.device.type == "meta" or is_fake(t) for t in tensors)
