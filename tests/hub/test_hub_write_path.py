"""The download write path: hashing on a worker thread, early write-out, and the fsync that stays."""

from __future__ import annotations

import hashlib
import os
import stat
import threading

import pytest

import zoo.hub.store
import zoo.hub.writeback
from zoo.hub import fetch
from zoo.hub.hashes import BackgroundHasher

from .conftest import payload, sha


def test_background_hasher_digests_every_chunk_in_order_even_from_a_reused_buffer():
    chunks = [os.urandom(n) for n in (1, 5000, 1 << 20, 3, 70_000)]
    hasher = BackgroundHasher("md5", depth=2)  # a small queue: the producer has to wait for the worker
    buffer = bytearray()
    for chunk in chunks:
        buffer[:] = chunk
        hasher.update(buffer)  # the caller overwrites this buffer at once
    whole = b"".join(chunks)
    assert hasher.sha256 == hashlib.sha256(whole).hexdigest()
    assert hasher.hexdigest("md5") == hashlib.md5(whole).hexdigest()
    assert not any(t.name == "zoo-hash" and t.is_alive() for t in threading.enumerate()), "worker not ended"
    hasher.update(b"more")  # usable again after a digest was read
    assert hasher.sha256 == hashlib.sha256(whole + b"more").hexdigest()


def test_download_starts_write_out_early_and_still_fsyncs_before_the_cache(file_server, home, monkeypatch):
    data = payload(3_000_000, seed=41)
    url = file_server.add("/big.bin", data)
    starts, fsyncs, events = [], [], []
    monkeypatch.setattr(zoo.hub.writeback, "EVERY", 256 << 10)
    monkeypatch.setattr(zoo.hub.writeback, "_sync_file_range",
                        lambda fd, offset, n, flags: starts.append((os.fstat(fd).st_size, flags)) or 0)  # fmt: skip
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):  # folders are fsynced too (store.fsync_dir)
            fsyncs.append(os.fstat(fd).st_size)
            events.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    real_commit = zoo.hub.store.Store.commit
    monkeypatch.setattr(zoo.hub.store.Store, "commit",
                        lambda self, *a, **k: events.append("commit") or real_commit(self, *a, **k))  # fmt: skip
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    assert len(starts) >= 2 and all(flags == 2 for _, flags in starts)  # SYNC_FILE_RANGE_WRITE
    sizes = [size for size, _ in starts]
    assert sizes == sorted(sizes) and sizes[0] < len(data) // 2  # begun while the file was still growing
    assert fsyncs == [len(data)]  # the whole file, flushed
    assert events == ["fsync", "commit"]  # verified bytes are on disk before their name exists


@pytest.mark.skipif(zoo.hub.writeback._sync_file_range is None, reason="sync_file_range is Linux-only")
def test_the_real_sync_file_range_accepts_the_call(tmp_path):
    back = zoo.hub.writeback.Writeback()
    with open(tmp_path / "f.bin", "wb") as f:
        f.write(b"x" * zoo.hub.writeback.EVERY)
        back.wrote(f, zoo.hub.writeback.EVERY)
        assert back._pending == 0
    assert (tmp_path / "f.bin").stat().st_size == zoo.hub.writeback.EVERY
