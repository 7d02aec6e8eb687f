"""Metrics: numpy references, sample weighting, accuracy selection, user functions, losses as metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
from zoo.training import metrics as M
from zoo.training.resolve import resolve_metric, resolve_metrics

rng = np.random.default_rng(0)


def test_binary_accuracy_threshold_and_edges():
    pred = torch.tensor([[0.0], [0.5], [0.51], [1.0]])
    true = torch.tensor([0.0, 1.0, 1.0, 1.0])
    # 0.5 is not above the threshold: predicted 0
    assert M.binary_accuracy(pred, true).tolist() == [1.0, 0.0, 1.0, 1.0]
    assert M.binary_accuracy(pred, true, threshold=0.4).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_categorical_sparse_and_top_k_against_numpy():
    scores = rng.normal(size=(50, 6))
    labels = rng.integers(0, 6, 50)
    onehot = np.eye(6)[labels]
    ref = (scores.argmax(-1) == labels).astype(float)
    np.testing.assert_array_equal(
        M.categorical_accuracy(torch.tensor(scores), torch.tensor(onehot)).numpy(), ref
    )
    np.testing.assert_array_equal(
        M.sparse_categorical_accuracy(torch.tensor(scores), torch.tensor(labels)).numpy(), ref
    )
    rank = (scores > scores[np.arange(50), labels][:, None]).sum(-1)
    for k in (1, 3, 5):
        top = (rank < k).astype(float)
        np.testing.assert_array_equal(
            M.top_k_categorical_accuracy(torch.tensor(scores), torch.tensor(onehot), k=k).numpy(), top
        )
        np.testing.assert_array_equal(
            M.sparse_top_k_categorical_accuracy(
                torch.tensor(scores), torch.tensor(labels)[:, None], k=k
            ).numpy(),
            top,
        )


def test_top_k_ties_count_as_hits_like_keras():
    scores = torch.tensor([[0.5, 0.5, 0.1]])
    assert M.sparse_top_k_categorical_accuracy(scores, torch.tensor([1]), k=1).item() == 1.0


def test_state_is_weighted_total_and_count():
    metric = zoo.get("metrics", "sparse_categorical_accuracy")
    scores = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    metric.update(scores, torch.tensor([0, 0, 0]), sample_weight=torch.tensor([1.0, 3.0, 0.0]))
    assert metric.result().item() == pytest.approx(0.25)
    metric.update(scores[:1], torch.tensor([0]))
    assert metric.result().item() == pytest.approx(2 / 5)
    total, count = metric.state(torch.device("cpu"))
    assert total.item() == pytest.approx(2.0) and count.item() == pytest.approx(5.0)
    metric.reset()
    assert metric.result().item() == 0.0


@pytest.mark.parametrize(
    ("y_pred", "y_true", "expected"),
    [
        (torch.tensor([[0.9], [0.2]]), torch.tensor([[1.0], [1.0]]), "binary"),
        (torch.tensor([0.9, 0.2]), torch.tensor([1.0, 1.0]), "binary"),
        (torch.tensor([[0.9, 0.1], [0.2, 0.8]]), torch.tensor([0, 0]), "sparse"),
        (torch.tensor([[0.9, 0.1], [0.2, 0.8]]), torch.tensor([[0], [0]]), "sparse"),
        (torch.tensor([[0.9, 0.1], [0.2, 0.8]]), torch.tensor([[1.0, 0.0], [1.0, 0.0]]), "categorical"),
    ],
)
def test_accuracy_picks_the_variant_from_shapes(y_pred, y_true, expected):
    metric = resolve_metric("accuracy")
    metric.update(y_pred, y_true)
    assert metric.result().item() == pytest.approx(0.5)
    names = {
        "binary": "<lambda>",
        "sparse": "sparse_categorical_accuracy",
        "categorical": "categorical_accuracy",
    }
    assert metric.chosen.__name__ == names[expected]


def test_accuracy_follows_the_loss():
    # 2-column one-hot-looking float targets, but a binary loss: element-wise binary accuracy
    metric = resolve_metric("acc", loss="binary_crossentropy")
    metric.update(torch.tensor([[0.9, 0.4]]), torch.tensor([[1.0, 1.0]]))
    assert metric.result().item() == pytest.approx(0.5) and metric.name == "acc"
    # with logits the decision threshold is 0, not 0.5
    metric = resolve_metric("accuracy", loss={"name": "binary_crossentropy", "from_logits": True})
    metric.update(torch.tensor([[0.2], [-0.1]]), torch.tensor([[1.0], [0.0]]))
    assert metric.result().item() == 1.0


def test_user_function_and_loss_as_metric():
    def within_one(y_pred, y_true):
        return ((y_pred - y_true).abs() < 1).float().squeeze(-1)

    metrics = resolve_metrics([within_one, "mse", torch.nn.L1Loss()])
    assert [m.name for m in metrics] == ["within_one", "mse", "l1_loss"]
    pred, true = torch.tensor([[0.0], [3.0]]), torch.tensor([[0.5], [0.0]])
    for m in metrics:
        m.update(pred, true)
    assert metrics[0].result().item() == 0.5
    assert metrics[1].result().item() == pytest.approx((0.25 + 9) / 2)
    assert metrics[2].result().item() == pytest.approx((0.5 + 3) / 2)
    # a scalar-returning function is weighted by batch size across updates
    metrics[2].update(torch.tensor([[1.0]] * 6), torch.tensor([[0.0]] * 6))
    assert metrics[2].result().item() == pytest.approx((3.5 + 6) / 8)


def test_duplicate_metric_names_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        resolve_metrics(["mse", "mse"])


def test_cosine_similarity_metric_is_the_cosine():
    metric = zoo.get("metrics", "cosine_similarity")
    metric.update(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[2.0, 0.0], [-1.0, -1.0]]))
    assert metric.result().item() == pytest.approx(0.0, abs=1e-6)
    assert metric.direction == "up"


def test_default_names_keep_acronyms_whole():
    """One spelling rule (zoo.naming.snake_case, Keras' to_snake_case) for metric and loss default names."""
    from zoo.training.losses import Loss

    class AUC(M.Metric):
        pass

    class KLDivergence(Loss):
        pass

    class TopKScore(M.Metric):
        pass

    assert (AUC().name, KLDivergence().name, TopKScore().name) == ("auc", "kl_divergence", "top_k_score")
