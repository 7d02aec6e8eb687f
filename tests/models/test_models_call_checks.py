"""A functional model called with the wrong inputs, a summary given a wrong dtype or batch size and a pop
past the layers fail with zoo.ZooErrors that name what was expected; Keras' call forms work."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import ArgumentError, DataError, ModelError, OptionError
from zoo.layers import Concatenate, Dense


@pytest.fixture
def two_inputs() -> zoo.Model:
    a = zoo.Input((4,), name="a")
    b = zoo.Input((3,), name="b")
    return zoo.Model([a, b], Dense(2)(Concatenate()([a, b])), name="pair")


X, Y = torch.randn(2, 4), torch.randn(2, 3)


def test_every_way_keras_and_torch_pass_inputs_works(two_inputs) -> None:
    expected = two_inputs(X, Y)
    for got in (
        two_inputs(a=X, b=Y), two_inputs(X, b=Y), two_inputs(b=Y, a=X), two_inputs([X, Y]), two_inputs((X, Y)),
        two_inputs({"a": X, "b": Y}),
    ):  # fmt: skip
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: m(X), r"'b' missing"),
        (lambda m: m(X, Y, Y), r"3 positional inputs for 2"),
        (lambda m: m(a=X, c=Y), r"no input named 'c'.*'b' missing"),
        (lambda m: m({"a": X, "c": Y}), r"no input named 'c'"),
        (lambda m: m(X, a=X), r"'a' both positionally and by name"),
        (lambda m: m([X]), r"got list of 1"),
        (lambda m: m(), r"got none"),
    ],
)
def test_wrong_inputs_name_the_model_inputs(two_inputs, call, match) -> None:
    with pytest.raises(ArgumentError, match=match) as info:
        call(two_inputs)
    message = str(info.value)
    assert "Model 'pair' takes 2 inputs: a (4,) float32, b (3,) float32" in message
    assert "model(a, b)" in message and "model({'a': ..., 'b': ...})" in message
    assert "forward()" not in message


def test_inputs_are_checked_against_their_declared_shapes(two_inputs) -> None:
    with pytest.raises(DataError, match=r"input 0 \('a'\) takes samples of shape \(4,\).*shape \(2, 3\).*"
                       r"It fits input 'b': were the inputs swapped\?"):
        two_inputs(Y, X)  # Concatenate takes both orders: it trained on swapped inputs before
    with pytest.raises(DataError, match=r"input 1 \('b'\) takes samples of shape \(3,\).*\(2, 5, 3\)"):
        two_inputs(X, torch.randn(2, 5, 3))  # one axis too many: Dense broadcast over it
    two_inputs.compile(optimizer="sgd", loss="mse")
    with pytest.raises(DataError, match="were the inputs swapped"):
        two_inputs.fit([Y, X], torch.randn(2, 2), verbose=0)
    free = zoo.Input((None, 3), name="seq")
    ragged = zoo.Model(free, Dense(2)(free))
    assert ragged(torch.randn(2, 7, 3)).shape == (2, 7, 2)  # a free size and the batch axis take any size
    with pytest.raises(DataError, match=r"takes samples of shape \(None, 3\)"):
        ragged(torch.randn(2, 7, 4))


def test_one_input_model_names_its_generated_input() -> None:
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, Dense(2)(inputs))
    name = model.input_specs[0].name
    with pytest.raises(ArgumentError, match=rf"takes 1 input: {name} \(4,\) float32.*got tensor \(2, 4\), tensor"):
        model(X, X)
    with pytest.raises(ArgumentError, match=rf"got b=tensor \(2, 4\): no input named 'b'; '{name}' missing"):
        model(b=X)
    torch.testing.assert_close(model({name: X}), model(X))


def test_summary_refuses_an_unknown_dtype_and_a_batch_size_below_one() -> None:
    model = zoo.Sequential([Dense(3)])
    with pytest.raises(OptionError, match=r"unknown dtype 'float23'. Did you mean 'float32'\?"):
        zoo.summary(model, (4,), dtypes=["float23"], print_fn=None)
    with pytest.raises(OptionError, match=r"dtypes must hold torch dtypes.*got 3 \(int\)"):
        zoo.summary(model, (4,), dtypes=[3], print_fn=None)
    for bad in (0, -1, True, 2.0):
        with pytest.raises(OptionError, match="batch_size must be a positive int"):
            zoo.summary(model, (4,), batch_size=bad, print_fn=None)
    assert zoo.summary(model, (4,), dtypes=["float64"], print_fn=None).total_params == 15
    assert zoo.summary(model, (4,), dtypes="torch.float32", print_fn=None).total_params == 15


def test_pop_past_the_layers_is_a_model_error() -> None:
    model = zoo.Sequential([Dense(2), Dense(3)])
    for index in (2, -3):
        with pytest.raises(ModelError, match=rf"index {index} is out of range; the model has 2 layers"):
            model.pop(index)
    with pytest.raises(ModelError, match="takes a layer index"):
        model.pop(True)
    assert isinstance(model.pop(), Dense) and len(model) == 1
    model.pop()
    with pytest.raises(ModelError, match="has no layers"):
        model.pop()


def _dropout_models() -> dict[str, zoo.Model]:
    from zoo.layers import BatchNormalization, Dropout

    class Sub(zoo.Model):
        def __init__(self) -> None:
            super().__init__()
            self.drop, self.seen = Dropout(0.5), []

        def call(self, x, training=None):
            self.seen.append(training)
            return self.drop(x)

    x = zoo.Input((64,))
    functional = zoo.Model(x, Dropout(0.5)(x))
    sequential = zoo.Sequential([zoo.Input((64,)), BatchNormalization(), Dropout(0.5)])
    return {"functional": functional, "sequential": sequential, "subclass": Sub()}


@pytest.mark.parametrize("kind", ["functional", "sequential", "subclass"])
def test_model_called_with_training_runs_in_that_mode_and_restores_every_flag(kind) -> None:
    model = _dropout_models()[kind].eval()
    first = next(m for m in model.modules() if m is not model)
    first.train()  # a submodule's own flag, different from the model's, must survive the call
    x = torch.randn(8, 64, generator=torch.Generator().manual_seed(0)) + 1
    out = model(x, training=True)
    assert (out == 0).any(), "training=True must turn dropout on"
    assert not model.training and first.training
    model.train()
    off = model(x, training=False)
    assert model.training and torch.equal(off, model.eval()(x))
    assert torch.equal(model(x, training=None), model(x))
    if kind == "subclass":
        assert model.seen[:2] == [True, False]  # a call() that takes training gets it too


def test_training_must_be_a_bool_or_none() -> None:
    with pytest.raises(ArgumentError, match=r"training=.* takes True .* got 'yes'"):
        _dropout_models()["sequential"](torch.ones(2, 64), training="yes")


def test_a_layer_called_with_training_runs_in_that_mode() -> None:
    from zoo.layers import BatchNormalization, Dense, Dropout

    x = torch.ones(8, 64)
    drop = Dropout(0.5).eval()
    assert (drop(x, training=True) == 0).any() and not drop.training  # was: forward() got 'training'
    assert torch.equal(drop.train()(x, training=False), x) and drop.training
    norm = BatchNormalization().train()
    norm(torch.randn(8, 64) + 3, training=False)
    assert torch.equal(norm.running_mean, torch.zeros(64))  # inference: batch statistics not taken
    Dense(3)(torch.ones(2, 4), training=None)
    with pytest.raises(ArgumentError, match=r"Dropout\(..., training=...\) takes True"):
        drop(x, training=1)


def _transfer_model():
    """Keras' transfer-learning recipe: the base's batch norm called with training=False in the graph."""
    from zoo.layers import BatchNormalization, Dense, Dropout

    inputs = zoo.Input((4,))
    norm, first = BatchNormalization(), Dense(4)
    features = norm(first(inputs), training=False)
    outputs = Dense(2)(Dropout(0.5)(features, training=True))  # Monte Carlo dropout: on in predict too
    return zoo.Model(inputs, outputs), norm, first


def test_training_given_in_a_functional_graph_holds_whenever_the_model_runs(tmp_path) -> None:
    model, norm, first = _transfer_model()
    x, y = torch.randn(64, 4) * 3 + 2, torch.randint(0, 2, (64,))
    weight = first.linear.weight.detach().clone()
    model.compile(optimizer="adam", loss=torch.nn.CrossEntropyLoss())
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert torch.equal(norm.running_mean, torch.zeros(4)), "training=False was dropped when the graph ran"
    assert not torch.equal(first.linear.weight, weight)  # training=False is the mode, not a freeze, as in Keras
    model.eval()
    assert not torch.equal(model(torch.ones(256, 4)), model(torch.ones(256, 4))), "training=True was dropped"
    model.save(tmp_path / "pinned")
    again = zoo.load_model(tmp_path / "pinned").train()
    stats = next(m for m in again.modules() if isinstance(m, type(norm)))
    before = stats.running_mean.clone()
    again(x)
    assert torch.equal(stats.running_mean, before)  # the saved graph keeps the flag


def test_summary_refuses_keras_layout_options_and_typos_instead_of_passing_them_to_forward() -> None:
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    with pytest.raises(ArgumentError, match="Keras' line_length= is not supported"):
        model.summary(line_length=80)
    with pytest.raises(ArgumentError, match="Did you mean 'print_fn'"):
        model.summary(print_fm=print)
    with pytest.raises(ArgumentError, match="show_trainable=False"):
        model.summary(show_trainable=False)
    assert model.summary(show_trainable=True, print_fn=None).total_params == 10


def test_a_zoo_load_model_takes_training_and_keras_weight_arrays() -> None:
    """Keras' transfer-learning recipe on a zoo.load backbone: base(inputs, training=False) (was TypeError:
    forward() got an unexpected keyword argument 'training')."""
    base = zoo.load("toy_cnn", weights=None)
    norms = [m for m in base.modules() if isinstance(m, nn.BatchNorm2d)]
    x = torch.randn(4, 3, 32, 32)
    base.train()(x, training=False)
    assert torch.equal(norms[0].running_mean, torch.zeros_like(norms[0].running_mean)) and base.training
    inputs = zoo.Input((3, 32, 32))
    model = zoo.Model(inputs, Dense(2)(base(inputs, training=False)))
    model.train()(x)
    assert torch.equal(norms[0].running_mean, torch.zeros_like(norms[0].running_mean))
    assert base.count_params() == sum(p.numel() for p in base.parameters())
    assert len(base.get_weights()) == len(base.state_dict()) and base.trainable_weights
