"""Layer arguments that used to fail with torch's words or be misused without a word: each now works as
Keras means it or is a zoo.ZooError that says what was wrong and what to do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import zoo
from zoo.errors import ArgumentError, DataError, ModelError, OptionError
from zoo.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Cropping2D,
    Dense,
    DepthwiseConv2D,
    Dot,
    Dropout,
    Embedding,
    Lambda,
    LayerNormalization,
    MaxPooling2D,
    Permute,
    PReLU,
    RepeatVector,
    Reshape,
    SeparableConv2D,
    SimpleRNN,
    Softmax,
    ZeroPadding2D,
)


# -- 1. recurrent layers without a bias ---------------------------------------------------------------------
def _lstm_loop_without_bias(rnn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Keras' LSTM with use_bias=False, step by step (torch's gate order i, f, g, o is Keras')."""
    h = c = torch.zeros(x.shape[0], rnn.hidden_size)
    for t in range(x.shape[1]):
        i, f, g, o = (x[:, t] @ rnn.weight_ih_l0.T + h @ rnn.weight_hh_l0.T).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


@pytest.mark.parametrize("eager", [False, True], ids=["lazy", "input_shape"])
def test_lstm_without_bias_matches_the_hand_computation_and_torch(eager: bool) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5)
    layer = LSTM(4, use_bias=False, input_shape=(3, 5)) if eager else LSTM(4, use_bias=False)
    y = layer(x)
    assert not any("bias" in name for name, _ in layer.named_parameters())
    torch.testing.assert_close(y, _lstm_loop_without_bias(layer.rnn, x))
    reference = nn.LSTM(5, 4, bias=False, batch_first=True)
    reference.load_state_dict(layer.rnn.state_dict())  # same keys: torch's bias-free LSTM has no bias either
    torch.testing.assert_close(y, reference(x)[0][:, -1])


@pytest.mark.parametrize(("cls", "torch_cls"), [(GRU, nn.GRU), (SimpleRNN, nn.RNN)])
def test_gru_and_simple_rnn_without_bias_match_torch(cls, torch_cls) -> None:
    torch.manual_seed(1)
    x = torch.randn(2, 4, 3)
    layer = cls(5, use_bias=False, return_sequences=True)
    y = layer(x)
    reference = torch_cls(3, 5, bias=False, batch_first=True)
    reference.load_state_dict(layer.rnn.state_dict())
    torch.testing.assert_close(y, reference(x)[0])
    assert layer.rnn.bias_ih_l0 is None and layer.rnn.bias_hh_l0 is None


def test_bias_free_layers_keep_masks_bidirectional_and_the_missing_bias_message() -> None:
    torch.manual_seed(2)
    x = torch.randn(2, 4, 3)
    padded = torch.cat([torch.zeros(2, 2, 3), x], 1)  # pre-padding, as Keras' pad_sequences
    layer = LSTM(5, use_bias=False)
    torch.testing.assert_close(layer(padded, mask=(torch.arange(6) >= 2).expand(2, -1)), layer(x))
    assert Bidirectional(GRU(3, use_bias=False))(x).shape == (2, 6)
    with pytest.raises(ArgumentError, match=r"LSTM: bias_initializer given, but this layer has no bias"):
        LSTM(4, use_bias=False, bias_initializer="ones")


# -- 2. convolutions ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: Conv2D(4, 3, padding=1),
            r"Conv2D: padding must be one of \('valid', 'same'\).*got 1.*ZeroPadding2D\(1\)",
        ),
        (lambda: Conv2D(4, 3, padding=(1, 1)), r"got \(1, 1\).*padding='same' keeps the spatial size"),
        (lambda: Conv1D(4, 3, padding=2), r"Conv1D: padding must be one of \('valid', 'same', 'causal'\)"),
        (lambda: Conv3D(4, 3, padding=None), r"Conv3D: padding must be one of .* got None"),
        (lambda: Conv2DTranspose(4, 3, padding=1), r"Cropping2D\(1\) after the layer"),
        (lambda: SeparableConv2D(4, 3, padding=1), r"^SeparableConv2D: padding"),
        (lambda: MaxPooling2D(2, padding=1), r"MaxPooling2D: padding must be one of"),
    ],
)
def test_a_padding_that_is_not_a_keras_name_is_an_option_error(make, match) -> None:
    with pytest.raises(OptionError, match=match):
        make()


def test_padding_names_are_case_blind_as_before() -> None:
    assert Conv2D(2, 3, padding="SAME")(torch.randn(1, 1, 5, 5)).shape == (1, 2, 5, 5)


def test_groups_must_divide_filters_and_input_channels() -> None:
    with pytest.raises(OptionError, match=r"Conv2D: filters \(4\) must be divisible by groups \(3\)"):
        Conv2D(4, 3, groups=3)
    with pytest.raises(OptionError, match=r"Conv2D: in_channels \(3\) must be divisible by groups \(2\)"):
        Conv2D(4, 3, groups=2, in_channels=3)
    with pytest.raises(OptionError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        Conv2D(4, 3, groups=2, input_shape=(3, 8, 8))
    layer = Conv2D(4, 2, groups=2)
    with pytest.raises(
        DataError,
        match=r"Conv2D\(4, groups=2\): the input channels \(3, .*\(1, 3, 8, 8\)\) must be divisible by groups \(2\)",
    ):
        layer(torch.randn(1, 3, 8, 8))
    x = torch.randn(1, 4, 8, 8)  # the refused call left the lazy layer unbuilt: the right input builds it
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.conv.weight, layer.conv.bias, groups=2))
    assert layer.conv.weight.shape == (4, 2, 2, 2)


def _built(layer, shape):
    layer(torch.randn(*shape))
    return layer


@pytest.mark.parametrize(
    ("make", "x", "match"),
    [
        (
            lambda: Conv2D(4, 10),
            (1, 3, 8, 8),
            r"Conv2D: kernel_size \(10, 10\) is larger than the spatial size \(8, 8\)",
        ),
        (lambda: Conv2D(4, 3, dilation_rate=4), (1, 3, 8, 8), r"\(3, 3\) \(dilated to \(9, 9\)\)"),
        (lambda: Conv1D(2, 5), (1, 3, 4), r"Conv1D: kernel_size \(5,\) .* \(4,\) of input shape \(1, 3, 4\)"),
        (lambda: DepthwiseConv2D((3, 9)), (1, 3, 8, 8), r"DepthwiseConv2D: kernel_size \(3, 9\)"),
        (lambda: SeparableConv2D(2, 9), (1, 3, 8, 8), r"DepthwiseConv2D: kernel_size \(9, 9\)"),
        (lambda: _built(Conv2D(4, 5), (1, 3, 8, 8)), (1, 3, 3, 3), r"Conv2D: kernel_size \(5, 5\) .* \(3, 3\)"),
    ],
)
def test_a_kernel_larger_than_the_input_is_a_data_error(make, x, match) -> None:
    with pytest.raises(DataError, match=match):
        make()(torch.randn(*x))


def test_same_and_causal_padding_fit_any_kernel() -> None:
    assert Conv2D(2, 10, padding="same")(torch.randn(1, 3, 8, 8)).shape == (1, 2, 8, 8)
    assert Conv1D(2, 9, padding="causal")(torch.randn(1, 3, 4)).shape == (1, 2, 4)


# -- 3. Reshape, Permute, Softmax ---------------------------------------------------------------------------
def test_reshape_takes_an_int_and_none_as_keras() -> None:
    x = torch.arange(30.0).reshape(2, 3, 5)
    assert torch.equal(Reshape(15)(x), x.reshape(2, 15))
    assert torch.equal(Reshape(np.int64(15))(x), x.reshape(2, 15))
    assert torch.equal(Reshape((None, 5))(x), x.reshape(2, 3, 5))
    assert torch.equal(Reshape([5, -1])(x), x.reshape(2, 5, 3))
    assert Reshape((0,))(torch.randn(3, 0)).shape == (3, 0)
    assert Reshape((5, 3))(torch.randn(0, 3, 5)).shape == (0, 5, 3)  # an empty batch


@pytest.mark.parametrize(
    "target", [("a",), (2.5, 2), (-1, -1), (None, -1), (-2, 3), (0, -1), "5", True, None]
)
def test_a_target_shape_that_is_no_shape_is_an_option_error(target) -> None:
    with pytest.raises(OptionError, match=r"Reshape: target_shape is one sample's shape .* got "):
        Reshape(target)


def test_a_reshape_of_another_size_names_both_sizes() -> None:
    with pytest.raises(
        DataError,
        match=r"Reshape\(4, 5\): the target shape holds 20 values per sample, the input shape \(2, 3, 5\) holds 15",
    ):
        Reshape((4, 5))(torch.randn(2, 3, 5))
    with pytest.raises(DataError, match=r"needs a multiple of 4 values per sample .* \(2, 3, 5\) holds 15"):
        Reshape((-1, 4))(torch.randn(2, 3, 5))


@pytest.mark.parametrize("dims", [2, (1.0, 2.0), "21", None])
def test_permute_refuses_what_is_no_tuple_of_axes(dims) -> None:
    with pytest.raises(
        OptionError, match=r"Permute: dims must be a tuple of the non-batch axes .* Permute\(\(2, 1\)\)"
    ):
        Permute(dims)


def test_permute_still_takes_lists_and_numpy_ints() -> None:
    x = torch.randn(2, 3, 4)
    assert torch.equal(Permute([2, 1])(x), x.transpose(1, 2))
    assert torch.equal(Permute(np.array([2, 1]))(x), x.transpose(1, 2))


def test_softmax_axis_outside_the_input_is_a_data_error() -> None:
    x = torch.randn(2, 3, 5)
    with pytest.raises(
        DataError, match=r"Softmax\(axis=5\) got input shape \(2, 3, 5\) \(3-D\); axis must lie in -3\.\.2"
    ):
        Softmax(axis=5)(x)
    with pytest.raises(DataError, match=r"Softmax\(axis=-4\)"):
        Softmax(axis=-4)(x)
    torch.testing.assert_close(Softmax(axis=-3)(x), x.softmax(0))
    with pytest.raises(OptionError, match=r"Softmax: axis must be an int, got 1.5"):
        Softmax(axis=1.5)


# -- 4. padding, cropping and PReLU's shared axes ------------------------------------------------------------
@pytest.mark.parametrize(
    "padding", [-1, (1, -1), ((0, -1), (0, 0)), ((1, 1), -2), 1.5, ((1.5, 0), (0, 0)), (1, 2, 3), "1", True]
)
def test_zero_padding_refuses_negative_and_fractional_amounts(padding) -> None:
    with pytest.raises(
        OptionError, match=r"ZeroPadding2D padding must be .* each a whole number >= 0 .*Cropping2D"
    ):
        ZeroPadding2D(padding)


@pytest.mark.parametrize("cropping", [-1, (0, -2), ((0, 0), (-1, 0))])
def test_cropping_refuses_negative_amounts(cropping) -> None:
    with pytest.raises(OptionError, match=r"Cropping2D cropping must be .* >= 0 .*ZeroPadding2D"):
        Cropping2D(cropping)


def test_padding_and_cropping_forms_keras_takes() -> None:
    x = torch.randn(1, 1, 4, 4)
    assert ZeroPadding2D(((1, 0), 2)).padding == ((1, 0), (2, 2))  # an entry may be one int (Keras)
    assert ZeroPadding2D(np.array([1, 2])).padding == ((1, 1), (2, 2))
    assert ZeroPadding2D(0)(x).shape == (1, 1, 4, 4)
    assert torch.equal(ZeroPadding2D([[1, 0], [0, 2]])(x), F.pad(x, (0, 2, 1, 0)))
    assert Cropping2D(np.int64(1))(x).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("axes", [[0], [-1], (1, 0), ["1"], [1.0], "1"])
def test_prelu_refuses_axes_not_counted_from_one(axes) -> None:
    with pytest.raises(OptionError, match=r"PReLU: shared_axes are axes numbered from 1"):
        PReLU(shared_axes=axes)


def test_prelu_axes_beyond_the_input_are_a_data_error_at_build() -> None:
    layer = PReLU(shared_axes=[5])
    with pytest.raises(
        DataError,
        match=r"PReLU\(shared_axes=\(5,\)\) got input shape \(2, 3, 5\) \(3-D\), which has no axis 5; shared axes lie in 1\.\.2",
    ):
        layer(torch.randn(2, 3, 5))
    with pytest.raises(DataError, match=r"no axis 3"):
        PReLU(shared_axes=(1, 3))(torch.randn(2, 3, 5))


def test_prelu_takes_one_axis_as_an_int() -> None:
    layer = PReLU(alpha_initializer=0.5, shared_axes=1)
    x = torch.randn(2, 3, 5)
    y = layer(x)
    assert layer.alpha.shape == (1, 5)
    torch.testing.assert_close(y, torch.where(x >= 0, x, 0.5 * x))


# -- 5. Model.build with a bare int ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [10, np.int64(10), (10,)])
def test_build_with_an_int_says_build_none_n(shape) -> None:
    model = zoo.Sequential([Dense(3)])
    with pytest.raises(
        ModelError,
        match=r"Sequential\.build takes input shapes with the batch axis first.*got .*10.*: for 10 features, build\(\(None, 10\)\)\.$",
    ):
        model.build(shape)
    model.build((None, 10))
    assert model(torch.randn(2, 10)).shape == (2, 3)


# -- 6. Keras keywords zoo knowingly does not support ---------------------------------------------------------
def test_gru_reset_after_true_works_and_false_is_refused_without_a_guess() -> None:
    assert GRU(3, reset_after=True)(torch.randn(2, 4, 5)).shape == (2, 3)
    with pytest.raises(
        ArgumentError, match=r"GRU: reset_after=False is not supported: torch's fused GRU kernel"
    ) as info:
        GRU(3, reset_after=False)
    assert "Did you mean" not in str(info.value)
    with pytest.raises(ArgumentError, match=r"reset_after must be True or False"):
        GRU(3, reset_after="False")


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_stateful_is_refused_with_what_to_do_instead(cls) -> None:
    assert cls(3, stateful=False)(torch.randn(2, 4, 5)).shape == (2, 3)
    with pytest.raises(
        ArgumentError, match=r"stateful=True is not supported.*return_state=True.*initial_state="
    ) as info:
        cls(3, stateful=True)
    assert "Did you mean" not in str(info.value)


def test_lambda_output_shape_is_a_checked_declaration() -> None:
    x = torch.randn(2, 3, 4)
    assert Lambda(lambda t: t.sum(1), output_shape=(4,))(x).shape == (2, 4)
    assert Lambda(lambda t: t.sum(1), output_shape=4)(x).shape == (2, 4)
    assert Lambda(lambda t: t, output_shape=(None, 4))(x).shape == (2, 3, 4)
    assert Lambda(lambda t: t.sum(1), output_shape=lambda s: (s[0], s[2]))(x).shape == (2, 4)
    with pytest.raises(
        DataError,
        match=r"output_shape declares \(2, 4\) \(batch axis included\), but the function returned shape \(2, 3, 4\)",
    ):
        Lambda(lambda t: t, output_shape=(4,))(x)
    with pytest.raises(ArgumentError, match=r"Lambda: output_shape is one sample's output shape"):
        Lambda(lambda t: t, output_shape="4")
    with pytest.raises(ArgumentError, match=r"the output_shape callable must return the output's shape"):
        Lambda(lambda t: t, output_shape=lambda s: None)(x)
    inputs = zoo.Input((3, 4))
    model = zoo.Model(inputs, Lambda(lambda t: t.sum(1), output_shape=(4,))(inputs))
    assert model(x).shape == (2, 4)


def test_lambda_arguments_and_mask_as_keras() -> None:
    x = torch.randn(2, 3)
    torch.testing.assert_close(Lambda(lambda t, k: t * k, arguments={"k": 3.0})(x), x * 3)
    with pytest.raises(ArgumentError, match=r"Lambda: arguments must be a dict"):
        Lambda(lambda t: t, arguments=[3])
    with pytest.raises(ArgumentError, match=r"arguments' keys are the function's keyword names \(str\), got 1 \(int\)"):
        Lambda(lambda t, **k: t, arguments={1: 2})  # was TypeError: keywords must be strings, at the first call
    ids = torch.tensor([[1, 2, 0], [3, 0, 0]])
    embedded = Embedding(5, 4, mask_zero=True)(ids)
    kept = Lambda(lambda t: t * 2, mask=lambda inputs, previous: previous)(embedded)
    assert torch.equal(kept._zoo_mask, ids != 0)
    fixed = torch.tensor([[True, False, False]] * 2)
    assert torch.equal(Lambda(lambda t: t, mask=fixed)(embedded)._zoo_mask, fixed)
    with pytest.raises(ArgumentError, match=r"Lambda: mask must be a callable"):
        Lambda(lambda t: t, mask=1)


# -- neighbours: fractional or malformed sizes that used to be truncated or fail raw ------------------------------
def test_dot_axes_must_be_ints() -> None:
    with pytest.raises(OptionError, match=r"Dot: axes must be an int or a pair of ints"):
        Dot(axes=1.5)
    with pytest.raises(OptionError, match=r"got \[1.5, 1\]"):
        Dot(axes=[1.5, 1])
    assert Dot(axes=np.array([1, 1])).axes == (1, 1)


def test_layer_normalization_epsilon_must_be_positive() -> None:
    with pytest.raises(OptionError, match=r"LayerNormalization: epsilon must be > 0, got -1"):
        LayerNormalization(epsilon=-1)


def test_dropout_noise_shape_must_fit() -> None:
    with pytest.raises(OptionError, match=r"Dropout: noise_shape is the drop pattern's shape"):
        Dropout(0.5, noise_shape=3)
    with pytest.raises(OptionError, match=r"got \(None, 1.5\)"):
        Dropout(0.5, noise_shape=(None, 1.5))
    with pytest.raises(DataError, match=r"noise_shape \(None, 2, 4\) does not fit input shape \(2, 3, 4\)"):
        Dropout(0.5, noise_shape=(None, 2, 4)).train()(torch.randn(2, 3, 4))


def test_repeat_vector_n_is_a_whole_number() -> None:
    with pytest.raises(OptionError, match=r"RepeatVector: n must be an int, got 2.5"):
        RepeatVector(2.5)
    with pytest.raises(OptionError, match=r"RepeatVector: n is the number of repeats"):
        RepeatVector(-1)


@pytest.mark.parametrize("make, says", [
    (lambda: zoo.layers.BatchNormalization(renorm=True), "BatchNormalization does not support Keras' renorm=: batch renormalization"),
    (lambda: zoo.layers.LayerNormalization(rms_scaling=True), "rms_scaling=: for RMS normalization use torch.nn.RMSNorm"),
    (lambda: zoo.layers.Embedding(10, 4, input_length=5), "input_length=: Keras 3 removed it too"),
    (lambda: zoo.layers.LSTM(4, unroll=True), "unroll=: it only changes how TensorFlow runs the loop"),
])  # fmt: skip
def test_keras_keywords_zoo_does_not_take_say_why_without_a_misleading_guess(make, says):
    with pytest.raises(zoo.ZooError) as info:
        make()
    assert says in str(info.value) and "Did you mean" not in str(info.value)  # renorm -> 'center' before
