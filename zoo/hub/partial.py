"""A download in progress: a temp file only this process writes, hashed as it grows, resumable later.

An interrupted download is *parked* as ``partial/<key>.part`` with a sidecar ``<key>.part.json`` (URL,
ETag, Last-Modified, offset). The next attempt, in this process or a later one, *claims* it with an atomic
``os.rename`` to its own temp name, so two processes never append to one file even when file locks do
not work. The sidecar is only a hint: the final hash check decides whether the bytes are right.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import time
from pathlib import Path

from zoo.errors import DownloadError
from zoo.hub.store import Store, read_json, write_json_atomic

_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _write(file, chunk: bytes) -> None:
    """The one place bytes hit the disk (tests replace it to simulate a full disk)."""
    file.write(chunk)


class NoSpaceError(DownloadError):
    """The disk holding the cache filled up; the partial file was deleted."""


class Partial:
    def __init__(self, store: Store, key: str, url: str) -> None:
        self.store = store
        self.key = key
        self.url = url
        self.parked = store.partial / f"{key}.part"
        self.sidecar = store.partial / f"{key}.part.json"
        self.path = store.temp_path(key)
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.size = 0
        self._hash = hashlib.sha256()
        self._file = None
        self.resumed_from = 0

    @classmethod
    def new(cls, store: Store, key: str, url: str) -> Partial:
        """An empty download, ignoring any parked one."""
        part = cls(store, key, url)
        part._open(truncate=True)
        return part

    @classmethod
    def claim(cls, store: Store, key: str, url: str) -> Partial:
        """Take over a parked download of ``key`` from ``url`` if there is one, else start empty."""
        part = cls(store, key, url)
        meta = read_json(part.sidecar) or {}
        if meta.get("url") != url:  # parked bytes of another source (or none): leave them for it
            part._open(truncate=True)
            return part
        try:
            os.rename(part.parked, part.path)  # atomic: only one claimant wins
        except FileNotFoundError:
            part._open(truncate=True)
            return part
        with contextlib.suppress(FileNotFoundError):
            part.sidecar.unlink()  # describes bytes this process now owns; park() writes a new one
        part._open(truncate=False)
        if meta.get("offset") == part.size:  # sidecar describes these very bytes
            part.etag, part.last_modified = meta.get("etag"), meta.get("last_modified")
        part.resumed_from = part.size
        return part

    def _open(self, *, truncate: bool) -> None:
        self._file = open(self.path, "wb" if truncate else "ab")  # noqa: SIM115 - lives as long as self
        self._hash = hashlib.sha256()
        self.size = 0
        if not truncate:
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 20):
                    self._hash.update(chunk)
                    self.size += len(chunk)

    @property
    def validator(self) -> str | None:
        """What ``If-Range`` may carry: a strong ETag, else Last-Modified."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    def restart(self) -> None:
        """Drop the bytes so far (the server sent the whole file, or the rest did not fit)."""
        self._file.close()
        self._open(truncate=True)
        self.resumed_from = 0

    def write(self, chunk: bytes) -> None:
        try:
            _write(self._file, chunk)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                self.discard()
                raise NoSpaceError(
                    f"no space left on the device holding the zoo cache ({self.store.root}) while writing "
                    f"{self.key}; the partial file was removed. Free some space (try 'zoo cache prune') or "
                    "point ZOO_HOME at a bigger disk."
                ) from exc
            raise
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self) -> Path:
        """Flush and fsync; the caller checks the hash and commits."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            self.discard()
            if exc.errno in _NO_SPACE:
                raise NoSpaceError(
                    f"no space left on the device holding the zoo cache ({self.store.root}); free some space "
                    "or point ZOO_HOME at a bigger disk."
                ) from exc
            raise
        return self.path

    def park(self) -> None:
        """Keep the bytes so far for a later attempt (sidecar first, then the data)."""
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(OSError):
                self._file.close()
        if self.size == 0 or not self.path.exists():
            self.discard()
            return
        try:
            write_json_atomic(
                self.sidecar,
                {
                    "url": self.url,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                    "offset": self.size,
                    "updated": time.time(),
                },
            )
            os.replace(self.path, self.parked)
        except OSError:
            self.discard()

    def discard(self) -> None:
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(OSError):
                self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
