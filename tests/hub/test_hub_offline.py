"""Offline mode opens no socket; torch's hub cache is reused; progress bars and local imports."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

import zoo
from zoo.hub import add_file, cached_path, fetch

from .conftest import payload, sha


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    return attempts


def test_offline_miss_explains_what_to_do(no_network, home):
    digest = sha(b"weights")
    with pytest.raises(zoo.OfflineError) as info:
        fetch("https://download.example.org/models/net-1234abcd.pth", sha256=digest, entry="net")
    message = str(info.value)
    assert "net-1234abcd.pth" in message
    assert str(home / "blobs" / digest / "net-1234abcd.pth") in message
    assert "zoo download net" in message
    assert f"zoo cache add /path/to/net-1234abcd.pth --sha256 {digest}" in message
    assert no_network == []
    with pytest.raises(zoo.OfflineError, match="zoo cache add https://download.example.org/models/x.pth"):
        fetch("https://download.example.org/models/x.pth")
    assert no_network == []


def test_offline_hit_and_file_mirror_need_no_network(file_server, home, tmp_path, monkeypatch):
    data = payload(5000, seed=40)
    url = file_server.add("/o.bin", data)
    cached = fetch(url, sha256=sha(data))
    (tmp_path / "m.bin").write_bytes(data)

    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, a: attempts.append(a) or 1 / 0)
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert fetch(url, sha256=sha(data)) == cached
    monkeypatch.setenv("ZOO_MIRRORS", tmp_path.as_uri())
    assert fetch("https://example.org/m.bin", sha256=sha(data)[:10]).read_bytes() == data
    assert attempts == []


def test_torch_hub_checkpoint_is_reused_not_downloaded(file_server, home):
    data = payload(20_000, seed=41)
    name = f"resnet-{sha(data)[:8]}.pth"
    hub = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / name).write_bytes(data)
    url = file_server.url(f"/models/{name}")  # the server does not even have it
    path = fetch(url, sha256=sha(data)[:8])
    assert path.read_bytes() == data and path.parent.name == sha(data)
    assert path.stat().st_ino == (hub / name).stat().st_ino  # linked, not copied: no extra disk space
    assert file_server.gets() == []


def test_torch_hub_file_with_wrong_hash_is_ignored(file_server, home):
    data = payload(20_000, seed=42)
    name = f"vgg-{sha(data)[:8]}.pth"
    hub = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / name).write_bytes(b"corrupt" + data[7:])
    url = file_server.add(f"/models/{name}", data)
    assert fetch(url, sha256=sha(data)[:8]).read_bytes() == data
    assert len(file_server.gets()) == 1


def test_torch_home_default_follows_xdg(monkeypatch, tmp_path):
    from zoo.hub.config import torch_hub_checkpoints

    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert torch_hub_checkpoints() == tmp_path / "torch" / "hub" / "checkpoints"


def test_progress_bar_total_and_resumed_offset(file_server, monkeypatch, sleeps):
    import zoo.hub.transfer

    bars = []
    real = zoo.hub.transfer._progress_bar
    monkeypatch.setattr(zoo.hub.transfer, "_progress_bar", lambda **kw: bars.append(kw) or real(**kw))
    data = payload(200_000, seed=43)
    url = file_server.add("/p.bin", data)
    file_server.plan["/p.bin"] = [("drop", 80_000)]
    fetch(url, sha256=sha(data), progress=True)
    assert [(b["total"], b["initial"], b["show"]) for b in bars] == [(200_000, 0, True), (200_000, 80_000, True)]

    bars.clear()
    url2 = file_server.add("/q.bin", data[:1000])
    fetch(url2)  # not a terminal under pytest: quiet by default
    monkeypatch.setenv("ZOO_QUIET", "1")
    url3 = file_server.add("/r.bin", data[:2000])
    fetch(url3, progress=True)  # ZOO_QUIET wins
    assert [b["show"] for b in bars] == [False, False]


def test_add_file_and_cached_path(tmp_path, home):
    data = payload(3000, seed=44)
    src = tmp_path / "copied-by-hand.bin"
    src.write_bytes(data)
    with pytest.raises(zoo.IntegrityError, match="not added"):
        add_file(src, sha256="f" * 64)
    assert not (home / "blobs").exists() or not any((home / "blobs").iterdir())
    path = add_file(src, sha256=sha(data)[:12])
    assert path.read_bytes() == data and src.exists()
    assert path.stat().st_ino != src.stat().st_ino  # a copy: editing the original cannot touch the cache
    assert cached_path(filename="copied-by-hand.bin", sha256=sha(data)[:8]) == path
    assert cached_path("https://x.example/copied-by-hand.bin", sha256=sha(data)) == path
    assert cached_path(filename="copied-by-hand.bin", sha256="0" * 8) is None
    # the same bytes under another name share the blob
    other = cached_path(filename="alias.bin", sha256=sha(data))
    assert other is not None and other.parent == path.parent and other.read_bytes() == data
    again = add_file(src, sha256=sha(data), filename="third.bin")  # importing known bytes stores no copy
    assert again.stat().st_ino == path.stat().st_ino == other.stat().st_ino


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="sha256"):
        fetch("https://x.example/a.bin", sha256="xyz12345")
    with pytest.raises(ValueError, match="file name"):
        fetch("https://x.example/")
    with pytest.raises(ValueError, match="filename"):
        fetch("https://x.example/a.bin", filename="../escape.bin")
    with pytest.raises(ValueError, match="URL"):
        fetch([])
    with pytest.raises(ValueError, match="only http"):
        fetch("ftp://x.example/a.bin")


def test_environment_is_read_at_call_time_and_checked(monkeypatch, tmp_path):
    import platformdirs

    from zoo.hub import cache_dir
    from zoo.hub.config import Settings

    monkeypatch.delenv("ZOO_HOME")
    assert cache_dir() == Path(platformdirs.user_cache_dir("zoo"))
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
    monkeypatch.setenv("ZOO_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("ZOO_READ_TIMEOUT", "7")
    monkeypatch.setenv("ZOO_MAX_RETRIES", "0")
    settings = Settings.from_env()
    assert (settings.connect_timeout, settings.read_timeout, settings.max_retries) == (2.5, 7.0, 0)
    monkeypatch.setenv("ZOO_READ_TIMEOUT", "soon")
    with pytest.raises(zoo.ZooError, match="ZOO_READ_TIMEOUT='soon'"):
        fetch("https://x.example/a.bin")
    for nonsense in ("0", "nan", "inf"):  # a timeout that cannot wait: named, not a socket's raw error
        monkeypatch.setenv("ZOO_READ_TIMEOUT", nonsense)
        with pytest.raises(zoo.ZooError, match=f"ZOO_READ_TIMEOUT='{nonsense}' must be a number of seconds > 0"):
            fetch("https://x.example/a.bin")
    monkeypatch.setenv("ZOO_READ_TIMEOUT", "7")
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "a_file"))
    for use in (  # every read of the cache: fetch, listing and add were bare NotADirectoryErrors
        lambda: zoo.hub.add_file(tmp_path / "a_file", sha256=None),
        lambda: fetch((tmp_path / "a_file").as_uri()),
        lambda: zoo.hub.cache_dir(),
    ):
        with pytest.raises(zoo.ZooError, match="ZOO_HOME=.*a_file is a file, not a folder; set ZOO_HOME to a folder"):
            use()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "a_file" / "sub"))
    with pytest.raises(zoo.ZooError, match="cache folder .*a_file/sub cannot be used.*set ZOO_HOME to a writable folder"):
        zoo.hub.add_file(tmp_path / "a_file", sha256=None)
    for urls in (None, 3, {"https://x.example/a.bin"}):
        with pytest.raises(zoo.OptionError, match="expected a URL or a list of URLs"):
            fetch(urls)  # None was a bare TypeError
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ZOO_OFFLINE", "maybe")
    with pytest.raises(zoo.ZooError, match="ZOO_OFFLINE"):
        fetch("https://x.example/a.bin")
    assert zoo.hub.cache_dir() == tmp_path / "elsewhere"  # only ZOO_HOME: the timm plugin failed for it
