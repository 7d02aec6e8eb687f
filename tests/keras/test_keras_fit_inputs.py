"""Wrong inputs to the Keras-style model API and fit: each one works as meant or is a zoo.ZooError naming
the fix, never a raw torch error or a silent wrong number (the review's findings; every test here fails
without its fix)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.layers import Dense

CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}
N = 96  # three batches of 32: the bad sample sits in a later batch


def _mlp(classes: int = 10, activation: str | None = None) -> zoo.Sequential:
    torch.manual_seed(0)
    return zoo.Sequential([zoo.Input((4,)), Dense(classes, activation=activation)])


def _data(bad: int | None = None, at: int = 70) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = rng.random((N, 4), dtype=np.float32), rng.integers(0, 10, N)
    if bad is not None:
        y[at] = bad
    return x, y


# -- 1. labels out of range in any batch --------------------------------------------------------------
LOSSES = [
    pytest.param(CE, None, id="sparse_cce_logits"),
    pytest.param("sparse_categorical_crossentropy", "softmax", id="sparse_cce_probabilities"),
    pytest.param(nn.CrossEntropyLoss(), None, id="torch_cross_entropy"),
]


@pytest.mark.parametrize("bad", [10, -3])
@pytest.mark.parametrize(("loss", "activation"), LOSSES)
def test_a_bad_label_in_a_later_training_batch_is_a_data_error(loss, activation, bad):
    x, y = _data(bad)
    model = _mlp(activation=activation)
    model.compile(optimizer="sgd", loss=loss)
    low, high = min(bad, 0), max(bad, 9)
    with pytest.raises(zoo.DataError, match=rf"range over \[{low}, {high}\].*10 outputs.*training batch 2"):
        model.fit(x, y, batch_size=32, shuffle=False, verbose=0)


@pytest.mark.parametrize(("loss", "activation"), LOSSES)
def test_a_bad_label_in_validation_data_or_evaluate_is_a_data_error(loss, activation):
    x, y = _data()
    xv, yv = _data(10)
    model = _mlp(activation=activation)
    model.compile(optimizer="sgd", loss=loss)
    with pytest.raises(zoo.DataError, match=r"\[0, 10\].*validation/evaluation batch 2"):
        model.fit(x, y, validation_data=(xv, yv), batch_size=32, verbose=0)
    with pytest.raises(zoo.DataError, match=r"\[0, 10\].*validation/evaluation batch 2"):
        model.evaluate(xv, yv, batch_size=32, verbose=0)


@pytest.mark.parametrize(("bad", "message"), [(10, r"class_weight: the labels range over \[0, 10\]"), (-3, r"\[-3, 9\]")])
def test_a_later_label_beyond_class_weight_classes_is_a_data_error(bad, message):
    x, y = _data(bad)
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    with pytest.raises(zoo.DataError, match=message + ".*training batch 2"):
        model.fit(x, y, class_weight={0: 2.0}, batch_size=32, shuffle=False, verbose=0)


def test_labels_in_range_train_and_validate():
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    history = model.fit(x, y, validation_data=(x, y), batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(history.history["val_loss"]).all()


# -- 2. sample_weight values and per-output forms -----------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"), [(-1.0, "negative weights"), (np.nan, "holds nan"), (np.inf, "holds inf")]
)
def test_negative_or_non_finite_sample_weights_are_refused(value, message):
    x, y = _data()
    w = np.ones(N, dtype="float32")
    w[70] = value
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    with pytest.raises(zoo.DataError, match=message):
        model.fit(x, y, sample_weight=w, verbose=0)
    with pytest.raises(zoo.DataError, match=message):
        model.fit(x, y, validation_data=(x, y, w), verbose=0)
    with pytest.raises(zoo.DataError, match=message):
        model.evaluate(x, y, sample_weight=w, verbose=0)
    ok = np.where(np.isfinite(w) & (w >= 0), w, 0.0)  # zeros leave samples out: fine
    assert np.isfinite(model.evaluate(x, y, sample_weight=ok, verbose=0))


def _two_outputs() -> zoo.Model:
    torch.manual_seed(0)
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, {"cls": Dense(10, name="cls")(inputs), "reg": Dense(1, name="reg")(inputs)})
    model.compile(optimizer="sgd", loss={"cls": CE, "reg": "mse"})
    return model


def test_per_output_sample_weights_weigh_each_output():
    x, y = _data()
    targets = {"cls": y, "reg": np.zeros((N, 1), dtype="float32")}
    ones, zeros = np.ones(N, dtype="float32"), np.zeros(N, dtype="float32")
    model = _two_outputs()
    both = model.evaluate(x, targets, verbose=0)
    only_reg = model.evaluate(x, targets, sample_weight={"cls": zeros, "reg": ones}, verbose=0)
    reg = zoo.evaluate(lambda_output(model, "reg"), x, targets["reg"], loss="mse", verbose=0)["loss"]
    assert only_reg == pytest.approx(reg, rel=1e-5) and only_reg < both


def lambda_output(model: zoo.Model, key: str) -> nn.Module:
    class One(nn.Module):
        def forward(self, x):
            return model(x)[key]

    return One()


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        ({"clss": 1, "reg": 1}, zoo.ModelError, "'clss', which is no output.*Did you mean 'cls'"),
        ({"reg": 1}, zoo.ModelError, "no weights for output 'cls'"),
        ([1, 1], zoo.ModelError, "outputs are named"),
        ({"cls": 0, "reg": 1}, zoo.DataError, "same number of samples"),
    ],
)
def test_wrong_per_output_sample_weights_are_zoo_errors(weights, error, message):
    x, y = _data()
    targets = {"cls": y, "reg": np.zeros((N, 1), dtype="float32")}
    arrays = {1: np.ones(N, dtype="float32"), 0: np.ones(N - 5, dtype="float32")}
    given = (
        {k: arrays[v] for k, v in weights.items()} if isinstance(weights, dict) else [arrays[v] for v in weights]
    )
    with pytest.raises(error, match=message):
        _two_outputs().fit(x, targets, sample_weight=given, verbose=0)


def test_a_dict_of_sample_weights_for_one_output_is_a_data_error():
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    with pytest.raises(zoo.DataError, match="this loss weighs one output: give one array"):
        model.fit(x, y, sample_weight={"a": np.ones(N, dtype="float32")}, verbose=0)


# -- 3. string labels ---------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["numpy", "list", "object"])
def test_string_labels_say_to_map_classes_to_integers(form):
    x, _ = _data()
    names = np.array(["cat", "dog", "bird"])[np.arange(N) % 3]
    y = {"numpy": names, "list": list(names), "object": names.astype(object)}[form]
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    message = r"y holds .*'cat'.*LabelEncoder"
    with pytest.raises(zoo.DataError, match=message):
        model.fit(x, y, verbose=0)
    with pytest.raises(zoo.DataError, match=message):
        model.fit(x, y, validation_split=0.25, verbose=0)
    with pytest.raises(zoo.DataError, match=message):
        model.evaluate(x, y, verbose=0)


# -- 4. Sequential checks its input as functional models do -------------------------------------------
def _sequentials() -> dict[str, zoo.Sequential]:
    built = zoo.Sequential([Dense(3)])
    built.build((None, 4))
    return {
        "Input": zoo.Sequential([zoo.Input((4,)), Dense(3)]),
        "input_shape": zoo.Sequential([Dense(3, input_shape=(4,))]),
        "build": built,
    }


@pytest.mark.parametrize("how", ["Input", "input_shape", "build"])
def test_sequential_checks_the_input_rank_and_sizes_it_declares(how):
    model = _sequentials()[how]
    assert model(torch.randn(2, 4)).shape == (2, 3)
    with pytest.raises(zoo.DataError, match=r"takes samples of shape \(4,\).*\(2, 5, 4\)"):
        model(torch.randn(2, 5, 4))  # Dense alone would apply itself to the last axis without a word
    with pytest.raises(zoo.DataError, match=r"takes samples of shape \(4,\).*\(2, 5\)"):
        model(torch.randn(2, 5))


def test_sequential_free_sizes_pass_and_the_check_uses_the_functional_rule():
    model = zoo.Sequential([zoo.Input((None, 4)), Dense(3)])
    assert model(torch.randn(2, 7, 4)).shape == (2, 7, 3)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(zoo.DataError, match=r"Model 'sequential': input 0 .* samples of shape \(None, 4\)"):
        model.fit(np.zeros((8, 7, 5), "float32"), np.zeros((8, 7, 3), "float32"), verbose=0)


# -- 5. zoo.Model's inputs and name -------------------------------------------------------------------
def test_the_same_input_twice_is_refused():
    a = zoo.Input((4,))
    out = Dense(3)(a)
    for inputs in ([a, a], {"p": a, "q": a}):
        with pytest.raises(zoo.ModelError, match="inputs 0 and 1 are the same tensor"):
            zoo.Model(inputs, out)


@pytest.mark.parametrize("name", [3, 1.5, ["m"]])
def test_a_model_name_that_is_no_string_is_a_model_error(name):
    a = zoo.Input((4,))
    with pytest.raises(zoo.ModelError, match=r"Model\(name=...\) takes a string"):
        zoo.Model(a, Dense(3)(a), name=name)
    with pytest.raises(zoo.ModelError, match=r"Sequential\(name=...\) takes a string"):
        zoo.Sequential([Dense(3)], name=name)

    class Sub(zoo.Model):
        def call(self, x):
            return x

    with pytest.raises(zoo.ModelError, match=r"Sub\(name=...\) takes a string"):
        Sub(name=name)
    assert zoo.Model(a, Dense(3)(a), name="head").name == "head"


def test_python_lists_of_numbers_are_arrays_as_in_keras():
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="sgd", loss=CE)
    by_list = model.fit(x, y.tolist(), epochs=1, batch_size=32, shuffle=False, verbose=0,
                        sample_weight=[1.0] * N, validation_data=(x, y.tolist()))  # fmt: skip
    # was: "array data must have a first (sample) axis, got int" (each number taken as an array)
    assert len(by_list.history["loss"]) == 1 and "val_loss" in by_list.history
    with pytest.raises(zoo.DataError, match="negative weights"):
        model.fit(x, y.tolist(), epochs=1, verbose=0, sample_weight=[-1.0] * N)
    assert model.evaluate(x, y.tolist(), verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize(("loss", "option"), [(CE, "ignore_class"), (nn.CrossEntropyLoss(), "ignore_index")])
def test_negative_labels_are_told_apart_from_too_few_outputs(loss, option):
    x, y = _data(bad=-1, at=3)  # the first batch: checked in full
    model = _mlp()
    model.compile(optimizer="sgd", loss=loss)
    with pytest.raises(zoo.DataError, match=rf"a class label is an index from 0 .*pass {option}=-1") as err:
        model.fit(x, y, epochs=1, verbose=0)
    assert "classes=" not in str(err.value)  # "(at least 1; zoo.load(..., classes=1))" made no sense here
