"""Core and merge layers against torch functional / numpy references, and their error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import zoo
from zoo.layers import (
    Activation,
    Add,
    Average,
    Concatenate,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    Lambda,
    Masking,
    Maximum,
    Minimum,
    Multiply,
    Permute,
    RepeatVector,
    Reshape,
    Subtract,
    concatenate,
    dot,
)


def test_dense_matches_linear_with_activation_and_infers_input_size():
    torch.manual_seed(0)
    layer = Dense(5, activation=torch.tanh)
    x = torch.randn(3, 4, 7)
    y = layer(x)
    torch.testing.assert_close(y, torch.tanh(F.linear(x, layer.linear.weight, layer.linear.bias)))
    assert layer.linear.weight.shape == (5, 7) and y.shape == (3, 4, 5)
    assert Dense(2, input_dim=3).linear.weight.shape == (2, 3)
    with pytest.raises(ValueError, match=r"Dense\(5\) was built for 7 input features.*\(3, 6\)"):
        layer(torch.randn(3, 6))


def test_activation_by_registered_name():
    @zoo.hookimpl
    def zoo_register_activations(register):
        register("my_relu6", torch.nn.ReLU6)  # a module class is instantiated once
        register("twice", lambda t: 2 * t)  # a function is used as it is

    class Plugin:
        pass

    plugin = Plugin()
    plugin.zoo_register_activations = zoo_register_activations
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.register(plugin, name="test-acts")
    zoo.plugins.use(pm)
    x = torch.linspace(-10, 10, 11)
    torch.testing.assert_close(Activation("my-relu6")(x), F.relu6(x))
    torch.testing.assert_close(Activation("twice")(x), 2 * x)
    assert Dense(3, activation="linear").activation is None
    with pytest.raises(zoo.UnknownNameError, match="activations"):
        Activation("no_such_activation_xyz")


def test_dropout_train_eval_and_noise_shape():
    torch.manual_seed(0)
    d = Dropout(0.5)
    x = torch.ones(4, 1000)
    y = d(x)
    assert set(y.unique().tolist()) <= {0.0, 2.0} and 0.4 < (y == 0).float().mean() < 0.6
    assert torch.equal(d.eval()(x), x)
    shared = Dropout(0.5, noise_shape=(None, 1, 6)).train()(torch.ones(3, 5, 6))
    assert torch.equal(shared, shared[:, :1].expand_as(shared))  # same pattern along axis 1


def test_shape_layers_against_numpy():
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    a = x.numpy()
    np.testing.assert_array_equal(Flatten()(x).numpy(), a.reshape(2, 12))
    np.testing.assert_array_equal(Reshape((4, -1))(x).numpy(), a.reshape(2, 4, 3))
    np.testing.assert_array_equal(Permute((2, 1))(x).numpy(), a.transpose(0, 2, 1))
    np.testing.assert_array_equal(RepeatVector(3)(x[:, 0]).numpy(), np.repeat(a[:, None, 0], 3, axis=1))
    np.testing.assert_array_equal(Lambda(lambda t: t * 2)(x).numpy(), a * 2)
    with pytest.raises(ValueError, match=r"Reshape\(5, 5\).*\(2, 3, 4\)"):
        Reshape((5, 5))(x)
    with pytest.raises(ValueError, match=r"RepeatVector expects a 2-D input.*\(2, 3, 4\)"):
        RepeatVector(2)(x)


def test_masking_and_embedding():
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    x[0, 1, 0] = 0.0
    y = Masking(0.0)(x + torch.tensor([0.0, 0.0]))
    assert torch.equal(y._zoo_mask, torch.tensor([[True, False, True]]))
    torch.testing.assert_close(y, x)  # masked steps are zero, others untouched
    masked = Masking(-1.0)(torch.tensor([[[-1.0, -1.0], [-1.0, 2.0]]]))
    assert torch.equal(masked, torch.tensor([[[0.0, 0.0], [-1.0, 2.0]]]))
    emb = Embedding(6, 3, mask_zero=True)
    ids = torch.tensor([[4, 0, 2]])
    out = emb(ids)
    torch.testing.assert_close(out, emb.embedding.weight[ids])
    assert torch.equal(out._zoo_mask, ids != 0)
    with pytest.raises(ValueError, match=r"Embedding\(6, 3\).*\[0, 6\).*\[2, 9\]"):
        emb(torch.tensor([[2, 9]]))
    with pytest.raises(TypeError, match="Embedding expects integer ids.*float32"):
        emb(torch.zeros(1, 2))


def test_elementwise_merges_against_numpy():
    torch.manual_seed(0)
    xs = [torch.randn(2, 3) for _ in range(3)]
    a = [x.numpy() for x in xs]
    np.testing.assert_allclose(Add()(xs).numpy(), a[0] + a[1] + a[2], rtol=1e-6)
    np.testing.assert_allclose(Subtract()(xs[0], xs[1]).numpy(), a[0] - a[1])
    np.testing.assert_allclose(Multiply()(*xs).numpy(), a[0] * a[1] * a[2], rtol=1e-6)
    np.testing.assert_allclose(Average()(xs).numpy(), (a[0] + a[1] + a[2]) / 3, rtol=1e-6)
    np.testing.assert_array_equal(Maximum()(xs).numpy(), np.maximum.reduce(a))
    np.testing.assert_array_equal(Minimum()(xs).numpy(), np.minimum.reduce(a))
    np.testing.assert_array_equal(concatenate(xs[:2]).numpy(), np.concatenate(a[:2], -1))
    np.testing.assert_array_equal(Concatenate(axis=0)(xs).numpy(), np.concatenate(a, 0))


def test_dot_against_numpy():
    torch.manual_seed(0)
    x, y = torch.randn(4, 5), torch.randn(4, 5)
    np.testing.assert_allclose(
        dot([x, y], axes=1).numpy(), (x.numpy() * y.numpy()).sum(1, keepdims=True), rtol=1e-5
    )
    xn, yn = x.numpy(), y.numpy()
    cos = (xn * yn).sum(1) / np.linalg.norm(xn, axis=1) / np.linalg.norm(yn, axis=1)
    np.testing.assert_allclose(Dot(1, normalize=True)([x, y]).numpy()[:, 0], cos, rtol=1e-5)
    a, b = torch.randn(2, 3, 4), torch.randn(2, 4, 5)
    np.testing.assert_allclose(
        Dot((2, 1))(a, b).numpy(), np.einsum("nak,nkb->nab", a.numpy(), b.numpy()), rtol=1e-5
    )
    np.testing.assert_allclose(
        Dot((1, 1))(a, a).numpy(), np.einsum("nka,nkb->nab", a.numpy(), a.numpy()), rtol=1e-5
    )


def test_merge_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Concatenate\(axis=-1\).*\(2, 3\), \(4, 5\)"):
        Concatenate()([torch.zeros(2, 3), torch.zeros(4, 5)])
    with pytest.raises(ValueError, match=r"Concatenate.*same rank.*\(2, 3\), \(2, 3, 1\)"):
        Concatenate()([torch.zeros(2, 3), torch.zeros(2, 3, 1)])
    with pytest.raises(ValueError, match=r"Add: inputs must have the same shape.*\(2, 3\), \(2, 4\)"):
        Add()(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"Subtract takes exactly 2 inputs"):
        Subtract()([torch.zeros(1)] * 3)
    with pytest.raises(ValueError, match=r"Dot\(axes=\(1, 1\)\).*\(2, 3\), \(2, 4\)"):
        Dot(1)(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="Maximum needs at least 2 inputs"):
        Maximum()([torch.zeros(2)])


def test_registered_under_keras_names():
    assert isinstance(zoo.get("layers", "dense", 3), Dense)
    for spelling in ("max_pooling2d", "MaxPool2D", "maxpooling2d"):
        assert type(zoo.get("layers", spelling, 2)).__name__ == "MaxPooling2D"
    assert type(zoo.get("layers", "conv2d", 4, 3)).__name__ == "Conv2D"
    assert zoo.info("LSTM", kind="layers")["category"] == "recurrent"
    assert "TimeDistributed" in zoo.list("layers", category="wrappers")
