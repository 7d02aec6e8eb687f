"""Fetching a dataset's files through ``zoo.hub`` and keeping what is derived from them.

Derived data (IDX decompressed to ``.npy``, CIFAR records split into image and label arrays, extracted
archives) lives under ``$ZOO_HOME/datasets/<name>/<key>/``, where ``key`` is made from the source files'
hashes: a folder is built in a temporary sibling and renamed into place with a ``.complete`` marker, so it
is whole or absent, and a second load reads it (memory-mapped) without touching the network or the hub.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.atomic import atomic_folder
from zoo.datasets import sources
from zoo.errors import ZooError

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

    The hub checks the file's sha256 (or its md5, where upstream publishes only that) before it enters
    the cache, failing over to the mirrors on a mismatch, as for every other file."""
    from zoo import hub

    return Path(hub.fetch_spec(spec(dataset, role), entry=dataset, progress=progress))


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

    return atomic_folder(folder, fill, _intact)


def _intact(folder: Path) -> bool:
    try:
        sizes = json.loads((folder / _COMPLETE).read_text())
        return all((folder / name).stat().st_size == size for name, size in sizes.items())
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def open_array(folder: Path, name: str) -> np.ndarray:
    """A derived array, memory-mapped copy-on-write: pages load on use, writes stay private."""
    return np.load(folder / f"{name}.npy", mmap_mode="c", allow_pickle=False)
