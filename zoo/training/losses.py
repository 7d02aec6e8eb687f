"""Keras' losses as ``nn.Module``s with PyTorch's argument order: ``loss(input, target)``.

Each function below returns the *per-sample* loss (Keras reduces the last axis, e.g. ``mean(..., -1)``;
a 1-D input is one value per sample). The ``Loss`` modules reduce that like Keras'
``"sum_over_batch_size"``: the mean over every per-sample value, after multiplying by ``sample_weight``.
Formulas, clipping (``EPSILON = 1e-7``) and label conventions follow ``keras/src/losses/losses.py``;
only the argument order differs from Keras (``keras.losses.mse(y_true, y_pred)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.errors import DataError, OptionError
from zoo.layers._base import get_mask, with_mask
from zoo.naming import snake_case
from zoo.training import loss_checks
from zoo.training.arguments import check_options
from zoo.training.fused_losses import FUSED, FusedLoss

EPSILON = 1e-7

__all__ = [
    "EPSILON",
    "Loss",
    "LossFunctionWrapper",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]


# -- shape handling -----------------------------------------------------------------------------------
def same_rank(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Keras' ``squeeze_or_expand_to_same_rank``: drop a trailing size-1 axis to make ranks agree."""
    if input.ndim == target.ndim + 1 and input.shape[-1] == 1:
        input = input.squeeze(-1)
    elif target.ndim == input.ndim + 1 and target.shape[-1] == 1:
        target = target.squeeze(-1)
    return input, target


def _prepare(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    input, target = same_rank(input, target)
    if input.shape != target.shape:
        raise DataError(
            f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; they "
            "must match (a trailing axis of size 1 is ignored). For integer class labels use "
            "sparse_categorical_crossentropy; otherwise reshape the model output or the targets."
        )
    if not target.is_floating_point():
        target = target.to(input.dtype if input.is_floating_point() else torch.get_default_dtype())
    if not input.is_floating_point():
        input = input.to(target.dtype)
    return input, target


def _reduce_last(values: Tensor, op: str = "mean") -> Tensor:
    if values.ndim < 2:
        return values
    return values.mean(-1) if op == "mean" else values.sum(-1)


# -- per-sample functions -----------------------------------------------------------------------------
def mean_squared_error(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("mean_squared_error", input, target)
    return _reduce_last((input - target).square())


def mean_absolute_error(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("mean_absolute_error", input, target)
    return _reduce_last((input - target).abs())


def mean_absolute_percentage_error(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("mean_absolute_percentage_error", input, target)
    diff = ((target - input) / target.abs().clamp_min(EPSILON)).abs()
    return 100.0 * _reduce_last(diff)


def mean_squared_logarithmic_error(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("mean_squared_logarithmic_error", input, target)
    first = torch.log(input.clamp_min(EPSILON) + 1.0)
    second = torch.log(target.clamp_min(EPSILON) + 1.0)
    return _reduce_last((first - second).square())


def _hinge_labels(target: Tensor) -> Tensor:
    """Keras converts {0, 1} labels to {-1, 1}; labels already in {-1, 1} are kept."""
    is_binary = torch.all((target == 0) | (target == 1))
    return torch.where(is_binary, 2.0 * target - 1.0, target)


def hinge(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("hinge", input, target)
    return _reduce_last((1.0 - _hinge_labels(target) * input).clamp_min(0.0))


def squared_hinge(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("squared_hinge", input, target)
    return _reduce_last((1.0 - _hinge_labels(target) * input).clamp_min(0.0).square())


def categorical_hinge(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("categorical_hinge", input, target)
    pos = (target * input).sum(-1)
    neg = ((1.0 - target) * input).amax(-1)
    return (neg - pos + 1.0).clamp_min(0.0)


def log_cosh(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("log_cosh", input, target)
    x = input - target
    return _reduce_last(x + F.softplus(-2.0 * x) - math.log(2.0))


def huber(input: Tensor, target: Tensor, delta: float = 1.0) -> Tensor:
    input, target = _prepare("huber", input, target)
    error = (input - target).abs()
    quadratic = 0.5 * error.square()
    linear = delta * error - 0.5 * delta**2
    return _reduce_last(torch.where(error <= delta, quadratic, linear))


def kl_divergence(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("kl_divergence", input, target)
    target = target.clamp(EPSILON, 1.0)
    input = input.clamp(EPSILON, 1.0)
    return _reduce_last(target * torch.log(target / input), "sum")


def poisson(input: Tensor, target: Tensor) -> Tensor:
    input, target = _prepare("poisson", input, target)
    return _reduce_last(input - target * torch.log(input + EPSILON))


def cosine_similarity(input: Tensor, target: Tensor, axis: int = -1) -> Tensor:
    """Keras' cosine similarity *loss*: minus the cosine, so ``-1`` means identical directions."""
    input, target = _prepare("cosine_similarity", input, target)
    input = input / input.square().sum(axis, keepdim=True).clamp_min(1e-12).sqrt()
    target = target / target.square().sum(axis, keepdim=True).clamp_min(1e-12).sqrt()
    return -(input * target).sum(axis)


def categorical_crossentropy(
    input: Tensor, target: Tensor, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    input, target = _prepare("categorical_crossentropy", input, target)
    if label_smoothing:
        num_classes = input.shape[axis]
        target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_prob = F.log_softmax(input, dim=axis)
    else:
        probs = input / input.sum(axis, keepdim=True)
        log_prob = torch.log(probs.clamp(EPSILON, 1.0 - EPSILON))
    return -(target * log_prob).sum(axis)


def sparse_categorical_crossentropy(
    input: Tensor, target: Tensor, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> Tensor:
    """Class indices ``target`` of shape ``input.shape`` minus the class axis (a trailing 1 is allowed)."""
    if target.ndim == input.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    class_axis = axis % input.ndim
    expected = input.shape[:class_axis] + input.shape[class_axis + 1 :]
    if target.shape != expected:
        raise DataError(
            f"sparse_categorical_crossentropy: input shape {tuple(input.shape)} needs integer class targets of "
            f"shape {tuple(expected)}, got {tuple(target.shape)}. For one-hot targets use "
            "categorical_crossentropy."
        )
    if target.is_floating_point():
        target = target.long()
    if from_logits:
        log_prob = F.log_softmax(input, dim=class_axis)
    else:
        probs = input / input.sum(class_axis, keepdim=True)
        log_prob = torch.log(probs.clamp(EPSILON, 1.0 - EPSILON))
    valid = None
    if ignore_class is not None:
        valid = target != ignore_class
        target = torch.where(valid, target, torch.zeros_like(target))
    picked = log_prob.gather(class_axis, target.unsqueeze(class_axis)).squeeze(class_axis)
    values = -picked
    if valid is not None:  # zeros where ignored, and the mask travels on: means count the kept entries only
        values = with_mask(values * valid.to(values.dtype), valid)
    return values


def binary_crossentropy(
    input: Tensor, target: Tensor, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    input, target = _prepare("binary_crossentropy", input, target)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(input, target, reduction="none")
    else:
        input = input.clamp(EPSILON, 1.0 - EPSILON)
        values = -(target * torch.log(input) + (1.0 - target) * torch.log(1.0 - input))
    return _reduce_last(values)


# -- modules ------------------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


class Loss(nn.Module):
    """A loss module: ``forward(input, target, sample_weight=None)``.

    ``reduction``: ``"mean"`` (Keras' ``"sum_over_batch_size"``; the default), ``"sum"`` or ``"none"``
    (per-sample values). Subclasses implement ``call(input, target)`` returning per-sample values.
    """

    def __init__(self, reduction: str = "mean", name: str | None = None) -> None:
        super().__init__()
        if reduction == "sum_over_batch_size":
            reduction = "mean"
        if reduction not in _REDUCTIONS:
            raise OptionError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
        self.reduction = reduction
        self.name = name or snake_case(type(self).__name__)

    def call(self, input: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, input: Tensor, target: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        values = self.call(input, target)
        mask = get_mask(values)  # entries a function masked out (ignore_class) count in no mean
        if sample_weight is not None:
            values = values * _broadcast_weight(sample_weight, values)
        if self.reduction == "none":
            return values
        if self.reduction == "sum":
            return values.sum()
        return values.mean() if mask is None else values.sum() / mask.sum().clamp_min(1)


def _broadcast_weight(weight: Tensor, values: Tensor) -> Tensor:
    """``sample_weight`` shaped to multiply ``values``: one weight per sample (``(N,)`` or ``(N, 1)``), or per
    leading entries of the per-sample values (``(N, T)`` per time step); any other shape is a ``DataError``
    (torch would raise a broadcast error, or silently broadcast ``(N, 3)`` against ``(3,)``)."""
    if isinstance(weight, (dict, list, tuple)):
        raise DataError(
            f"sample_weight is a {type(weight).__name__}, but this loss weighs one output: give one array, one "
            "weight per sample (a dict or list of arrays is for models with several outputs, one per output)."
        )
    given = torch.as_tensor(weight)
    weight = given.to(dtype=values.dtype, device=values.device)
    while weight.ndim > values.ndim and weight.shape[-1] == 1:
        weight = weight.squeeze(-1)
    if weight.ndim > values.ndim or tuple(weight.shape) != tuple(values.shape[: weight.ndim]):
        raise DataError(
            f"sample_weight of shape {tuple(given.shape)} does not fit the loss values of shape "
            f"{tuple(values.shape)} (one per sample{', per time step' if values.ndim > 1 else ''}): give one "
            f"weight per sample, shape ({values.shape[0] if values.ndim else 'N'},)."
        )
    while weight.ndim < values.ndim:
        weight = weight.unsqueeze(-1)
    return weight



class LossFunctionWrapper(Loss):
    """Turn a per-sample function ``fn(input, target, **kwargs)`` into a ``Loss`` module.

    The first batch a wrapper sees is checked (``loss_checks``: logits given to a loss that takes
    probabilities, labels outside the outputs); later ones are not, so no step waits on the device for it,
    but a later label that makes torch's kernel fail is explained (``loss_checks.explain``).

    ``fused``: PyTorch's own reduced kernel for the same loss (``fused_losses``); ``forward`` takes it
    when there is no ``sample_weight`` and the reduction is ``"mean"`` or ``"sum"``, and falls back to
    ``fn`` when it answers ``None`` (options where the semantics differ).
    """

    fused: FusedLoss | None = None

    def __init__(
        self, fn: Callable[..., Tensor], reduction: str = "mean", name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", None))
        if kwargs:  # a typo (from_logit=True) fails now, not as a puzzling error at the first batch
            from zoo.registry import check_keywords, keywords_of

            options = keywords_of(fn, skip=2)
            check_keywords(
                f"loss {getattr(fn, '__name__', type(fn).__name__)!r}", kwargs,
                None if options is None else ["reduction", "name", *options],
            )  # fmt: skip
            kwargs = check_options(f"loss {self.name!r}", fn, kwargs, skip=2)
        self.fn = fn
        self.kwargs = kwargs

    def call(self, input: Tensor, target: Tensor) -> Tensor:
        return self.fn(input, target, **self.kwargs)

    def forward(self, input: Tensor, target: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        name = getattr(self.fn, "__name__", "")
        loss_checks.check_batch(self, name, input, target, self.kwargs)
        try:
            if self.fused is not None and sample_weight is None and self.reduction != "none":
                value = self.fused(input, target, self.reduction, **self.kwargs)
                if value is not None:
                    return value
            return super().forward(input, target, sample_weight)
        except loss_checks.KERNEL_ERRORS:  # a later batch's bad label: say so (free when nothing fails)
            loss_checks.explain(name, input, target, self.kwargs)
            raise

    def extra_repr(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"reduction={self.reduction!r}" + (f", {options}" if options else "")


def _module(fn: Callable[..., Tensor], doc: str) -> type[LossFunctionWrapper]:
    def __init__(self, reduction: str = "mean", name: str | None = None, **kwargs: Any) -> None:
        LossFunctionWrapper.__init__(self, fn, reduction, name or fn.__name__, **kwargs)

    cls_name = "".join(part.capitalize() for part in fn.__name__.split("_"))
    namespace: dict[str, Any] = {"__init__": __init__, "__doc__": doc, "__module__": __name__}
    if fn.__name__ in FUSED:
        namespace["fused"] = staticmethod(FUSED[fn.__name__])
    return type(cls_name, (LossFunctionWrapper,), namespace)


MeanSquaredError = _module(mean_squared_error, "``mean((input - target)**2)`` over the last axis.")
MeanAbsoluteError = _module(mean_absolute_error, "``mean(|input - target|)`` over the last axis.")
MeanAbsolutePercentageError = _module(
    mean_absolute_percentage_error, "``100 * mean(|target - input| / max(|target|, 1e-7))``."
)
MeanSquaredLogarithmicError = _module(
    mean_squared_logarithmic_error, "``mean((log(max(input,eps)+1) - log(max(target,eps)+1))**2)``."
)
Hinge = _module(hinge, "``mean(max(1 - target * input, 0))``; targets in {0, 1} become {-1, 1}.")
SquaredHinge = _module(
    squared_hinge, "``mean(max(1 - target * input, 0)**2)``; {0, 1} targets become {-1, 1}."
)
CategoricalHinge = _module(categorical_hinge, "``max(max((1-target)*input) - sum(target*input) + 1, 0)``.")
LogCosh = _module(log_cosh, "``mean(log(cosh(input - target)))``, computed stably.")
Huber = _module(huber, "Quadratic below ``delta`` (default 1), linear above.")
KLDivergence = _module(kl_divergence, "``sum(t * log(t / p))`` with both clipped to ``[1e-7, 1]``.")
Poisson = _module(poisson, "``mean(input - target * log(input + 1e-7))``.")
CosineSimilarity = _module(cosine_similarity, "Minus the cosine similarity along ``axis``.")
CategoricalCrossentropy = _module(
    categorical_crossentropy,
    "Cross-entropy with one-hot/probability targets; ``from_logits``, ``label_smoothing``, ``axis``.",
)


SparseCategoricalCrossentropy = _module(
    sparse_categorical_crossentropy,
    "Cross-entropy with integer class targets; ``from_logits``, ``ignore_class``, ``axis``. Ignored entries "
    "are masked out: ``reduction='mean'`` is ``sum(loss * sample_weight) / kept``, as Keras 3's masked mean.",
)


BinaryCrossentropy = _module(
    binary_crossentropy, "Binary cross-entropy, probabilities clipped to ``[1e-7, 1-1e-7]``; ``from_logits``."
)

#: Loss names whose ``accuracy`` metric is binary or sparse (Keras' compile uses the same idea).
BINARY_LOSSES = ("binary_crossentropy", "hinge", "squared_hinge")
SPARSE_LOSSES = ("sparse_categorical_crossentropy",)
