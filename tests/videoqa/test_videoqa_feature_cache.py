"""zoo.utils.FeatureCache: computed once, reused, recomputed when weights, preprocessing or data change."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zoo.utils.feature_cache import FeatureCache


class Counting(nn.Module):
    """A tiny encoder that counts the samples it sees, so a test can tell a hit from a recompute."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        nn.init.constant_(self.linear.weight, scale)
        nn.init.zeros_(self.linear.bias)
        self.register_buffer("mean", torch.zeros(4))
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        return self.linear(x - self.mean)


def data(n=10, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)


def batched(x, size=3):
    return [x[i : i + size] for i in range(0, len(x), size)]


def test_miss_then_hit_memory_mapped(isolated_zoo):
    enc, x = Counting(), data()
    cache = FeatureCache(enc)
    first = cache.features(batched(x), fingerprint="d1", count=10)
    assert (cache.misses, cache.hits, enc.seen) == (1, 0, 10)
    expected = enc.linear(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    calls = []
    second = cache.features(lambda: calls.append(1) or batched(x), fingerprint="d1", count=10)
    assert (cache.hits, enc.seen, calls) == (1, 10, [])  # a hit never starts the data generator
    assert isinstance(second, np.memmap) and not second.flags.writeable
    np.testing.assert_array_equal(first, second)
    files = list((isolated_zoo / "features").glob("*.npy"))  # stored under $ZOO_HOME/features
    assert len(files) == 1 and files[0].with_suffix(".json").is_file()
    # a second cache object (another process, another run) reuses the file
    enc2 = Counting()
    FeatureCache(enc2).features(batched(x), fingerprint="d1", count=10)
    assert enc2.seen == 0


@pytest.mark.parametrize("change", ["weights", "preprocessing", "data", "identity"])
def test_any_change_recomputes(tmp_path, change):
    x = data()
    FeatureCache(Counting(), root=tmp_path, identity={"size": 32}).features(batched(x), fingerprint="d1", count=10)
    enc = Counting()
    identity, fingerprint = {"size": 32}, "d1"
    if change == "weights":
        enc.linear.weight.data[0, 0] += 1e-3
    elif change == "preprocessing":
        enc.mean += 0.5  # a normalisation buffer is part of the encoder's state
    elif change == "data":
        fingerprint = "d2"
    else:
        identity = {"size": 64}
    out = FeatureCache(enc, root=tmp_path, identity=identity).features(batched(x), fingerprint=fingerprint, count=10)
    assert enc.seen == 10 and out.shape == (10, 3)
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_failure_leaves_no_file(tmp_path):
    def exploding():
        yield data(3)
        raise RuntimeError("decoder crashed")

    cache = FeatureCache(Counting(), root=tmp_path)
    with pytest.raises(RuntimeError, match="decoder crashed"):
        cache.features(exploding(), fingerprint="d", count=6)
    with pytest.raises(ValueError, match="count=6 but the batches held 3"):
        cache.features(batched(data(3)), fingerprint="d", count=6)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_truncated_file_is_recomputed(tmp_path):
    enc, x = Counting(), data()
    cache = FeatureCache(enc, root=tmp_path)
    path = cache.path("d")
    cache.features(batched(x), fingerprint="d", count=10)
    path.write_bytes(path.read_bytes()[:100])  # damaged by something outside zoo
    out = cache.features(batched(x), fingerprint="d", count=10)
    assert enc.seen == 20 and out.shape == (10, 3)


def test_encoder_runs_in_inference_mode_and_keeps_its_mode(tmp_path):
    enc = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    enc.train()
    cache = FeatureCache(enc, root=tmp_path, dtype="float16")
    out = cache.features(batched(data()), fingerprint="d", count=10)
    assert out.dtype == np.float16 and enc.training
    np.testing.assert_allclose(out, enc[0](torch.from_numpy(data())).detach().numpy(), atol=2e-2)  # no dropout


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="fingerprint"):
        FeatureCache(Counting(), root=tmp_path).features([], fingerprint="", count=1)
    with pytest.raises(ValueError, match="count >= 1"):
        FeatureCache(Counting(), root=tmp_path).features([], fingerprint="d", count=0)
    with pytest.raises(TypeError, match="plain JSON"):
        FeatureCache(Counting(), identity={"x": object()})


def test_concurrent_callers_compute_once(tmp_path):
    import threading
    import time

    class Slow(Counting):
        def forward(self, x):
            time.sleep(0.05)
            return super().forward(x)

    enc, x = Slow(), data()
    results = []

    def worker():
        cache = FeatureCache(enc, root=tmp_path)
        results.append(cache.features(batched(x), fingerprint="d", count=10))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert enc.seen == 10 and len(results) == 3  # one computed, the others waited on the lock and read it
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_weights_changed_after_first_use_recompute(tmp_path):
    """One cache object, its encoder fine-tuned in place between calls: the old features must not return."""
    enc, x = Counting(), data()
    cache = FeatureCache(enc, root=tmp_path)
    before = np.array(cache.features(batched(x), fingerprint="d1", count=10))
    with torch.no_grad():
        enc.linear.weight.mul_(2.0)
    after = cache.features(batched(x), fingerprint="d1", count=10)
    assert (cache.misses, enc.seen) == (2, 20)
    np.testing.assert_allclose(after, 2.0 * before, rtol=1e-6)


def _change(enc: Counting, how: str) -> None:
    if how == "optimizer step":
        enc.linear.weight.grad = torch.ones_like(enc.linear.weight)
        torch.optim.SGD(enc.parameters(), lr=0.5).step()
    elif how == "load_state_dict":
        enc.load_state_dict({**enc.state_dict(), "mean": torch.ones(4)})
    elif how == "parameter replaced":  # same values, new tensor object: its version counter starts at 0
        enc.linear.bias = nn.Parameter(torch.full((3,), 0.25))
    elif how == "submodule replaced":
        enc.linear = nn.Linear(4, 3)


@pytest.mark.parametrize("how", ["optimizer step", "load_state_dict", "parameter replaced", "submodule replaced"])
def test_hit_skips_the_full_hash_but_notices_changes(tmp_path, monkeypatch, how):
    from zoo.utils import feature_cache

    hashed = []
    real = feature_cache.state_digest
    monkeypatch.setattr(feature_cache, "state_digest", lambda m: hashed.append(1) or real(m))
    enc, x = Counting(), data()
    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(x), fingerprint="d1", count=10)
    cache.features(batched(x), fingerprint="d1", count=10)
    cache.features(batched(x), fingerprint="d1", count=10)
    assert (len(hashed), cache.hits, cache.misses) == (1, 2, 1)  # hits compare versions, not bytes
    _change(enc, how)
    after = cache.features(batched(x), fingerprint="d1", count=10)
    assert (len(hashed), cache.misses) == (2, 2)
    np.testing.assert_allclose(after, enc.linear(torch.from_numpy(x) - enc.mean).detach().numpy(), rtol=1e-6)


def test_running_statistics_count_as_a_change(tmp_path):
    enc = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(x), fingerprint="d1", count=10)
    enc.train()(torch.randn(8, 4))  # a training-mode forward updates running_mean in place
    cache.features(batched(x), fingerprint="d1", count=10)
    assert cache.misses == 2


def test_a_hit_on_an_unchanged_file_maps_it_once_and_a_replaced_file_is_read_again(tmp_path, monkeypatch):
    enc, x = Counting(), data()
    cache = FeatureCache(enc, root=tmp_path)
    first = cache.features(batched(x), fingerprint="d", count=10)
    real_load = np.load
    loads = []
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    for _ in range(3):
        assert cache.features([], fingerprint="d", count=10) is first  # one stat, no new mapping
    assert loads == []
    path = cache.path("d")
    other = tmp_path / "other.npy"
    np.save(other, np.full((10, 3), 7.0, dtype=first.dtype))  # same size, other bytes ...
    other.replace(path)  # ... put in place the way any atomic writer does (a new inode)
    with pytest.warns(UserWarning, match="sha256"):  # read again, and its bytes are not what was written
        again = cache.features(batched(x), fingerprint="d", count=10)
    assert not np.all(again == 7.0) and enc.seen == 20  # recomputed, never served
    np.testing.assert_allclose(again, first)


def test_a_submodule_slot_set_to_none_and_a_nested_change_are_followed(tmp_path):
    enc, x = Counting(), data()
    enc.register_module("spare", None)  # walked over, not into
    holder = nn.Sequential(enc)  # the encoder one level down: its weights still count
    cache = FeatureCache(holder, root=tmp_path)
    cache.features(batched(x), fingerprint="d1", count=10)
    cache.features(batched(x), fingerprint="d1", count=10)
    assert (cache.hits, cache.misses) == (1, 1)
    with torch.no_grad():
        enc.linear.weight.mul_(2.0)
    cache.features(batched(x), fingerprint="d1", count=10)
    assert cache.misses == 2
