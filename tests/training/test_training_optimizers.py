"""Optimizers by Keras name, with Keras argument names and defaults."""

from __future__ import annotations

import pytest
import torch

import zoo


def _params():
    return [torch.nn.Parameter(torch.ones(2))]


@pytest.mark.parametrize(
    ("name", "cls", "defaults"),
    [
        ("sgd", torch.optim.SGD, {"lr": 0.01}),
        ("rmsprop", torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
        ("adagrad", torch.optim.Adagrad, {"lr": 0.001, "initial_accumulator_value": 0.1}),
        ("adadelta", torch.optim.Adadelta, {"lr": 0.001, "rho": 0.95}),
        ("Adam", torch.optim.Adam, {"lr": 0.001, "eps": 1e-7}),
        ("adamw", torch.optim.AdamW, {"weight_decay": 0.004}),
        ("adamax", torch.optim.Adamax, {"lr": 0.001}),
        ("nadam", torch.optim.NAdam, {"lr": 0.001}),
        ("radam", torch.optim.RAdam, {}),
        ("lbfgs", torch.optim.LBFGS, {}),
    ],
)
def test_names_build_torch_optimizers_with_keras_defaults(name, cls, defaults):
    opt = zoo.get("optimizers", name, _params())
    assert type(opt) is cls
    for key, value in defaults.items():
        assert opt.defaults[key] == value


def test_keras_argument_names_are_translated():
    opt = zoo.get(
        "optimizers",
        "adam",
        _params(),
        learning_rate=0.5,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-3,
        clipnorm=1.0,
    )
    assert opt.defaults["lr"] == 0.5 and opt.defaults["betas"] == (0.8, 0.99) and opt.defaults["eps"] == 1e-3
    assert opt.clipnorm == 1.0
    sgd = zoo.get("optimizers", "sgd", _params(), lr=0.1, momentum=0.9, nesterov=True)
    assert sgd.defaults["nesterov"] and sgd.defaults["momentum"] == 0.9
    rms = zoo.get("optimizers", "rmsprop", _params(), rho=0.5)
    assert rms.defaults["alpha"] == 0.5
    with pytest.raises(TypeError, match="either learning_rate= or lr="):
        zoo.get("optimizers", "adam", _params(), lr=1, learning_rate=2)
    with pytest.raises(TypeError, match="adam"):
        zoo.get("optimizers", "adam", _params(), momentum=0.9)


def test_unknown_optimizer_suggests():
    with pytest.raises(zoo.UnknownNameError, match="Did you mean: adam"):
        zoo.get("optimizers", "addam", _params())
