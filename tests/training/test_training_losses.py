"""Every loss against a closed-form numpy reference (Keras' formulas), incl. clipping and edge values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
from zoo.training import losses as L

EPS = 1e-7
rng = np.random.default_rng(0)


def _np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _probs(shape):
    p = rng.random(shape) + 0.05
    return p / p.sum(-1, keepdims=True)


REFERENCES = {
    "mse": lambda p, t: np.mean((p - t) ** 2, -1),
    "mae": lambda p, t: np.mean(np.abs(p - t), -1),
    "mape": lambda p, t: 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1),
    "msle": lambda p, t: np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1),
    "log_cosh": lambda p, t: np.mean(np.log(np.cosh(p - t)), -1),
    "poisson": lambda p, t: np.mean(p - t * np.log(p + EPS), -1),
    "kld": lambda p, t: np.sum(np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1)), -1),
    "cosine_proximity": lambda p, t: (
        -np.sum(
            p / np.linalg.norm(p, axis=-1, keepdims=True) * t / np.linalg.norm(t, axis=-1, keepdims=True), -1
        )
    ),
    "categorical_hinge": lambda p, t: np.maximum(np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_regression_losses_match_numpy(name):
    pred = rng.random((6, 5)) * 2 + 0.01
    true = rng.random((6, 5)) * 2
    if name in ("kld",):
        pred, true = _probs((6, 5)), _probs((6, 5))
        true[0, 0] = 0.0  # clipping to 1e-7 keeps log finite
    if name == "categorical_hinge":
        true = np.eye(5)[rng.integers(0, 5, 6)]
        pred = rng.normal(size=(6, 5))
    loss = zoo.get("losses", name, reduction="none")
    got = loss(torch.tensor(pred), torch.tensor(true)).numpy()
    np.testing.assert_allclose(got, REFERENCES[name](pred, true), rtol=1e-6, atol=1e-9)
    mean = zoo.get("losses", name)(torch.tensor(pred), torch.tensor(true)).item()
    assert mean == pytest.approx(REFERENCES[name](pred, true).mean(), rel=1e-6)


def test_mape_clips_zero_targets():
    got = L.mean_absolute_percentage_error(torch.tensor([[0.5]]), torch.tensor([[0.0]]))
    assert got.item() == pytest.approx(100 * 0.5 / EPS, rel=1e-6)


def test_log_cosh_is_stable_for_large_errors():
    got = L.log_cosh(torch.tensor([[1000.0]]), torch.tensor([[0.0]]))
    assert torch.isfinite(got).all()
    assert got.item() == pytest.approx(1000.0 - np.log(2.0), rel=1e-6)


@pytest.mark.parametrize("labels", ["01", "pm1"])
@pytest.mark.parametrize("squared", [False, True])
def test_hinge_converts_binary_labels(labels, squared):
    pred = rng.normal(size=(8, 3))
    signs = rng.choice([-1.0, 1.0], size=(8, 3))
    true = (signs + 1) / 2 if labels == "01" else signs
    margin = np.maximum(1 - signs * pred, 0)
    expected = np.mean(margin**2 if squared else margin, -1)
    fn = L.squared_hinge if squared else L.hinge
    np.testing.assert_allclose(fn(torch.tensor(pred), torch.tensor(true)).numpy(), expected, rtol=1e-6)


def test_categorical_crossentropy_probs_logits_and_smoothing():
    logits = rng.normal(size=(5, 4))
    probs = _np_softmax(logits)
    onehot = np.eye(4)[rng.integers(0, 4, 5)]
    expected = -np.sum(onehot * np.log(np.clip(probs, EPS, 1 - EPS)), -1)
    np.testing.assert_allclose(
        L.categorical_crossentropy(torch.tensor(probs), torch.tensor(onehot)).numpy(), expected, rtol=1e-6
    )
    np.testing.assert_allclose(
        L.categorical_crossentropy(torch.tensor(logits), torch.tensor(onehot), from_logits=True).numpy(),
        -np.sum(onehot * (logits - np.log(np.exp(logits).sum(-1, keepdims=True))), -1),
        rtol=1e-6,
    )
    smooth = onehot * 0.9 + 0.1 / 4
    np.testing.assert_allclose(
        L.categorical_crossentropy(torch.tensor(probs), torch.tensor(onehot), label_smoothing=0.1).numpy(),
        -np.sum(smooth * np.log(probs), -1),
        rtol=1e-6,
    )
    # Unnormalised "probabilities" are renormalised first, then clipped: a 0 gives -log(1e-7), not inf.
    zero = L.categorical_crossentropy(torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
    assert zero.item() == pytest.approx(-np.log(EPS), rel=1e-6)


def test_sparse_categorical_crossentropy_matches_dense_and_ignore_class():
    logits = torch.tensor(rng.normal(size=(6, 4)))
    labels = torch.tensor(rng.integers(0, 4, 6))
    dense = L.categorical_crossentropy(
        logits, torch.nn.functional.one_hot(labels, 4).double(), from_logits=True
    )
    sparse = L.sparse_categorical_crossentropy(logits, labels, from_logits=True)
    torch.testing.assert_close(sparse, dense)
    torch.testing.assert_close(
        L.sparse_categorical_crossentropy(logits, labels[:, None], from_logits=True), dense
    )
    torch.testing.assert_close(
        torch.nn.functional.cross_entropy(logits, labels),
        zoo.get("losses", "SparseCategoricalCrossentropy", from_logits=True)(logits, labels),
    )
    ignored = L.sparse_categorical_crossentropy(logits, labels, from_logits=True, ignore_class=int(labels[0]))
    assert ignored[0] == 0 and torch.all(ignored[labels != labels[0]] > 0)
    # Keras 3 masks ignored entries: the module's mean is over the kept ones, weights included
    kept = labels != labels[0]
    module = zoo.get(
        "losses", "sparse_categorical_crossentropy", from_logits=True, ignore_class=int(labels[0])
    )
    torch.testing.assert_close(module(logits, labels), ignored[kept].mean())
    weights = torch.arange(1.0, 7.0, dtype=torch.float64)
    torch.testing.assert_close(
        module(logits, labels, sample_weight=weights), (ignored * weights).sum() / kept.sum()
    )
    metric = zoo.get(
        "metrics", "sparse_categorical_crossentropy", from_logits=True, ignore_class=int(labels[0])
    )
    metric.update(logits, labels)
    torch.testing.assert_close(metric.result(), module(logits, labels))  # the same mean as the loss


def test_binary_crossentropy_clipping_logits_and_smoothing():
    pred = np.array([[0.0, 1.0, 0.3, 0.9]])
    true = np.array([[0.0, 1.0, 1.0, 0.0]])
    clipped = np.clip(pred, EPS, 1 - EPS)
    expected = np.mean(-(true * np.log(clipped) + (1 - true) * np.log(1 - clipped)), -1)
    np.testing.assert_allclose(
        L.binary_crossentropy(torch.tensor(pred), torch.tensor(true)).numpy(), expected, rtol=1e-6
    )
    # exactly wrong and certain: finite thanks to clipping (in float32, as Keras: 1 - 1e-7 rounds)
    worst = L.binary_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]))
    assert worst.item() == pytest.approx(-np.log(1 - np.float32(1 - EPS)), rel=1e-5)
    logits = rng.normal(size=(3, 2))
    np.testing.assert_allclose(
        L.binary_crossentropy(
            torch.tensor(logits), torch.tensor(true[:, :2].repeat(3, 0)), from_logits=True
        ).numpy(),
        L.binary_crossentropy(
            torch.tensor(1 / (1 + np.exp(-logits))), torch.tensor(true[:, :2].repeat(3, 0))
        ).numpy(),
        rtol=1e-6,
    )
    smooth = L.binary_crossentropy(torch.tensor(pred), torch.tensor(true), label_smoothing=0.2).numpy()
    t2 = true * 0.8 + 0.1
    np.testing.assert_allclose(
        smooth, np.mean(-(t2 * np.log(clipped) + (1 - t2) * np.log(1 - clipped)), -1), rtol=1e-6
    )


def test_sample_weight_and_reductions():
    pred, true = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([[0.0], [0.0], [0.0]])
    w = torch.tensor([1.0, 0.0, 0.5])
    mse = zoo.get("losses", "mse")
    # Keras' sum_over_batch_size: sum(values * w) / number of values (not / sum(w))
    assert mse(pred, true, sample_weight=w).item() == pytest.approx((1 + 0 + 8) / 3)
    assert zoo.get("losses", "mse", reduction="sum")(pred, true).item() == pytest.approx(21.0)
    assert zoo.get("losses", "mse", reduction="sum_over_batch_size")(pred, true).item() == pytest.approx(7.0)
    with pytest.raises(ValueError, match="reduction"):
        zoo.get("losses", "mse", reduction="avg")


def test_trailing_unit_axis_is_squeezed_but_real_mismatch_raises():
    pred = torch.randn(5, 1)
    true = torch.randn(5)
    assert L.mean_squared_error(pred, true).shape == (5,)
    with pytest.raises(ValueError, match=r"mean_squared_error: input shape \(5, 3\) and target shape \(5,\)"):
        L.mean_squared_error(torch.randn(5, 3), torch.randn(5))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        L.categorical_crossentropy(torch.rand(5, 3), torch.randint(0, 3, (5,)))
    with pytest.raises(ValueError, match="one-hot targets use categorical_crossentropy"):
        L.sparse_categorical_crossentropy(torch.rand(5, 3), torch.rand(5, 3))


def test_camel_case_and_aliases_resolve():
    assert isinstance(zoo.get("losses", "CategoricalCrossentropy"), L.CategoricalCrossentropy)
    assert isinstance(zoo.get("losses", "kullback_leibler_divergence"), L.KLDivergence)
    assert isinstance(zoo.get("losses", "logcosh"), L.LogCosh)
    assert isinstance(zoo.get("losses", "cosine_proximity"), L.CosineSimilarity)
    with pytest.raises(zoo.UnknownNameError, match="mean_squared_error"):
        zoo.get("losses", "mean_squared_eror")
