"""Baking masks into plain weights, the sparse encoding and the size report."""

import pytest
import torch
from torch import nn
from zoo_surgery import sparse
from zoo_surgery.finish import bake, report
from zoo_surgery.layers import MaskedConv2d, MaskedLinear, masked_layers
from zoo_surgery.models import lenet5, lenet_300_100

import zoo


def _prune_randomly(model, keep, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _, layer in masked_layers(model):
        for _, param, mask in layer.masked_pairs():
            mask.copy_((torch.rand(param.shape, generator=g) < keep).to(mask.dtype))
    return model


def test_baked_model_gives_the_masked_outputs_and_a_standard_state_dict():
    torch.manual_seed(0)
    masked = _prune_randomly(lenet5(masked=True, input_shape=(1, 16, 16)), keep=0.1)
    x = torch.randn(4, 1, 16, 16)
    expected = masked(x)
    baked = bake(masked)
    assert not any(True for _ in masked_layers(baked))
    assert isinstance(masked.conv1, MaskedConv2d)  # the original is left as it was
    torch.testing.assert_close(baked(x), expected, rtol=0, atol=0)
    state = baked.state_dict()
    dense = lenet5(input_shape=(1, 16, 16))
    assert set(state) == set(dense.state_dict())  # no *_mask keys: loads into the plain architecture
    dense.load_state_dict(state)
    torch.testing.assert_close(dense(x), expected, rtol=0, atol=0)
    # Pruned entries are exact zeros.
    assert torch.equal(state["fc1.weight"] == 0, (masked.fc1.weight_mask == 0) | (masked.fc1.weight == 0))


def test_bake_in_place_and_a_lone_layer():
    layer = MaskedLinear(3, 2)
    layer.weight_mask[0] = 0
    plain = bake(layer)
    assert type(plain) is nn.Linear and torch.equal(plain.weight[0], torch.zeros(3))
    model = nn.Sequential(MaskedLinear(3, 2))
    assert bake(model, inplace=True) is model and type(model[0]) is nn.Linear


def test_report_counts_parameters_with_biases():
    torch.manual_seed(0)
    model = lenet_300_100(masked=True)
    assert report(model).params == 266_610 and report(model).compression == pytest.approx(1.0)
    model.fc1.weight_mask.zero_()
    model.fc1.bias_mask[:100] = 0
    rep = report(model)
    fc1, fc2, fc3 = rep.layers
    assert (fc1.name, fc1.params, fc1.nonzero) == ("fc1", 784 * 300 + 300, 200)
    assert fc2.kept == 1.0
    assert rep.nonzero == 200 + 300 * 100 + 100 + 100 * 10 + 10
    assert rep.compression == pytest.approx(266_610 / rep.nonzero)
    assert rep.dense_bytes == 266_610 * 4
    assert rep.sparse_bytes == len(sparse.encode(bake(model).state_dict()))
    assert "fc1" in rep.table() and "compression" in rep.table()


def test_sparse_encoding_is_much_smaller_than_dense_at_high_sparsity():
    model = _prune_randomly(lenet_300_100(masked=True), keep=0.02)
    rep = report(model)
    # ~2% kept: values (4 B) + about one index byte each, far below the dense floats.
    assert rep.sparse_bytes < rep.dense_bytes / 15
    assert rep.byte_compression > 15


@pytest.mark.parametrize("density", [0.0, 0.001, 0.02, 0.3, 1.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64, torch.int64])
def test_sparse_round_trip(density, dtype):
    g = torch.Generator().manual_seed(1)
    values = torch.randn(70, 90, generator=g) * 10
    t = torch.where(torch.rand(70, 90, generator=g) < density, values, torch.zeros(()))
    t = t.to(dtype)
    state = {"w": t, "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 4), "count": torch.tensor(7)}
    out = sparse.decode(sparse.encode(state))
    assert list(out) == list(state)
    for key, tensor in state.items():
        assert out[key].dtype == tensor.dtype and out[key].shape == tensor.shape
        assert torch.equal(out[key], tensor)


def test_sparse_layout_choice_and_long_gaps():
    t = torch.zeros(100_000)
    t[[0, 5, 70_000, 99_999]] = torch.tensor([1.0, -2.0, 3.0, 4.0])  # gaps far over 256: fillers
    data = sparse.encode({"t": t})
    assert torch.equal(sparse.decode(data)["t"], t)
    # 4 values but ~390 fillers (relative) beat a 12.5 kB bitmap and 400 kB dense.
    assert len(data) < 3000
    dense = torch.randn(50, 50)
    assert len(sparse.encode({"d": dense})) < dense.numel() * 4 + 200  # dense layout, no index overhead


def test_sparse_rejects_damaged_files(tmp_path):
    data = sparse.encode({"w": torch.randn(10, 10)})
    with pytest.raises(ValueError, match="magic") as info:
        sparse.decode(b"PK" + data[2:])
    assert isinstance(info.value, zoo.DataError)  # the plugin reports it through zoo's public errors
    with pytest.raises(ValueError, match="truncated"):
        sparse.decode(data[:-5])
    with pytest.raises(ValueError, match="trailing"):
        sparse.decode(data + b"\0")
    with pytest.raises(zoo.ArgumentError, match="not a tensor"):
        sparse.encode({"w": [1.0]})
    path = tmp_path / "model.zspr"
    size = sparse.save({"w": torch.ones(3)}, path)
    assert size == path.stat().st_size and list(tmp_path.iterdir()) == [path]
    assert torch.equal(sparse.load(path)["w"], torch.ones(3))
