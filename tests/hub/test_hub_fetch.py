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
    assert file_server.gets()[0].headers["User-Agent"].startswith(f"zoo-platform/{zoo.__version__} ")
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


def test_resume_after_dropped_connection_fetches_only_the_rest(file_server, sleeps):
    data = payload(300_000, seed=3)
    url = file_server.add("/big.bin", data)
    file_server.plan["/big.bin"] = [("drop", 100_000)]
    path = fetch(url, sha256=sha(data), size=len(data))
    assert path.read_bytes() == data
    first, second = file_server.gets("/big.bin")
    assert "Range" not in first.headers and first.sent == 100_000
    assert second.headers["Range"] == "bytes=100000-"
    assert second.headers["If-Range"].startswith('"')  # the ETag of the first answer
    assert second.sent == 200_000
    assert sleeps == []  # progress was made: resume at once


def test_resume_across_runs_from_parked_part(file_server, home, sleeps, monkeypatch):
    data = payload(250_000, seed=4)
    url = file_server.add("/run.bin", data)
    file_server.plan["/run.bin"] = [("drop", 120_000), ("status", 503), ("status", 503)]
    monkeypatch.setenv("ZOO_MAX_RETRIES", "1")
    with pytest.raises(zoo.DownloadError, match="HTTP 503"):
        fetch(url, sha256=sha(data))
    parked = list((home / "partial").glob("*.part"))
    assert len(parked) == 1 and parked[0].stat().st_size == 120_000
    assert list((home / "partial").glob("*.part.json"))
    monkeypatch.delenv("ZOO_MAX_RETRIES")
    assert fetch(url, sha256=sha(data)).read_bytes() == data  # a new "run"
    last = file_server.gets("/run.bin")[-1]
    assert last.headers["Range"] == "bytes=120000-" and last.sent == 130_000
    assert list((home / "partial").iterdir()) == []  # neither the part nor its record is left


def test_server_ignoring_range_restarts_from_zero(file_server, sleeps):
    data = payload(150_000, seed=5)
    url = file_server.add("/norange.bin", data)
    file_server.plan["/norange.bin"] = [("drop", 50_000), ("ignore_range",)]
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    second = file_server.gets("/norange.bin")[1]
    assert second.headers["Range"] == "bytes=50000-" and second.sent == len(data)


def test_no_range_server_that_keeps_dropping_gives_up(file_server, sleeps, monkeypatch):
    data = payload(50_000, seed=6)
    url = file_server.add("/loop.bin", data)
    file_server.plan["/loop.bin"] = [("ignore_range", 20_000)] * 20
    monkeypatch.setenv("ZOO_MAX_RETRIES", "3")
    with pytest.raises(zoo.DownloadError, match="connection"):
        fetch(url, sha256=sha(data))
    # the first drop made progress; each restart from 0 to the same 20000 bytes does not
    assert len(file_server.gets("/loop.bin")) == 5 and len(sleeps) == 3


def test_retries_500_500_200_with_backoff(file_server, sleeps):
    data = payload(1000, seed=7)
    url = file_server.add("/flaky.bin", data)
    file_server.plan["/flaky.bin"] = [("status", 500), ("status", 502)]
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    assert len(file_server.gets("/flaky.bin")) == 3
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 1.25 and 2.0 <= sleeps[1] <= 2.5  # exponential, with jitter


def test_429_honours_retry_after_seconds_and_date(file_server, sleeps):
    import email.utils
    import time

    data = payload(1000, seed=8)
    url = file_server.add("/limited.bin", data)
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    file_server.plan["/limited.bin"] = [
        ("status", 429, {"Retry-After": "7"}),
        ("status", 503, {"Retry-After": when}),
    ]
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    assert sleeps[0] == 7.0
    assert 27 <= sleeps[1] <= 30


def test_gives_up_after_max_retries(file_server, sleeps, monkeypatch):
    url = file_server.add("/down.bin", b"x")
    file_server.plan["/down.bin"] = [("status", 503)] * 10
    monkeypatch.setenv("ZOO_MAX_RETRIES", "2")
    with pytest.raises(zoo.DownloadError, match=r"HTTP 503.*gave up after 2 retries"):
        fetch(url)
    assert len(file_server.gets("/down.bin")) == 3 and len(sleeps) == 2


def test_404_moves_to_the_next_source_at_once(file_server, sleeps):
    data = payload(2000, seed=9)
    good = file_server.add("/mirror/m.bin", data)
    path = fetch([file_server.url("/gone/m.bin"), good], sha256=sha(data))
    assert path.read_bytes() == data
    assert len(file_server.gets("/gone/m.bin")) == 1 and sleeps == []


def test_wrong_bytes_then_a_good_mirror(file_server, home, monkeypatch):
    data = payload(2000, seed=10)
    bad = file_server.add("/a/w.bin", payload(2000, seed=11))
    file_server.add("/b/w.bin", data)
    monkeypatch.setenv("ZOO_MIRRORS", file_server.url("/b"))
    path = fetch(bad, sha256=sha(data))
    assert path.read_bytes() == data
    assert [r.path for r in file_server.gets()] == ["/a/w.bin", "/b/w.bin"]
    # the wrong bytes are nowhere in the cache
    assert [p.name for p in (home / "blobs").iterdir()] == [sha(data)]


def test_read_timeout_on_stalled_server(file_server, sleeps, monkeypatch):
    url = file_server.add("/stall.bin", payload(1000))
    file_server.plan["/stall.bin"] = [("stall", 3)] * 3
    monkeypatch.setenv("ZOO_READ_TIMEOUT", "0.3")
    monkeypatch.setenv("ZOO_MAX_RETRIES", "1")
    with pytest.raises(zoo.DownloadError) as info:
        fetch(url)
    assert "ZOO_READ_TIMEOUT" in str(info.value) or "timed out" in str(info.value).lower()
    assert len(file_server.gets("/stall.bin")) == 2


def test_connection_refused_is_told_apart(sleeps, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ZOO_MAX_RETRIES", "1")
    with pytest.raises(zoo.DownloadError) as info:
        fetch(f"http://127.0.0.1:{port}/f.bin")
    message = str(info.value)
    assert "cannot connect" in message and "online" in message
    assert not isinstance(info.value, zoo.IntegrityError)


def test_size_mismatch_is_an_integrity_error(file_server):
    data = payload(1000, seed=12)
    url = file_server.add("/size.bin", data)
    with pytest.raises(zoo.IntegrityError, match="expected 999"):
        fetch(url, size=999)


def test_free_space_checked_before_downloading(file_server, home):
    url = file_server.add("/huge.bin", b"x")
    with pytest.raises(zoo.DownloadError, match="free"):
        fetch(url, size=1 << 62)
    assert file_server.gets() == []


def test_redirects_followed_but_never_https_to_http(file_server):
    from zoo.hub.transfer import SourceError, _open

    data = payload(500, seed=13)
    target = file_server.add("/real.bin", data)
    file_server.plan["/moved.bin"] = [("redirect", target)]
    assert fetch(file_server.url("/moved.bin"), sha256=sha(data)).read_bytes() == data

    class FakeResponse:  # only the downgrade decision is checked here: no https server in tests
        is_redirect = True
        headers = {"location": "http://evil.example/real.bin"}

        def close(self):
            pass

    class Session:
        def get(self, *a, **k):
            return FakeResponse()

    with pytest.raises(SourceError, match="refused a redirect from https"):
        _open(Session(), "https://example.org/real.bin", {}, (1, 1))


def test_mirrors_env_rewrite_and_plugin_hook(file_server, monkeypatch):
    import zoo.plugins
    from zoo.hub.sources import all_sources

    data = payload(700, seed=14)
    file_server.add("/rewritten/h.bin", data)
    monkeypatch.setenv("ZOO_MIRRORS", f"{file_server.url('/orig/')}={file_server.url('/rewritten/')}")
    assert fetch(file_server.url("/orig/h.bin"), sha256=sha(data)).read_bytes() == data

    class MirrorPlugin:
        @zoo.hookimpl
        def zoo_download_mirrors(self, url, filename, sha256):
            return [f"https://plugin.example/{filename}", f"http://insecure.example/{filename}"]

    zoo.plugins.get_plugin_manager().register(MirrorPlugin(), name="mirror-test")
    sources, refused = all_sources(
        ["https://origin.example/h.bin"],
        "h.bin",
        None,
        mirrors="https://m1.example/base, https://origin.example/=https://m2.example/",
        allow_http=False,
    )
    assert sources == [
        "https://origin.example/h.bin",
        "https://m1.example/base/h.bin",
        "https://m2.example/h.bin",
        "https://plugin.example/h.bin",
    ]
    assert refused[0][0] == "http://insecure.example/h.bin"
    with pytest.raises(zoo.ZooError, match="ZOO_MIRRORS"):
        all_sources(["https://a/b"], "b", None, mirrors="not-a-url", allow_http=False)


def test_unresolvable_host_fails_over_to_a_file_mirror_folder(tmp_path, monkeypatch, sleeps):
    data = payload(900, seed=15)
    (tmp_path / "f.bin").write_bytes(data)
    monkeypatch.setenv("ZOO_MIRRORS", tmp_path.as_uri())
    assert fetch("https://unreachable.invalid/f.bin", sha256=sha(data)).read_bytes() == data
    assert sleeps == []  # a DNS failure is not retried with backoff: the mirror is tried at once


def test_403_is_told_apart_and_not_retried(file_server, sleeps):
    url = file_server.url("/private.bin")
    file_server.plan["/private.bin"] = [("status", 403)]
    with pytest.raises(zoo.DownloadError, match=r"HTTP 403(.|\n)*credentials"):
        fetch(url)
    assert len(file_server.gets()) == 1 and sleeps == []


def test_all_sources_404_is_a_download_error_naming_each(file_server, sleeps):
    a, b = file_server.url("/a/none.bin"), file_server.url("/b/none.bin")
    with pytest.raises(zoo.DownloadError) as info:
        fetch([a, b], sha256="ab" * 32)
    message = str(info.value)
    assert not isinstance(info.value, zoo.IntegrityError)
    assert f"{a}: HTTP 404" in message and f"{b}: HTTP 404" in message and "moved" in message
    assert sleeps == []


def test_proxy_failure_is_told_apart(file_server, monkeypatch, sleeps):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    url = file_server.add("/p.bin", b"data")
    with pytest.raises(zoo.DownloadError) as info:
        fetch(url)
    assert "proxy error" in str(info.value) and "HTTPS_PROXY" in str(info.value)
    assert file_server.gets() == []


def test_ssl_failure_is_told_apart(file_server, sleeps):
    url = file_server.add("/s.bin", b"data").replace("http://", "https://")  # TLS to a plain-HTTP port
    with pytest.raises(zoo.DownloadError) as info:
        fetch(url)
    assert "SSL/TLS error" in str(info.value) and "REQUESTS_CA_BUNDLE" in str(info.value)


def test_importing_the_hub_imports_neither_torch_nor_requests():
    import subprocess
    import sys

    code = "import sys, zoo.hub, zoo.hub.plugin; print(sorted({'torch', 'requests'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_fetch_spec_falls_back_to_alternate_files(file_server, home, monkeypatch):
    """timm's configs list pytorch_model.bin after model.safetensors: zoo download must get what zoo.load
    would, and a missing primary must not hide a cached alternate offline."""
    from zoo.hub import fetch_spec

    primary, alternate = payload(4000, seed=7), payload(3000, seed=8)
    spec = {"url": file_server.url("/gone/model.safetensors"), "sha256": sha(primary),
            "filename": "m.safetensors",
            "alternates": [{"url": file_server.add("/m/pytorch_model.bin", alternate), "sha256": sha(alternate),
                            "filename": "m.bin"}]}  # fmt: skip
    path = fetch_spec(spec)
    assert path.read_bytes() == alternate and path.name == "m.bin"
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert fetch_spec(spec) == path
    with pytest.raises(zoo.OfflineError, match="m.safetensors"):  # none cached: the primary's error
        fetch_spec({**spec, "alternates": [{**spec["alternates"][0], "sha256": sha(primary)}]})
