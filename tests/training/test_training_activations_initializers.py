"""Activations against their formulas; initializers' statistics, fans, seeding and registry names."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import zoo
from zoo.training import activations as A
from zoo.training import initializers as I

X = torch.linspace(-6, 6, 121, dtype=torch.float64)
x = X.numpy()

FORMULAS = {
    "softmax": lambda v: np.exp(v) / np.exp(v).sum(),
    "elu": lambda v: np.where(v > 0, v, np.exp(v) - 1),
    "selu": lambda v: 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 * (np.exp(v) - 1)),
    "softplus": lambda v: np.log1p(np.exp(v)),
    "softsign": lambda v: v / (1 + np.abs(v)),
    "relu": lambda v: np.maximum(v, 0),
    "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "hard_sigmoid": lambda v: np.clip(v / 6 + 0.5, 0, 1),
    "exponential": np.exp,
    "linear": lambda v: v,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_formula(name):
    fn = A.get(name)
    np.testing.assert_allclose(fn(X).numpy(), FORMULAS[name](x), rtol=1e-10, atol=1e-12)
    # zoo.get calls the function with the tensor
    np.testing.assert_allclose(
        zoo.get("activations", name, X).numpy(), FORMULAS[name](x), rtol=1e-10, atol=1e-12
    )


def test_hard_sigmoid_keras2_slope_and_relu_options():
    np.testing.assert_allclose(A.hard_sigmoid(X, slope=0.2).numpy(), np.clip(0.2 * x + 0.5, 0, 1))
    got = A.relu(X, negative_slope=0.1, max_value=4.0, threshold=1.0).numpy()
    expected = np.where(x > 1.0, np.minimum(x, 4.0), 0.1 * (x - 1.0))
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_get_resolves_every_form():
    assert A.get(None) is A.linear
    assert A.get(torch.tanh) is torch.tanh
    assert A.get("Swish").fn is A.silu
    relu = zoo.get("activations", "relu")  # without a tensor: the function, for Dense(activation="relu")
    assert relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    leaky = zoo.get("activations", "leaky_relu", negative_slope=0.25)
    assert leaky(torch.tensor([-4.0])).item() == -1.0
    assert isinstance(A.get(torch.nn.ReLU), torch.nn.ReLU)
    leaky = A.get({"name": "leaky_relu", "negative_slope": 0.5})
    assert leaky(torch.tensor([-2.0])).item() == -1.0
    # Keras' serialized form
    keras_form = A.get({"class_name": "LeakyReLU", "config": {"negative_slope": 0.5}})
    assert keras_form(torch.tensor([-2.0])).item() == -1.0
    with pytest.raises(ValueError, match="'name' key"):
        A.get({"negative_slope": 0.5})
    with pytest.raises(zoo.UnknownNameError, match="relu"):
        A.get("reluu")
    with pytest.raises(TypeError):
        A.get(3)


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((5,), (5, 5)), ((7, 3), (3, 7)), ((16, 8, 3, 3), (72, 144)), ((4, 2, 5), (10, 20)), ((), (1, 1))],
)
def test_fans_follow_pytorch_layouts(shape, fans):
    assert I.compute_fans(shape) == fans
    if len(shape) >= 2:
        assert I.compute_fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize(
    ("name", "shape", "bound", "std"),
    [
        ("glorot_uniform", (300, 200), math.sqrt(6 / 500), math.sqrt(2 / 500)),
        ("he_uniform", (64, 32, 3, 3), math.sqrt(6 / 288), math.sqrt(2 / 288)),
        ("lecun_uniform", (300, 200), math.sqrt(3 / 200), math.sqrt(1 / 200)),
        ("glorot_normal", (300, 200), 2 * math.sqrt(2 / 500) / 0.87962566103423978, math.sqrt(2 / 500)),
        ("he_normal", (64, 32, 3, 3), 2 * math.sqrt(2 / 288) / 0.87962566103423978, math.sqrt(2 / 288)),
        ("lecun_normal", (300, 200), 2 * math.sqrt(1 / 200) / 0.87962566103423978, math.sqrt(1 / 200)),
    ],
)
def test_variance_scaling_family_statistics(name, shape, bound, std):
    w = zoo.get("initializers", name, seed=3)(torch.empty(shape))
    assert w.abs().max().item() <= bound + 1e-6
    assert w.abs().max().item() > 0.9 * bound  # the support is really used up to the bound
    assert w.std().item() == pytest.approx(std, rel=0.05)  # truncation correction gives the target stddev
    assert abs(w.mean().item()) < 0.05 * std * 10


def test_seeded_initializers_repeat_and_unseeded_follow_global_rng():
    a = I.RandomNormal(stddev=1.0, seed=5)(torch.empty(100))
    b = I.RandomNormal(stddev=1.0, seed=5)(torch.empty(100))
    assert torch.equal(a, b)
    torch.manual_seed(1)
    c = I.RandomUniform()(torch.empty(100))
    torch.manual_seed(1)
    d = I.RandomUniform()(torch.empty(100))
    assert torch.equal(c, d) and c.min() >= -0.05 and c.max() <= 0.05


def test_simple_initializers_and_orthogonal_identity():
    assert torch.all(zoo.get("initializers", "zeros")(torch.ones(3)) == 0)
    assert torch.all(zoo.get("initializers", "ones")(torch.zeros(3)) == 1)
    assert torch.all(zoo.get("initializers", "constant", value=2.5)(torch.zeros(3)) == 2.5)
    t = zoo.get("initializers", "truncated_normal", stddev=1.0, seed=0)(torch.empty(10000))
    assert t.abs().max() <= 2.0 and t.std().item() == pytest.approx(0.8796, rel=0.05)
    q = zoo.get("initializers", "orthogonal", gain=2.0, seed=0)(torch.empty(4, 6))
    torch.testing.assert_close(q @ q.T, 4 * torch.eye(4), atol=1e-5, rtol=0)
    eye = zoo.get("initializers", "identity", gain=3.0)(torch.empty(3, 3))
    torch.testing.assert_close(eye, 3 * torch.eye(3))
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()(torch.empty(2, 2, 3))


def test_initializer_fills_parameters_in_place():
    layer = torch.nn.Linear(20, 10)
    I.Zeros()(layer.bias)
    out = I.GlorotUniform(seed=0)(layer.weight)
    assert out is layer.weight and layer.weight.requires_grad and torch.all(layer.bias == 0)
