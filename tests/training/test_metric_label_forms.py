"""Metrics given labels of the other form, "accuracy" under torch's CrossEntropyLoss, and Keras 3's
unweighted ``metrics=`` against ``weighted_metrics=``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.training import Trainer
from zoo.training import metrics as M
from zoo.training.callbacks.monitor_callback import monitor_direction
from zoo.training.resolve import resolve_metric

#: The models here output logits (make_mlp ends in a Linear), so the cross-entropy is told so.
CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}

SCORES = torch.tensor([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 0.0, 2.0], [2.0, 0.0, 1.0]])
LABELS = torch.tensor([0, 1, 0, 0])  # argmax hits: yes, yes, no, yes
ONE_HOT = nn.functional.one_hot(LABELS, 3).float()


# -- 1. one-hot metrics given class indices (and the other way round) -----------------------------------
@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None]], ids=["(N,)", "(N, 1)"])
@pytest.mark.parametrize(
    ("fn", "twin"),
    [
        (M.categorical_accuracy, "sparse_categorical_accuracy"),
        (M.top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy"),
    ],
)
def test_one_hot_metrics_refuse_class_indices(fn, twin, labels):
    # categorical_accuracy used to log argmax over the batch axis (a silent near-zero value), top-k a raw
    # RuntimeError from gather.
    with pytest.raises(zoo.DataError, match=rf"{fn.__name__} takes one-hot.*Use {twin}.*one_hot\(y, 3\)"):
        fn(SCORES, labels)


@pytest.mark.parametrize(
    ("fn", "twin"),
    [
        (M.sparse_categorical_accuracy, "categorical_accuracy"),
        (M.sparse_top_k_categorical_accuracy, "top_k_categorical_accuracy"),
    ],
)
def test_sparse_metrics_refuse_one_hot_labels_naming_the_twin(fn, twin):
    with pytest.raises(zoo.DataError, match=rf"{fn.__name__}: .*look one-hot: use {twin}\b.*argmax"):
        fn(SCORES, ONE_HOT)


@pytest.mark.parametrize(
    "fn",
    [M.categorical_accuracy, M.sparse_categorical_accuracy, M.top_k_categorical_accuracy,
     M.sparse_top_k_categorical_accuracy],
)  # fmt: skip
def test_categorical_metrics_refuse_a_single_output_column(fn):
    # argmax over one column is always 0: the accuracy would be the share of class-0 labels
    with pytest.raises(zoo.DataError, match="two or more classes.*binary_accuracy"):
        fn(torch.tensor([[0.9], [0.2]]), torch.tensor([[1.0], [0.0]]))


def test_right_label_forms_still_give_the_accuracy():
    assert M.categorical_accuracy(SCORES, ONE_HOT).tolist() == [1.0, 1.0, 0.0, 1.0]
    assert M.sparse_categorical_accuracy(SCORES, LABELS[:, None]).tolist() == [1.0, 1.0, 0.0, 1.0]
    assert M.top_k_categorical_accuracy(SCORES, ONE_HOT, k=2).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_categorical_metrics_in_evaluate_say_which_metric_to_use(make_mlp, make_data):
    x, y = make_data(32)
    with pytest.raises(zoo.DataError, match="categorical_accuracy takes one-hot.*sparse_categorical_accuracy"):
        zoo.evaluate(make_mlp(), x, y, loss=CE, metrics=["categorical_accuracy"], verbose=0)
    with pytest.raises(zoo.DataError, match="For integer class labels use sparse_categorical_crossentropy"):
        zoo.evaluate(make_mlp(), x, y, loss=CE, metrics=["categorical_crossentropy"], verbose=0)


# -- 2. binary_accuracy on class scores ---------------------------------------------------------------
def test_binary_accuracy_on_two_class_softmax_is_a_data_error():
    probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    with pytest.raises(zoo.DataError, match=r"\(4, 2\).*\(4,\).*2-class softmax.*sparse_categorical_accuracy"):
        M.binary_accuracy(probs, torch.tensor([0, 1, 1, 1]))
    # two samples: the shapes (2, 2) and (2,) broadcast, so torch alone would give a wrong number silently
    with pytest.raises(zoo.DataError, match="2-class softmax"):
        M.binary_accuracy(probs[:2], torch.tensor([0, 1]))
    with pytest.raises(zoo.DataError, match="Give labels of the predictions' shape"):
        M.binary_accuracy(torch.rand(4, 3), torch.rand(4, 2))


def test_binary_accuracy_ignores_only_a_trailing_one():
    pred, true = torch.tensor([0.9, 0.2, 0.7]), torch.tensor([1.0, 1.0, 0.0])
    expected = [1.0, 0.0, 0.0]
    assert M.binary_accuracy(pred[:, None], true).tolist() == expected
    assert M.binary_accuracy(pred, true[:, None]).tolist() == expected
    assert M.binary_accuracy(pred[:, None], true[:, None]).tolist() == expected


def test_binary_accuracy_metric_in_evaluate_is_a_data_error():
    model = nn.Sequential(nn.Linear(4, 2), nn.Softmax(-1))
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    with pytest.raises(zoo.DataError, match="2-class softmax.*sparse_categorical_accuracy"):
        zoo.evaluate(model, x, y, loss="sparse_categorical_crossentropy", metrics=["binary_accuracy"],
                     verbose=0)


# -- 3. "accuracy" under nn.CrossEntropyLoss: the shapes decide ---------------------------------------
@pytest.mark.parametrize(
    ("labels", "chosen"),
    [
        (LABELS, "sparse_categorical_accuracy"),
        (ONE_HOT, "categorical_accuracy"),
        (torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.0, 0.4], [0.5, 0.3, 0.2]]),
         "categorical_accuracy"),
    ],
    ids=["indices", "one-hot", "probabilities"],
)
def test_accuracy_with_torch_cross_entropy_follows_the_shapes(labels, chosen):
    metric = resolve_metric("accuracy", loss=nn.CrossEntropyLoss())
    metric.update(SCORES, labels)
    assert metric.chosen.__name__ == chosen
    assert metric.result().item() == pytest.approx(0.75)


def test_losses_that_take_one_label_form_still_settle_accuracy():
    metric = resolve_metric("accuracy", loss=nn.NLLLoss())  # class indices only
    metric.update(SCORES, LABELS)
    assert metric.chosen.__name__ == "sparse_categorical_accuracy"
    # a binary loss given as a dict settles it too: element-wise binary accuracy over two columns
    metric = resolve_metric("accuracy", loss={"name": "binary_crossentropy"})
    metric.update(torch.tensor([[0.9, 0.4]]), torch.tensor([[1.0, 1.0]]))
    assert metric.result().item() == pytest.approx(0.5)
    # ... and with logits the threshold stays 0
    metric = resolve_metric("accuracy", loss=nn.BCEWithLogitsLoss())
    metric.update(torch.tensor([[0.2], [-0.1], [0.3]]), torch.tensor([[1.0], [0.0], [0.0]]))
    assert metric.result().item() == pytest.approx(2 / 3)


def test_fit_with_cross_entropy_and_one_hot_targets_logs_the_accuracy(make_mlp, make_data):
    x, y = make_data(48)
    model = make_mlp()
    history = zoo.fit(
        model, x, nn.functional.one_hot(y, 3).float(), optimizer={"name": "sgd", "lr": 0.0},
        loss=nn.CrossEntropyLoss(), metrics=["accuracy"], batch_size=16, verbose=0,
    )  # fmt: skip
    with torch.no_grad():
        expected = (model(x).argmax(1) == y).float().mean().item()
    assert history.history["accuracy"][0] == pytest.approx(expected)


# -- 4. metrics= unweighted, weighted_metrics= weighted (Keras 3) -------------------------------------
def _hits(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float()


def _weights(n):
    weight = torch.zeros(n)
    weight[: n // 4] = 1.0
    return weight


def test_only_weighted_metrics_see_sample_weight(make_mlp, make_data):
    x, y = make_data(64)
    model, weight = make_mlp(), _weights(64)
    hits = _hits(model, x, y)
    assert hits[:16].mean() != hits.mean()  # the data tells weighted from unweighted
    logs = zoo.evaluate(
        model, x, y, loss=CE, metrics=["accuracy"], weighted_metrics=["accuracy"],
        sample_weight=weight, verbose=0,
    )  # fmt: skip
    assert list(logs) == ["loss", "accuracy", "weighted_accuracy"]  # Keras 3's names and order
    assert logs["accuracy"] == pytest.approx(hits.mean().item())
    assert logs["weighted_accuracy"] == pytest.approx(hits[:16].mean().item())
    # a weighted metric whose name nobody else logs keeps it
    logs = zoo.evaluate(model, x, y, loss=CE, weighted_metrics=["acc"], sample_weight=weight, verbose=0)
    assert list(logs) == ["loss", "acc"] and logs["acc"] == pytest.approx(hits[:16].mean().item())
    # without sample_weight the two agree
    logs = zoo.evaluate(model, x, y, loss=CE, metrics=["acc"], weighted_metrics=["acc"], verbose=0)
    assert logs["acc"] == logs["weighted_acc"] == pytest.approx(hits.mean().item())


def test_weighted_metrics_see_class_weight_in_training_only(make_mlp, make_data):
    x, y = make_data(64)
    model = make_mlp()
    hits = _hits(model, x, y)
    class_weight = {0: 0.0, 1: 1.0, 2: 0.0}
    history = zoo.fit(
        model, x, y, optimizer={"name": "sgd", "lr": 0.0}, loss=CE, metrics=["accuracy"],
        weighted_metrics=["accuracy"], class_weight=class_weight, batch_size=64, verbose=0,
        validation_data=(x, y, _weights(64)),
    )  # fmt: skip
    logs = {k: v[0] for k, v in history.history.items()}
    assert hits[y == 1].mean() != hits.mean()
    assert logs["accuracy"] == pytest.approx(hits.mean().item())
    assert logs["weighted_accuracy"] == pytest.approx(hits[y == 1].mean().item())
    # validation: no class_weight (Keras applies it to the training data), its own sample weights
    assert logs["val_accuracy"] == pytest.approx(hits.mean().item())
    assert logs["val_weighted_accuracy"] == pytest.approx(hits[:16].mean().item())


def test_weighted_metric_names_and_refusals(mlp):
    trainer = Trainer(mlp, loss=CE, metrics=["accuracy"], weighted_metrics=["accuracy"])
    assert [m.name for m in trainer.metrics] == ["accuracy", "weighted_accuracy"]
    assert monitor_direction("val_weighted_accuracy", trainer.metrics) == "up"  # EarlyStopping's mode="auto"
    shared = M.SparseCategoricalAccuracy()
    with pytest.raises(zoo.OptionError, match="both metrics and weighted_metrics.*twice"):
        Trainer(mlp, loss=CE, metrics=[shared], weighted_metrics=[shared])
    with pytest.raises(zoo.OptionError, match="unique"):  # renamed weighted_acc clashes with a given name
        named = M.SparseCategoricalAccuracy(name="weighted_acc")
        Trainer(mlp, loss=CE, metrics=["acc", named], weighted_metrics=["acc"])
    with pytest.raises(zoo.ArgumentError, match="Its keywords: optimizer, loss, metrics, weighted_metrics"):
        zoo.fit(mlp, torch.randn(4, 4), torch.zeros(4).long(), loss=CE, weighted_metric=["acc"], verbose=0)


def test_accuracy_with_torch_cross_entropy_reads_classes_on_axis_1_of_per_position_scores():
    torch.manual_seed(0)
    scores = torch.randn(4, 3, 3)  # (N, C, L) with L == C: the last-axis argmax ran silently before
    labels = scores.argmax(1)
    labels[0, 0] = (labels[0, 0] + 1) % 3  # one of 12 positions wrong
    for targets in (labels, nn.functional.one_hot(labels, 3).movedim(-1, 1).float()):  # indices or probabilities
        metric = M.Accuracy(loss=nn.CrossEntropyLoss())
        metric.update(scores, targets)
        assert metric.result().item() == pytest.approx(11 / 12)
