"""A loss written the Keras way, ``fn(y_true, y_pred)`` returning one value per sample, trains, evaluates and
takes sample_weight/class_weight as in Keras 3 (weighted sum over the batch size)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo


def per_sample_mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(-1)  # Keras: reduce over the last axis only


def batch_mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()


@pytest.fixture
def setup():
    torch.manual_seed(0)
    return nn.Linear(3, 2), torch.randn(4, 3), torch.randn(4, 2)


def test_per_sample_values_are_averaged_and_weighted_as_keras(setup):
    model, x, y = setup
    with torch.no_grad():
        values = ((y - model(x)) ** 2).mean(-1)
    weight = torch.tensor([1.0, 1.0, 1.0, 5.0])
    plain = zoo.evaluate(model, x, y, loss=per_sample_mse, verbose=0)["loss"]
    assert plain == pytest.approx(values.mean().item(), rel=1e-5)
    weighted = zoo.evaluate(model, x, y, loss=per_sample_mse, sample_weight=weight, verbose=0)["loss"]
    assert weighted == pytest.approx((values * weight).sum().item() / 4, rel=1e-5)  # sum_over_batch_size
    history = zoo.fit(model, x, y, loss=per_sample_mse, optimizer="sgd", sample_weight=weight, verbose=0)
    assert history.history["loss"][0] == pytest.approx(weighted, rel=1e-5)  # backward ran on the weighted mean


def test_a_batch_reduced_function_with_sample_weight_says_to_return_per_sample_values(setup):
    model, x, y = setup
    zoo.fit(model, x, y, loss=batch_mse, optimizer="sgd", verbose=0)  # a scalar is the loss as it is
    with pytest.raises(zoo.OptionError, match=r"batch_mse returned one number for the batch: return one value per sample"):
        zoo.fit(model, x, y, loss=batch_mse, optimizer="sgd", sample_weight=torch.ones(4), verbose=0)
