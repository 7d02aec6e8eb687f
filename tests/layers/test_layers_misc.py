"""Advanced activations, normalization and noise layers against torch/numpy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zoo.layers import (
    ELU,
    AlphaDropout,
    BatchNormalization,
    GaussianDropout,
    GaussianNoise,
    LayerNormalization,
    LeakyReLU,
    PReLU,
    ReLU,
    Softmax,
    ThresholdedReLU,
)


def test_advanced_activations_against_numpy():
    x = torch.linspace(-3, 3, 13)
    a = x.numpy()
    np.testing.assert_allclose(LeakyReLU()(x).numpy(), np.where(a >= 0, a, 0.3 * a), rtol=1e-6)
    np.testing.assert_allclose(
        ELU(0.5)(x).numpy(), np.where(a > 0, a, 0.5 * (np.exp(a) - 1)), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_array_equal(ThresholdedReLU(1.0)(x).numpy(), np.where(a > 1.0, a, 0))
    relu = ReLU(max_value=2.0, negative_slope=0.1, threshold=-1.0)(x).numpy()
    np.testing.assert_allclose(relu, np.minimum(np.where(a >= -1, a, 0.1 * (a + 1)), 2.0), rtol=1e-6)
    m = torch.randn(2, 3, 4)
    e = np.exp(m.numpy() - m.numpy().max(1, keepdims=True))
    np.testing.assert_allclose(Softmax(axis=1)(m).numpy(), e / e.sum(1, keepdims=True), rtol=1e-5)


def test_prelu_per_element_and_shared_axes():
    x = torch.randn(2, 3, 4, 5)
    p = PReLU(alpha_initializer=0.25)
    torch.testing.assert_close(p(x), torch.where(x >= 0, x, 0.25 * x))
    assert p.alpha.shape == (3, 4, 5)
    shared = PReLU(alpha_initializer=0.25, shared_axes=(2, 3))
    ref = nn.PReLU(3, init=0.25)
    torch.testing.assert_close(shared(x), ref(x))
    assert shared.alpha.shape == (3, 1, 1)
    with pytest.raises(ValueError, match=r"PReLU was built for inputs \(batch, 3, 4, 5\).*\(2, 3, 4, 6\)"):
        p(torch.randn(2, 3, 4, 6))


def test_batch_normalization_matches_torch_with_keras_momentum():
    torch.manual_seed(0)
    bn = BatchNormalization()
    ref = nn.BatchNorm2d(3, momentum=0.01, eps=1e-3)
    for _ in range(3):
        x = torch.randn(4, 3, 5, 5) * 3 + 1
        torch.testing.assert_close(bn(x), ref(x))
    torch.testing.assert_close(bn.running_mean, ref.running_mean)
    torch.testing.assert_close(bn.running_var, ref.running_var)
    bn.eval(), ref.eval()
    torch.testing.assert_close(bn(x), ref(x))
    seq = torch.randn(4, 6, 3)  # (N, T, F) with axis=-1
    last = BatchNormalization(axis=-1)
    torch.testing.assert_close(
        last(seq), nn.BatchNorm1d(3, momentum=0.01, eps=1e-3)(seq.transpose(1, 2)).transpose(1, 2)
    )
    with pytest.raises(
        ValueError, match=r"BatchNormalization was built for 3 features on axis 1.*\(4, 5, 5, 5\)"
    ):
        bn(torch.randn(4, 5, 5, 5))


def test_layer_normalization_against_numpy():
    x = torch.randn(2, 3, 4)
    a = x.numpy()
    expected = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(LayerNormalization()(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    both = (a - a.mean((1, 2), keepdims=True)) / np.sqrt(a.var((1, 2), keepdims=True) + 1e-3)
    np.testing.assert_allclose(
        LayerNormalization(axis=(1, 2))(x).detach().numpy(), both, rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match=r"LayerNormalization\(axis=\(1,\)\).*\(2, 3, 4\)"):
        LayerNormalization(axis=1)(x)


def test_noise_layers_train_only_with_right_statistics():
    torch.manual_seed(0)
    x = torch.ones(200, 500)
    for layer in (GaussianNoise(0.5), GaussianDropout(0.2), AlphaDropout(0.2)):
        assert torch.equal(layer.eval()(x), x)
    noisy = GaussianNoise(0.5).train()(x)
    assert abs(noisy.mean().item() - 1) < 0.01 and abs(noisy.std().item() - 0.5) < 0.01
    gd = GaussianDropout(0.2).train()(x)
    assert abs(gd.mean().item() - 1) < 0.01 and abs(gd.std().item() - 0.5) < 0.01  # sqrt(.2/.8) = .5
    z = torch.randn(200, 500)
    ad = AlphaDropout(0.2).train()(torch.selu(z))
    assert abs(ad.mean().item()) < 0.05 and abs(ad.std().item() - 1) < 0.05
    with pytest.raises(ValueError, match="GaussianDropout: rate"):
        GaussianDropout(1.5)


def test_lazy_layers_load_state_dict_before_first_call():
    from zoo.layers import Conv2D, Conv2DTranspose, Dense, DepthwiseConv2D, Flatten, LocallyConnected2D

    def make():
        return nn.Sequential(
            Conv2D(4, 3), BatchNormalization(), PReLU(), DepthwiseConv2D(3),
            Conv2DTranspose(2, 3, strides=2, padding="same"), LocallyConnected2D(2, 3), Flatten(), Dense(5),
        )  # fmt: skip

    torch.manual_seed(0)
    trained, x = make(), torch.randn(2, 3, 12, 12)
    trained(x)
    fresh = make()
    fresh.load_state_dict(trained.state_dict())
    trained.eval(), fresh.eval()
    torch.testing.assert_close(fresh(x), trained(x))
