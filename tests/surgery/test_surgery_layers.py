"""Masked layers: forward with W*T, straight-through gradient, in-place conversion of any model."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from zoo_surgery.layers import MaskedConv2d, MaskedLinear, masked_layers, to_masked

import zoo


def _random_masks(layer, keep=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    layer.weight_mask.copy_((torch.rand(layer.weight.shape, generator=g) < keep).float())
    if layer.bias is not None:
        layer.bias_mask.copy_((torch.rand(layer.bias.shape, generator=g) < keep).float())


def test_masks_are_buffers_with_the_documented_names():
    layer = MaskedLinear(4, 3)
    assert set(dict(layer.named_buffers())) == {"weight_mask", "bias_mask"}
    assert set(layer.state_dict()) == {"weight", "bias", "weight_mask", "bias_mask"}
    assert torch.equal(layer.weight_mask, torch.ones(3, 4))
    no_bias = MaskedConv2d(2, 5, 3, bias=False)
    assert no_bias.bias_mask is None
    assert set(no_bias.state_dict()) == {"weight", "weight_mask"}


def test_constructor_arguments_match_torch():
    conv = MaskedConv2d(
        4, 8, (3, 5), stride=2, padding=1, dilation=1, groups=2, bias=True, padding_mode="reflect"
    )
    ref = nn.Conv2d(
        4, 8, (3, 5), stride=2, padding=1, dilation=1, groups=2, bias=True, padding_mode="reflect"
    )
    ref.load_state_dict({k: v for k, v in conv.state_dict().items() if "mask" not in k})
    x = torch.randn(2, 4, 9, 9)
    torch.testing.assert_close(conv(x), ref(x))
    lin = MaskedLinear(in_features=5, out_features=2, bias=False, dtype=torch.float64)
    assert lin.weight.dtype == torch.float64 and lin.weight_mask.dtype == torch.float64


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_forward_uses_masked_weights_and_gradient_reaches_pruned_ones(kind):
    torch.manual_seed(0)
    if kind == "linear":
        layer, x = MaskedLinear(6, 4), torch.randn(5, 6, requires_grad=True)
        dense = lambda inp, w, b: F.linear(inp, w, b)  # noqa: E731
    else:
        layer, x = MaskedConv2d(3, 4, 3, padding=1), torch.randn(2, 3, 6, 6, requires_grad=True)
        dense = lambda inp, w, b: F.conv2d(inp, w, b, padding=1)  # noqa: E731
    _random_masks(layer)
    assert (layer.weight_mask == 0).any() and (layer.bias_mask == 0).any()

    # Reference: the same computation with the masked tensors as leaves, i.e. dL/d(W*T).
    w_t = (layer.weight * layer.weight_mask).detach().requires_grad_()
    b_t = (layer.bias * layer.bias_mask).detach().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    target = torch.randn_like(dense(x_ref, w_t, b_t))
    F.mse_loss(dense(x_ref, w_t, b_t), target).backward()

    out = layer(x)
    torch.testing.assert_close(out, dense(x_ref, w_t, b_t))
    F.mse_loss(out, target).backward()
    # Straight-through: W gets dL/d(W*T) unmasked, so pruned entries get a real (non-zero) gradient.
    torch.testing.assert_close(layer.weight.grad, w_t.grad)
    torch.testing.assert_close(layer.bias.grad, b_t.grad)
    pruned = layer.weight_mask == 0
    assert layer.weight.grad[pruned].abs().sum() > 0
    assert layer.bias.grad[layer.bias_mask == 0].abs().sum() > 0
    # ... while the input gradient flows through the masked weights only.
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_sgd_moves_pruned_weights():
    torch.manual_seed(0)
    layer = MaskedLinear(8, 3)
    _random_masks(layer, keep=0.3)
    before = layer.weight.detach().clone()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(16, 8)).pow(2).mean().backward()
        opt.step()
    pruned = layer.weight_mask == 0
    assert (layer.weight.detach()[pruned] != before[pruned]).all()


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, bias=False))
        self.attn = nn.MultiheadAttention(4, 1, batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = self.features(x).flatten(2).transpose(1, 2)
        x, _ = self.attn(x, x, x)
        return self.head(x.mean(1))


def test_to_masked_converts_in_place_and_keeps_parameters():
    torch.manual_seed(0)
    net = _Net()
    x = torch.randn(2, 1, 8, 8)
    expected = net(x)
    params = {name: p for name, p in net.named_parameters()}
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    assert to_masked(net) is net
    names = [name for name, _ in masked_layers(net)]
    # The attention's out_proj (an nn.Linear subclass read directly, never via forward) is left alone.
    assert names == ["features.0", "features.2", "head"]
    assert isinstance(net.features[0], MaskedConv2d) and isinstance(net.head, MaskedLinear)
    assert net.features[2].bias_mask is None
    torch.testing.assert_close(net(x), expected)
    # Same Parameter objects: the optimizer built before the conversion still trains the model.
    assert all(p is params[name] for name, p in net.named_parameters())
    net.head.weight_mask.zero_()
    net(x).sum().backward()
    before = net.head.weight.detach().clone()
    opt.step()
    assert not torch.equal(net.head.weight.detach(), before)
    assert to_masked(net) is net and [n for n, _ in masked_layers(net)] == names  # idempotent


def test_a_layer_used_twice_stays_shared():
    shared = nn.Linear(3, 3)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    to_masked(net)
    assert net[0] is net[2] and isinstance(net[0], MaskedLinear)
    from zoo_surgery import bake

    baked = bake(net)
    assert baked[0] is baked[2] and type(baked[0]) is nn.Linear


def test_to_masked_include_exclude_and_errors():
    net = to_masked(_Net(), include=["features.*"], exclude=["features.2"])
    assert [name for name, _ in masked_layers(net)] == ["features.0"]
    with pytest.raises(TypeError, match="nn.Module"):
        to_masked("model")
    with pytest.raises(ValueError, match="lone layer"):
        to_masked(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="lazy"):
        to_masked(nn.Sequential(nn.LazyLinear(3)))


def test_conversion_keeps_device_dtype_and_train_mode():
    net = nn.Sequential(nn.Linear(3, 2).double()).eval()
    to_masked(net)
    assert net[0].weight_mask.dtype == torch.float64 and not net[0].training


def test_layers_are_registered():
    layer = zoo.get("layers", "MaskedLinear", 4, 2)
    assert isinstance(layer, MaskedLinear)
    assert isinstance(zoo.get("layers", "masked_conv2d", 1, 2, 3), MaskedConv2d)
