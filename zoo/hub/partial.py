"""A download in progress: a temp file only this process writes, hashed as it grows, resumable later.

The file is ``partial/<key>.<host>.<pid>.<n>.tmp``; before its first byte a sidecar ``<that>.json`` records
the URL and the response's validators (ETag, Last-Modified), so bytes left behind by a process that died
(``kill -9``, a power cut, an out-of-memory kill) can be resumed with ``Range``/``If-Range``. A Python-level
failure *parks* the bytes as ``partial/<key>.part`` (+ ``.part.json``) at once. The next attempt *claims*
a parked file, or else the largest temp file of ``key`` whose owner is gone (its pid has ended on this
host; on another host sharing the cache, the caller holds the file's lock, which the owner held
throughout), with an atomic ``os.rename`` to its own temp name, so two processes never append to one file
even when file locks do not work. The sidecar is only a hint: the final hash check decides.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from pathlib import Path

from zoo.atomic import write_json_atomic
from zoo.errors import DownloadError
from zoo.hub.hashes import BackgroundHasher
from zoo.hub.store import Store, owner_gone, read_json
from zoo.hub.writeback import Writeback

_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _write(file, chunk: bytes) -> None:
    """The one place bytes hit the disk (tests replace it to simulate a full disk)."""
    file.write(chunk)


class NoSpaceError(DownloadError):
    """The disk holding the cache filled up; the partial file was deleted."""


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + ".json")


class Partial:
    def __init__(self, store: Store, key: str, url: str, algorithm: str | None = None) -> None:
        self.store = store
        self.key = key
        self.url = url
        self.algorithm = algorithm
        self.parked = store.partial / f"{key}.part"
        self.path = store.temp_path(key)
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.size = 0
        self._hash = BackgroundHasher(algorithm)
        self._writeback = Writeback()
        self._file = None
        self.resumed_from = 0

    @classmethod
    def new(cls, store: Store, key: str, url: str, algorithm: str | None = None) -> Partial:
        """An empty download, ignoring any left-over one."""
        part = cls(store, key, url, algorithm)
        part._open(truncate=True)
        return part

    @classmethod
    def claim(
        cls, store: Store, key: str, url: str, algorithm: str | None = None, *, locked: bool = False
    ) -> Partial:
        """Take over bytes of ``key`` from ``url`` left by an earlier attempt, else start empty.

        ``locked``: the caller holds ``key``'s lock, so a temp file of another host is abandoned too."""
        part = cls(store, key, url, algorithm)
        for candidate in part._leftovers(locked):
            meta = read_json(sidecar_of(candidate)) or {}
            if meta.get("url") != url:  # bytes of another source (or unknown): leave them for it
                continue
            try:
                os.rename(candidate, part.path)  # atomic: only one claimant wins
            except FileNotFoundError:
                continue
            with contextlib.suppress(FileNotFoundError):
                sidecar_of(candidate).unlink()
            part._open(truncate=False)
            part.etag, part.last_modified = meta.get("etag"), meta.get("last_modified")
            part._write_sidecar()
            part.resumed_from = part.size
            return part
        part._open(truncate=True)
        return part

    def _leftovers(self, locked: bool) -> list[Path]:
        """The parked file first, then temp files of gone owners, largest first."""
        parked = [self.parked] if self.parked.is_file() else []
        orphans = []
        for path in self.store.partial.glob(f"{_glob_escape(self.key)}.*.tmp"):
            with contextlib.suppress(OSError):
                if owner_gone(path, other_hosts=locked):
                    orphans.append((path.stat().st_size, path))
        return parked + [p for _, p in sorted(orphans, reverse=True)]

    def begin(self, etag: str | None, last_modified: str | None) -> None:
        """A response from byte 0 is about to be written: record what it was before its first byte."""
        self.etag, self.last_modified = etag, last_modified
        self._write_sidecar()

    def _write_sidecar(self) -> None:
        with contextlib.suppress(OSError):
            write_json_atomic(
                sidecar_of(self.path),
                {
                    "url": self.url,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "started": time.time(),
                },
            )

    def _open(self, *, truncate: bool) -> None:
        self._file = open(self.path, "wb" if truncate else "ab")  # noqa: SIM115 - lives as long as self
        self._hash.close()
        self._hash = BackgroundHasher(self.algorithm)
        self._writeback = Writeback()
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
        self._writeback.wrote(self._file, len(chunk))

    @property
    def sha256(self) -> str:
        return self._hash.sha256

    def hexdigest(self, algorithm: str) -> str:
        return self._hash.hexdigest(algorithm)

    def finish(self) -> Path:
        """Flush and fsync (most bytes are on disk already: :mod:`zoo.hub.writeback`); the caller checks the
        hash and commits."""
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
        """Keep the bytes so far for a later attempt in this process or another (sidecar first)."""
        self._hash.close()
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(OSError):
                self._file.close()
        if self.size == 0 or not self.path.exists():
            self.discard()
            return
        if not sidecar_of(self.path).exists():
            self._write_sidecar()
        try:
            os.replace(sidecar_of(self.path), sidecar_of(self.parked))
            os.replace(self.path, self.parked)
        except OSError:
            self.discard()

    def discard(self) -> None:
        self._hash.close()
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(OSError):
                self._file.close()
        for path in (self.path, sidecar_of(self.path)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def forget_sidecar(self) -> None:
        """The bytes are whole (they are about to enter the cache): nothing left to resume."""
        with contextlib.suppress(FileNotFoundError):
            sidecar_of(self.path).unlink()


def _glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)
