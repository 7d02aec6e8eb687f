"""Behaviour hooks are isolated like register hooks: a plugin whose ``zoo_download_mirrors`` or
``zoo_model_built`` raises is reported once, naming it, and skipped; downloads and ``zoo.load`` go on."""

from __future__ import annotations

import hashlib

import pytest

import zoo
from zoo.hub import fetch
from zoo.plugins import PluginWarning


class BrokenMirrors:
    def __init__(self):
        self.calls = 0

    @zoo.hookimpl
    def zoo_download_mirrors(self, url, filename, sha256):
        self.calls += 1
        raise RuntimeError("mirror list unavailable")


class GoodMirror:
    def __init__(self, base):
        self.base = base

    @zoo.hookimpl
    def zoo_download_mirrors(self, url, filename, sha256):
        return [f"{self.base}/{filename}"]


def _file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_a_raising_mirror_hook_is_reported_once_and_skipped(
    make_pm, serve, httpserver, tmp_path, monkeypatch
):
    monkeypatch.setattr(httpserver, "no_handler_status_code", 404)  # a missing file, not a server to retry
    one, one_sha = _file(tmp_path, "one.bin", b"first file " * 100)
    two, two_sha = _file(tmp_path, "two.bin", b"second file " * 100)
    serve(one, "/mirror/one.bin")
    serve(two, "/mirror/two.bin")
    broken = BrokenMirrors()
    make_pm({"broken": broken, "good": GoodMirror(httpserver.url_for("/mirror"))})
    missing = httpserver.url_for("/gone")  # the origin has neither file: only the good plugin's mirror has it
    with pytest.warns(PluginWarning) as record:
        assert fetch(f"{missing}/one.bin", sha256=one_sha).read_bytes() == one.read_bytes()
        assert fetch(f"{missing}/two.bin", sha256=two_sha).read_bytes() == two.read_bytes()
    [message] = [str(w.message) for w in record if issubclass(w.category, PluginWarning)]
    assert (
        "'broken'" in message
        and "zoo_download_mirrors raised RuntimeError: mirror list unavailable" in message
    )
    assert broken.calls == 1  # skipped from then on
    assert zoo.plugins.get_plugin_manager().info["broken"].status == "ok"  # its other hooks still work


def test_a_file_url_downloads_with_a_raising_mirror_hook(make_pm, tmp_path):
    path, sha = _file(tmp_path, "local.bin", b"local bytes" * 10)
    make_pm({"broken": BrokenMirrors()})
    with pytest.warns(PluginWarning, match="'broken'.*mirror list unavailable"):
        got = fetch(path.as_uri(), sha256=sha)
    assert got.read_bytes() == path.read_bytes()


def test_a_mirror_hook_returning_no_urls_is_reported(make_pm, tmp_path):
    class Wrong:
        @zoo.hookimpl
        def zoo_download_mirrors(self, url, filename, sha256):
            return 42

    path, sha = _file(tmp_path, "x.bin", b"x" * 50)
    make_pm({"wrong": Wrong()})
    with pytest.warns(PluginWarning, match=r"'wrong'.*returned 42; return a list of URL strings"):
        assert fetch(path.as_uri(), sha256=sha).read_bytes() == path.read_bytes()


class BrokenBuilt:
    def __init__(self):
        self.calls = 0

    @zoo.hookimpl
    def zoo_model_built(self, model, name, options):
        self.calls += 1
        raise ValueError("cannot inspect this model")


class SeesBuilt:
    def __init__(self):
        self.names = []

    @zoo.hookimpl
    def zoo_model_built(self, model, name, options):
        self.names.append(name)


def test_a_raising_model_built_hook_is_reported_once_and_skipped(make_pm):
    pytest.importorskip("torch")
    broken, sees = BrokenBuilt(), SeesBuilt()
    make_pm({"broken": broken, "sees": sees}, builtins=True)
    with pytest.warns(PluginWarning) as record:
        first = zoo.load("mobilenet_v3_small", weights=None)
        second = zoo.load("mobilenet_v3_small", weights=None)
    [message] = [str(w.message) for w in record if issubclass(w.category, PluginWarning)]
    assert "'broken'" in message and "zoo_model_built raised ValueError: cannot inspect this model" in message
    assert first.zoo.name == second.zoo.name == "mobilenet_v3_small"
    assert broken.calls == 1 and sees.names == ["mobilenet_v3_small"] * 2


def test_strict_mode_makes_a_raising_behaviour_hook_an_error(make_pm, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    path, sha = _file(tmp_path, "strict.bin", b"s" * 10)
    make_pm({"broken": BrokenMirrors()})
    with pytest.raises(zoo.PluginError, match="'broken'.*zoo_download_mirrors raised RuntimeError"):
        fetch(path.as_uri(), sha256=sha)
