"""Atomic file writes, the one rule zoo and its plugins use: write a private sibling, then ``os.replace``.

A reader (another process, or a crash) sees the old file or the whole new one, never half of one: the
bytes go to ``.<name>.<host>.<pid>.<n>.tmp`` in the target's folder (same file system, so the rename is
atomic) and take the target's name only once complete; a failure removes the temp file. The temp name
says which host and process wrote it, so ``zoo cache prune`` can tell a dead writer's leftovers from a live
one's. ``fsync=True`` makes the write durable, not just atomic: the file's bytes and then the folder's
entry reach the disk before the call returns (checkpoints, caches that must survive a power cut).

A folder is published the same way (:func:`atomic_folder`): filled as a private sibling, then renamed into
place, so a reader finds the old folder or the whole new one.

No torch here: ``import zoo`` stays light, and writers that need torch (``torch.save``) pass a file object
or a path from :func:`atomic_open` / :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_folder",
    "atomic_open",
    "atomic_path",
    "fsync_dir",
    "host_tag",
    "temp_name",
    "temp_owner",
    "temp_sibling",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

_counter = itertools.count()  # next() on a count is atomic under the GIL: unique across threads
_start = time.monotonic_ns()


def host_tag() -> str:
    """This host's name as it appears in temp file names (no dots, so names stay parseable)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def temp_name(stem: str) -> str:
    """``<stem>.<host>.<pid>.<n>.tmp``: a name no other process (on any host sharing the folder), thread or
    call uses; ``n`` starts from the clock, so a later process given a dead one's pid picks other names."""
    return f"{stem}.{host_tag()}.{os.getpid()}.{_start}{next(_counter)}.tmp"


_TEMP = re.compile(r"^.+\.(?P<host>[^.]+)\.(?P<pid>\d+)\.\d+\.tmp\Z")


def temp_owner(path: str | os.PathLike[str]) -> tuple[str, int] | None:
    """The host and pid that a :func:`temp_name` belongs to, read from the name; None for other names."""
    match = _TEMP.match(Path(path).name)
    return (match.group("host"), int(match.group("pid"))) if match else None


def temp_sibling(path: str | os.PathLike[str]) -> Path:
    """A private name beside ``path``: ``.<name>.<host>.<pid>.<n>.tmp`` (:func:`temp_name`)."""
    path = Path(path)
    return path.with_name(temp_name(f".{path.name}"))


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename into it) to disk; best effort where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_parent(path: str | os.PathLike[str]) -> None:
    """The nearest existing folder above ``path`` is a folder: a file there (``-o notes.txt/model.pt``) is a
    ``ZooError`` saying so, not the raw ``NotADirectoryError`` of the first write beneath it."""
    from zoo.errors import ZooError

    for parent in Path(path).absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ZooError(f"cannot write {path}: {parent} is a file, not a folder; choose another path.")
            return


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temp path to write (``savefig``, a numpy memmap ...); on a clean exit it becomes ``path``.

    The writer must have closed the file by the end of the block. On any exception the temp file is
    removed and ``path`` is left as it was."""
    path = Path(path)
    check_parent(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
        if fsync:
            _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if fsync:
        fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "wb", *, fsync: bool = False, encoding: str | None = None
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` for writing, made atomic: the file appears at ``path`` when the block ends."""
    if mode not in ("w", "wb"):
        # invariant: zoo's own callers pass 'w' or 'wb'; another mode is a programming error, not an input
        raise ValueError(f"atomic_open writes a whole new file: mode 'w' or 'wb', got {mode!r}")
    if encoding is None and mode == "w":
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as f:
        yield f
        if fsync:
            f.flush()
            os.fsync(f.fileno())
    if fsync:
        fsync_dir(Path(path).parent)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, fsync: bool = False) -> None:
    with atomic_open(path, "wb", fsync=fsync) as f:
        f.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, fsync: bool = False) -> None:
    with atomic_open(path, "w", fsync=fsync) as f:
        f.write(text)


def write_json_atomic(path: str | os.PathLike[str], data: Any, *, compact: bool = False, fsync: bool = False) -> None:
    """Write ``data`` as JSON (``compact``: no indentation, for machine-only records; else indented, keys
    sorted, so the file diffs well)."""
    with atomic_open(path, "w", fsync=fsync) as f:
        json.dump(data, f, **({"separators": (",", ":")} if compact else {"indent": 1, "sort_keys": True}))


def remove_folder(folder: str | os.PathLike[str]) -> None:
    """Remove ``folder`` so that no reader finds it half-deleted: renamed aside first (one atomic step), then
    deleted. A folder already gone is no error."""
    folder = Path(folder)
    stale = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.stale")
    try:
        os.replace(folder, stale)
    except FileNotFoundError:
        return
    shutil.rmtree(stale, ignore_errors=True)


def atomic_folder(
    destination: str | os.PathLike[str],
    fill: Callable[[Path], None],
    is_complete: Callable[[Path], bool] | None = None,
) -> Path:
    """Build the folder ``destination`` whole or not at all: ``fill(tmp)`` fills a private sibling folder,
    which then takes ``destination``'s place.

    A folder already there is replaced (moved aside, then removed), unless ``is_complete`` accepts it: then
    it is a concurrent process's finished work and is kept (ours is dropped). Nothing half-built is left.
    """
    destination = Path(destination)
    check_parent(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(destination)
    tmp.mkdir()
    try:
        fill(tmp)
        if destination.exists():
            if is_complete is not None and is_complete(destination):  # another process finished first
                shutil.rmtree(tmp, ignore_errors=True)
                return destination
            remove_folder(destination)
        try:
            os.replace(tmp, destination)
        except OSError:
            if is_complete is None or not is_complete(destination):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return destination
