"""The functional API on fake tensors: what builds although it depends on values, what is refused and how
(a ModelError naming the layer, no torch log), torch's view/reshape idioms with the None batch axis, and
channels-first 1-D layers fed (batch, steps, features)."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

import zoo
from zoo.layers import (
    GRU,
    LSTM,
    AveragePooling1D,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Lambda,
    LocallyConnected1D,
    Masking,
    MaxPooling1D,
    Permute,
    TimeDistributed,
)


# -- sizes that depend on values inside a layer ----------------------------------------------------------
def test_a_mask_into_time_distributed_builds_and_computes_as_eagerly():
    ids = zoo.Input((5,), dtype="int64")
    embedding, per_step = Embedding(10, 4, mask_zero=True), TimeDistributed(Dense(2))
    model = zoo.Model(ids, per_step(embedding(ids)))
    batch = torch.tensor([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    out = model(batch)
    assert out.shape == (2, 5, 2)
    torch.testing.assert_close(out, per_step(embedding(batch)))
    assert (out[0, 2:] == 0).all() and (out[1, :4] != 0).any()  # padded steps are not computed


def test_masking_into_time_distributed_and_a_sequential_from_an_input_build():
    x = zoo.Input((5, 3))
    assert zoo.Model(x, TimeDistributed(Dense(2))(Masking()(x)))(torch.randn(4, 5, 3)).shape == (4, 5, 2)
    model = zoo.Sequential([zoo.Input((5,), dtype="int64"), Embedding(10, 4, mask_zero=True), TimeDistributed(Dense(2))])
    assert model(torch.tensor([[1, 0, 0, 0, 0]])).shape == (1, 5, 2)


def test_a_size_depending_on_values_inside_a_lambda_is_fine_when_its_output_has_a_shape():
    x = zoo.Input((5,))
    model = zoo.Model(x, Lambda(lambda t: t[t > 0].sum().expand(t.shape[0]))(x))
    data = torch.tensor([[1.0, -1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 3.0]])
    torch.testing.assert_close(model(data), torch.tensor([6.0, 6.0]))


# -- what fake tensors cannot do --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "function",
    [
        lambda t: t / t.max().item(),
        lambda t: torch.as_tensor(t.numpy()),
        lambda t: t if t.sum() > 0 else -t,
        lambda t: t[:, : int(t[0, 0])],
        lambda t: torch.tensor(t.tolist()),
    ],
    ids=["item", "numpy", "if", "int", "tolist"],
)
def test_a_lambda_reading_values_is_a_model_error_naming_it(function):
    layer = Lambda(function, name="scaled")
    with pytest.raises(zoo.ModelError, match=r"Lambda 'scaled' \(input shape \(None, 5\)\) reads tensor values") as info:
        layer(zoo.Input((5,)))
    assert "traces shapes without data" in str(info.value) and "subclassed model" in str(info.value)
    assert layer.function is function  # the guard is gone once the call is over


def test_an_output_whose_shape_depends_on_values_is_a_model_error():
    with pytest.raises(zoo.ModelError, match=r"Lambda 'positive' .*shape depends on the data.*torch\.where"):
        Lambda(lambda t: t[t > 0], name="positive")(zoo.Input((5,)))
    with pytest.raises(zoo.ModelError, match=r"nonzero\(\) .*shape depends on the data"):
        torch.nonzero(zoo.Input((5,)))


def _fake_tensor_records() -> tuple[list[logging.LogRecord], logging.Handler]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("torch._subclasses.fake_tensor").addHandler(handler)
    return records, handler


def test_a_bug_in_a_lambda_names_the_layer_shapes_and_torch_message_without_log_spam(capfd):
    records, handler = _fake_tensor_records()
    try:
        with pytest.raises(zoo.ModelError) as info:
            Lambda(lambda t: t @ torch.ones(4, 2), name="project")(zoo.Input((5,)))
    finally:
        logging.getLogger("torch._subclasses.fake_tensor").removeHandler(handler)
    message = str(info.value)
    assert message.startswith("Lambda 'project' failed on input shape (None, 5): ")
    assert "must have same reduction dim" in message and "batch axis and free sizes stand in as 2" in message
    assert isinstance(info.value, RuntimeError)  # torch's error class too: code catching those still does
    assert records == []
    assert "fake_tensor" not in capfd.readouterr().err


def test_torch_errors_name_the_innermost_layer_and_keep_out_of_the_log():
    records, handler = _fake_tensor_records()
    try:
        with pytest.raises(zoo.ModelError, match=r"^Linear failed on input shape \(None, 6\): .*reduction dim"):
            nn.Linear(5, 3)(Dense(6)(zoo.Input((4,))))
        with pytest.raises(zoo.ModelError, match=r"^Linear \(in Sequential 'sequential\w*'\) failed on input shape \(None, 3\)"):
            zoo.Sequential([zoo.Input((4,)), Dense(3), nn.Linear(5, 2)])
        with pytest.raises(zoo.ModelError, match=r"^Linear \(in TimeDistributed 'time_distributed\w*'\) failed"):
            TimeDistributed(nn.Linear(5, 2))(zoo.Input((7, 6)))
        with pytest.raises(zoo.ModelError, match=r"^matmul\(\) failed on input shapes \(None, 5\), \(4, 2\)"):
            zoo.Input((5,)) @ torch.ones(4, 2)
        with pytest.raises(zoo.ModelError, match=r"^Lambda 'typo' failed on input shape \(None, 5\): name 'undefined'"):
            Lambda(lambda t: undefined, name="typo")(zoo.Input((5,)))  # noqa: F821 - the bug under test
    finally:
        logging.getLogger("torch._subclasses.fake_tensor").removeHandler(handler)
    assert records == []


def test_a_module_catching_torch_errors_still_catches_them():
    class Fallback(nn.Module):
        def forward(self, t):
            try:
                return t @ torch.ones(4, 2)
            except RuntimeError:
                return t[:, :2]

    x = zoo.Input((5,))
    assert zoo.Model(x, Fallback()(x))(torch.randn(3, 5)).shape == (3, 2)


# -- view/reshape with the None batch axis ----------------------------------------------------------------
def test_view_and_reshape_keep_the_batch_axis_given_as_none(tmp_path):
    x = zoo.Input((3, 4))
    h = Dense(2)(x)
    assert h.shape[0] is None and h.size(0) is None
    flat = zoo.Model(x, h.view(h.shape[0], -1))
    assert "size(0)" in flat.code
    for batch in (1, 7):
        assert flat(torch.randn(batch, 3, 4)).shape == (batch, 6)
    y = zoo.Input((3,))
    d = Dense(3)(y)
    for out in (d.reshape(d.size(0), 3, 1), d.view((d.shape[0], -1, 1)), d.reshape([None, 3, 1])):
        assert zoo.Model(y, out)(torch.randn(5, 3)).shape == (5, 3, 1)
    model = zoo.Model(y, d.reshape(d.size(0), 3, 1))
    model.save(tmp_path / "m")
    data = torch.randn(4, 3)
    torch.testing.assert_close(zoo.load_model(tmp_path / "m")(data), model.eval()(data))


def test_a_free_size_given_as_none_is_kept_too():
    x = zoo.Input((None, 4))
    h = Dense(6)(x)
    model = zoo.Model(x, h.view(h.shape[0], h.shape[1], 2, 3))
    assert model(torch.randn(2, 9, 4)).shape == (2, 9, 2, 3)


def test_none_where_it_cannot_mean_an_axis_is_a_model_error_saying_what_works():
    h = Dense(3)(zoo.Input((3,)))
    with pytest.raises(zoo.ModelError, match=r"position 2 is past its 2 axes"):
        h.view(-1, 3, None)
    with pytest.raises(zoo.ModelError, match=r"the batch axis .*view/reshape take it"):
        h.expand(h.shape[0], 3)


# -- (batch, steps, features) into a channels-first 1-D layer ---------------------------------------------
@pytest.mark.parametrize(
    "layers, culprit",
    [
        ([Embedding(100, 16), Conv1D(8, 3), GlobalMaxPooling1D()], "Conv1D"),
        ([Embedding(100, 16), Dropout(0.2), BatchNormalization(), GlobalAveragePooling1D()], "GlobalAveragePooling1D"),
        ([LSTM(8, return_sequences=True), MaxPooling1D(2)], "MaxPooling1D"),
        ([Bidirectional(GRU(8, return_sequences=True)), Dense(4), AveragePooling1D()], "AveragePooling1D"),
        ([Embedding(100, 16), Conv1D(8, 3, data_format="channels_last"), MaxPooling1D()], "MaxPooling1D"),
    ],
    ids=["text-cnn", "through-dropout-and-bn", "lstm", "bidirectional-dense", "after-a-channels-last-conv"],
)
def test_a_sequential_feeding_steps_by_features_to_a_channels_first_1d_layer_is_refused(layers, culprit):
    fix = r"data_format='channels_last'.*Permute\(\(2, 1\)\)"
    with pytest.raises(zoo.ModelError, match=rf"^{culprit} '\w+' would run over the wrong axis.*{fix}"):
        zoo.Sequential(layers)  # no input: refused without shapes, before it is ever built


def test_the_functional_api_and_add_refuse_it_too_and_name_the_layers_between():
    ids = zoo.Input((20,), dtype="int64")
    steps = Dropout(0.1, name="drop")(Embedding(100, 16, name="words")(ids))
    with pytest.raises(zoo.ModelError, match=r"Conv1D 'conv' would .* Embedding 'words' \(through Dropout 'drop'\)"):
        Conv1D(8, 3, name="conv")(steps)
    with pytest.raises(zoo.ModelError, match="GlobalMaxPooling1D"):
        zoo.Sequential([Dense(4), GlobalMaxPooling1D()])(steps)  # the first layers of a nested Sequential
    with pytest.raises(zoo.ModelError, match="LocallyConnected1D .*Permute"):
        LocallyConnected1D(2, 3)(LSTM(4, return_sequences=True)(zoo.Input((6, 3))))
    model = zoo.Sequential([Embedding(100, 16)])
    with pytest.raises(zoo.ModelError, match="wrong axis"):
        model.add(Conv1D(8, 3))
    assert len(model) == 1  # the refused layer is not kept


def test_channels_last_permute_and_an_explicit_channels_first_build():
    ids = torch.randint(1, 100, (3, 20))
    text_cnn = zoo.Sequential([
        zoo.Input((20,), dtype="int64"), Embedding(100, 16), Conv1D(8, 3, data_format="channels_last"),
        MaxPooling1D(2, data_format="channels_last"), GlobalMaxPooling1D(data_format="channels_last"), Dense(2),
    ])  # fmt: skip
    assert text_cnn(ids).shape == (3, 2)
    assert text_cnn[1](text_cnn[0](ids)).shape == (3, 18, 8)  # over the 20 steps, 8 filters last
    permuted = zoo.Sequential([zoo.Input((20,), dtype="int64"), Embedding(100, 16), Permute((2, 1)), Conv1D(8, 3)])
    assert permuted(ids).shape == (3, 8, 18)
    on_purpose = zoo.Sequential(
        [zoo.Input((20,), dtype="int64"), Embedding(100, 16), Conv1D(8, 3, data_format="channels_first")]
    )
    assert on_purpose(ids).shape == (3, 8, 14)  # the 20 steps as channels, over the 16 features
    last_state = zoo.Sequential([zoo.Input((5, 3)), LSTM(8), Dense(2)])
    assert last_state(torch.randn(2, 5, 3)).shape == (2, 2)
    x = zoo.Input((3, 20))  # channels-first data into channels-first layers
    assert zoo.Model(x, GlobalAveragePooling1D()(MaxPooling1D()(Conv1D(8, 3)(x))))(torch.randn(2, 3, 20)).shape == (2, 8)
