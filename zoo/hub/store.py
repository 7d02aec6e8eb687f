"""The cache on disk: files stored by content, found by name.

Layout under ``ZOO_HOME``::

    CACHEDIR.TAG                      tells backup tools to skip the folder
    blobs/<sha256>/<filename>         a whole, verified file; more names for the same bytes are hard links
    blobs/<sha256>/.<filename>.json   where it came from (URL, size, when)
    blobs/<sha256>/..<filename>.<kind>.<ext> what a reader derived from the bytes (kinds: DERIVED_KINDS)
    partial/<key>.part (+ .part.json) a download to resume: bytes so far, URL, ETag/Last-Modified, offset
    partial/<key>.<host>.<pid>.<n>.tmp  the file one process is writing right now
    locks/<key>.lock                  one lock per file, so N processes download it once

A file reaches ``blobs/`` only through :meth:`Store.commit`, after its hash was checked, by
``os.replace`` from the same file system: a reader sees the whole file or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zoo.atomic import fsync_dir, host_tag, temp_name, temp_owner, write_json_atomic, write_text_atomic
from zoo.errors import IntegrityError, OptionError, ZooError
from zoo.hub.hashes import MIN_PREFIX, Digest, hash_file

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by zoo (the model zoo download cache).\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
_HEX = re.compile(r"^[0-9a-f]+\Z")
#: Kinds of record a reader may derive from a cached file's bytes and keep beside it, with their file
#: extension (see derived_record): where each tensor lies (zoo.applications.tensor_layout), and an aligned
#: copy of the tensors of a file whose own data is not aligned (torch's legacy format).
DERIVED_KINDS = {"tensors": "json", "aligned": "bin"}


def is_hex(text: str) -> bool:
    """Lowercase hex digits only: what a sha256, or a prefix of one, is spelt with."""
    return _HEX.match(text) is not None


def filename_from_url(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name:
        raise OptionError(f"cannot tell a file name from {url!r}; pass filename=...")
    return check_filename(name)


def check_filename(name: str) -> str:
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or name.startswith(".")
        or any(c in name for c in "/\\\0")
        or len(name) > 200
    ):
        raise OptionError(
            f"filename {name!r} cannot be a cache name: use a plain file name (no path separators, "
            "not starting with '.', at most 200 characters)."
        )
    return name


def download_key(filename: str, digest: Digest | None, url: str | None) -> str:
    """Names a download's partial file and lock: the same file wanted again maps to the same key."""
    if digest is None:
        tag = "u" + hashlib.sha256((url or "").encode()).hexdigest()[:15]
    elif digest.algorithm == "sha256":
        tag = digest.hex[:16]
    else:
        tag = f"{digest.algorithm}{digest.hex[:12]}"
    return f"{tag}-{filename[:100]}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_gone(path: Path, *, other_hosts: bool) -> bool:
    """The process that wrote the temp file ``path`` has ended: on this host, its pid is gone; on another,
    only the caller can know (``other_hosts``: it holds the file's lock, which the writer held throughout)."""
    owner = temp_owner(path)
    if owner is None:
        return False
    host, pid = owner
    if host == host_tag():
        return pid != os.getpid() and not pid_alive(pid)
    return other_hosts


def derived_record(path: Path, kind: str) -> Path:
    """Where what ``kind`` derives from the cached file ``path`` is kept: ``..<name>.<kind>.<ext>``.

    Two dots, because a cached name never starts with one: it cannot be mistaken for a name's own record
    (``.<name>.json``), whatever the names. Removed with the name; ``zoo cache prune`` keeps it meanwhile.
    """
    if kind not in DERIVED_KINDS:
        # invariant: every caller passes one of DERIVED_KINDS (zoo's own constants)
        raise ValueError(f"unknown derived record kind {kind!r}; known: {', '.join(DERIVED_KINDS)}")
    return path.with_name(f"..{path.name}.{kind}.{DERIVED_KINDS[kind]}")


def is_blob_folder(folder: Path) -> bool:
    """``folder`` is ``.../blobs/<sha256>``, the home of one cached content."""
    return folder.parent.name == "blobs" and len(folder.name) == 64 and _HEX.match(folder.name) is not None


def content_sha256(path: Path) -> str | None:
    """The full sha256 a cached file is filed under (its blob folder's name); None outside the cache."""
    return path.parent.name if is_blob_folder(path.parent) else None


def read_json(path: Path) -> dict | None:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class CachedFile:
    """One readable name in the cache."""

    filename: str
    sha256: str
    path: Path
    size: int
    url: str | None
    added: float

    def as_dict(self) -> dict:
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
            "url": self.url,
            "added": self.added,
            "path": str(self.path),
        }


class Store:
    """The cache folder; every method is safe to run from several processes at once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.partial = self.root / "partial"
        self.locks = self.root / "locks"

    def ensure(self) -> None:
        """Create the layout and the ``CACHEDIR.TAG`` (cheap when they exist)."""
        try:
            for folder in (self.blobs, self.partial, self.locks):
                folder.mkdir(parents=True, exist_ok=True)
            tag = self.root / "CACHEDIR.TAG"
            if not tag.exists():
                write_text_atomic(tag, CACHEDIR_TAG)
        except OSError as exc:
            raise ZooError(
                f"zoo's cache folder {self.root} cannot be used ({exc.strerror or exc}: {exc.filename}); set "
                "ZOO_HOME to a writable folder (see 'zoo cache dir')."
            ) from None

    # -- lookups --------------------------------------------------------------------------------------
    def _blob_dirs(self, sha256: str | None) -> list[Path]:
        if sha256 is not None and len(sha256) == 64:
            folder = self.blobs / sha256
            return [folder] if folder.is_dir() else []
        try:
            entries = list(os.scandir(self.blobs))
        except FileNotFoundError:
            return []
        return [
            Path(e.path)
            for e in entries
            if e.is_dir()
            and len(e.name) == 64
            and _HEX.match(e.name)
            and (sha256 is None or e.name.startswith(sha256))
        ]

    def find(
        self,
        filename: str,
        digest: Digest | None = None,
        urls: Sequence[str] | None = None,
        size: int | None = None,
    ) -> Path | None:
        """The cached file for ``filename`` with this hash (full or prefix) and ``size`` (when given),
        without any network.

        Without a hash, a file is only taken when it came from one of ``urls`` (when given), so two
        different files that share a name are not confused. Bytes cached under another name are linked
        to this name, not fetched again (for a sha256; another algorithm is looked up by name only).
        """
        if digest is not None and digest.sha256 is None:
            found = self._find_by_other_hash(filename, digest)
            return found if found is not None and _has_size(found, size) else None
        sha256 = digest.sha256 if digest is not None else None
        candidates = self._blob_dirs(sha256)
        named = [
            p for p in (d / filename for d in candidates) if p.is_file() and self._whole(p) and _has_size(p, size)
        ]
        if sha256 is None and urls is not None:
            wanted = set(urls)
            named = [p for p in named if wanted & _recorded_urls(self.source(p))]
        if len(named) == 1:  # the usual case: no stat needed to choose
            return named[0]
        if named:
            return max(named, key=lambda p: p.stat().st_mtime)
        if sha256 is None:
            return None
        for folder in candidates:
            for other in self._names_in(folder):
                if not (self._whole(other) and _has_size(other, size)):
                    continue
                with contextlib.suppress(OSError):
                    return self._add_name(other, filename, url=None)
        return None

    def _find_by_other_hash(self, filename: str, digest: Digest) -> Path | None:
        """A file named ``filename`` whose md5/sha1 (recorded at commit, else computed once and recorded)
        matches."""
        for folder in self._blob_dirs(None):
            path = folder / filename
            if not path.is_file() or not self._whole(path):
                continue
            record = self.source(path) or {}
            known = (record.get("hashes") or {}).get(digest.algorithm)
            if not isinstance(known, str):
                try:
                    known = hash_file(path, digest.algorithm)
                except OSError:
                    continue
                record.setdefault("hashes", {})[digest.algorithm] = known
                with contextlib.suppress(OSError):
                    write_json_atomic(path.with_name(f".{path.name}.json"), record)
            if digest.matches(known):
                return path
        return None

    def _whole(self, path: Path) -> bool:
        """``path`` has the size its record says the verified bytes had; a file cut short afterwards (an
        interrupted ``rsync`` of the cache, a full disk) is removed, so it downloads again instead of
        failing in every reader. One ``stat`` and a small read: a flipped bit is ``zoo cache verify``'s."""
        recorded = (self.source(path) or {}).get("size")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return False
        if not isinstance(recorded, int) or isinstance(recorded, bool) or recorded == size:
            return True
        self.remove(CachedFile(path.name, path.parent.name, path, size, url=None, added=0.0))
        return False

    def _names_in(self, folder: Path) -> list[Path]:
        try:
            return [Path(e.path) for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")]
        except FileNotFoundError:
            return []

    def source(self, path: Path) -> dict | None:
        return read_json(path.with_name(f".{path.name}.json"))

    def entries(self) -> Iterator[CachedFile]:
        for folder in sorted(self._blob_dirs(None)):
            for path in sorted(self._names_in(folder)):
                info = self.source(path) or {}
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                url, added = info.get("url"), info.get("added")
                yield CachedFile(
                    filename=path.name,
                    sha256=folder.name,
                    path=path,
                    size=stat.st_size,
                    url=url if isinstance(url, str) else None,  # a record edited by hand is only a hint
                    added=float(added) if isinstance(added, (int, float)) else stat.st_mtime,
                )

    def match(self, name: str) -> list[CachedFile]:
        """Entries whose file name is ``name`` or whose sha256 starts with ``name`` (>= 8 digits)."""
        lowered = name.lower()
        by_hash = len(lowered) >= MIN_PREFIX and is_hex(lowered)
        return [e for e in self.entries() if e.filename == name or (by_hash and e.sha256.startswith(lowered))]

    # -- writing --------------------------------------------------------------------------------------
    def temp_path(self, key: str) -> Path:
        """A file name in ``partial/`` no other process (on any host sharing the cache) will use."""
        self.ensure()
        return self.partial / temp_name(key)

    def commit(
        self,
        tmp: Path,
        sha256: str,
        filename: str,
        *,
        url: str | None,
        requested: Sequence[str] = (),
        hashes: dict[str, str] | None = None,
        verified: str | None = "sha256",
    ) -> Path:
        """Move a verified temp file into the cache (``os.replace``: atomic on one file system).

        Bytes the cache already holds under another name are hard-linked to the new name instead, so one
        content is stored once.
        """
        folder = self.blobs / sha256
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / filename
        for other in self._names_in(folder):
            if other.name != filename:
                shared = self.temp_path("dedup")
                try:
                    os.link(other, shared)
                except OSError:
                    break  # no hard links here: keep our own copy
                os.replace(shared, tmp)  # same verified bytes, stored once
                break
        os.replace(tmp, target)
        fsync_dir(folder)
        self._record(target, url, requested, hashes, verified)
        return target

    def _add_name(self, existing: Path, filename: str, *, url: str | None) -> Path:
        target = existing.with_name(filename)
        if target.is_file():
            return target
        tmp = self.temp_path("link")
        try:
            os.link(existing, tmp)
        except OSError:
            shutil.copyfile(existing, tmp)
        os.replace(tmp, target)
        self._record(target, url or (self.source(existing) or {}).get("url"))
        return target

    def _record(
        self,
        target: Path,
        url: str | None,
        requested: Sequence[str] = (),
        hashes: dict[str, str] | None = None,
        verified: str | None = "sha256",
    ) -> None:
        record = {
            "filename": target.name,
            "url": url,
            "urls": list(requested),
            "size": target.stat().st_size,
            "added": time.time(),
            "verified": verified,  # the algorithm the bytes were checked against before entering; None: none
        }
        if hashes:
            record["hashes"] = dict(hashes)
        with contextlib.suppress(OSError):
            write_json_atomic(target.with_name(f".{target.name}.json"), record)

    def add_file(
        self,
        source: Path,
        *,
        digest: Digest | None = None,
        filename: str | None = None,
        url: str | None = None,
        link: bool = False,
        size: int | None = None,
    ) -> Path:
        """Import a local file (copied by hand from a machine with network) after checking its hash (and
        ``size``, when given): a file that fails either never enters the cache.

        The bytes are copied, so later edits of ``source`` cannot change the cache. ``link=True`` hard-links
        instead where it can (for torch's hub cache, whose files torch replaces but never edits in place).
        """
        source = Path(source)
        if not source.is_file():
            raise ZooError(f"{source} is not a file; give the path of the file to put in the cache.")
        name = check_filename(source.name if filename is None else filename)  # "" is refused, not ignored
        self.ensure()
        tmp = self.temp_path(download_key(name, digest, url or str(source)))
        try:
            try:
                if not link:
                    raise OSError("copy requested")
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            if size is not None and (got_size := tmp.stat().st_size) != size:
                raise IntegrityError(
                    f"{source} has {got_size} bytes, expected {size}; it is not the file wanted (or it is cut "
                    "short), so it was not added to the cache."
                )
            actual = hash_file(tmp)
            other = {}
            if digest is not None and digest.algorithm != "sha256":
                other = {digest.algorithm: hash_file(tmp, digest.algorithm)}
            got = other.get(digest.algorithm, actual) if digest is not None else actual
            if digest is not None and not digest.matches(got):
                raise IntegrityError(
                    f"{source} has {digest.algorithm} {got}, expected {digest.hex}{'...' if digest.is_prefix else ''}; "
                    "it is not the file wanted (or it is damaged), so it was not added to the cache."
                )
            return self.commit(tmp, actual, name, url=url or source.resolve().as_uri(), hashes=other,
                               verified=digest.algorithm if digest is not None else "added by hand")  # fmt: skip
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def forget_unverified(self, path: Path) -> str | None:
        """Remove ``path`` from the cache if it was downloaded with no hash to check; its URL, else None."""
        if not is_blob_folder(path.parent) or not str(path.absolute()).startswith(str(self.blobs.absolute())):
            return None
        record = self.source(path) or {}
        if "verified" not in record or record["verified"] is not None:
            return None
        for entry in self.match(path.name):
            if entry.path == path:
                self.remove(entry)
        return record.get("url") or str(path)

    def remove(self, entry: CachedFile) -> int:
        """Delete one name; the blob folder goes when its last name does. Returns bytes freed."""
        others = [p for p in self._names_in(entry.path.parent) if p.name != entry.filename]
        freed = 0 if others else entry.size
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
        for record in (entry.path.with_name(f".{entry.filename}.json"),
                       *(derived_record(entry.path, kind) for kind in DERIVED_KINDS)):  # fmt: skip
            with contextlib.suppress(FileNotFoundError):
                record.unlink()
        if not self._names_in(entry.path.parent):
            shutil.rmtree(entry.path.parent, ignore_errors=True)
        return freed


def _has_size(path: Path, size: int | None) -> bool:
    return size is None or path.stat().st_size == size


def _recorded_urls(record: dict | None) -> set[str]:
    record = record or {}
    return {u for u in [record.get("url"), *(record.get("urls") or ())] if isinstance(u, str)}
