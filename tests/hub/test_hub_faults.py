"""Real faults: a torch.hub name whose bytes do not match it, md5-only files, and a download killed with
SIGKILL mid-transfer that the next process resumes with Range."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import zoo
from zoo.hub import cached_path, fetch, fetch_spec

from .conftest import payload, sha


def flipped(data: bytes) -> bytes:
    return bytes([data[0] ^ 0xFF]) + data[1:]


def test_torch_hub_name_prefix_is_checked_without_sha256(file_server, home, sleeps):
    data = payload(20_000, seed=40)
    name = f"resnet18-{sha(data)[:8]}.pth"
    bad = file_server.add(f"/bad/{name}", flipped(data))
    with pytest.raises(zoo.IntegrityError, match="read from the file name as torch.hub does") as info:
        fetch(bad)
    assert "name_hash=False" in str(info.value)
    assert list(zoo.hub.Store(home).entries()) == [] and not list((home / "partial").glob("*.tmp"))
    good = file_server.add(f"/good/{name}", data)
    assert fetch(good).read_bytes() == data  # verified by the name's prefix


def test_name_prefix_opt_out_and_names_without_a_hash(file_server, home, sleeps, monkeypatch):
    data = payload(20_000, seed=41)
    name = f"model-{sha(payload(5, seed=1))[:8]}.pth"  # digits that are not this file's hash
    url = file_server.add(f"/{name}", data)
    with pytest.raises(zoo.IntegrityError):
        fetch(url)
    assert fetch(url, name_hash=False).read_bytes() == data
    monkeypatch.setenv("ZOO_NAME_HASH", "0")
    assert cached_path(url) is not None and fetch(url).read_bytes() == data
    monkeypatch.delenv("ZOO_NAME_HASH")
    # short or absent digits are not a hash: data-2024.csv, model-v2.pth
    for plain in ("/data-2024.csv", "/model-v2.pth"):
        assert fetch(file_server.add(plain, data)).read_bytes() == data


def test_an_explicit_sha256_wins_over_the_name(file_server, home, sleeps):
    data = payload(10_000, seed=42)
    url = file_server.add("/net-0000aaaa.pth", data)
    assert fetch(url, sha256=sha(data)).read_bytes() == data


@pytest.mark.parametrize("algorithm", ["md5", "sha1"])
def test_known_hash_with_an_algorithm(file_server, home, sleeps, algorithm):
    import hashlib

    data = payload(30_000, seed=43)
    digest = hashlib.new(algorithm, data).hexdigest()
    bad = file_server.add("/up/table.bin", flipped(data))
    good = file_server.add("/mirror/table.bin", data)
    path = fetch([bad, good], known_hash=f"{algorithm}:{digest}")
    assert path.read_bytes() == data and path.parent.name == sha(data)  # filed under its sha256
    assert f"{algorithm} mismatch" in str(
        pytest.raises(zoo.IntegrityError, fetch, [bad], known_hash=f"{algorithm}:{'0' * len(digest)}").value
    )
    requests = len(file_server.requests)
    assert fetch([bad, good], known_hash=f"{algorithm}:{digest}") == path  # a cache hit by that hash
    assert cached_path(filename="table.bin", known_hash=f"{algorithm}:{digest[:10]}") == path
    assert len(file_server.requests) == requests


def test_spec_with_only_an_md5_uses_the_hub(file_server, home, sleeps):
    import hashlib

    data = payload(9_000, seed=44)
    spec = {"url": file_server.add("/a/x.tar.gz", flipped(data)), "md5": hashlib.md5(data).hexdigest(),
            "mirrors": [file_server.add("/b/x.tar.gz", data)]}  # fmt: skip
    assert fetch_spec(spec).read_bytes() == data
    assert [e.filename for e in zoo.hub.Store(home).entries()] == ["x.tar.gz"]  # the bad copy never entered


@pytest.mark.parametrize(
    "value, message",
    [("md4:" + "0" * 32, "unknown hash algorithm"), ("md5:abc", "not a md5 hex digest"), (b"00", "hex string")],
)
def test_bad_hash_values(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fetch("https://x.example/a.bin", known_hash=value)


def test_sha256_and_known_hash_together_is_an_error():
    with pytest.raises(ValueError, match="once"):
        fetch("https://x.example/a.bin", sha256="0" * 64, known_hash="0" * 64)


CHILD = """
import sys
import zoo.hub
zoo.hub.fetch(sys.argv[1], sha256=sys.argv[2], progress=False)
"""


def test_sigkill_mid_transfer_resumes_with_range_in_the_next_process(file_server, home):
    data = payload(3 << 20, seed=45)
    url = file_server.add("/big.bin", data)
    file_server.plan["/big.bin"] = [("throttle", 64 << 10, 0.05)]  # ~2.5 s for the whole file
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, sha(data)], env=os.environ.copy())
    partial = home / "partial"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tmps = list(partial.glob("*.tmp")) if partial.is_dir() else []
        if tmps and tmps[0].stat().st_size >= 256 << 10:
            break
        time.sleep(0.02)
    else:
        child.kill()
        pytest.fail("the child never wrote 256 KiB")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    (tmp,) = partial.glob("*.tmp")
    offset = tmp.stat().st_size
    assert 0 < offset < len(data)
    sidecar = json.loads(tmp.with_name(tmp.name + ".json").read_text())  # written before the first byte
    assert sidecar["url"] == url and sidecar["pid"] == child.pid and sidecar["etag"]

    path = fetch(url, sha256=sha(data))
    assert sha(path.read_bytes()) == sha(data)
    first, second = file_server.gets("/big.bin")
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={offset}-" and second.headers["If-Range"] == sidecar["etag"]
    assert second.sent == len(data) - offset
    assert list(partial.iterdir()) == []  # adopted, finished, nothing left behind


def test_a_live_owners_temp_file_is_not_adopted(file_server, home, sleeps):
    from zoo.hub.hashes import parse
    from zoo.hub.store import Store, download_key

    data = payload(50_000, seed=46)
    url = file_server.add("/live.bin", data)
    store = Store(home)
    key = download_key("live.bin", parse(sha(data)), url)
    live = store.temp_path(key)  # this very process: alive
    live.write_bytes(data[:20_000])
    live.with_name(live.name + ".json").write_text(json.dumps({"url": url}))
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    (only,) = file_server.gets()
    assert "Range" not in only.headers and live.read_bytes() == data[:20_000]


def test_an_unverified_download_can_be_forgotten_and_a_verified_one_cannot(file_server, home, sleeps):
    from zoo.hub import forget_unverified

    data = payload(5_000, seed=47)
    url = file_server.add("/model.bin", data)
    file_server.plan["/model.bin"] = [("body", b"<html><title>Login</title></html>", {"Content-Type": "text/html"})]
    page = fetch(url)  # no hash: what the server said is stored as is
    assert page.read_bytes().startswith(b"<html>")
    assert forget_unverified(page) == url and not page.exists() and cached_path(url) is None
    assert fetch(url).read_bytes() == data  # asked again, not reused
    assert len(file_server.gets("/model.bin")) == 2
    other = payload(5_000, seed=48)
    verified = fetch(file_server.add("/checked.bin", other), sha256=sha(other))
    assert forget_unverified(verified) is None and verified.exists()


def test_prune_removes_the_record_of_a_dead_process_temp_file(home):
    from zoo.atomic import host_tag
    from zoo.hub import maintenance
    from zoo.hub.store import Store

    store = Store(home)
    store.ensure()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    tmp = store.partial / f"k-x.bin.{host_tag()}.{int(dead.stdout)}.1.tmp"
    tmp.write_bytes(b"123")
    tmp.with_name(tmp.name + ".json").write_text("{}")
    found = {p.name for p, _ in maintenance.prune_candidates(store)}
    assert {tmp.name, tmp.name + ".json"} <= found
