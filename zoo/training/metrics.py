"""Stateful metrics with PyTorch's argument order: ``metric.update(y_pred, y_true, sample_weight=None)``.

Every metric keeps its state as two tensors, ``total`` and ``count``, on the device of the data: updates
never leave the device (no ``.item()`` per step), and data-parallel training sums both across processes
before calling ``result()`` (``total / count``). Keras' ``update_state(y_true, y_pred)`` takes the
arguments the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from zoo.errors import DataError
from zoo.layers._base import get_mask
from zoo.naming import snake_case
from zoo.training import losses as _losses
from zoo.training.arguments import check_options
from zoo.training.data import batch_size_of

__all__ = [
    "Mean",
    "MeanMetricWrapper",
    "Metric",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


class Metric:
    """Base class: a running, sample-weighted mean held as ``(total, count)``.

    Subclasses implement ``update`` (usually via ``add(values, sample_weight)``); ``result`` is
    ``total / count`` (0 before any update). ``total`` is a tensor on the data's device; ``count`` is a
    plain number while no sample weights were seen (the batch sizes are known on the host, so counting
    them costs no device work) and a tensor otherwise. ``direction`` ("up" or "down") tells
    ``EarlyStopping``/``ModelCheckpoint``/``ReduceLROnPlateau`` in ``mode="auto"`` which way is better.
    """

    direction = "down"

    def __init__(self, name: str | None = None) -> None:
        self.name = name or snake_case(type(self).__name__)
        self.total: Tensor | None = None
        self.count: Tensor | float = 0.0

    def update(self, y_pred: Tensor, y_true: Tensor, sample_weight: Tensor | None = None) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        self.total = None
        self.count = 0.0

    def result(self) -> Tensor:
        if self.total is None:
            return torch.tensor(0.0)
        if isinstance(self.count, Tensor):
            return self.total / self.count.clamp_min(torch.finfo(self.total.dtype).tiny)
        return self.total / self.count if self.count else torch.zeros_like(self.total)

    # -- cross-process reduction ------------------------------------------------------------------
    def state(self, device: torch.device) -> list[Tensor]:
        """The state as tensors that add up across processes (``fit`` all-reduces them with SUM)."""
        total = self.total if self.total is not None else torch.zeros((), device=device)
        return [
            total.to(device, torch.float64),
            torch.as_tensor(self.count, device=device, dtype=torch.float64),
        ]

    def load_state(self, state: list[Tensor]) -> None:
        total, count = state
        self.total, self.count = total.float(), count.float()

    def __call__(self, y_pred: Tensor, y_true: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        """Update with one batch and return the running result (as Keras' ``metric(...)`` does)."""
        self.update(y_pred, y_true, sample_weight)
        return self.result()

    # -- accumulation -----------------------------------------------------------------------------
    def add(self, values: Tensor, sample_weight: Tensor | None = None) -> None:
        """Add per-sample ``values`` (first axis = samples; further axes are averaged) to the mean."""
        values = values.detach()
        if not values.is_floating_point():
            values = values.float()
        if values.ndim == 0:
            values = values.reshape(1)
        if values.ndim > 1:
            values = values.reshape(values.shape[0], -1).mean(1)
        if sample_weight is None:
            self._accumulate(values.sum(), float(values.numel()))
            return
        weight = torch.as_tensor(sample_weight, device=values.device, dtype=values.dtype).detach()
        if weight.ndim > 1:
            weight = weight.reshape(weight.shape[0], -1).mean(1)
        if weight.ndim == 0:
            weight = weight.expand(values.shape[0])
        self._accumulate((values * weight).sum(), weight.sum())

    def add_scalar(self, value: Tensor, weight: float) -> None:
        """Add one batch-level ``value`` counting ``weight`` samples (the loss tracker's update)."""
        value = value.detach()
        if self.total is None:
            self.total = value * weight
        else:
            self.total.add_(value, alpha=weight)  # one in-place kernel per step
        self.count = self.count + float(weight)

    def _accumulate(self, total: Tensor, count: Tensor | float) -> None:
        self.total = total if self.total is None else self.total + total
        self.count = self.count + count

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"



class Mean(Metric):
    """Sample-weighted mean of the values given: ``update(values, sample_weight=None)``."""

    def update(self, values: Tensor, y_true: Any = None, sample_weight: Tensor | None = None) -> None:  # type: ignore[override]
        self.add(torch.as_tensor(values), sample_weight)


class MeanMetricWrapper(Metric):
    """Any function ``fn(y_pred, y_true, **kwargs)`` returning per-sample values (or a scalar)."""

    def __init__(self, fn: Callable[..., Tensor], name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", type(fn).__name__))
        if kwargs:  # refused now, not at the first batch
            from zoo.registry import check_keywords, keywords_of

            options = keywords_of(fn, skip=2)
            check_keywords(
                f"metric {self.name!r}", kwargs, None if options is None else ["name", *options]
            )
            kwargs = check_options(f"metric {self.name!r}", fn, kwargs, skip=2)
        self.fn = fn
        self.kwargs = kwargs

    def update(self, y_pred: Tensor, y_true: Tensor, sample_weight: Tensor | None = None) -> None:
        with torch.no_grad():
            values = torch.as_tensor(self.fn(y_pred, y_true, **self.kwargs))
        mask = get_mask(values)
        if mask is not None:  # entries the function masked out (ignore_class) count in no mean, as in the loss
            weight = mask.to(values.dtype)
            if sample_weight is not None:
                weight = weight * _losses._broadcast_weight(sample_weight, values)
            self._accumulate((values * weight).sum(), weight.sum())
        elif values.ndim == 0:
            # A function that already averaged the batch (a loss module, say): weight it by batch size.
            if sample_weight is not None:
                weight = torch.as_tensor(sample_weight, device=values.device).float().sum()
                self._accumulate(values.detach().float() * weight, weight)
            else:
                self.add_scalar(values.float(), float(batch_size_of(y_pred)))
        else:
            self.add(values, sample_weight)


# -- accuracy functions (per sample) ------------------------------------------------------------------
def binary_accuracy(y_pred: Tensor, y_true: Tensor, threshold: float = 0.5) -> Tensor:
    y_pred, y_true = _losses.same_rank(y_pred, y_true)
    if y_pred.shape != y_true.shape:  # broadcasting would compare every prediction with every label
        if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[:-1] == y_true.shape:
            classes = y_pred.shape[-1]
            hint = (
                f"The predictions look like scores over {classes} classes (a {classes}-class softmax) and the "
                f"labels like class indices: use {_use('sparse_categorical_accuracy')}."
            )
        else:
            hint = "Give labels of the predictions' shape (a trailing axis of size 1 is ignored)."
        raise DataError(
            f"binary_accuracy: predictions of shape {tuple(y_pred.shape)} and labels of shape "
            f"{tuple(y_true.shape)} differ. {hint}"
        )
    hits = ((y_pred > threshold).to(y_true.dtype) == y_true).float()
    return hits.mean(-1) if hits.ndim > 1 else hits


# The two label forms of the categorical metrics. Integer labels given to a one-hot metric fail silently:
# their argmax runs over the batch axis (an accuracy near 0). So each metric checks the form it takes, and
# the message names the twin that takes the other form.
def _use(metric: str) -> str:
    """``metric`` as a fix, and ``"accuracy"`` too where it would pick that metric from the shapes."""
    return metric if "top_k" in metric else f"{metric} (or 'accuracy', which picks it from the shapes)"


def _check_class_axis(name: str, y_pred: Tensor) -> None:
    """Scores over two or more classes on the last axis: with one (or none) the argmax is always 0."""
    if y_pred.ndim < 2 or y_pred.shape[-1] < 2:
        raise DataError(
            f"{name} takes predictions of shape (samples, ..., classes) with two or more classes, got shape "
            f"{tuple(y_pred.shape)}: one output per sample is a binary output. Use {_use('binary_accuracy')}."
        )


def _one_hot(name: str, y_pred: Tensor, y_true: Tensor) -> Tensor:
    """Labels of ``y_pred``'s own shape (one-hot or class probabilities), else a ``DataError``."""
    _check_class_axis(name, y_pred)
    if y_true.shape == y_pred.shape:
        return y_true
    if y_true.shape in (y_pred.shape[:-1], (*y_pred.shape[:-1], 1)):
        raise DataError(
            f"{name} takes one-hot labels of the predictions' shape {tuple(y_pred.shape)}; got labels of shape "
            f"{tuple(y_true.shape)}, which look like integer class indices. Use {_use('sparse_' + name)}, or "
            f"one-hot the labels: torch.nn.functional.one_hot(y, {y_pred.shape[-1]})."
        )
    raise DataError(
        f"{name}: labels of shape {tuple(y_true.shape)} do not fit predictions of shape {tuple(y_pred.shape)}; "
        f"it takes one-hot labels of the predictions' shape (sparse_{name} takes class indices of shape "
        f"{tuple(y_pred.shape[:-1])})."
    )


def _class_indices(name: str, y_pred: Tensor, y_true: Tensor) -> Tensor:
    """Integer class labels of ``y_pred``'s shape without the class axis (a trailing 1 allowed)."""
    _check_class_axis(name, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if y_true.shape != y_pred.shape[:-1]:
        hint = (
            f" They look one-hot: use {_use(name.removeprefix('sparse_'))}, or give y.argmax(-1)."
            if y_true.shape == y_pred.shape
            else ""
        )
        raise DataError(
            f"{name}: predictions of shape {tuple(y_pred.shape)} need integer class labels of shape "
            f"{tuple(y_pred.shape[:-1])}, got labels of shape {tuple(y_true.shape)}.{hint}"
        )
    return y_true.long()


def categorical_accuracy(y_pred: Tensor, y_true: Tensor) -> Tensor:
    return (y_pred.argmax(-1) == _one_hot("categorical_accuracy", y_pred, y_true).argmax(-1)).float()


def sparse_categorical_accuracy(y_pred: Tensor, y_true: Tensor) -> Tensor:
    return (y_pred.argmax(-1) == _class_indices("sparse_categorical_accuracy", y_pred, y_true)).float()


def _in_top_k(y_pred: Tensor, labels: Tensor, k: int) -> Tensor:
    """Keras' ``in_top_k``: a label whose score ties the k-th largest counts as a hit."""
    k = min(k, y_pred.shape[-1])
    kth = y_pred.topk(k, dim=-1).values[..., -1]
    target_score = y_pred.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return (target_score >= kth).float()


def top_k_categorical_accuracy(y_pred: Tensor, y_true: Tensor, k: int = 5) -> Tensor:
    return _in_top_k(y_pred, _one_hot("top_k_categorical_accuracy", y_pred, y_true).argmax(-1), k)


def sparse_top_k_categorical_accuracy(y_pred: Tensor, y_true: Tensor, k: int = 5) -> Tensor:
    return _in_top_k(y_pred, _class_indices("sparse_top_k_categorical_accuracy", y_pred, y_true), k)


def _wrapper(fn: Callable[..., Tensor], doc: str, direction: str = "up") -> type[MeanMetricWrapper]:
    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name or fn.__name__, **kwargs)

    cls_name = "".join(part.capitalize() for part in fn.__name__.split("_"))
    return type(
        cls_name,
        (MeanMetricWrapper,),
        {"__init__": __init__, "__doc__": doc, "__module__": __name__, "direction": direction},
    )


BinaryAccuracy = _wrapper(binary_accuracy, "Share of ``(y_pred > threshold) == y_true`` (threshold 0.5).")
CategoricalAccuracy = _wrapper(categorical_accuracy, "``argmax(y_pred) == argmax(y_true)`` (one-hot labels).")
SparseCategoricalAccuracy = _wrapper(
    sparse_categorical_accuracy, "``argmax(y_pred) == y_true`` (class indices)."
)
TopKCategoricalAccuracy = _wrapper(top_k_categorical_accuracy, "One-hot label among the ``k`` best scores.")
SparseTopKCategoricalAccuracy = _wrapper(
    sparse_top_k_categorical_accuracy, "Class-index label among the ``k`` best scores."
)


class Accuracy(Metric):
    """Keras' ``"accuracy"``: binary, sparse categorical or categorical, chosen from the first batch.

    A loss that takes one label form settles it: binary for the binary losses, sparse for the sparse
    cross-entropy and ``nn.NLLLoss``. Otherwise the shapes do, as in Keras' compile (``get_metric``):
    binary when ``y_pred`` is 1-D or has one column; sparse when ``y_true`` has one axis fewer than
    ``y_pred`` (or a trailing axis of 1); categorical otherwise. ``nn.CrossEntropyLoss`` takes class
    indices and class probabilities alike, so it leaves the choice to the shapes. ``threshold`` is 0.5
    for probabilities; ``fit`` passes 0.0 when the loss takes logits.
    """

    direction = "up"

    def __init__(
        self, name: str | None = "accuracy", loss: Any = None, threshold: float | None = None
    ) -> None:
        super().__init__(name)
        self.loss_name = _loss_name(loss)
        #: torch's class-axis losses score (N, C, d1, ...): the classes are on axis 1, not last as in Keras
        self.classes_on_axis_1 = type(loss).__name__ in ("CrossEntropyLoss", "NLLLoss")
        self.threshold = threshold
        self.chosen: Callable[..., Tensor] | None = None

    def pick(self, y_pred: Tensor, y_true: Tensor) -> Callable[..., Tensor]:
        if self.classes_on_axis_1 and y_pred.ndim > 2:  # (N, C, L): segmentation, per-token scores
            sparse = y_true.ndim == y_pred.ndim - 1
            inner = self._pick(y_pred.movedim(1, -1), y_true if sparse else y_true.movedim(1, -1))
            return lambda p, t: inner(p.movedim(1, -1), t if t.ndim == p.ndim - 1 else t.movedim(1, -1))
        return self._pick(y_pred, y_true)

    def _pick(self, y_pred: Tensor, y_true: Tensor) -> Callable[..., Tensor]:
        if self.loss_name in _losses.BINARY_LOSSES or y_pred.ndim == 1 or y_pred.shape[-1] == 1:
            threshold = 0.5 if self.threshold is None else self.threshold
            return lambda p, t: binary_accuracy(p, t, threshold)
        if (
            self.loss_name in _losses.SPARSE_LOSSES
            or y_true.ndim == y_pred.ndim - 1
            or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        ):
            return sparse_categorical_accuracy
        return categorical_accuracy

    def update(self, y_pred: Tensor, y_true: Tensor, sample_weight: Tensor | None = None) -> None:
        if self.chosen is None:
            self.chosen = self.pick(y_pred, y_true)
        self.add(self.chosen(y_pred.detach(), y_true), sample_weight)


def _loss_name(loss: Any) -> str | None:
    if isinstance(loss, Mapping):  # {"name": "binary_crossentropy", "from_logits": True}, or Keras' form
        loss = loss.get("name", loss.get("class_name"))
    if loss is None:
        return None
    if isinstance(loss, str):
        from zoo.registry import normalize

        key = normalize(loss)
        for name in (*_losses.BINARY_LOSSES, *_losses.SPARSE_LOSSES):
            if normalize(name) == key:
                return name
        return {"bce": "binary_crossentropy"}.get(key, loss)
    fn = getattr(loss, "fn", None)
    name = getattr(fn, "__name__", None) or getattr(loss, "__name__", None)
    if name is None and type(loss).__name__ in ("BCELoss", "BCEWithLogitsLoss"):
        return "binary_crossentropy"
    if name is None and type(loss).__name__ == "NLLLoss":  # CrossEntropyLoss also takes probabilities
        return "sparse_categorical_crossentropy"
    return name


# -- losses as metrics (Keras registers these names as metrics too) -----------------------------------
MeanSquaredError = _wrapper(_losses.mean_squared_error, "Mean squared error as a metric.", "down")
MeanAbsoluteError = _wrapper(_losses.mean_absolute_error, "Mean absolute error as a metric.", "down")
MeanAbsolutePercentageError = _wrapper(_losses.mean_absolute_percentage_error, "MAPE as a metric.", "down")
MeanSquaredLogarithmicError = _wrapper(_losses.mean_squared_logarithmic_error, "MSLE as a metric.", "down")
SquaredHinge = _wrapper(_losses.squared_hinge, "Squared hinge as a metric.", "down")
Hinge = _wrapper(_losses.hinge, "Hinge as a metric.", "down")
CategoricalHinge = _wrapper(_losses.categorical_hinge, "Categorical hinge as a metric.", "down")
LogCosh = _wrapper(_losses.log_cosh, "Log-cosh as a metric.", "down")
CategoricalCrossentropy = _wrapper(
    _losses.categorical_crossentropy, "Categorical cross-entropy metric.", "down"
)
SparseCategoricalCrossentropy = _wrapper(
    _losses.sparse_categorical_crossentropy, "Sparse categorical cross-entropy metric.", "down"
)
BinaryCrossentropy = _wrapper(_losses.binary_crossentropy, "Binary cross-entropy metric.", "down")
KLDivergence = _wrapper(_losses.kl_divergence, "KL divergence as a metric.", "down")
Poisson = _wrapper(_losses.poisson, "Poisson loss as a metric.", "down")


class CosineSimilarity(MeanMetricWrapper):
    """Keras' ``cosine_similarity`` *metric*: the cosine itself (1 = same direction), higher is better."""

    direction = "up"

    def __init__(self, name: str | None = None, axis: int = -1) -> None:
        super().__init__(lambda p, t: -_losses.cosine_similarity(p, t, axis), name or "cosine_similarity")
