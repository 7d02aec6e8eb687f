"""``hf://ORG/REPO/FILE@REVISION`` through zoo's cache, against a local server answering as the Hub does."""

from __future__ import annotations

import hashlib

import pytest

import zoo
from zoo import hub


def _gets(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log if request.method == "GET"]


def test_lfs_file_is_verified_by_the_hubs_sha256_and_pinned_to_its_commit(fake_hub, httpserver, monkeypatch):
    data = bytes(range(256)) * 1000
    commit = fake_hub("org/model", "weights/model.safetensors", data)
    path = hub.fetch("hf://org/model/weights/model.safetensors")
    assert path.read_bytes() == data and path.name == "model.safetensors"
    assert hub.content_sha256(path) == hashlib.sha256(data).hexdigest()
    # the download asked for the commit the revision pointed at, not the moving branch
    assert _gets(httpserver)[0] == f"/org/model/resolve/{commit}/weights/model.safetensors"

    # a second call is a cache hit, and so is an offline one: no request at all
    before = len(httpserver.log)
    assert hub.fetch("hf://org/model/weights/model.safetensors@main") == path
    assert len(httpserver.log) == before + 1  # the HEAD that asks the commit; no GET
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    assert hub.fetch("hf://org/model/weights/model.safetensors") == path
    assert len(httpserver.log) == before + 1


def test_bytes_that_differ_from_the_stated_sha256_never_enter_the_cache(fake_hub):
    fake_hub(
        "org/bad", "model.safetensors", b"tampered" * 100, advertised=hashlib.sha256(b"real").hexdigest()
    )
    with pytest.raises(zoo.DownloadError, match="sha256"):
        hub.fetch("hf://org/bad/model.safetensors")
    assert list(hub.Store(hub.cache_dir()).entries()) == []


def test_small_git_files_have_no_sha256_and_are_fetched_by_url(fake_hub):
    commit = fake_hub("org/model", "config.json", b'{"architecture": "x"}', lfs=False)
    path = hub.fetch(f"hf://org/model/config.json@{commit}")
    assert path.read_bytes() == b'{"architecture": "x"}'


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("hf://org", "names an organisation, a repository and a file"),
        ("hf://org/repo", "names an organisation, a repository and a file"),
        ("hf://org//file", "names an organisation, a repository and a file"),
        ("hf://org/repo/file.bin@", "nothing after '@'"),
    ],
)
def test_malformed_hub_urls_say_the_form(url, message):
    with pytest.raises(zoo.ZooError, match=message):
        hub.fetch(url)


def test_a_missing_repository_or_file_says_so(fake_hub):
    with pytest.raises(zoo.DownloadError, match="404.*no such repository, revision or file"):
        hub.fetch("hf://org/nothing/model.safetensors")
