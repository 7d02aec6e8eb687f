"""Keras 3's own optimizers as the reference: weight decay and gradient clipping by Keras' names make
Keras' updates, and where Keras' and torch's weight_decay differ the user must say which is meant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo

GRADS = [np.array([3.0, 0.0], dtype="float32"), np.array([0.0, 4.0], dtype="float32")]


def _keras_steps(name: str, steps: int, **options) -> list[np.ndarray]:
    import keras

    weights = [keras.Variable(np.array([2.0, -1.0], dtype="float32")), keras.Variable(np.array([0.5, 1.5], dtype="float32"))]
    optimizer = keras.optimizers.get({"class_name": name, "config": options})
    for _ in range(steps):
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in GRADS], weights)
    return [np.asarray(keras.ops.convert_to_numpy(w)) for w in weights]


def _zoo_steps(name: str, steps: int, **options) -> list[np.ndarray]:
    from zoo.training.step import clip_gradients

    class NoScaling:
        def unscale(self, optimizer):
            pass

    weights = [torch.nn.Parameter(torch.tensor([2.0, -1.0])), torch.nn.Parameter(torch.tensor([0.5, 1.5]))]
    optimizer = zoo.get("optimizers", name, weights, **options)
    for _ in range(steps):
        for w, g in zip(weights, GRADS, strict=True):
            w.grad = torch.from_numpy(g.copy())
        clip_gradients(optimizer, NoScaling())
        optimizer.step()
    return [w.detach().numpy() for w in weights]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("adam", {"learning_rate": 0.1, "weight_decay": 0.1}),
        ("rmsprop", {"learning_rate": 0.05, "weight_decay": 0.2}),
        ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.3}),
        ("adamax", {"learning_rate": 0.1, "weight_decay": 0.1}),
        ("sgd", {"learning_rate": 0.1, "clipnorm": 1.0}),
        ("sgd", {"learning_rate": 0.1, "global_clipnorm": 1.0}),
        ("adam", {"learning_rate": 0.1, "clipvalue": 0.5}),
    ],
)
def test_keras_semantics_match_keras(name, options):
    decay = {"decoupled_weight_decay": True} if "weight_decay" in options else {}
    ours = _zoo_steps(name, 3, **options, **decay)
    for got, want in zip(ours, _keras_steps(name, 3, **options), strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_clipnorm_is_per_weight_and_global_clipnorm_is_global():
    """The mutant that clips clipnorm globally (zoo's old rule) moves the weights by (0.06, 0.08), not 0.1 each."""
    (a, b) = _zoo_steps("sgd", 1, learning_rate=0.1, clipnorm=1.0)
    np.testing.assert_allclose([2.0 - a[0], 1.5 - b[1]], [0.1, 0.1], rtol=1e-5)
    (a, b) = _zoo_steps("sgd", 1, learning_rate=0.1, global_clipnorm=1.0)
    np.testing.assert_allclose([2.0 - a[0], 1.5 - b[1]], [0.06, 0.08], rtol=1e-5)


def test_weight_decay_that_means_two_things_must_be_said():
    params = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(zoo.ZooError, match=r"weight_decay= means two things.*decoupled_weight_decay=True \(Keras'\)"):
        zoo.get("optimizers", "adam", params, weight_decay=0.1)
    with pytest.raises(zoo.ZooError, match="means two things"):
        zoo.get("optimizers", "sgd", params, momentum=0.9, weight_decay=0.1)
    torch_rule = zoo.get("optimizers", "rmsprop", params, weight_decay=0.1, decoupled_weight_decay=False)
    assert torch_rule.defaults["weight_decay"] == 0.1 and not torch_rule._optimizer_step_pre_hooks
    keras_rule = zoo.get("optimizers", "rmsprop", params, weight_decay=0.1, decoupled_weight_decay=True)
    assert keras_rule.defaults["weight_decay"] == 0 and keras_rule.param_groups[0]["decoupled_weight_decay"] == 0.1
    assert zoo.get("optimizers", "sgd", params, weight_decay=0.1).defaults["weight_decay"] == 0.1  # same rule
    assert zoo.get("optimizers", "adamw", params, weight_decay=0.1).defaults["weight_decay"] == 0.1  # both decouple


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "only one of clipnorm, global_clipnorm and clipvalue"),
        ({"clipnorm": -1.0}, "clipnorm must be a number > 0"),
        ({"clipvalue": 0}, "clipvalue must be a number > 0"),
        ({"global_clipnorm": float("nan")}, "global_clipnorm must be a number > 0"),
    ],
)
def test_bad_clipping_is_refused(options, said):
    with pytest.raises(zoo.ZooError, match=said):
        zoo.get("optimizers", "sgd", [torch.nn.Parameter(torch.ones(2))], **options)
