"""Fetching a dataset's files through ``zoo.hub`` and keeping what is derived from them.

Derived data (IDX decompressed to ``.npy``, CIFAR records split into image and label arrays, extracted
archives) lives under ``$ZOO_HOME/datasets/<name>/<key>/``, where ``key`` is made from the source files'
hashes: a folder is built in a temporary sibling and renamed into place with a ``.complete`` marker, so it
is whole or absent, and a second load reads it (memory-mapped) without touching the network or the hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.datasets import sources
from zoo.datasets.archives import build_folder
from zoo.errors import DownloadError, IntegrityError, ZooError

#: Bump when a derived layout changes, so old folders are not misread.
LAYOUT_VERSION = 1
_COMPLETE = ".complete"


def root() -> Path:
    from zoo.hub.config import home

    return home() / "datasets"


def spec(dataset: str, role: str) -> dict[str, Any]:
    try:
        return sources.FILES[dataset][role]
    except KeyError:
        raise ZooError(f"dataset {dataset!r} has no file {role!r} in zoo.datasets.sources.FILES.") from None


def key(dataset: str, roles: Iterable[str], *extra: str) -> str:
    """A short name for derived data, changing whenever a source file's expected hash changes."""
    digest = hashlib.sha256(f"v{LAYOUT_VERSION}".encode())
    for role in roles:
        s = spec(dataset, role)
        digest.update(f"|{role}:{s.get('sha256') or ''}:{s.get('md5') or ''}".encode())
    for item in extra:
        digest.update(f"|{item}".encode())
    return digest.hexdigest()[:16]


def fetch(dataset: str, role: str, progress: bool | None = None) -> Path:
    """The verified local path of one of ``dataset``'s files, downloaded through the hub if needed.

    Files with a known sha256 are verified by the hub before they enter its cache, failing over to the
    mirrors on a mismatch. Files with only an md5 upstream are fetched one source at a time and verified
    here: a mismatching copy is removed from the cache and the next mirror is tried. A verified md5 is
    remembered (by path, size and modification time), so later calls neither re-hash the file nor ask the
    hub again."""
    from zoo import hub

    s = spec(dataset, role)
    urls = [s["url"], *(s.get("mirrors") or ())]
    options = {"size": s.get("size"), "filename": s.get("filename"), "progress": progress, "entry": dataset}
    md5 = s.get("md5")
    if s.get("sha256") or not md5:
        return Path(hub.fetch(urls, sha256=s.get("sha256"), **options))

    memo = root() / "verified" / f"{md5}.json"
    remembered = _remembered(memo)
    if remembered is not None:
        return remembered
    cached = hub.cached_path(urls, filename=s.get("filename"), size=s.get("size"))
    attempts: list[tuple[str, Path | None]] = [("the cache", cached)] if cached is not None else []
    attempts += [(url, None) for url in urls]
    failures: list[DownloadError] = []
    for origin, path in attempts:
        if path is None:
            try:
                path = Path(hub.fetch([origin], **options))
            except DownloadError as exc:
                failures.append(exc)
                continue
        actual = file_md5(path)
        if actual == md5:
            stat = path.stat()
            record = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            _write_atomic(memo, json.dumps(record))
            return path
        _evict(hub, path)
        failures.append(
            IntegrityError(
                f"{path.name} from {origin} has md5 {actual}, but {md5} was expected (the file "
                "upstream may have changed, or a mirror serves another version); the copy was removed."
            )
        )
    kinds = {type(f) for f in failures}
    error = kinds.pop() if len(kinds) == 1 else DownloadError
    raise error("\n".join(str(f) for f in failures))


def _evict(hub: Any, path: Path) -> None:
    """Drop a file that failed its md5 from the hub's cache, so a retry downloads it afresh."""
    store = hub.Store(hub.cache_dir())
    for entry in store.match(path.name):
        if entry.path == path:
            store.remove(entry)


def _remembered(memo: Path) -> Path | None:
    try:
        data = json.loads(memo.read_text())
        path = Path(data["path"])
        stat = path.stat()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if stat.st_size == data.get("size") and stat.st_mtime_ns == data.get("mtime_ns"):
        return path
    return None


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def derived(dataset: str, key: str, build: Callable[[Path], None]) -> Path:
    """The folder ``$ZOO_HOME/datasets/<dataset>/<key>``, built once by ``build(tmp_folder)``.

    The ``.complete`` marker lists every file with its size; a folder that no longer matches it (a file
    deleted or cut short by hand) is rebuilt rather than misread."""
    folder = root() / dataset / key
    if _intact(folder):
        return folder

    def fill(tmp: Path) -> None:
        build(tmp)
        sizes = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
        (tmp / _COMPLETE).write_text(json.dumps(sizes))

    return build_folder(folder, fill, _intact)


def _intact(folder: Path) -> bool:
    try:
        sizes = json.loads((folder / _COMPLETE).read_text())
        return all((folder / name).stat().st_size == size for name, size in sizes.items())
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def open_array(folder: Path, name: str) -> np.ndarray:
    """A derived array, memory-mapped copy-on-write: pages load on use, writes stay private."""
    return np.load(folder / f"{name}.npy", mmap_mode="c", allow_pickle=False)
