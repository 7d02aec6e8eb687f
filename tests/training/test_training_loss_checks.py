"""The first-batch checks of the losses that take probabilities, rates or class labels (no silent failures
from Keras habits: logits given to a from_logits=False loss, labels beyond the outputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.training import loss_checks
from zoo.training.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)


def logits_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))  # ends in logits, as zoo applications


def test_logits_to_sparse_crossentropy_in_fit_name_the_fix():
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    with pytest.raises(zoo.DataError, match=r"not probabilities.*zoo applications.*from_logits=True.*softmax"):
        zoo.fit(logits_mlp(), x, y, loss="sparse_categorical_crossentropy", verbose=0)
    with pytest.raises(zoo.DataError, match="from_logits=True"):
        zoo.evaluate(logits_mlp(), x, y, loss="sparse_categorical_crossentropy", verbose=0)
    # the same model with a softmax at the end, or the loss told about logits, trains
    softmax = nn.Sequential(logits_mlp(), nn.Softmax(-1))
    assert zoo.fit(softmax, x, y, loss="sparse_categorical_crossentropy", verbose=0).history["loss"]
    told = {"name": "sparse_categorical_crossentropy", "from_logits": True}
    assert zoo.fit(logits_mlp(), x, y, loss=told, verbose=0).history["loss"]


@pytest.mark.parametrize(
    ("loss", "pred", "target", "match"),
    [
        (CategoricalCrossentropy(), torch.randn(4, 3) * 3, torch.eye(3)[[0, 1, 2, 0]], "not probabilities"),
        # in [0, 1] but not a distribution (sigmoid outputs): Keras would renormalise them silently
        (CategoricalCrossentropy(), torch.full((4, 3), 0.9), torch.eye(3)[[0, 1, 2, 0]], "rows sum to between 2.7"),
        (SparseCategoricalCrossentropy(), torch.full((4, 3), 0.2), torch.tensor([0, 1, 2, 0]), "not 1"),
        (BinaryCrossentropy(), torch.tensor([[-1.5], [2.0]]), torch.tensor([[0.0], [1.0]]), r"\[-1.5, 2\]"),
        (KLDivergence(), torch.tensor([[-0.2, 1.2]]), torch.tensor([[0.5, 0.5]]), "probability distributions"),
        (Poisson(), torch.tensor([[-0.5], [3.0]]), torch.tensor([[1.0], [2.0]]), "rates, which cannot be negative"),
    ],
)
def test_values_that_cannot_be_what_the_loss_takes_are_refused(loss, pred, target, match):
    with pytest.raises(zoo.DataError, match=match):
        loss(pred, target)


def test_what_the_losses_take_passes():
    probs = torch.randn(4, 3).softmax(-1)
    assert CategoricalCrossentropy()(probs, torch.eye(3)[[0, 1, 2, 0]]) > 0
    assert SparseCategoricalCrossentropy()(probs.half().float(), torch.tensor([0, 1, 2, 0])) > 0
    assert BinaryCrossentropy()(torch.rand(4, 2), torch.randint(0, 2, (4, 2)).float()) > 0  # sigmoid outputs
    assert KLDivergence()(probs, probs.flip(0)) >= 0
    assert Poisson()(torch.tensor([[5.0], [0.0]]), torch.tensor([[4.0], [0.0]])) is not None  # rates above 1
    # from_logits=True: any real values
    assert BinaryCrossentropy(from_logits=True)(torch.randn(4, 1) * 5, torch.ones(4, 1)) > 0
    assert CategoricalCrossentropy(from_logits=True)(torch.randn(4, 3) * 5, torch.eye(3)[[0, 1, 2, 0]]) > 0


def test_labels_outside_the_outputs_name_the_range_and_the_outputs():
    message = r"labels range over \[0, 6\] but the model has 3 outputs.*\[0, 2\]"
    for loss in (SparseCategoricalCrossentropy(from_logits=True), SparseCategoricalCrossentropy()):
        with pytest.raises(zoo.DataError, match=message):
            loss(torch.randn(4, 3).softmax(-1), torch.tensor([0, 6, 1, 2]))
    with pytest.raises(zoo.DataError, match=r"\[-1, 1\]"):
        SparseCategoricalCrossentropy(from_logits=True)(torch.randn(2, 3), torch.tensor([-1, 1]))
    # ignore_class may lie outside; the other labels are still checked
    kept = SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    assert kept(torch.randn(2, 3), torch.tensor([-1, 1])) > 0
    with pytest.raises(zoo.DataError, match="3 outputs"):
        SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(torch.randn(2, 3), torch.tensor([-1, 3]))
    # in fit, before anything is trained
    x, y = torch.randn(16, 4), torch.arange(16) % 7
    with pytest.raises(zoo.DataError, match=r"\[0, 6\].*3 outputs"):
        zoo.fit(logits_mlp(), x, y, loss={"name": "sparse_categorical_crossentropy", "from_logits": True}, verbose=0)


def test_only_the_first_batch_is_checked_in_full(monkeypatch):
    calls = []
    real = loss_checks.check
    monkeypatch.setattr(loss_checks, "check", lambda *a: calls.append(1) or real(*a))
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = nn.Sequential(logits_mlp(), nn.Softmax(-1))
    zoo.fit(model, x, y, loss="sparse_categorical_crossentropy", batch_size=8, epochs=2, verbose=0)
    assert len(calls) == 1  # 16 steps, one check: no device sync per step
    loss = SparseCategoricalCrossentropy()
    loss(torch.randn(4, 3).softmax(-1), torch.tensor([0, 1, 2, 0]))
    assert loss(torch.randn(4, 3), torch.tensor([0, 1, 2, 0])) is not None  # later predictions are not looked at
    with pytest.raises(zoo.DataError, match=r"labels range over \[0, 3\]"):  # torch's error on a later label, explained
        loss(torch.randn(4, 3).softmax(-1), torch.tensor([0, 1, 3, 0]))


def test_a_refused_first_batch_is_checked_again():
    loss = SparseCategoricalCrossentropy()
    for _ in range(2):
        with pytest.raises(zoo.DataError):
            loss(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
