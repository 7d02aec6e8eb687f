"""Constructor arguments, inputs and masks a layer cannot use fail with a zoo.ZooError; inputs it can use
(another float dtype, an empty batch, a mask as a list) work as in Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Embedding,
    LayerNormalization,
    LocallyConnected2D,
    MaxPooling2D,
    SimpleRNN,
)


# -- 1. booleans, ints and sizes in constructors ----------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: LSTM(3, return_sequences="False"), r"LSTM: return_sequences must be True or False, got 'False'"),
        (lambda: Dense(3, use_bias="no"), r"Dense: use_bias must be True or False, got 'no' \(str\)"),
        (lambda: Embedding(10, 3, mask_zero="yes"), r"Embedding: mask_zero must be True or False, got 'yes'"),
        (lambda: GRU(3, go_backwards=1), r"GRU: go_backwards must be True or False, got 1 \(int\)"),
        (lambda: BatchNormalization(center=None), r"BatchNormalization: center must be True or False, got None"),
        (lambda: Bidirectional(LSTM(3, return_state="yes")), r"LSTM: return_state must be True or False"),
    ],
)
def test_a_non_bool_for_a_bool_parameter_is_an_argument_error(make, match) -> None:
    with pytest.raises(ArgumentError, match=match):
        make()


def test_numpy_bools_are_bools() -> None:
    layer = LSTM(3, return_sequences=np.bool_(True))
    assert layer(torch.randn(2, 5, 4)).shape == (2, 5, 3)
    assert Dense(3, use_bias=np.False_).linear.bias is None


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Dense(3.0), r"Dense: units must be a positive int, got 3.0 \(float\)"),
        (lambda: Dense(True), r"Dense: units must be a positive int, got True \(bool\)"),
        (lambda: Dense(3, input_dim=0), r"Dense: input_dim must be a positive int, got 0"),
        (lambda: Conv2D(0, 3), r"Conv2D: filters must be a positive int, got 0"),
        (lambda: Conv2D(3, 0), r"Conv2D kernel_size must be an int or 2 ints, each positive, got 0"),
        (lambda: Conv2D(3, (3, 0)), r"kernel_size .* got \(3, 0\)"),
        (lambda: Conv2D(3, 3.5), r"kernel_size .* got 3.5"),
        (lambda: Conv2D(3, 3, strides=0), r"strides .* got 0"),
        (lambda: Conv2D(3, 3, in_channels=-1), r"in_channels must be a positive int, got -1"),
        (lambda: Conv2D(4, 3, groups=0), r"groups must be a positive int, got 0"),
        (lambda: DepthwiseConv2D(3, depth_multiplier=0), r"depth_multiplier must be a positive int"),
        (lambda: MaxPooling2D(0), r"pool_size .* got 0"),
        (lambda: Embedding(0, 3), r"Embedding: input_dim must be a positive int, got 0"),
        (lambda: Embedding(10, -2), r"Embedding: output_dim must be a positive int, got -2"),
        (lambda: Embedding(10.5, 3), r"Embedding: input_dim must be a positive int, got 10.5"),
        (lambda: LSTM(3, input_size=0), r"LSTM: input_size must be a positive int, got 0"),
        (lambda: BatchNormalization(axis=1.0), r"BatchNormalization: axis must be an int, got 1.0"),
    ],
)
def test_a_wrong_int_or_size_is_an_option_error(make, match) -> None:
    with pytest.raises(OptionError, match=match):
        make()


def test_numpy_ints_and_saved_lists_still_work() -> None:
    assert Dense(np.int64(3))(torch.randn(2, 4)).shape == (2, 3)
    assert Conv2D(2, [3, 3], strides=np.array([1, 1]))(torch.randn(1, 1, 5, 5)).shape == (1, 2, 3, 3)


def test_the_typed_parameters_are_read_once_per_class() -> None:
    from zoo.layers._keras import _typed

    LSTM(3)
    typed = _typed(LSTM)
    assert typed["return_sequences"] == ("bool", False) and typed["units"] == ("int", False)
    assert typed["input_size"] == ("int", True)
    LSTM(4)
    assert _typed(LSTM) is typed
    assert "activation" not in typed and typed["dropout"] == ("float", False)


# -- 2. normalisation axes ----------------------------------------------------------------------------------
def test_layer_normalization_axis_outside_the_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"LayerNormalization\(axis=5\) got input shape \(2, 3, 4\).*1\.\.2"):
        LayerNormalization(axis=5)(torch.randn(2, 3, 4))
    with pytest.raises(DataError, match=r"axis must lie in"):
        LayerNormalization(axis=-4)(torch.randn(2, 3, 4))
    assert LayerNormalization(axis=2)(torch.randn(2, 3, 4)).shape == (2, 3, 4)


def test_batch_normalization_axis_outside_the_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"BatchNormalization\(axis=5\) got input shape \(2, 3, 4\).*-3\.\.2"):
        BatchNormalization(axis=5)(torch.randn(2, 3, 4))
    assert BatchNormalization(axis=-1)(torch.randn(2, 3, 4)).shape == (2, 3, 4)


# -- 3. floating inputs of another dtype --------------------------------------------------------------------
LAYERS = {
    "dense": (lambda: Dense(3), (4, 5)),
    "conv2d": (lambda: Conv2D(3, 3), (2, 2, 6, 6)),
    "depthwise": (lambda: DepthwiseConv2D(3), (2, 2, 6, 6)),
    "local": (lambda: LocallyConnected2D(2, 3), (2, 2, 6, 6)),
    "lstm": (lambda: LSTM(3), (2, 5, 4)),
    "gru_seq": (lambda: GRU(3, return_sequences=True), (2, 5, 4)),
    "bidirectional": (lambda: Bidirectional(SimpleRNN(3)), (2, 5, 4)),
    "batchnorm": (lambda: BatchNormalization().eval(), (2, 3, 4)),
    "layernorm": (lambda: LayerNormalization(), (2, 3, 4)),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16], ids=["float64", "float16"])
@pytest.mark.parametrize("key", list(LAYERS))
def test_a_float_input_of_another_dtype_is_cast_to_the_weights_dtype(key, dtype) -> None:
    make, shape = LAYERS[key]
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(*shape)
    expected = layer(x)
    got = layer(x.to(dtype))
    assert got.dtype == torch.float32
    tolerance = 0 if dtype is torch.float64 else 5e-3
    torch.testing.assert_close(got, expected, atol=tolerance, rtol=tolerance)


def test_a_functional_model_takes_float64_and_masked_lstm_takes_float16() -> None:
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, Dense(2)(Dense(3, activation="relu")(inputs)))
    x = torch.randn(5, 4)
    torch.testing.assert_close(model(x.double()), model(x))
    lstm = LSTM(3)
    seq = torch.randn(3, 6, 4)
    lengths = torch.tensor([6, 2, 4])
    torch.testing.assert_close(lstm(seq.half(), lengths=lengths), lstm(seq, lengths=lengths), atol=5e-3, rtol=5e-3)


def test_a_double_model_casts_integer_inputs_to_double() -> None:
    dense = Dense(2, input_dim=3).double()
    assert dense(torch.ones(4, 3, dtype=torch.long)).dtype == torch.float64


def test_autocast_keeps_choosing_the_precision_and_a_bf16_fit_trains() -> None:
    model = zoo.Sequential(
        [Conv2D(4, 3), zoo.layers.Flatten(), Dense(8), LayerNormalization(), Dense(2, activation="softmax")]
    )
    x = torch.randn(16, 2, 6, 6)
    y = torch.randint(0, 2, (16,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model(x).dtype == torch.bfloat16
        assert model(x.bfloat16()).dtype == torch.bfloat16
        assert model(x.double()).dtype == torch.bfloat16  # autocast leaves float64 alone: cast first
    history = zoo.fit(
        model, x.double(), y, optimizer="adam", loss="sparse_categorical_crossentropy", precision="bf16",
        device="cpu", epochs=2, verbose=0,
    )  # fmt: skip
    assert np.isfinite(history.history["loss"]).all()
    assert next(model.parameters()).dtype == torch.float32


# -- 4. empty batches, zero time steps, list masks ----------------------------------------------------------
@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_an_empty_batch_gives_empty_outputs(cls) -> None:
    assert cls(3)(torch.randn(0, 5, 4)).shape == (0, 3)
    assert cls(3)(torch.randn(0, 5, 4), mask=torch.ones(0, 5, dtype=torch.bool)).shape == (0, 3)
    out, *states = cls(3, return_sequences=True, return_state=True)(
        torch.randn(0, 5, 4), lengths=torch.zeros(0, dtype=torch.long)
    )
    assert out.shape == (0, 5, 3) and all(s.shape == (0, 3) for s in states)
    assert Bidirectional(cls(3))(torch.randn(0, 5, 4), mask=torch.ones(0, 5, dtype=torch.bool)).shape == (0, 6)


def test_zero_time_steps_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"LSTM\(3\) needs at least one time step, got input shape \(2, 0, 4\)"):
        LSTM(3)(torch.randn(2, 0, 4))
    model = zoo.Sequential([Embedding(10, 3, mask_zero=True), LSTM(3)])
    with pytest.raises(DataError, match="needs at least one time step"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(DataError, match="needs at least one time step"):
        Bidirectional(GRU(3))(torch.randn(2, 0, 4))


def test_a_mask_as_a_list_or_array_works() -> None:
    lstm = LSTM(3)
    x = torch.randn(2, 3, 4)
    expected = lstm(x, mask=torch.tensor([[True, True, False], [True, False, False]]))
    torch.testing.assert_close(lstm(x, mask=[[1, 1, 0], [1, 0, 0]]), expected)
    torch.testing.assert_close(lstm(x, mask=np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)), expected)
    with pytest.raises(ArgumentError, match=r"LSTM: mask must be a \(batch, time\) tensor"):
        lstm(x, mask=[[1, 1], [1]])
    with pytest.raises(DataError, match="mask shape"):
        lstm(x, mask=[[1, 1, 1]])


# -- 5. recurrent.py's own checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: LSTM(3, activation="relu"), OptionError, "activation must be one of"),
        (lambda: GRU(3, recurrent_activation="hard_sigmoid"), OptionError, "recurrent_activation must be 'sigmoid'"),
        (lambda: LSTM(3, dropout=1.0), OptionError, r"dropout must be in \[0, 1\)"),
        (lambda: LSTM(-1), OptionError, "units must be a positive int"),
        (lambda: Bidirectional(Dense(3)), ArgumentError, "Bidirectional wraps a zoo recurrent layer"),
        (lambda: Bidirectional(LSTM(3), merge_mode="max"), OptionError, "merge_mode must be one of"),
    ],
)
def test_recurrent_settings_raise_zoo_errors(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_recurrent_inputs_and_states_raise_data_errors() -> None:
    lstm = LSTM(3, input_size=4)
    with pytest.raises(DataError, match=r"LSTM\(3\) was built for 4 features per step"):
        lstm(torch.randn(2, 5, 6))
    with pytest.raises(DataError, match="takes 2 initial state tensor"):
        lstm(torch.randn(2, 5, 4), initial_state=[torch.zeros(2, 3)])
    with pytest.raises(DataError, match=r"initial state must be \(batch, units\)"):
        lstm(torch.randn(2, 5, 4), initial_state=[torch.zeros(2, 3), torch.zeros(3, 3)])
