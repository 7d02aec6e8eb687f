"""Keras' shared layer keywords (name, input_shape/input_dim, initializers, regularizers, constraints,
data_format) through zoo.layers.Layer, and the errors and warnings Keras habits meet."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch.nn.parameter import is_lazy

import zoo
from zoo.layers import (
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    MaxPooling2D,
)
from zoo.layers._keras import LayerWarning, apply_constraints, constrained_layers, regularization_loss
from zoo.training.constraints import MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from zoo.training.regularizers import L1L2, L2, OrthogonalRegularizer


def test_input_shape_builds_the_layer_at_once_with_keras_default_initializers():
    torch.manual_seed(0)
    layer = Dense(200, activation="relu", input_shape=(100,))
    assert layer.input_shape == (100,)
    assert layer.linear.weight.shape == (200, 100)  # built: no lazy parameter left
    assert torch.equal(layer.linear.bias, torch.zeros(200))  # Keras: zeros, torch: uniform
    limit = math.sqrt(6 / (100 + 200))  # glorot_uniform
    assert layer.linear.weight.abs().max() <= limit
    assert layer.linear.weight.abs().max() > 0.9 * limit
    assert Dense(3, input_dim=7).input_shape == (7,)
    lstm = LSTM(4, input_dim=5)
    assert lstm.input_shape == (None, 5) and lstm.rnn.weight_ih_l0.shape == (16, 5)
    w_hh = lstm.rnn.weight_hh_l0  # orthogonal, Keras' recurrent default
    torch.testing.assert_close(w_hh.T @ w_hh, torch.eye(4), atol=1e-5, rtol=0)


def test_names_follow_keras():
    first, second = Conv2D(2, 3), Conv2D(2, 3)
    assert first.name.startswith("conv2d") and second.name != first.name
    assert LSTM(3, name="encoder").name == "encoder"
    with pytest.raises(zoo.ArgumentError, match="name"):
        Dense(3, name="")


def test_unknown_keyword_names_the_layer_lists_keywords_and_suggests():
    with pytest.raises(zoo.ArgumentError) as info:
        Conv2D(4, 3, kernel_initialiser="he_normal")
    message = str(info.value)
    assert "Conv2D" in message and "_Conv" not in message
    assert "Did you mean 'kernel_initializer'" in message and "data_format" in message
    with pytest.raises(zoo.ArgumentError, match="Flatten takes no keyword 'kernel_initializer'.*no weights"):
        Flatten(kernel_initializer="ones")
    with pytest.raises(zoo.ArgumentError, match="Dense takes no keyword 'data_format'"):
        Dense(3, data_format="channels_last")
    with pytest.raises(zoo.ArgumentError, match="Dense: .*positional"):
        Dense(3, "relu", True, 4, 5)
    with pytest.raises(zoo.ArgumentError, match="bias_regularizer given.*no bias"):
        Dense(3, use_bias=False, bias_regularizer="l2")
    with pytest.raises(zoo.UnknownNameError, match="glorot_uniform"):
        Dense(3, kernel_initializer="glorot_unifrom")


def test_lazy_initializer_applies_before_the_first_output_and_loading_wins():
    layer = Dense(3, kernel_initializer="ones", bias_initializer={"class_name": "Constant", "config": {"value": 1}})
    assert torch.equal(layer(torch.ones(2, 4)), torch.full((2, 3), 5.0))
    loaded = Dense(3, kernel_initializer="ones")
    loaded.load_state_dict({k: torch.full_like(v, 2.0) for k, v in layer.state_dict().items()})
    assert torch.equal(loaded(torch.ones(1, 4)), torch.full((1, 3), 10.0))
    emb = Embedding(10, 4)
    assert emb.embedding.weight.abs().max() <= 0.05  # Keras' uniform(-0.05, 0.05)


def test_regularizers_follow_keras_formulas_and_names():
    w = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert zoo.get("regularizers", "l2")(w).item() == pytest.approx(0.01 * 14.25)
    assert zoo.get("regularizers", "l1")(w).item() == pytest.approx(0.01 * 6.5)
    assert zoo.get("regularizers", "l1_l2")(w).item() == pytest.approx(0.01 * 6.5 + 0.01 * 14.25)
    assert L1L2()(w).item() == 0.0  # the class defaults to 0, the name to 0.01 (Keras)
    assert zoo.get("regularizers", "L2", l2=0.5)(w).item() == pytest.approx(0.5 * 14.25)
    assert OrthogonalRegularizer()(torch.eye(3)).item() == pytest.approx(0.0)
    assert OrthogonalRegularizer(factor=1.0)(torch.ones(3, 2)).item() == pytest.approx(1.0)  # all parallel
    with pytest.raises(ValueError, match="non-negative"):
        L2(-1.0)


def test_layer_losses_and_regularization_loss_cover_weights_and_activity():
    layer = Dense(2, input_dim=3, kernel_initializer="ones", kernel_regularizer=L2(0.1),
                  activity_regularizer="l1")  # fmt: skip
    out = layer(torch.ones(4, 3))
    weight_penalty, activity = layer.losses
    assert weight_penalty.item() == pytest.approx(0.1 * 6)
    assert activity.item() == pytest.approx(0.01 * out.abs().sum().item() / 4)  # divided by the batch
    total = regularization_loss([layer])
    assert total.item() == pytest.approx(0.6 + activity.item())
    total.backward()
    assert layer.linear.weight.grad is not None
    assert len(layer.losses) == 1  # activity penalties consumed
    layer.eval()
    layer(torch.ones(4, 3))
    assert len(layer.losses) == 1  # nothing recorded outside training


def test_constraints_project_per_output_unit_in_torch_layout():
    w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])  # row norms 5 and 0.5
    torch.testing.assert_close(MaxNorm(2.0)(w), torch.tensor([[1.2, 1.6], [0.3, 0.4]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(UnitNorm()(w).norm(dim=1), torch.ones(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(MinMaxNorm(1.0, 2.0)(w).norm(dim=1), torch.tensor([2.0, 1.0]), atol=1e-5, rtol=0)
    assert torch.equal(NonNeg()(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))
    conv = Conv2D(2, 3, in_channels=3, kernel_initializer="ones", kernel_constraint="max_norm",
                  bias_constraint="non_neg", bias_initializer={"name": "constant", "value": -1.0})  # fmt: skip
    model = torch.nn.Sequential(conv)
    apply_constraints(constrained_layers(model))
    norms = conv.conv.weight.flatten(1).norm(dim=1)  # one norm per filter, over (in, kh, kw)
    torch.testing.assert_close(norms, torch.full((2,), 2.0), atol=1e-5, rtol=0)
    assert torch.equal(conv.conv.bias, torch.zeros(2))


def test_data_format_channels_last_equals_the_permuted_channels_first_run():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 8, 3)
    first = Conv2D(4, 3, padding="same", in_channels=3)
    last = Conv2D(4, 3, padding="same", data_format="channels_last", input_shape=(8, 8, 3))
    assert last.conv.in_channels == 3  # input_shape read channels-last
    last.load_state_dict(first.state_dict())
    torch.testing.assert_close(last(x), first(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    pooled = MaxPooling2D(data_format="channels_last")(x)
    torch.testing.assert_close(pooled, MaxPooling2D()(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    bn = BatchNormalization(data_format="channels_last")
    bn(x)
    assert bn.running_mean.shape == (3,)
    with pytest.raises(zoo.ArgumentError, match="data_format must be one of"):
        Conv2D(4, 3, data_format="NHWC")


def test_channels_last_input_warns_before_a_lazy_layer_builds():
    layer = Conv2D(4, 3)
    with pytest.warns(LayerWarning, match=r"looks channels-last.*x.permute\(0, 3, 1, 2\).*channels_last"):
        layer(torch.randn(1, 8, 8, 3))
    with pytest.warns(LayerWarning, match=r"input_shape=\(1, 28, 28\)"):
        Conv2D(32, 3, input_shape=(28, 28, 1))
    strict = Conv2D(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LayerWarning)
        with pytest.raises(LayerWarning):
            strict(torch.randn(1, 8, 8, 3))
    assert is_lazy(strict.conv.weight)  # the warning came before it built itself for 8 channels
    with pytest.warns(LayerWarning, match="looks channels-last"):  # the functional API builds it at once
        Conv2D(4, 3)(zoo.Input((8, 8, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Conv2D(4, 3)(torch.randn(1, 256, 4, 4))  # a small feature map is not an image
        Conv2D(4, 3, data_format="channels_first")(torch.randn(1, 8, 8, 3))  # said explicitly
        MaxPooling2D()(torch.randn(1, 3, 8, 8))


def test_get_config_rebuilds_and_bidirectional_copies_keywords():
    layer = LSTM(4, return_sequences=True, kernel_initializer="zeros", name="enc")
    config = layer.get_config()
    assert config["units"] == 4 and config["kernel_initializer"] == "zeros" and config["name"] == "enc"
    both = Bidirectional(layer)
    both(torch.randn(2, 3, 5))
    assert torch.count_nonzero(both.backward_layer.rnn.weight_ih_l0) == 0


def test_fit_adds_penalties_to_the_loss_logs_them_and_applies_constraints():
    torch.manual_seed(0)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    layer = Dense(1, input_dim=4, kernel_regularizer=L2(1.0), kernel_constraint=MaxNorm(0.1))
    plain = Dense(1, input_dim=4)
    plain.load_state_dict(layer.state_dict())
    with torch.no_grad():
        layer.linear.weight.mul_(0).add_(1.0)  # norm 2 before the first step
        plain.linear.weight.copy_(layer.linear.weight)
    history = zoo.fit(layer, x, y, loss="mse", optimizer="sgd", epochs=1, batch_size=32, verbose=0)
    logs = history.history
    assert logs["regularization_loss"][0] == pytest.approx(4.0, rel=1e-5)  # 1.0 * sum(w**2) before the step
    plain_logs = zoo.fit(plain, x, y, loss="mse", optimizer="sgd", epochs=1, batch_size=32, verbose=0).history
    assert logs["loss"][0] == pytest.approx(plain_logs["loss"][0] + 4.0, rel=1e-5)
    assert layer.linear.weight.norm().item() == pytest.approx(0.1, rel=1e-4)  # projected after the step
    assert plain.linear.weight.norm().item() > 1.0


def test_trainable_false_on_a_zoo_layer_freezes_it_even_before_it_is_built():
    """``layer.trainable = False`` (and ``trainable=False``) freeze a zoo layer, lazy ones included, with
    BatchNorm kept in eval; not an attribute nobody reads."""
    import torch

    import zoo

    for layer in (zoo.get("layers", "Dense", 2), zoo.get("layers", "Dense", 2, input_shape=(5,))):
        layer.trainable = False
        layer(torch.rand(3, 5))
        assert layer.trainable is False and not any(p.requires_grad for p in layer.parameters())
    norm = zoo.get("layers", "BatchNormalization", trainable=False)
    norm.train()
    norm(torch.rand(4, 3))
    assert not norm.training and not any(p.requires_grad for p in norm.parameters())
    norm.trainable = True
    assert norm.trainable and all(p.requires_grad for p in norm.parameters())


def _regularized(**keywords):
    torch.manual_seed(0)
    model = zoo.Sequential([zoo.Input((4,)), Dense(3, activation="softmax", **keywords)])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_evaluate_lists_loss_then_metrics_with_regularized_layers():
    x, y = torch.rand(16, 4), torch.randint(0, 3, (16,))
    model = _regularized(kernel_regularizer="l2")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "regularization_loss", "accuracy"]
    # Keras' list: [loss, *metrics]; the penalty is already in loss (it was listed second: [1] read it as accuracy)
    assert model.evaluate(x, y, verbose=0) == [logs["loss"], logs["accuracy"]]
    plain = zoo.Sequential([zoo.Input((4,)), Dense(3, kernel_regularizer="l2")])
    plain.compile("sgd", "mse")
    assert isinstance(plain.evaluate(x, torch.rand(16, 3), verbose=0), float)  # the loss alone, as in Keras


def test_activity_penalties_count_in_evaluate_and_only_for_the_pass_itself():
    x, y = torch.rand(16, 4), torch.rand(16, 3)
    torch.manual_seed(0)
    model = zoo.Sequential([zoo.Input((4,)), Dense(3, activity_regularizer={"name": "l1", "l1": 1.0})])
    model.compile("sgd", "mse")
    # was DataDependentOutputException: the fake-tensor pass that built the model had left its penalty
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    with torch.no_grad():
        out = model(x)
    penalty = out.abs().sum().item() / 16
    assert logs["regularization_loss"] == pytest.approx(penalty, rel=1e-5)  # was 0.0 in evaluate
    assert logs["loss"] == pytest.approx(torch.nn.functional.mse_loss(out, y).item() + penalty, rel=1e-5)
    model.train()
    for _ in range(3):
        model(torch.rand(16, 4) * 100)  # recorded in training mode: stale for the next step
    first = model.train_on_batch(x, y, return_dict=True)
    assert first["regularization_loss"] == pytest.approx(penalty, rel=1e-5)  # this pass's penalty only
