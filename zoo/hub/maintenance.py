"""Checking and cleaning the cache: ``zoo cache verify`` and ``zoo cache prune`` use these."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from zoo.atomic import host_tag, temp_owner
from zoo.hub.hashes import hash_file
from zoo.hub.store import (
    DERIVED_KINDS,
    CachedFile,
    Store,
    derived_record,
    is_blob_folder,
    owner_gone,
)

FOREIGN_TMP_AGE = 24 * 3600  # a temp file of another host is left alone for a day


@dataclass(frozen=True)
class Verdict:
    entry: CachedFile
    actual: str

    @property
    def ok(self) -> bool:
        return self.actual == self.entry.sha256


def verify(store: Store, entries: list[CachedFile] | None = None) -> Iterator[Verdict]:
    """Re-hash cached files against the sha256 they are stored under."""
    for entry in entries if entries is not None else list(store.entries()):
        yield Verdict(entry, hash_file(entry.path))


def _tmp_is_stale(path: Path, now: float) -> bool:
    owner = temp_owner(path)
    if owner is not None and owner[0] == host_tag():
        return owner_gone(path, other_hosts=False)
    return now - path.stat().st_mtime > FOREIGN_TMP_AGE


def prune_candidates(store: Store) -> list[tuple[Path, str]]:
    """What ``prune`` removes, with why: parked partial downloads, temp files of dead processes,
    lock files nobody holds, and anything in ``blobs/`` that is not a named, whole file."""
    return [*_partial_candidates(store), *_lock_candidates(store), *_blob_candidates(store)]


def _partial_candidates(store: Store) -> Iterator[tuple[Path, str]]:
    now = time.time()
    for path in sorted(store.partial.glob("*")) if store.partial.is_dir() else []:
        if path.name.endswith(".part"):
            yield path, "partial download"
        elif path.name.endswith(".part.json"):
            yield path, "partial download record"
        elif path.name.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                if _tmp_is_stale(path, now):
                    yield path, "temp file of a process that is gone"
        elif path.name.endswith(".tmp.json"):
            data = path.with_name(path.name[: -len(".json")])
            with contextlib.suppress(FileNotFoundError):
                if not data.exists() or _tmp_is_stale(data, now):
                    yield path, "record of a temp file of a process that is gone"


def _lock_candidates(store: Store) -> Iterator[tuple[Path, str]]:
    import filelock

    for path in sorted(store.locks.glob("*.lock")) if store.locks.is_dir() else []:
        lock = filelock.FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            continue
        lock.release()
        yield path, "unused lock file"


def _blob_candidates(store: Store) -> Iterator[tuple[Path, str]]:
    for folder in sorted(store.blobs.iterdir()) if store.blobs.is_dir() else []:
        if not folder.is_dir() or not is_blob_folder(folder):
            yield folder, "not a cache entry"
            continue
        names = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        if not names:
            yield folder, "empty entry"
            continue
        for extra in folder.iterdir():
            if extra.name.startswith(".") and not _records_a_name(extra.name, names):
                yield extra, "orphaned record"


def _records_a_name(record: str, names: set[str]) -> bool:
    """``.<name>.json`` (where it came from) or ``..<name>.<kind>.<ext>`` (derived) of a name still there."""
    if record.startswith(".."):
        return any(record == derived_record(Path(name), kind).name for name in names for kind in DERIVED_KINDS)
    return record.endswith(".json") and record[1:-5] in names


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def remove_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
