"""TimeDistributed: one inner call per forward, equal to a per-frame loop, masking, frozen backbones."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.layers import Dense, Embedding, TimeDistributed


def _counting(module):
    calls = []
    module.register_forward_hook(lambda m, a, out: calls.append(a[0].shape[0]))
    return calls


def _cnn():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def test_equals_per_frame_loop_and_calls_inner_once():
    torch.manual_seed(0)
    cnn = _cnn()
    calls = _counting(cnn)
    td = TimeDistributed(cnn)
    x = torch.randn(2, 5, 3, 8, 8)
    y = td(x)
    assert calls == [10]
    ref = torch.stack([cnn(x[:, t]) for t in range(5)], 1)
    torch.testing.assert_close(y, ref)
    assert y.shape == (2, 5, 4)


def test_masked_frames_are_not_computed():
    torch.manual_seed(0)
    cnn = _cnn()
    td = TimeDistributed(cnn)
    x = torch.randn(2, 4, 3, 8, 8)
    calls = _counting(cnn)
    y = td(x, lengths=torch.tensor([4, 2]))
    assert calls == [6]
    assert torch.all(y[1, 2:] == 0)
    torch.testing.assert_close(y[1, :2], cnn(x[1, :2]))
    assert torch.equal(y._zoo_mask, torch.tensor([[True] * 4, [True, True, False, False]]))


def test_chunked_calls_give_same_result():
    torch.manual_seed(0)
    cnn = _cnn()
    calls = _counting(cnn)
    x = torch.randn(2, 5, 3, 8, 8)
    torch.testing.assert_close(TimeDistributed(cnn, chunk_size=4)(x), TimeDistributed(cnn)(x))
    assert calls == [4, 4, 2, 10]


def test_frozen_backbone_runs_without_grad_trainable_one_with():
    torch.manual_seed(0)
    cnn = _cnn()
    for p in cnn.parameters():
        p.requires_grad_(False)
    head = Dense(3)
    x = torch.randn(2, 3, 3, 8, 8)
    feats = TimeDistributed(cnn)(x)
    assert not feats.requires_grad and feats.grad_fn is None  # nothing kept for backward
    head(feats).sum().backward()
    assert head.linear.weight.grad is not None
    trainable = _cnn()
    out = TimeDistributed(trainable)(x)
    out.sum().backward()
    assert all(p.grad is not None for p in trainable.parameters())


def test_time_distributed_dense_keeps_embedding_mask_and_checks_rank():
    torch.manual_seed(0)
    ids = torch.tensor([[1, 2, 0], [3, 0, 0]])
    td = TimeDistributed(Dense(4))
    y = td(Embedding(5, 2, mask_zero=True)(ids))
    assert y.shape == (2, 3, 4) and torch.all(y[ids == 0] == 0)
    with pytest.raises(ValueError, match=r"TimeDistributed expects a 3.*\(2, 3\)"):
        td(torch.randn(2, 3))


class _Counting(nn.Module):
    """A small CNN with BatchNorm that records the batch size of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
        self.calls: list[int] = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        return self.net(x)


def test_auto_chunk_measures_once_per_shape_without_side_effects():
    torch.manual_seed(0)
    layer = _Counting().train()
    td = TimeDistributed(layer, chunk_size="auto")
    x = torch.randn(4, 8, 3, 6, 6)
    stats = layer.net[1].running_mean.clone()
    out = td(x)
    (key, chosen), = td.chosen_chunks.items()
    assert key[0] == (32, 3, 6, 6) and chosen in (32, 16, 8)
    assert layer.training and layer.net[1].training  # the measurement ran in eval mode and restored it
    after_first = len(layer.calls)
    assert after_first > 32 // chosen  # it measured
    td(x)
    assert len(layer.calls) - after_first == -(-32 // chosen)  # no second measurement: the chosen chunking
    assert not torch.equal(layer.net[1].running_mean, stats)  # only the real calls updated the statistics
    torch.testing.assert_close(out.shape, torch.Size([4, 8, 4 * 4 * 4]))
    layer.eval()
    torch.testing.assert_close(td(x), TimeDistributed(layer)(x))


def test_auto_chunk_never_measures_while_tracing(monkeypatch):
    from zoo.layers import wrappers

    layer = _Counting().eval()
    td = TimeDistributed(layer, chunk_size="auto")
    monkeypatch.setattr(wrappers, "is_tracing", lambda: True)
    td(torch.randn(2, 16, 3, 6, 6))
    assert layer.calls == [32] and td.chosen_chunks == {}  # one call, nothing timed, nothing recorded
    td.chosen_chunks[((32, 3, 6, 6), torch.device("cpu"), torch.float32)] = 8
    td(torch.randn(2, 16, 3, 6, 6))
    assert layer.calls[1:] == [8, 8, 8, 8]  # a size chosen eagerly is used while tracing


@pytest.mark.parametrize("bad", [0, -3, 2.5, "fast"])
def test_chunk_size_must_be_positive_int_none_or_auto(bad):
    with pytest.raises(ValueError, match="chunk_size must be a positive int, None"):
        TimeDistributed(nn.Identity(), chunk_size=bad)
