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


def test_adam_by_name_takes_the_fused_kernel_and_updates_as_torch_does():
    torch.manual_seed(0)
    start = torch.randn(30, 20)
    results = []
    for make in (lambda p: zoo.get("optimizers", "adam", p),
                 lambda p: torch.optim.Adam(p, lr=0.001, eps=1e-7)):  # fmt: skip
        weight = torch.nn.Parameter(start.clone())
        opt = make([weight])
        for step in range(20):
            weight.grad = torch.sin(weight.detach() * (step + 1))
            opt.step()
        results.append((opt, weight.detach()))
    (ours, got), (_, want) = results
    assert ours.defaults["fused"] is True
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("given", [{"foreach": True}, {"fused": False}, {"differentiable": False}])
def test_an_implementation_asked_for_is_kept(given):
    opt = zoo.get("optimizers", "adamw", _params(), **given)
    assert not opt.defaults.get("fused")
    assert all(opt.defaults[k] == v for k, v in given.items())


def test_fused_only_where_every_parameter_can_take_it():
    lazy = torch.nn.LazyLinear(3)
    assert not zoo.get("optimizers", "adam", lazy.parameters()).defaults.get("fused")  # unbuilt yet
    groups = [{"params": iter([torch.nn.Parameter(torch.ones(2))]), "lr": 0.1}, {"params": torch.nn.Parameter(torch.ones(3))}]
    opt = zoo.get("optimizers", "adam", iter(groups))  # generators, in groups too, are read once and still used
    assert opt.defaults["fused"] and [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert opt.param_groups[0]["lr"] == 0.1
    assert not zoo.get("optimizers", "adam", [torch.nn.Parameter(torch.ones(2, dtype=torch.complex64))]).defaults.get("fused")
