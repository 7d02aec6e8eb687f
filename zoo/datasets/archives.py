"""Safe, once-only extraction of tar and zip archives.

An archive is extracted into a temporary sibling folder and renamed into place only when every member
was checked and written, with a marker naming the archive's hash; so a folder that exists is whole, a
second call returns at once, and an interrupted or refused extraction leaves nothing behind.

Members are checked before anything is written: no absolute paths, no ``..``, only regular files,
folders and links that stay inside the target (resolved against what was already extracted), no devices
or fifos. tarfile's own ``filter="data"`` runs as a second line of defence.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from zoo.atomic import atomic_folder
from zoo.errors import ZooError

MARKER = ".zoo-extracted.json"
#: An archive may expand to this many times its own size, or to FLOOR_BYTES, whichever is more: real
#: datasets compress 2-20x; a zip bomb expands a thousandfold and would fill the disk.
MAX_RATIO = 100
FLOOR_BYTES = 100 << 20


class ArchiveError(ZooError):
    """An archive is damaged, or holds a member that would be unsafe to extract."""


def extract(
    archive: str | os.PathLike[str], destination: str | os.PathLike[str], *, archive_hash: str
) -> Path:
    """Extract ``archive`` into the folder ``destination`` once; later calls with the same hash return at
    once. ``archive_hash`` (any digest of the archive's bytes) goes into the marker, so a different archive
    for the same destination is extracted afresh.
    """
    archive, destination = Path(archive), Path(destination)
    if _marker_hash(destination) == archive_hash:
        return destination
    if not archive.is_file():
        raise ArchiveError(f"{archive} {'is a folder' if archive.is_dir() else 'does not exist'}: give the archive file.")
    budget = _Budget(archive, max(FLOOR_BYTES, MAX_RATIO * archive.stat().st_size))

    def fill(tmp: Path) -> None:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp, budget)
        else:
            _extract_tar(archive, tmp, budget)
        (tmp / MARKER).write_text(json.dumps({"archive": archive.name, "hash": archive_hash}))

    return atomic_folder(destination, fill, lambda folder: _marker_hash(folder) == archive_hash)


def _marker_hash(folder: Path) -> str | None:
    try:
        return json.loads((folder / MARKER).read_text()).get("hash")
    except (OSError, ValueError, AttributeError):
        return None


class _Budget:
    """The bytes an extraction may still write (see MAX_RATIO)."""

    def __init__(self, archive: Path, limit: int) -> None:
        self.archive, self.limit, self.used = archive, limit, 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ArchiveError(
                f"{self.archive.name} expands past {self.limit:,} bytes ({MAX_RATIO}x its size): a zip bomb, or "
                "not the archive this dataset publishes; refusing to extract it."
            )


# -- checks ------------------------------------------------------------------------------------------
def _checked_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise ArchiveError(
            f"{archive.name} holds a member with an absolute path ({name!r}); refusing to extract it."
        )
    if ".." in path.parts:
        raise ArchiveError(
            f"{archive.name} holds a member that climbs out of its folder ({name!r}); refusing to extract it."
        )
    return path


def _inside(root: Path, target: Path, what: str, archive: Path) -> None:
    real_root = os.path.realpath(root)
    real = os.path.realpath(target)
    if os.path.commonpath([real_root, real]) != real_root:
        raise ArchiveError(
            f"{archive.name}: {what} points outside the extraction folder; refusing to extract it."
        )


def _damaged(archive: Path, exc: BaseException) -> ArchiveError:
    return ArchiveError(
        f"{archive} is damaged (truncated or corrupt: {type(exc).__name__}: {exc}). Delete it from the cache "
        "(zoo cache remove) and load again to download a fresh copy."
    )


# -- tar ---------------------------------------------------------------------------------------------
def _extract_tar(archive: Path, root: Path, budget: _Budget) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:  # one streaming pass: no second decompression of a .tar.gz
                _check_tar_member(member, root, archive)
                budget.spend(member.size)  # a tar member's size is the bytes its stream holds
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, root, filter="data")
                else:  # pragma: no cover - Python without PEP 706 (our own checks above still ran)
                    tar.extract(member, root)
    except ArchiveError:
        raise
    except tarfile.FilterError as exc:
        raise ArchiveError(f"{archive.name}: tarfile refused a member as unsafe ({exc}).") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _damaged(archive, exc) from exc


def _check_tar_member(member: tarfile.TarInfo, root: Path, archive: Path) -> None:
    path = _checked_name(member.name, archive)
    target = root.joinpath(*path.parts)
    _inside(root, target, f"member {member.name!r}", archive)
    if member.isfile() or member.isdir():
        return
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname.replace("\\", "/"))
        if link.is_absolute():
            raise ArchiveError(
                f"{archive.name}: link {member.name!r} -> {member.linkname!r} is absolute; refusing it."
            )
        base = target.parent if member.issym() else root
        _inside(root, base.joinpath(*link.parts), f"link {member.name!r} -> {member.linkname!r}", archive)
        return
    raise ArchiveError(
        f"{archive.name}: member {member.name!r} is a device, fifo or other special file; refusing to extract it."
    )


# -- zip ---------------------------------------------------------------------------------------------
def _extract_zip(archive: Path, root: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                path = _checked_name(info.filename, archive)
                kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the writer recorded no type
                if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise ArchiveError(
                        f"{archive.name}: member {info.filename!r} is not a plain file; refusing it."
                    )
                target = root.joinpath(*path.parts)
                _inside(root, target, f"member {info.filename!r}", archive)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):  # counted as written: a zip's declared sizes may lie
                        budget.spend(len(chunk))
                        dst.write(chunk)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise _damaged(archive, exc) from exc
