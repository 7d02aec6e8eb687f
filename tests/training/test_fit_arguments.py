"""fit's arguments as Keras code passes them: by position in Keras' order, and wrong ones refused by name."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import DataError, ModelError, OptionError

CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


@pytest.fixture
def model():
    torch.manual_seed(0)
    seq = zoo.Sequential([zoo.layers.Dense(8, activation="relu"), zoo.layers.Dense(2)])
    seq.compile(optimizer="adam", loss=CE, metrics=["accuracy"])
    return seq


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(40, 4, generator=g), torch.randint(0, 2, (40,), generator=g)


def test_fit_evaluate_predict_take_keras_positional_order(model, data):
    x, y = data
    history = model.fit(x, y, 16, 3, 0)  # batch_size, epochs, verbose
    assert history.epoch == [0, 1, 2] and history.params["steps"] == 3 and history.params["verbose"] == 0
    loss, accuracy = model.evaluate(x, y, 40, 0)  # batch_size, verbose
    assert loss == pytest.approx(model.evaluate(x, y, batch_size=7, verbose=0)[0], rel=1e-5)
    assert model.predict(x, 16, 0).shape == (40, 2)
    with pytest.raises(ModelError, match=r"batch_size both by position and by keyword"):
        model.fit(x, y, 16, batch_size=8)
    with pytest.raises(ModelError, match=r"at most 14 arguments by position .* got 15"):
        model.fit(x, y, *range(15))


def test_wrong_fit_arguments_are_option_errors(model, data):
    x, y = data
    with pytest.raises(OptionError, match=r"validation_split must be a number.*got '0\.1'"):
        model.fit(x, y, validation_split="0.1", verbose=0)
    with pytest.raises(OptionError, match=r"initial_epoch must be a whole number >= 0.*got 1\.0"):
        model.fit(x, y, initial_epoch=1.0, verbose=0)
    with pytest.raises(OptionError, match=r"initial_epoch .* got -2"):  # ran 4 epochs, numbered -2 .. 1
        model.fit(x, y, epochs=2, initial_epoch=-2, verbose=0)
    with pytest.raises(ModelError, match=r"return_dict must be True or False, got 'no'"):
        model.evaluate(x, y, return_dict="no", verbose=0)  # "no" is truthy: it returned the dict


def test_a_list_of_inputs_for_a_one_input_model_names_the_batch_form(model, data):
    x, y = data
    with pytest.raises(DataError, match=r"gives Sequential 2 inputs by position, which its forward does not take"):
        model.fit([x, x], y, verbose=0)
    with pytest.raises(DataError, match=r"inputs named \['a'\]"):
        zoo.fit(nn.Linear(4, 2), {"a": x}, y, loss=CE, verbose=0)


def test_trainable_false_set_after_the_trainer_was_built_still_freezes():
    torch.manual_seed(0)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    trainer = zoo.training.Trainer(m, optimizer="adam", loss=CE)
    m[0].trainable = False  # after Trainer(m): fit applied the attribute only at construction before
    frozen = m[0].weight.detach().clone()
    trainer.fit(x, y, epochs=2, verbose=0)
    assert torch.equal(frozen, m[0].weight)
    m[2].trainable = False  # between two fits of the same trainer
    m[0].trainable = True
    last = m[2].weight.detach().clone()
    trainer.fit(x, y, epochs=1, verbose=0)
    assert torch.equal(last, m[2].weight) and not torch.equal(frozen, m[0].weight)


def test_an_optimizer_named_without_parameters_is_built_on_the_models(model, data):
    x, y = data
    adam = zoo.get("optimizers", "adam", learning_rate=0.05, clipnorm=1.0)  # Keras: optimizer=Adam(learning_rate=...)
    assert "adam(learning_rate=0.05, clipnorm=1.0)" in repr(adam)
    model.compile(optimizer=adam, loss=CE)
    model.fit(x, y, verbose=0)
    built = model._zoo_optimizer
    assert isinstance(built, torch.optim.Adam) and built.param_groups[0]["lr"] == 0.05 and built.clipnorm == 1.0
    assert {id(p) for p in built.param_groups[0]["params"]} == {id(p) for p in model.parameters()}
    with pytest.raises(OptionError, match="learning_rate must be a finite number"):
        zoo.get("optimizers", "adam", learning_rate="x")  # checked when named, not at the first fit
    with pytest.raises(zoo.ArgumentError, match="Did you mean 'learning_rate'"):
        zoo.get("optimizers", "sgd", lerning_rate=0.1)
