"""zoo.get(kind, name, **kwargs): an unknown keyword is an ArgumentError naming the entry, the closest
keyword and every keyword it takes, at build time, for every kind (not a TypeError from registry.py, and
not, for losses, metrics and activations, a puzzling error at the first call)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import ArgumentError


@pytest.mark.parametrize(
    ("kind", "name", "args", "kwargs", "match"),
    [
        ("callbacks", "early_stopping", (), {"patiense": 2}, "callbacks 'early_stopping' takes no keyword 'patiense'. Did you mean 'patience'"),
        ("regularizers", "l2", (), {"l22": 0.1}, "regularizers 'l2' takes no keyword 'l22'. Did you mean 'l2'"),
        ("constraints", "max_norm", (), {"max_valu": 1}, "Did you mean 'max_value'"),
        ("initializers", "glorot_uniform", (), {"sed": 1}, "Did you mean 'seed'"),
        ("optimizers", "adam", "params", {"learnin_rate": 1e-3}, "Did you mean 'learning_rate'"),
        ("optimizers", "sgd", "params", {"momentun": 0.9}, "Did you mean 'momentum'"),
        ("losses", "mse", (), {"foo": 1}, "loss 'mean_squared_error' takes no keyword 'foo'. It takes: reduction, name"),
        ("losses", "categorical_crossentropy", (), {"from_logit": True}, "Did you mean 'from_logits'"),
        ("metrics", "top_k_categorical_accuracy", (), {"kk": 3}, "Did you mean 'k'"),
        ("activations", "leaky_relu", (), {"negative_slop": 0.1}, "Did you mean 'negative_slope'"),
    ],
)  # fmt: skip
def test_unknown_keywords_are_argument_errors_with_the_closest_match(kind, name, args, kwargs, match):
    if args == "params":
        args = (nn.Linear(2, 2).parameters(),)
    with pytest.raises(ArgumentError, match=match) as info:
        zoo.get(kind, name, *args, **kwargs)
    assert "It takes" in str(info.value)


def test_known_keywords_still_build():
    assert zoo.get("callbacks", "early_stopping", patience=2).patience == 2
    assert zoo.get("losses", "categorical_crossentropy", from_logits=True).kwargs == {"from_logits": True}
    assert zoo.get("metrics", "top_k_categorical_accuracy", k=2).kwargs == {"k": 2}
    relu = zoo.get("activations", "leaky_relu", negative_slope=0.5)
    assert relu(torch.tensor([-2.0])).item() == pytest.approx(-1.0)
    opt = zoo.get("optimizers", "rmsprop", nn.Linear(2, 2).parameters(), learning_rate=0.1, rho=0.8, clipnorm=1.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.clipnorm == 1.0


def test_a_loss_module_with_a_typo_fails_when_built_not_at_the_first_batch():
    from zoo.training.losses import SparseCategoricalCrossentropy

    with pytest.raises(ArgumentError, match="from_logit"):
        SparseCategoricalCrossentropy(from_logit=True)
