"""``zoo cache ...`` and ``zoo download``: output and exit codes."""

from __future__ import annotations

import json
import os

import pytest

import zoo
import zoo.plugins
from zoo.atomic import host_tag
from zoo.cli import main
from zoo.hub import fetch

from .conftest import payload, sha


@pytest.fixture(autouse=True)
def hub_only():
    """A plugin manager with only the hub's built-in plugin: these tests are about its commands."""
    import zoo.hub.plugin

    pm = zoo.plugins.create_plugin_manager(builtins=False, entrypoints=False)
    pm.add_plugin(zoo.hub.plugin, "hub", builtin=True)
    zoo.plugins.use(pm)
    return pm


def cached(file_server, name: str, seed: int) -> tuple[bytes, object]:
    data = payload(4000 + seed, seed=seed)
    return data, fetch(file_server.add(f"/{name}", data), sha256=sha(data))


def test_cache_dir_and_list(file_server, home, capsys):
    assert main(["cache", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(home)
    assert main(["cache", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    data, _ = cached(file_server, "alpha.pth", 1)
    cached(file_server, "beta.npz", 2)
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert "alpha.pth" in out and "beta.npz" in out and sha(data)[:12] in out and "2 file(s)" in out
    assert main(["cache", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["filename"]: r["sha256"] for r in rows}["alpha.pth"] == sha(data)
    assert rows[0]["url"].startswith(file_server.base)


def test_cache_verify_detects_damage_and_fix_removes_it(file_server, capsys):
    _, good = cached(file_server, "good.bin", 3)
    _, bad = cached(file_server, "bad.bin", 4)
    assert main(["cache", "verify"]) == 0
    assert "2 checked, 0 damaged" in capsys.readouterr().out
    os.chmod(bad, 0o644)
    bad.write_bytes(b"bit rot")
    assert main(["cache", "verify"]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED  bad.bin" in out and "ok       good.bin" in out
    assert main(["cache", "verify", "good.bin"]) == 0
    capsys.readouterr()
    assert main(["cache", "verify", "--fix"]) == 0  # everything damaged was fixed
    assert "all removed" in capsys.readouterr().out
    assert not bad.exists() and good.exists()
    assert main(["cache", "verify"]) == 0


def test_cache_remove_by_name_and_hash(file_server, home, capsys):
    data, path = cached(file_server, "gone.bin", 5)
    _, keep = cached(file_server, "kept.bin", 6)
    assert main(["cache", "remove", "gone.bin"]) == 0
    assert "removed gone.bin" in capsys.readouterr().out
    assert not path.exists() and not path.parent.exists() and keep.exists()
    assert main(["cache", "remove", "gone.bin"]) == 1
    assert "no cached file named 'gone.bin'" in capsys.readouterr().err
    assert main(["cache", "remove", sha(keep.read_bytes())[:10]]) == 0
    assert not keep.exists()


def test_cache_prune(file_server, home, capsys):
    _, keep = cached(file_server, "keep.bin", 7)
    partial = home / "partial"
    (partial / "abc-x.bin.part").write_bytes(b"123")
    (partial / "abc-x.bin.part.json").write_text("{}")
    import subprocess
    import sys

    # a pid that is surely gone: a child's, after it exited
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(child.stdout)
    stale = partial / f"abc-x.bin.{host_tag()}.{dead}.1.tmp"
    stale.write_bytes(b"half")
    live = partial / f"abc-y.bin.{host_tag()}.{os.getpid()}.1.tmp"
    live.write_bytes(b"being written")
    (home / "blobs" / ("e" * 64)).mkdir()
    (keep.parent / ".missing.bin.json").write_text("{}")
    (keep.parent / "..missing.bin.tensors.json").write_text("{}")  # derived facts of a name that is gone
    derived = keep.parent / "..keep.bin.tensors.json"  # ... and of one still there: kept
    derived.write_text("{}")

    assert main(["cache", "prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "would remove partial/abc-x.bin.part " in out and "7 item(s)" in out.splitlines()[-1]
    )  # + the unused lock file
    assert (partial / "abc-x.bin.part").exists()
    assert main(["cache", "prune"]) == 0
    out = capsys.readouterr().out
    assert not (partial / "abc-x.bin.part").exists() and not stale.exists()
    assert live.exists()  # its process (this one) is alive
    assert not (home / "blobs" / ("e" * 64)).exists() and not (keep.parent / ".missing.bin.json").exists()
    assert not (keep.parent / "..missing.bin.tensors.json").exists() and derived.exists()
    assert keep.exists() and main(["cache", "verify"]) == 0


def test_cache_add_url_and_local_file(file_server, tmp_path, capsys):
    data = payload(2500, seed=8)
    url = file_server.add("/added.bin", data)
    assert main(["cache", "add", url, "--sha256", sha(data)[:8]]) == 0
    assert capsys.readouterr().out.strip().endswith("added.bin")
    local = tmp_path / "hand.bin"
    local.write_bytes(data)
    assert main(["cache", "add", str(local), "--sha256", "0" * 8]) == 1
    assert "not added" in capsys.readouterr().err
    assert main(["cache", "add", str(local), "--sha256", sha(data)]) == 0
    assert main(["cache", "add", str(tmp_path / "nope.bin")]) == 1
    assert main(["cache", "add", str(local), "--sha256", "xyz"]) == 1  # a usage error naming the flag typed
    err = capsys.readouterr().err
    assert "argument --sha256/--hash: 'xyz' is not a sha256 hex digest" in err
    assert "known_hash" not in err and "Traceback" not in err
    for name in ("", "a/b", ".hidden"):  # "" was ignored: the file went in as hand.bin
        assert main(["cache", "add", str(local), "--filename", name]) == 1
        assert f"argument --filename: filename {name!r} cannot be a cache name" in capsys.readouterr().err
    from zoo.hub.fetch import add_file

    with pytest.raises(zoo.OptionError, match="filename '' cannot be a cache name"):
        add_file(local, filename="")  # the Python API too
    for bad, why in [("http://[bad/f.bin", "Invalid IPv6 URL"), ("http://host:99999/f.bin", "Port out of range")]:
        assert main(["cache", "add", bad]) == 1
        err = capsys.readouterr().err
        assert f"{bad!r} is not a well-formed URL ({why}" in err and "Traceback" not in err


def test_zoo_download_application_and_dataset(file_server, capsys):
    v1, v2, d1 = payload(3000, seed=9), payload(3100, seed=10), payload(3200, seed=11)
    weights = {
        "V1": {
            "url": file_server.add("/net-v1.pth", v1),
            "sha256": sha(v1)[:8],
            "size": len(v1),
            "filename": "net-v1.pth",
        },
        "V2": {
            "url": file_server.url("/missing/net-v2.pth"),
            "sha256": sha(v2),
            "size": None,
            "filename": "net-v2.pth",
            "mirrors": [file_server.add("/mirror/net-v2.pth", v2)],
        },
    }
    files = [
        {"url": file_server.add("/data.npz", d1), "sha256": sha(d1), "size": len(d1), "filename": "data.npz"}
    ]

    class Plugin:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            register("tiny_net", "builtins:print", weights=weights, default_weights="V2")

        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            register("tiny_data", "builtins:print", files=files)
            missing = [{"url": file_server.url(f"/lost{i}.npz"), "sha256": None} for i in range(2)]
            register("half_data", "builtins:print", files=[*files, *missing])

    zoo.plugins.get_plugin_manager().register(Plugin(), name="tiny")
    assert main(["download", "TinyNet"]) == 0
    out = capsys.readouterr().out
    assert "tiny_net V2:" in out and "net-v2.pth" in out
    assert main(["download", "tiny-net", "--weights", "v1"]) == 0
    assert "tiny_net V1:" in capsys.readouterr().out
    assert main(["download", "tiny_net", "--weights", "TinyNet_Weights.V1"]) == 0  # as zoo.load spells it
    assert "tiny_net V1:" in capsys.readouterr().out
    assert main(["download", "tiny_net", "--weights", "V9"]) == 1
    assert "V1, V2" in capsys.readouterr().err
    assert main(["download", "tiny_data"]) == 0
    assert "data.npz" in capsys.readouterr().out
    assert main(["download", "half_data"]) == 1  # fetches what it can, then reports every failure
    captured = capsys.readouterr()
    assert "data.npz" in captured.out and "2 of 3 files failed" in captured.err and "HTTP 404" in captured.err
    assert main(["download", "no_such_thing"]) == 1
    err = capsys.readouterr().err
    assert "no applications named 'no_such_thing'" in err and "no datasets named" in err
    assert main(["cache", "list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:-1]]
    assert sorted(names) == ["data.npz", "net-v1.pth", "net-v2.pth"]


def test_a_cached_file_cut_short_downloads_again_instead_of_failing_every_reader(file_server, home):
    """An interrupted rsync of the cache leaves a blob shorter than its record says: the lookup's one
    stat notices, drops the name, and the next fetch downloads the verified bytes again."""
    data, path = cached(file_server, "cut.bin", 7)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.truncate(len(data) // 2)
    assert fetch(file_server.url("/cut.bin"), sha256=sha(data)).read_bytes() == data
    assert len(file_server.gets("/cut.bin")) == 2
    assert zoo.hub.cached_path(file_server.url("/cut.bin"), sha256=sha(data)) is not None


def test_a_fetch_refused_for_its_size_adds_no_name_to_the_cache(file_server, home, capsys):
    data, _ = cached(file_server, "real.bin", 8)
    other = file_server.add("/other.bin", data)
    with pytest.raises(zoo.ZooError, match="expected 5"):
        fetch(other, sha256=sha(data), size=5)
    assert main(["cache", "list", "--json"]) == 0
    assert [r["filename"] for r in json.loads(capsys.readouterr().out)] == ["real.bin"]


def test_a_record_edited_by_hand_does_not_break_listing_or_removal(file_server, home, capsys):
    _, path = cached(file_server, "odd.bin", 9)
    path.with_name(".odd.bin.json").write_text(json.dumps({"url": 5, "size": "x", "added": "y"}))
    assert main(["cache", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["filename"] == "odd.bin" and row["url"] is None and row["added"] > 0
    assert main(["cache", "verify"]) == 0
    assert main(["cache", "remove", "odd.bin"]) == 0
    assert not path.exists()
