"""Parked partial downloads: 416, stale bytes, a changed file upstream, a full disk."""

from __future__ import annotations

import errno
import json

import pytest

from zoo.hub import fetch
from zoo.hub.hashes import parse
from zoo.hub.store import download_key

from .conftest import payload, sha


def park(home, url, filename, digest, data: bytes, **meta):
    partial = home / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    key = download_key(filename, parse(digest), url)
    (partial / f"{key}.part").write_bytes(data)
    (partial / f"{key}.part.json").write_text(json.dumps({"url": url, "offset": len(data), **meta}))
    return partial / f"{key}.part"


def test_416_when_the_parked_part_is_already_whole(file_server, home, sleeps):
    data = payload(40_000, seed=20)
    url = file_server.add("/whole.bin", data)
    park(home, url, "whole.bin", sha(data), data)
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    (only,) = file_server.gets()
    assert only.headers["Range"] == "bytes=40000-" and only.sent == 0  # answered 416, nothing re-sent


def test_416_when_the_file_upstream_shrank(file_server, home, sleeps):
    data = payload(30_000, seed=21)
    url = file_server.add("/shrunk.bin", data)
    park(home, url, "shrunk.bin", sha(data), payload(50_000, seed=99))
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    first, second = file_server.gets()
    assert first.headers["Range"] == "bytes=50000-" and "Range" not in second.headers


def test_if_range_sends_the_stored_etag_and_a_changed_file_restarts(file_server, home, sleeps):
    data = payload(60_000, seed=22)
    url = file_server.add("/changed.bin", data)
    stale = park(home, url, "changed.bin", sha(data), payload(20_000, seed=23), etag='"old-version"')
    assert stale.exists()
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    (only,) = file_server.gets()
    # the server's ETag differs from the stored one, so it ignored the Range and sent everything
    assert only.headers["If-Range"] == '"old-version"' and only.sent == len(data)


def test_stale_bytes_without_validators_are_caught_by_the_hash_and_refetched(file_server, home, sleeps):
    data = payload(60_000, seed=24)
    url = file_server.add("/stale.bin", data)
    park(home, url, "stale.bin", sha(data), payload(20_000, seed=25))  # wrong bytes, no ETag
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    first, second = file_server.gets()
    assert first.headers["Range"] == "bytes=20000-" and "If-Range" not in first.headers
    assert "Range" not in second.headers and second.sent == len(data)


def test_disk_full_leaves_no_partial_file(file_server, home, monkeypatch):
    import zoo.hub.partial

    data = payload(300_000, seed=26)
    url = file_server.add("/full.bin", data)
    writes = []

    def write(file, chunk):
        if writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        writes.append(len(chunk))
        file.write(chunk)

    monkeypatch.setattr(zoo.hub.partial, "_write", write)
    with pytest.raises(zoo.DownloadError, match="no space left") as info:
        fetch(url, sha256=sha(data))
    assert "ZOO_HOME" in str(info.value)
    assert writes  # some bytes were written before the disk filled
    leftovers = [
        p for p in home.rglob("*") if p.is_file() and p.parent.name != "locks" and p.name != "CACHEDIR.TAG"
    ]
    assert leftovers == []
    assert len(file_server.gets()) == 1  # no pointless failover or retry on a full disk
