"""The Keras-named cross-entropies' fused path (PyTorch's kernels) against Keras 3's formulas in numpy.

Every case is computed three ways: the module as a user calls it (reduction "mean" or "sum", no
sample_weight: the fused path), the Keras-way per-sample function reduced by hand, and numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
from zoo.training import losses as L

rng = np.random.default_rng(1)


def _log_softmax(z, axis=-1):
    z = z - z.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def _close(value, expected):
    assert value.dtype == torch.float64
    np.testing.assert_allclose(value.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def _keras_reduce(values, reduction, mask=None):
    """Keras 3's sum_over_batch_size with a mask: sum over kept entries / their count (0 when none)."""
    if reduction == "sum":
        return values.sum()
    if mask is None:
        return values.mean()
    return values.sum() / max(mask.sum(), 1)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore_class", [None, 2, -1])
@pytest.mark.parametrize("shape,axis", [((7, 5), -1), ((3, 4, 5), -1), ((3, 5, 4), 1)])
def test_sparse_from_logits_matches_keras(reduction, ignore_class, shape, axis):
    logits = rng.normal(size=shape) * 3
    classes = shape[axis]
    target_shape = tuple(s for i, s in enumerate(shape) if i != axis % len(shape))
    target = rng.integers(0, classes, target_shape)
    if ignore_class is not None:
        target.flat[::3] = ignore_class
    log_p = np.moveaxis(_log_softmax(logits, axis), axis, -1)
    safe = np.where(target == ignore_class, 0, target)
    values = -np.take_along_axis(log_p, safe[..., None], -1)[..., 0]
    mask = None if ignore_class is None else target != ignore_class
    if mask is not None:
        values = values * mask
    expected = _keras_reduce(values, reduction, mask)

    loss = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class, axis=axis,
                                           reduction=reduction)  # fmt: skip
    x, y = torch.tensor(logits, requires_grad=True), torch.tensor(target)
    value = loss(x, y)
    _close(value, expected)
    _close(L.Loss.forward(loss, x, y), expected)  # the Keras-way path agrees
    value.backward()
    assert torch.isfinite(x.grad).all()


def test_sparse_all_ignored_is_zero_not_nan():
    loss = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    value = loss(x, torch.zeros(4, dtype=torch.long))
    assert value.item() == 0.0
    value.backward()
    assert (x.grad == 0).all()


def test_sparse_trailing_unit_and_float_labels_and_out_of_range():
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    x = torch.randn(6, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    expected = -_log_softmax(x.numpy())[np.arange(6), y.numpy()].mean()
    _close(loss(x, y[:, None]), expected)
    _close(loss(x, y.double()), expected)
    # torch's default ignore_index (-100) must not swallow a bad label: a later batch's is explained
    with pytest.raises(zoo.DataError, match=r"labels range over \[-100, 3\]"):
        loss(x, torch.tensor([0, 1, 2, 3, 0, -100]))
    with pytest.raises(ValueError, match="needs integer class targets of shape"):  # the Keras-way message
        loss(x, y[:5])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("axis", [-1, 1])
def test_categorical_from_logits_matches_keras(reduction, label_smoothing, axis):
    logits = rng.normal(size=(4, 6, 5)) * 2
    probs = rng.random((4, 6, 5))
    probs /= probs.sum(axis, keepdims=True)
    smoothed = probs * (1 - label_smoothing) + label_smoothing / logits.shape[axis]
    values = -(smoothed * _log_softmax(logits, axis)).sum(axis)
    expected = _keras_reduce(values, reduction)
    loss = L.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing, axis=axis,
                                     reduction=reduction)  # fmt: skip
    x, t = torch.tensor(logits), torch.tensor(probs)
    _close(loss(x, t), expected)
    _close(L.Loss.forward(loss, x, t), expected)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(8,), (5, 3), (2, 3, 4)])
def test_binary_from_logits_matches_keras(reduction, label_smoothing, shape):
    logits = rng.normal(size=shape) * 4
    target = rng.integers(0, 2, shape).astype(float)
    smoothed = target * (1 - label_smoothing) + 0.5 * label_smoothing
    elementwise = np.maximum(logits, 0) - logits * smoothed + np.log1p(np.exp(-np.abs(logits)))
    values = elementwise if len(shape) == 1 else elementwise.mean(-1)  # Keras: mean over the last axis
    expected = _keras_reduce(values, reduction)
    loss = L.BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing, reduction=reduction)
    x, t = torch.tensor(logits), torch.tensor(target)
    _close(loss(x, t), expected)
    _close(L.Loss.forward(loss, x, t), expected)


def test_fused_kernel_is_the_one_used():
    """The point of the fused path is its backward: one NLL/BCE kernel, not log-softmax + gather + mean."""
    x = torch.randn(8, 5, requires_grad=True)
    sparse = L.SparseCategoricalCrossentropy(from_logits=True)(x, torch.randint(0, 5, (8,)))
    assert type(sparse.grad_fn).__name__ == "NllLossBackward0"
    dense = L.CategoricalCrossentropy(from_logits=True)(x, torch.softmax(torch.randn(8, 5), -1))
    assert "Mean" not in type(dense.grad_fn).__name__ and "Sum" not in type(dense.grad_fn).__name__
    binary = L.BinaryCrossentropy(from_logits=True)(x, torch.rand(8, 5).round())
    assert type(binary.grad_fn).__name__ == "BinaryCrossEntropyWithLogitsBackward0"


def test_probabilities_sample_weight_and_none_take_the_keras_way():
    x = torch.softmax(torch.randn(6, 4, dtype=torch.float64), -1)
    y = torch.randint(0, 4, (6,))
    expected = -np.log(np.clip(x.numpy()[np.arange(6), y.numpy()], 1e-7, 1 - 1e-7))
    _close(L.SparseCategoricalCrossentropy()(x, y), expected.mean())
    weight = torch.linspace(0.5, 2, 6, dtype=torch.float64)
    logits = torch.log(x)
    _close(L.SparseCategoricalCrossentropy(from_logits=True)(logits, y, sample_weight=weight),
           (expected * weight.numpy()).mean())  # fmt: skip
    _close(L.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(logits, y), expected)
