"""Hugging Face Hub files as sources of zoo's cache: ``hf://ORG/REPO/PATH@REVISION``.

A Hub file is an ordinary HTTPS download from its ``resolve`` URL once two facts are known, and the Hub
states both in the headers of a ``HEAD`` request (what ``huggingface_hub.get_hf_file_metadata`` reads):
``X-Repo-Commit``, the commit the revision points at now, and for a file kept in LFS (weights always are)
``X-Linked-Etag``, the file's sha256, with ``X-Linked-Size``. So the file is fetched by zoo's own
transfer (cache, mirrors, resume, locks) and verified against the sha256 the Hub published, and the URL
is pinned to that commit, so a branch moving while a file downloads cannot mix two versions. Offline
(``ZOO_OFFLINE=1``) no request is made: a file fetched before is found by its URL. ``HF_ENDPOINT`` names
another Hub (a mirror, or a test's local server), as in huggingface_hub. Public repositories only: no
token is sent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from zoo.errors import DownloadError, ZooError

SCHEME = "hf://"
DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
_REPO_PART = re.compile(r"^[\w.-]+\Z")


@dataclass(frozen=True)
class HubFile:
    """One file of one Hub repository at one revision (a branch, tag or commit)."""

    repo: str
    filename: str
    revision: str = "main"

    @classmethod
    def parse(cls, url: str) -> HubFile:
        """``hf://ORG/REPO/PATH/TO/FILE[@REVISION]``; a malformed one is a ZooError showing the form."""
        if not url.startswith(SCHEME):
            raise ZooError(f"{url!r} is not a Hub file URL: they read hf://ORG/REPO/FILE[@REVISION].")
        body, _, revision = url[len(SCHEME) :].partition("@")
        parts = body.split("/")
        if len(parts) < 3 or not all(parts) or not all(_REPO_PART.match(p) for p in parts[:2]):
            raise ZooError(
                f"{url!r}: a Hub file URL names an organisation, a repository and a file, "
                "hf://ORG/REPO/FILE[@REVISION], e.g. hf://timm/resnet50.a1_in1k/model.safetensors@main."
            )
        if "@" in url[len(SCHEME) :] and not revision:
            raise ZooError(f"{url!r}: nothing after '@'; give a branch, tag or commit, or drop the '@'.")
        return cls("/".join(parts[:2]), "/".join(parts[2:]), revision or "main")

    def url(self, revision: str | None = None) -> str:
        """The ``resolve`` URL (at ``revision``, default this file's own)."""
        return f"{endpoint()}/{self.repo}/resolve/{revision or self.revision}/{self.filename}"

    def __str__(self) -> str:
        return f"{SCHEME}{self.repo}/{self.filename}@{self.revision}"


@dataclass(frozen=True)
class HubFileFacts:
    """What the Hub says of a file: the commit its revision is at, its sha256 (LFS files) and size."""

    commit: str | None
    sha256: str | None
    size: int | None


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def file_facts(file: HubFile, *, timeout: tuple[float, float]) -> HubFileFacts:
    """``HEAD`` the resolve URL without following its redirect (the Hub's facts are on the first answer)."""
    import requests

    url = file.url()
    try:
        resp = requests.head(url, allow_redirects=False, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        raise DownloadError(f"cannot reach the Hub for {file}: {type(exc).__name__}: {exc}") from None
    if resp.status_code in (401, 403, 404):
        raise DownloadError(
            f"{file}: the Hub answered {resp.status_code} for {url}: no such repository, revision or file, "
            "or a gated/private one (zoo fetches public files only)."
        )
    if resp.status_code >= 400:
        raise DownloadError(f"{file}: the Hub answered {resp.status_code} for {url}.")
    etag = (resp.headers.get("X-Linked-Etag") or resp.headers.get("ETag") or "").strip('"').removeprefix("W/")
    etag = etag.strip('"')
    size = resp.headers.get("X-Linked-Size") or resp.headers.get("Content-Length")
    return HubFileFacts(
        commit=resp.headers.get("X-Repo-Commit"),
        sha256=etag if _SHA256.match(etag) else None,  # a git blob id (small non-LFS file) is not a sha256
        size=int(size) if size and size.isdigit() and resp.headers.get("X-Linked-Size") else None,
    )
