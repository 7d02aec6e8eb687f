"""FeatureCache never serves features another encoder made (a swapped activation, a changed setting, a
damaged file), and its misuses are zoo errors that say what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.utils import feature_cache
from zoo.utils.feature_cache import FeatureCache


def data(n: int = 10) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32))


def batched(x, size: int = 3):
    return [x[i : i + size] for i in range(0, len(x), size)]


def expected(enc: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return enc(x).numpy()


@pytest.fixture
def enc():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())


# -- the key covers the structure -------------------------------------------------------------------------
def test_a_replaced_activation_is_not_served_the_old_features(enc, tmp_path):
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    relu = np.array(cache.features(batched(x), fingerprint="d", count=10))
    enc[1] = nn.Tanh()
    tanh = cache.features(batched(x), fingerprint="d", count=10)
    assert (cache.hits, cache.misses) == (0, 2)
    np.testing.assert_allclose(tanh, expected(enc, x), rtol=1e-6)
    assert not np.allclose(tanh, relu)
    fresh = FeatureCache(enc, root=tmp_path)  # another run: the ReLU file must not match the Tanh encoder
    np.testing.assert_allclose(fresh.features(batched(x), fingerprint="d", count=10), expected(enc, x), rtol=1e-6)
    assert fresh.hits == 1  # ... it finds the Tanh one
    enc[1] = nn.ReLU()  # back to what the first file was made with: a hit on it again
    back = FeatureCache(enc, root=tmp_path)
    np.testing.assert_array_equal(back.features([], fingerprint="d", count=10), relu)


@pytest.mark.parametrize("fresh_cache", [False, True])
def test_a_changed_setting_is_part_of_the_key(tmp_path, fresh_cache):
    torch.manual_seed(0)
    enc, x = nn.Sequential(nn.Linear(4, 3), nn.LeakyReLU(0.01)), data()
    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(x), fingerprint="d", count=10)
    enc[1].negative_slope = 0.5  # no tensor changes: the state dict is the same
    if fresh_cache:
        cache = FeatureCache(enc, root=tmp_path)
    out = cache.features(batched(x), fingerprint="d", count=10)
    assert cache.misses == (1 if fresh_cache else 2)
    np.testing.assert_allclose(out, expected(enc, x), rtol=1e-6)


def test_hits_do_not_rehash_the_structure_until_something_moves(enc, tmp_path, monkeypatch):
    hashed = []
    real = feature_cache.structure_digest
    monkeypatch.setattr(feature_cache, "structure_digest", lambda m: hashed.append(1) or real(m))
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    for _ in range(4):
        cache.features(batched(x), fingerprint="d", count=10)
    enc.eval()
    enc.train()  # back to the flag it had: nothing moved
    cache.features(batched(x), fingerprint="d", count=10)
    assert (len(hashed), cache.hits) == (1, 4)
    enc[1].note = "not a setting"  # an attribute added: hashed again, the same key, still a hit
    cache.features(batched(x), fingerprint="d", count=10)
    assert (len(hashed), cache.hits) == (2, 5)
    enc.append(nn.Sigmoid())  # a submodule added
    cache.features(batched(x), fingerprint="d", count=10)
    assert (len(hashed), cache.misses) == (3, 2)


def test_two_replacements_between_calls_are_seen(enc, tmp_path):
    """Each pair of replacements between two calls is seen (the memo holds what it compared: no id of it is reused)."""
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(x), fingerprint="d", count=10)
    for _ in range(50):
        enc[1] = nn.Tanh()
        enc[1] = nn.Sigmoid()
        out = cache.features(batched(x), fingerprint="d", count=10)
        np.testing.assert_allclose(out, expected(enc, x), rtol=1e-6)


def test_a_forward_hook_is_part_of_the_key(enc, tmp_path):
    class Scale:
        def __init__(self, k: float) -> None:
            self.k = k

        def __call__(self, module, args, output):
            return output * self.k

    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    plain = np.array(cache.features(batched(x), fingerprint="d", count=10))
    handle = enc.register_forward_hook(Scale(2.0))
    doubled = cache.features(batched(x), fingerprint="d", count=10)
    np.testing.assert_allclose(doubled, 2 * plain, rtol=1e-6)
    handle.remove()
    enc.register_forward_hook(Scale(3.0))  # the same hook class, another setting: a fresh cache sees it
    tripled = FeatureCache(enc, root=tmp_path).features(batched(x), fingerprint="d", count=10)
    np.testing.assert_allclose(tripled, 3 * plain, rtol=1e-6)


def test_a_zoo_application_still_hits(tmp_path):
    """zoo.load's input-size pre-hook is an object with an address-only repr: summarised, not refused."""
    enc = zoo.load("toy_cnn", weights=None, include_top=False, pooling="avg")
    x = torch.randn(4, 3, 32, 32)
    cache = FeatureCache(enc, root=tmp_path)
    cache.features([x], fingerprint="d", count=4)
    again = FeatureCache(enc, root=tmp_path)
    again.features([x], fingerprint="d", count=4)
    assert (cache.misses, again.hits) == (1, 1)


def test_a_broken_extra_repr_is_a_zoo_error(tmp_path):
    class Broken(nn.Module):
        def extra_repr(self):
            raise RuntimeError("oops")

        def forward(self, x):
            return x

    with pytest.raises(zoo.ArgumentError, match=r"submodule '1' \(Broken\).*extra_repr\(\) raised RuntimeError: oops"):
        FeatureCache(nn.Sequential(nn.Linear(4, 3), Broken()), root=tmp_path).features(
            batched(data()), fingerprint="d", count=10
        )


# -- what the encoder returns ---------------------------------------------------------------------------
class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        y = self.linear(x)
        return y, y.sum(1)


def test_an_encoder_with_two_outputs_is_told_to_return_one(tmp_path):
    with pytest.raises(zoo.DataError, match=r"one tensor per batch.*batch 0 it returned a tuple of 2 \(a tensor \(3, 3\), a tensor \(3,\)\)"):
        FeatureCache(Pair(), root=tmp_path).features(batched(data()), fingerprint="d", count=10)

    class First(nn.Module):  # what the message asks for
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, x):
            return self.encoder(x)[0]

    pair = Pair()
    out = FeatureCache(First(pair), root=tmp_path).features(batched(data()), fingerprint="d", count=10)
    np.testing.assert_allclose(out, expected(pair.linear, data()), rtol=1e-6)


def test_an_output_without_one_row_per_sample_is_refused(tmp_path):
    class Pooled(nn.Module):
        def forward(self, x):
            return x.mean(0)  # (4,) for a batch of 3: pooled over the batch

    with pytest.raises(zoo.DataError, match=r"output of shape \(4,\) for batch 0 of 3 samples.*one row per sample"):
        FeatureCache(Pooled(), root=tmp_path).features(batched(data()), fingerprint="d", count=10)


def test_outputs_of_varying_shapes_name_both_and_the_batch(tmp_path):
    clips = [torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.randn(2, 7, 4)]  # (B, T, F): 7 frames, not 5
    cache = FeatureCache(nn.Linear(4, 3), root=tmp_path)
    with pytest.raises(zoo.DataError, match=r"shape \(2, 7, 3\) for batch 2 \(samples 4-5\) but \(2, 5, 3\) for batch 0"):
        cache.features(clips, fingerprint="d", count=6)
    assert list(tmp_path.glob("*.npy")) == []


# -- arguments ------------------------------------------------------------------------------------------
def test_batches_that_are_not_batches(enc, tmp_path):
    cache = FeatureCache(enc, root=tmp_path)
    with pytest.raises(zoo.ArgumentError, match=r"iterable of input batches.*got an int\."):
        cache.features(5, fingerprint="d", count=10)
    with pytest.raises(zoo.ArgumentError, match=r"got a Tensor of shape \(10, 4\)\. For one batch pass \[x\]"):
        cache.features(data(), fingerprint="d", count=10)
    with pytest.raises(zoo.ArgumentError, match="the function given as batches returned an int"):
        cache.features(lambda: 5, fingerprint="d", count=10)
    cache.features(batched(data()), fingerprint="d", count=10)
    with pytest.raises(zoo.ArgumentError, match="got an int"):  # refused on a hit too, not hidden by it
        cache.features(5, fingerprint="d", count=10)
    cache.features(iter(batched(data())), fingerprint="d", count=10)  # an iterator is fine


@pytest.mark.parametrize("option", ["channels_last", "progress"])
def test_flags_take_bools_only(enc, option):
    with pytest.raises(zoo.OptionError, match=rf"FeatureCache: {option} must be True or False, got 'no'.*truthy"):
        FeatureCache(enc, **{option: "no"})
    assert getattr(FeatureCache(enc, **{option: False}), option) is False
    assert getattr(FeatureCache(enc, **{option: 1}), option) is True
    assert FeatureCache(enc).progress is None  # the default: a bar on a terminal only


# -- the file's integrity -------------------------------------------------------------------------------
def _overwrite_first_value(path, value: float = float("nan")) -> None:
    """A byte-level edit in place (same inode, same size), as a disk fault or a stray tool makes."""
    array = np.load(path, mmap_mode="r")
    offset = path.stat().st_size - array.nbytes
    del array
    before = path.stat().st_mtime_ns
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(np.asarray(value, dtype=np.float32).tobytes())
    # a later write has a later time; within one clock tick the kernel may keep the old one
    os.utime(path, ns=(before + 10**9, before + 10**9))


@pytest.mark.parametrize("same_cache", [True, False])
def test_a_damaged_file_is_computed_again(enc, tmp_path, same_cache):
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(x), fingerprint="d", count=10)
    path = cache.path("d")
    _overwrite_first_value(path)
    if not same_cache:
        cache = FeatureCache(enc, root=tmp_path)
    with pytest.warns(UserWarning, match="does not have the sha256 recorded.*computing its features again"):
        out = cache.features(batched(x), fingerprint="d", count=10)
    assert np.isfinite(out).all() and cache.misses == (2 if same_cache else 1)
    np.testing.assert_allclose(out, expected(enc, x), rtol=1e-6)


def test_the_record_has_size_and_sha256_and_a_file_without_one_is_computed_again(enc, tmp_path):
    from zoo.hub.hashes import hash_file

    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(data()), fingerprint="d", count=10)
    path = cache.path("d")
    record = json.loads(path.with_suffix(".json").read_text())
    assert (record["size"], record["sha256"]) == (path.stat().st_size, hash_file(path))
    path.with_suffix(".json").unlink()
    feature_cache._CHECKED.clear()  # as in a new process
    with pytest.warns(UserWarning, match=r"no record of its size and sha256"):
        FeatureCache(enc, root=tmp_path).features(batched(data()), fingerprint="d", count=10)
    assert path.with_suffix(".json").is_file()


def test_a_file_is_hashed_once_per_process_not_per_hit(enc, tmp_path, monkeypatch):
    from zoo.hub import hashes

    cache = FeatureCache(enc, root=tmp_path)
    cache.features(batched(data()), fingerprint="d", count=10)  # writes and hashes it once
    hashed = []
    real = hashes.hash_file
    monkeypatch.setattr(hashes, "hash_file", lambda p, *a: hashed.append(p) or real(p, *a))
    for _ in range(3):
        cache.features([], fingerprint="d", count=10)
        FeatureCache(enc, root=tmp_path).features([], fingerprint="d", count=10)  # written here: known good
    assert hashed == []
    feature_cache._CHECKED.clear()  # a new process
    for _ in range(3):
        FeatureCache(enc, root=tmp_path).features([], fingerprint="d", count=10)
    assert hashed == [cache.path("d")]


def test_an_edit_that_keeps_the_time_is_seen_by_the_next_process(enc, tmp_path):
    """The documented limit: within a process, a file is re-hashed only when its inode, size or time moves."""
    x = data()
    cache = FeatureCache(enc, root=tmp_path)
    good = np.array(cache.features(batched(x), fingerprint="d", count=10))
    path = cache.path("d")
    stat = path.stat()
    _overwrite_first_value(path, 1234.0)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the old time put back
    assert FeatureCache(enc, root=tmp_path).features([], fingerprint="d", count=10)[0, 0] == 1234.0
    script = (
        "import sys, warnings, torch, numpy as np\n"
        "from zoo.utils.feature_cache import FeatureCache\n"
        "enc = torch.load(sys.argv[1], weights_only=False)\n"
        "x = torch.from_numpy(np.load(sys.argv[2]))\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    out = FeatureCache(enc, root=sys.argv[3]).features([x], fingerprint='d', count=10)\n"
        "print(float(out[0, 0]), any('sha256' in str(m.message) for m in w))\n"
    )
    torch.save(enc, tmp_path / "enc.pt")
    np.save(tmp_path / "x.npy", x.numpy())
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "enc.pt"), str(tmp_path / "x.npy"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first, warned = done.stdout.split()
    assert float(first) == pytest.approx(float(good[0, 0])) and warned == "True"
