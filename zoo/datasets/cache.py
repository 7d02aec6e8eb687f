"""Fetching a dataset's files through ``zoo.hub`` and keeping what is derived from them.

Derived data (IDX decompressed to ``.npy``, CIFAR records split into image and label arrays, extracted
archives) lives under ``$ZOO_HOME/datasets/<name>/<key>/``, where ``key`` is made from the source files'
hashes: a folder is built in a temporary sibling and renamed into place with a ``.complete`` marker, so it
is whole or absent, and a second load reads it (memory-mapped) without touching the network or the hub.

The marker records each file's size and sha256 as written, as the hub's ``.<name>.json`` records do for a
download. A load checks only the sizes (one ``stat`` per file; hashing MNIST's 55 MB of arrays would cost
about 40x the memory-mapped load itself); an import from a folder and ``zoo cache verify`` re-hash them.

No numpy at import time, so ``zoo cache verify`` can check these folders without loading it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.atomic import atomic_folder
from zoo.datasets import sources
from zoo.errors import ZooError
from zoo.hub.hashes import hash_file

if TYPE_CHECKING:
    import numpy as np

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


def derived(dataset: str, key: str, build: Callable[[Path], None], *, rehash: bool = False) -> Path:
    """The folder ``$ZOO_HOME/datasets/<dataset>/<key>``, built once by ``build(tmp_folder)``.

    A folder that no longer matches its marker (a file deleted or cut short by hand; with ``rehash``, also
    one whose bytes changed at the same size) is rebuilt rather than misread. The same check decides
    whether a folder a concurrent process published meanwhile is kept, so a damaged one never wins."""
    folder = root() / dataset / key

    def whole(path: Path) -> bool:
        return not any(problems(path, rehash=rehash))

    if whole(folder):
        return folder

    def fill(tmp: Path) -> None:
        build(tmp)
        files = {p.name: {"size": p.stat().st_size, "sha256": hash_file(p)} for p in tmp.iterdir() if p.is_file()}
        (tmp / _COMPLETE).write_text(json.dumps({"files": files}))

    return atomic_folder(folder, fill, whole)


def recorded(folder: Path) -> dict[str, dict[str, Any]] | None:
    """The marker's ``{file: {"size", "sha256"}}``; None when there is no marker or it records no digests
    (a folder being built, edited by hand, or written by a zoo from before digests were kept)."""
    try:
        files = json.loads((folder / _COMPLETE).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(files, dict) and all(
        isinstance(r, dict) and _is_count(r.get("size")) and isinstance(r.get("sha256"), str) for r in files.values()
    )
    return files if ok else None


def problems(folder: Path, *, rehash: bool) -> Iterator[tuple[str, str]]:
    """``(file name, what is wrong)`` for each file of a derived folder that does not match its marker:
    missing, of another size, or (``rehash``) with another sha256. A marker without digests is one problem."""
    files = recorded(folder)
    if files is None:
        yield _COMPLETE, "no sha256 recorded for its files (written by an older zoo, or edited by hand)"
        return
    for name, record in files.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            yield name, "missing"
            continue
        if size != record["size"]:
            yield name, f"has {size} bytes, {record['size']} were written"
        elif rehash and (actual := hash_file(path)) != record["sha256"]:
            yield name, f"expected sha256 {record['sha256']}, found {actual}"


def folders() -> list[Path]:
    """Every derived folder (``<name>/<key>`` with a marker): what ``zoo cache verify`` re-hashes.
    Temp and stale siblings (dot names) and extracted archives (their own marker) are not among them."""
    try:
        datasets = sorted(p for p in root().iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return [
        folder
        for dataset in datasets
        for folder in sorted(dataset.iterdir())
        if not folder.name.startswith(".") and (folder / _COMPLETE).is_file()
    ]


def open_array(folder: Path, name: str) -> np.ndarray:
    """A derived array, memory-mapped copy-on-write: pages load on use, writes stay private."""
    import numpy as np

    return np.load(folder / f"{name}.npy", mmap_mode="c", allow_pickle=False)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
