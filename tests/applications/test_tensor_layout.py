"""The tensor layout recorded beside a cached weights file: later loads cut the tensors out of one
memory map instead of unpickling, and give exactly what ``torch.load`` gives."""

from __future__ import annotations

import collections
import hashlib
import json
import os

import pytest
import torch

import zoo
from zoo import hub
from zoo.applications import tensor_layout
from zoo.applications.loading import load_state_dict
from zoo.hub import maintenance


def _state() -> collections.OrderedDict:
    """Every kind of tensor a state dict holds: floats, int64 counters, fp16, a non-contiguous view,
    two names sharing one storage, a 0-d tensor; plus the per-module ``_metadata`` torch.save keeps."""
    torch.manual_seed(0)
    base = torch.randn(6, 4)
    state = collections.OrderedDict(
        [
            ("conv.weight", torch.randn(8, 3, 3, 3)),
            ("bn.num_batches_tracked", torch.tensor(7)),
            ("half", torch.randn(5).half()),
            ("transposed", base.t()),
            ("tied.a", base),
            ("tied.b", base[2:]),
            ("scalar", torch.tensor(3.5)),
        ]
    )
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    return state


def _cached(tmp_path, state, name="net.pth"):
    source = tmp_path / name
    torch.save(state, source)
    return hub.add_file(source, sha256=hashlib.sha256(source.read_bytes()).hexdigest())


def _same(got, want):
    assert list(got) == list(want)
    for key, tensor in want.items():
        assert got[key].dtype == tensor.dtype and got[key].shape == tensor.shape, key
        assert got[key].stride() == tensor.stride() and torch.equal(got[key], tensor), key
    assert got._metadata == want._metadata


def test_warm_load_cuts_tensors_from_the_record_without_unpickling(tmp_path, monkeypatch):
    path = _cached(tmp_path, _state())
    first = load_state_dict(path)
    record = tensor_layout.record_path(path)
    assert record.is_file()
    _same(first, _state())

    def no_unpickling(*args, **kwargs):
        raise AssertionError("torch.load ran although the file has a tensor record")

    monkeypatch.setattr(torch, "load", no_unpickling)
    warm = load_state_dict(path)
    _same(warm, _state())
    assert warm["tied.a"].untyped_storage().data_ptr() == warm["tied.b"].untyped_storage().data_ptr()


def test_recorded_tensors_are_copy_on_write(tmp_path):
    path = _cached(tmp_path, _state())
    load_state_dict(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    warm = load_state_dict(path)
    warm["conv.weight"].zero_()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert torch.equal(load_state_dict(path)["conv.weight"], _state()["conv.weight"])


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: "not json",
        lambda r: json.dumps({**r, "size": r["size"] + 1}),  # another file's record
        lambda r: json.dumps({**r, "format": 999}),
        lambda r: json.dumps({**r, "tensors": {k: [v[0], v[1], v[2], v[3], 10**9, v[5]] for k, v in r["tensors"].items()}}),
        lambda r: json.dumps({**r, "tensors": {k: ["__class__", *v[1:]] for k, v in r["tensors"].items()}}),
        lambda r: json.dumps({**r, "tensors": {k: ["qint8", *v[1:]] for k, v in r["tensors"].items()}}),
        lambda r: json.dumps({**r, "tensors": {k: [*v[:4], -64, v[5]] for k, v in r["tensors"].items()}}),
        lambda r: json.dumps({**r, "tensors": {k: [*v[:5], v[5] + 10**6] for k, v in r["tensors"].items()}}),
        lambda r: json.dumps({**r, "metadata": ["not", "a", "dict"]}),
        lambda r: json.dumps({**r, "mtime_ns": r["mtime_ns"] + 1}),  # the file changed since
    ],
    ids=["garbage", "wrong-size", "future-format", "out-of-bounds", "not-a-dtype", "quantized", "negative-start",
         "past-the-end", "bad-metadata", "newer-file"],  # fmt: skip
)
def test_a_damaged_record_is_ignored_and_rewritten(tmp_path, damage):
    path = _cached(tmp_path, _state())
    load_state_dict(path)
    record = tensor_layout.record_path(path)
    good = json.loads(record.read_text())
    record.write_text(damage(good))
    _same(load_state_dict(path), _state())
    assert json.loads(record.read_text()) == good


def _legacy_data_start(path) -> int:
    """Where torch's pre-1.6 format puts the first storage: after its five pickles."""
    import pickletools

    with open(path, "rb") as f:
        for _ in range(5):
            for _op in pickletools.genops(f):
                pass
        return f.tell() + 8  # an int64 element count comes first


def _legacy_cached(tmp_path, aligned: bool):
    """A file in torch's old format (like torchvision's VGG weights) whose float32 data starts 4-byte aligned,
    or not: the pickle's length decides, so a key of the right length is picked."""
    torch.manual_seed(1)
    for pad in range(8):
        state = collections.OrderedDict([("w" * (pad + 1), torch.randn(4, 6)), ("b", torch.randn(6))])
        state._metadata = collections.OrderedDict([("", {"version": 1})])
        source = tmp_path / f"legacy{pad}.pth"
        torch.save(state, source, _use_new_zipfile_serialization=False)
        if (_legacy_data_start(source) % 4 == 0) == aligned:
            return hub.add_file(source, sha256=hashlib.sha256(source.read_bytes()).hexdigest()), state
    raise AssertionError("no key length gave the alignment wanted")


def test_legacy_format_file_is_mapped_from_its_record_once_read(tmp_path, monkeypatch):
    path, state = _legacy_cached(tmp_path, aligned=True)
    with pytest.raises(RuntimeError, match="mmap"):
        torch.load(path, weights_only=True, mmap=True)  # torch itself cannot map this format
    _same(load_state_dict(path), state)
    assert tensor_layout.record_path(path).is_file()
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load ran despite the record"))
    _same(load_state_dict(path), state)


def test_legacy_format_storages_at_odd_addresses_are_mapped_from_an_aligned_copy(tmp_path, monkeypatch):
    """Mapping float32 data at an odd address would hand kernels misaligned pointers: the first load writes
    the storages once more, aligned, beside the file, and warm loads map that copy (no copy in memory)."""
    path, state = _legacy_cached(tmp_path, aligned=False)
    load_state_dict(path)
    copy = tensor_layout.aligned_path(path)
    record = json.loads(tensor_layout.record_path(path).read_text())
    assert copy.is_file() and record["aligned"]["size"] == copy.stat().st_size
    assert all(fields[4] % tensor_layout.ALIGN == 0 for fields in record["tensors"].values())
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load ran despite the record"))
    monkeypatch.setattr(torch.UntypedStorage, "clone", lambda *a: pytest.fail("copied although aligned on disk"))
    warm = load_state_dict(path)
    _same(warm, state)
    assert all(t.data_ptr() % tensor_layout.ALIGN == 0 for t in warm.values())
    warm["w" * len(next(iter(state)))].zero_()  # private mapping: the copy on disk keeps its bytes
    _same(load_state_dict(path), state)


def test_a_changed_aligned_copy_is_not_trusted(tmp_path):
    path, state = _legacy_cached(tmp_path, aligned=False)
    load_state_dict(path)
    copy = tensor_layout.aligned_path(path)
    before = copy.stat()
    copy.write_bytes(b"\0" * before.st_size)  # same size, other bytes ...
    os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # ... and (surely) another mtime
    _same(load_state_dict(path), state)  # read the ordinary way again ...
    record = json.loads(tensor_layout.record_path(path).read_text())
    assert record["aligned"]["mtime_ns"] == copy.stat().st_mtime_ns  # ... and both rewritten
    _same(load_state_dict(path), state)


def test_without_room_for_the_aligned_copy_odd_storages_are_copied_in_memory(tmp_path, monkeypatch):
    path, state = _legacy_cached(tmp_path, aligned=False)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tensor_layout, "atomic_open", full)
    load_state_dict(path)
    assert "aligned" not in json.loads(tensor_layout.record_path(path).read_text())
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load ran despite the record"))
    warm = load_state_dict(path)
    _same(warm, state)
    assert all(t.data_ptr() % t.element_size() == 0 for t in warm.values())


def test_removing_a_legacy_name_removes_its_aligned_copy(tmp_path):
    path, _ = _legacy_cached(tmp_path, aligned=False)
    load_state_dict(path)
    store = hub.Store(hub.cache_dir())
    assert [p for p, _ in maintenance.prune_candidates(store) if "aligned" in p.name] == []  # kept meanwhile
    store.remove(next(e for e in store.entries() if e.filename == path.name))
    assert not tensor_layout.aligned_path(path).exists()


def test_no_record_beside_a_file_outside_the_cache(tmp_path):
    path = tmp_path / "mine.pth"
    torch.save(_state(), path)
    _same(load_state_dict(path), _state())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.pth"]


def test_a_checkpoint_with_more_tensors_than_the_state_dict_gets_no_record(tmp_path):
    """The flat state dict is part of the file: the layout cannot be matched record by record, so none."""
    checkpoint = {"state_dict": _state(), "optimizer": {"momentum": torch.ones(3)}}
    path = _cached(tmp_path, checkpoint, "ckpt.pth")
    assert list(load_state_dict(path)) == list(_state())
    assert not tensor_layout.record_path(path).exists()


def test_removing_a_name_removes_its_records_only(tmp_path):
    path = _cached(tmp_path, _state())
    twin = hub.add_file(path, filename="net.pth.bin")  # same bytes, a second name that extends the first
    for name in (path, twin):
        load_state_dict(name)
    store = hub.Store(hub.cache_dir())
    store.remove(next(e for e in store.entries() if e.filename == "net.pth"))
    assert not tensor_layout.record_path(path).exists() and not path.with_name(".net.pth.json").exists()
    assert tensor_layout.record_path(twin).is_file() and twin.with_name(".net.pth.bin.json").is_file()
    assert twin.is_file()


def test_a_read_only_cache_loads_without_recording(tmp_path, monkeypatch):
    path = _cached(tmp_path, _state())
    monkeypatch.setattr(tensor_layout, "_describe", lambda *a: pytest.fail("described a file it cannot record"))
    monkeypatch.setattr(tensor_layout.os, "access", lambda *a: False)
    _same(load_state_dict(path), _state())
    assert not tensor_layout.record_path(path).exists()


def test_views_a_record_cannot_express_get_no_record(tmp_path):
    """A conjugate view reads its bytes differently from a plain tensor: such a file keeps torch.load."""
    state = {"z": torch.randn(3, dtype=torch.complex64).conj(), "w": torch.randn(2)}
    path = _cached(tmp_path, state, "conj.pth")
    got = load_state_dict(path)
    assert got["z"].is_conj() and torch.equal(got["z"].resolve_conj(), state["z"].resolve_conj())
    assert not tensor_layout.record_path(path).exists()


def test_zoo_load_twice_gives_torchvision_outputs(weights_files, serve):
    """End to end: the second load (from the record) computes what torchvision's model computes."""
    wf = weights_files["resnet50"]
    url = serve(wf.path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        want = wf.reference(x)
        for _ in range(2):
            model = zoo.load("resnet50", weights=url, sha256=wf.sha256).eval()
            torch.testing.assert_close(model(x), want, rtol=0, atol=0)
    assert [p.name for p in hub.cache_dir().glob("blobs/*/*.tensors.json")] == ["..resnet50-test.pth.tensors.json"]
