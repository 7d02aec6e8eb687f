"""Convolution, pooling and locally-connected layers: Keras padding semantics and direct-loop references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from zoo.layers import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Cropping2D,
    DepthwiseConv2D,
    Embedding,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    LocallyConnected1D,
    LocallyConnected2D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
    SeparableConv2D,
    UpSampling2D,
    ZeroPadding2D,
)


def test_strided_same_padding_puts_the_extra_row_at_the_end():
    # TF: in 4, kernel 3, stride 2 -> out 2, one padding row/column, after the data (bottom/right).
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    conv = Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    conv(x)  # materialise the lazy weight
    with torch.no_grad():
        conv.conv.weight.fill_(1.0)
    y = conv(x)
    a = x[0, 0].numpy()
    padded = np.pad(a, ((0, 1), (0, 1)))
    expected = [[padded[i : i + 3, j : j + 3].sum() for j in (0, 2)] for i in (0, 2)]
    np.testing.assert_array_equal(y[0, 0].detach().numpy(), expected)
    assert Conv2D(2, 3, strides=2, padding="same")(torch.randn(1, 1, 7, 9)).shape == (1, 2, 4, 5)
    assert Conv2D(2, 3, padding="valid")(torch.randn(1, 1, 7, 9)).shape == (1, 2, 5, 7)
    assert Conv2D(2, 4, padding="same", dilation_rate=2)(torch.randn(1, 1, 7, 9)).shape == (1, 2, 7, 9)


def test_conv1d_causal_conv3d_and_depthwise_against_torch():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 10)
    causal = Conv1D(4, 3, padding="causal", dilation_rate=2)
    y = causal(x)
    torch.testing.assert_close(
        y, F.conv1d(F.pad(x, (4, 0)), causal.conv.weight, causal.conv.bias, dilation=2)
    )
    vol = torch.randn(1, 2, 4, 5, 6)
    c3 = Conv3D(2, 3, padding="same")
    torch.testing.assert_close(c3(vol), F.conv3d(vol, c3.conv.weight, c3.conv.bias, padding=1))
    img = torch.randn(2, 3, 8, 8)
    dw = DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    torch.testing.assert_close(dw(img), F.conv2d(img, dw.weight, dw.bias, padding=1, groups=3))
    assert dw.weight.shape == (6, 1, 3, 3)
    sep = SeparableConv2D(5, 3)
    out = sep(img)
    ref = F.conv2d(
        F.conv2d(img, sep.depthwise.weight, None, groups=3),
        sep.pointwise.conv.weight,
        sep.pointwise.conv.bias,
    )
    torch.testing.assert_close(out, ref)


@pytest.mark.parametrize(("size", "kernel", "stride"), [(5, 3, 2), (4, 4, 2), (3, 1, 2), (6, 3, 3)])
def test_conv2d_transpose_same_is_the_gradient_of_conv2d_same(size, kernel, stride):
    torch.manual_seed(0)
    tconv = Conv2DTranspose(2, kernel, strides=stride, padding="same", use_bias=False)
    x = torch.randn(1, 3, size, size)
    y = tconv(x)
    assert y.shape == (1, 2, size * stride, size * stride)
    conv = Conv2D(3, kernel, strides=stride, padding="same", use_bias=False, in_channels=2)
    with torch.no_grad():
        conv.conv.weight.copy_(tconv.weight)  # (in=3, out=2, k, k) is conv's (out=3, in=2, k, k)
    z = torch.zeros(1, 2, size * stride, size * stride, requires_grad=True)
    (grad,) = torch.autograd.grad((conv(z) * x).sum(), z)
    torch.testing.assert_close(y, grad)
    valid = Conv2DTranspose(2, kernel, strides=stride)(x)
    assert valid.shape[-1] == (size - 1) * stride + kernel


def test_pooling_same_padding_semantics():
    x = torch.arange(5.0).reshape(1, 1, 5)
    # in 5, window 2, stride 2 -> 3 windows; the last covers only x[4]: average over real values.
    np.testing.assert_allclose(AveragePooling1D(2, padding="same")(x)[0, 0].numpy(), [0.5, 2.5, 4.0])
    neg = -torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    y = MaxPooling2D(2, padding="same")(neg)  # padding must never win a max of negatives
    np.testing.assert_array_equal(y[0, 0].numpy(), [[-1, -3], [-7, -9]])
    img = torch.randn(2, 3, 7, 7)
    torch.testing.assert_close(AveragePooling2D(3, 2)(img), F.avg_pool2d(img, 3, 2))
    torch.testing.assert_close(
        MaxPooling3D(2)(img[:, :, None].expand(-1, -1, 2, -1, -1)), F.max_pool2d(img, 2)[:, :, None]
    )
    seq = torch.randn(2, 3, 9)
    torch.testing.assert_close(MaxPooling1D(3, 2)(seq), F.max_pool1d(seq, 3, 2))
    torch.testing.assert_close(AveragePooling3D(2)(vol3 := torch.randn(1, 2, 4, 4, 4)), F.avg_pool3d(vol3, 2))
    with pytest.raises(ValueError, match=r"MaxPooling2D.*\(1, 1, 1, 5\)"):
        MaxPooling2D(2)(torch.zeros(1, 1, 1, 5))


def test_global_pooling_and_masked_1d_pooling():
    torch.manual_seed(0)
    img = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(GlobalAveragePooling2D()(img), img.mean((2, 3)))
    torch.testing.assert_close(GlobalMaxPooling2D()(img), img.amax((2, 3)))
    seq = torch.randn(2, 6, 4)  # (N, T, F) from a recurrent layer
    lengths = torch.tensor([6, 2])
    avg = GlobalAveragePooling1D(data_format="channels_last")(seq, lengths=lengths)
    torch.testing.assert_close(avg[1], seq[1, :2].mean(0))
    mx = GlobalMaxPooling1D()(seq.transpose(1, 2), lengths=lengths)  # channels-first (N, F, T)
    torch.testing.assert_close(mx[1], seq[1, :2].amax(0))
    emb = Embedding(9, 4, mask_zero=True)  # the classic Embedding -> GlobalAveragePooling1D model
    ids = torch.tensor([[0, 0, 3, 5], [2, 7, 1, 0]])
    pooled = GlobalAveragePooling1D(data_format="channels_last")(emb(ids))
    torch.testing.assert_close(pooled[0], emb.embedding.weight[[3, 5]].mean(0))
    torch.testing.assert_close(pooled[1], emb.embedding.weight[[2, 7, 1]].mean(0))
    with pytest.raises(ValueError, match="GlobalMaxPooling2D takes no mask"):
        GlobalMaxPooling2D()(img, lengths=lengths)


def test_locally_connected_2d_matches_direct_loop():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5)
    layer = LocallyConnected2D(4, (3, 2), strides=(2, 1))
    y = layer(x)
    oh, ow = 2, 4
    assert y.shape == (2, 4, oh, ow)
    w = layer.weight.detach().reshape(oh, ow, 3, 3, 2, 4)  # (positions, C, kh, kw, filters)
    ref = torch.zeros(2, 4, oh, ow)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, 2 * i : 2 * i + 3, j : j + 2]  # (N, C, kh, kw)
            ref[:, :, i, j] = torch.einsum("nchw,chwf->nf", patch, w[i, j]) + layer.bias[:, i, j]
    torch.testing.assert_close(y, ref)
    with pytest.raises(
        ValueError,
        match=r"LocallyConnected2D\(4\) was built for 3 channels and 8 output positions.*\(2, 3, 8, 5\)",
    ):
        layer(torch.randn(2, 3, 8, 5))
    with pytest.raises(ValueError, match="padding"):
        LocallyConnected2D(4, 3, padding="same")


def test_locally_connected_1d_matches_direct_loop():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7)
    layer = LocallyConnected1D(2, 3, strides=2)
    y = layer(x)
    w = layer.weight.detach().reshape(3, 3, 3, 2)  # (positions, C, k, filters)
    for p in range(3):
        ref = torch.einsum("nck,ckf->nf", x[:, :, 2 * p : 2 * p + 3], w[p]) + layer.bias[:, p]
        torch.testing.assert_close(y[:, :, p], ref)


def test_padding_cropping_upsampling_against_numpy():
    x = torch.arange(2 * 3 * 4.0).reshape(1, 2, 3, 4)
    a = x.numpy()
    np.testing.assert_array_equal(
        ZeroPadding2D(((1, 0), (2, 1)))(x).numpy(), np.pad(a, ((0, 0), (0, 0), (1, 0), (2, 1)))
    )
    np.testing.assert_array_equal(Cropping2D(((1, 0), (1, 2)))(x).numpy(), a[:, :, 1:, 1:2])
    np.testing.assert_array_equal(UpSampling2D((2, 3))(x).numpy(), a.repeat(2, axis=2).repeat(3, axis=3))
    assert UpSampling2D(2, interpolation="bilinear")(x).shape == (1, 2, 6, 8)
    with pytest.raises(ValueError, match=r"Cropping2D.*\(1, 2, 3, 4\)"):
        Cropping2D(((2, 1), (0, 0)))(x)


def test_conv_errors_name_layer_and_shapes():
    conv = Conv2D(4, 3)
    conv(torch.randn(1, 3, 8, 8))
    with pytest.raises(
        ValueError, match=r"Conv2D\(4\) was built for 3 input channels.*\(1, 8, 8, 3\).*channels-first"
    ):
        conv(torch.randn(1, 8, 8, 3))
    with pytest.raises(ValueError, match=r"Conv2D expects a 4-D input.*\(3, 8, 8\)"):
        conv(torch.randn(3, 8, 8))
    with pytest.raises(ValueError, match="Conv2D: padding must be one of"):
        Conv2D(4, 3, padding="causal")
