"""fetch against a real local HTTP server: cache hits, verification, resume, retries, failover."""

from __future__ import annotations

import pytest

import zoo
from zoo.hub import fetch

from .conftest import payload, sha


def test_fetch_downloads_verifies_and_caches(file_server, home):
    data = payload(200_000)
    url = file_server.add("/models/net-abc.pth", data)
    path = fetch(url, sha256=sha(data), size=len(data))
    assert path.read_bytes() == data
    assert path.name == "net-abc.pth"
    assert path.parent.name == sha(data)
    assert (home / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert fetch(url, sha256=sha(data)) == path  # second call: cache hit, no request
    assert len(file_server.gets()) == 1
    assert not list((home / "partial").iterdir())


def test_sha256_prefix_is_verified_as_prefix(file_server):
    data = payload(5000, seed=1)
    url = file_server.add(f"/resnet-{sha(data)[:8]}.pth", data)
    assert fetch(url, sha256=sha(data)[:8]).read_bytes() == data
    with pytest.raises(ValueError, match="at least 8"):
        fetch(url, sha256=sha(data)[:7])


def test_bad_hash_never_enters_the_cache(file_server, home):
    data = payload(3000, seed=2)
    url = file_server.add("/x.bin", data)
    with pytest.raises(zoo.IntegrityError) as info:
        fetch(url, sha256="0" * 64)
    message = str(info.value)
    assert url in message and "0" * 64 in message and sha(data) in message
    assert "upstream may have changed" in message
    assert not any(p.is_file() for p in (home / "blobs").rglob("*"))
    assert not list((home / "partial").iterdir())
