"""zoo.atomic: the one atomic writer (old file or whole new one, never half; fsync when asked; no leftovers)."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest

import zoo.plugin
from zoo import atomic

ROOT = Path(__file__).resolve().parents[2]


def test_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with atomic.atomic_open(target) as f:
        f.write(b"new ")
        assert target.read_bytes() == b"old"  # a reader meanwhile sees the old file
        f.write(b"bytes")
    assert target.read_bytes() == b"new bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_failure_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_open(target, "w") as f:
        f.write("half")
        raise RuntimeError("writer died")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(tmp_path / "new.png") as tmp:
        tmp.write_bytes(b"x")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_temp_names_are_private_and_name_their_writer(tmp_path):
    names = []

    def grab():
        names.extend(atomic.temp_sibling(tmp_path / "x.json") for _ in range(50))

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == 200  # no two writers, threads or calls share a temp file
    assert all(n.parent == tmp_path and n.name.startswith(".x.json.") and n.suffix == ".tmp" for n in names)
    # zoo cache prune tells a dead writer's leftovers from a live one's by this name
    assert {atomic.temp_owner(n) for n in names} == {(atomic.host_tag(), os.getpid())}


def test_fsync_reaches_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic.write_bytes_atomic(tmp_path / "a", b"1")
    assert synced == []  # atomic, not durable: no fsync cost unless asked
    atomic.write_bytes_atomic(tmp_path / "a", b"2", fsync=True)
    assert len(synced) == 2
    with atomic.atomic_path(tmp_path / "b", fsync=True) as tmp:
        tmp.write_bytes(b"3")
    assert len(synced) == 4
    if os.path.exists("/proc/self/fd"):
        assert synced[1] == synced[3] == str(tmp_path.resolve())  # the folder's entry, after the rename
        assert re.match(r".*/\.a\..*\.tmp$", synced[0]) and re.match(r".*/\.b\..*\.tmp$", synced[2])


def test_json_text_and_modes(tmp_path):
    atomic.write_json_atomic(tmp_path / "r.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "r.json").read_text() == json.dumps({"a": [1, 2], "b": 1}, indent=1, sort_keys=True)
    atomic.write_json_atomic(tmp_path / "c.json", {"b": 1, "a": 2}, compact=True)
    assert (tmp_path / "c.json").read_text() == '{"b":1,"a":2}'
    atomic.write_text_atomic(tmp_path / "t.txt", "é")
    assert (tmp_path / "t.txt").read_bytes() == "é".encode()
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), atomic.atomic_open(tmp_path / "t.txt", "a"):
        pass
    assert (tmp_path / "t.txt").read_text() == "é"


def test_folder_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "saved"
    target.mkdir()
    (target / "old.txt").write_text("old")

    def broken(folder):
        (folder / "config.json").write_text("{}")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_folder(target, broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"] and (target / "old.txt").exists()
    atomic.atomic_folder(target, lambda folder: (folder / "new.txt").write_text("new"))
    assert [p.name for p in target.iterdir()] == ["new.txt"]  # the old folder's files do not linger
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]


def test_plugins_get_the_same_writer():
    for name in ("atomic_folder", "atomic_open", "atomic_path", "write_json_atomic", "write_text_atomic", "write_bytes_atomic"):
        assert getattr(zoo.plugin, name) is getattr(atomic, name)


# Renames that are not writes of one file: moving a verified download into the cache, parking a partial
# download, publishing an exporter's files next to each other. Everything else writes through zoo.atomic.
_MOVES = {
    "zoo/atomic.py",
    "zoo/hub/store.py",
    "zoo/hub/partial.py",
    "zoo/exporters/pipeline.py",
}


def test_one_atomic_writer_in_zoo_and_plugins():
    offenders = []
    for path in [*ROOT.glob("zoo/**/*.py"), *ROOT.glob("plugins/*/*/**/*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if rel not in _MOVES and re.search(r"os\.replace\(|\.rename\(|mkstemp|os\.fsync\(", text):
            offenders.append(rel)
    assert offenders == [], f"write these through zoo.atomic (zoo.plugin for plugins): {offenders}"


def test_a_file_where_a_folder_should_be_is_said(tmp_path):
    import zoo
    from zoo.atomic import atomic_folder, write_text_atomic

    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(zoo.ZooError, match=r"notes.txt is a file, not a folder"):
        write_text_atomic(tmp_path / "notes.txt" / "sub" / "a.json", "{}")
    with pytest.raises(zoo.ZooError, match=r"notes.txt is a file, not a folder"):
        atomic_folder(tmp_path / "notes.txt" / "model", lambda folder: None)
    with pytest.raises(zoo.ZooError, match=r"notes.txt is a file, not a folder"):
        zoo.export(zoo.load("lenet5"), "torchscript", tmp_path / "notes.txt" / "m.pt", input_shape=(1, 28, 28))
