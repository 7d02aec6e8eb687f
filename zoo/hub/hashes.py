"""Expected hashes: ``"sha256:<hex>"``, ``"md5:<hex>"``, ``"sha1:<hex>"`` (bare hex = sha256), pooch's way.

The cache files bytes under their sha256 whatever was expected: a download is hashed with sha256 always
and, when another algorithm was asked for, with that one too, in the same pass. A prefix of at least
:data:`MIN_PREFIX` digits is checked as a prefix (torchvision's file names carry 8 digits of the sha256).
torch.hub's rule for such names lives here as well (:func:`name_hash`).
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from dataclasses import dataclass, field

from zoo.errors import ArgumentError, OptionError

MIN_PREFIX = 8
#: Algorithm -> digest length in hex digits.
ALGORITHMS = {"sha256": 64, "sha1": 40, "md5": 32}
_HEX = re.compile(r"^[0-9a-f]+\Z")
# torch.hub.load_state_dict_from_url(check_hash=True): the digits between the last '-' before a '.' and it.
_NAME_HASH = re.compile(r"-([a-f0-9]*)\.")


@dataclass(frozen=True)
class Digest:
    """An expected hash: the algorithm and its hex digits (all of them, or a prefix)."""

    algorithm: str
    hex: str
    #: The digits came from the file name (torch.hub's rule), not from the caller.
    from_name: bool = field(default=False, compare=False)

    @property
    def is_prefix(self) -> bool:
        return len(self.hex) < ALGORITHMS[self.algorithm]

    @property
    def sha256(self) -> str | None:
        """The sha256 digits, when that is the algorithm (what the cache files bytes under)."""
        return self.hex if self.algorithm == "sha256" else None

    def matches(self, actual: str) -> bool:
        return actual.startswith(self.hex)

    def __str__(self) -> str:
        return self.hex if self.algorithm == "sha256" else f"{self.algorithm}:{self.hex}"

    def describe(self) -> str:
        """``sha256``, ``sha256 prefix (8 digits)``, ``md5`` ... for messages."""
        text = f"{self.algorithm} prefix ({len(self.hex)} digits)" if self.is_prefix else self.algorithm
        return f"{text}, read from the file name as torch.hub does," if self.from_name else text


def parse(value: str | None, *, argument: str = "hash") -> Digest | None:
    """``"md5:ab..."`` -> ``Digest("md5", "ab...")``; bare hex is sha256; ``None`` stays ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentError(f"{argument} must be a hex string such as 'sha256:<hex>', got {type(value).__name__}.")
    text = value.strip().lower()
    algorithm, sep, digits = text.partition(":")
    if not sep:
        algorithm, digits = "sha256", text
    if algorithm not in ALGORITHMS:
        raise OptionError(
            f"{argument}={value!r}: unknown hash algorithm {algorithm!r}; use one of "
            f"{', '.join(f'{a}:<hex>' for a in ALGORITHMS)} (bare hex means sha256)."
        )
    length = ALGORITHMS[algorithm]
    if not _HEX.match(digits) or not MIN_PREFIX <= len(digits) <= length:
        raise OptionError(
            f"{argument}={value!r} is not a {algorithm} hex digest: give the {length} hex digits, or a prefix "
            f"of at least {MIN_PREFIX} (as in torchvision file names such as resnet50-11ad3fa6.pth)."
        )
    return Digest(algorithm, digits)


def expected(sha256: str | None, known_hash: str | None) -> Digest | None:
    """The one expected hash of a call that may name it as ``sha256=`` or ``known_hash=``."""
    if sha256 is not None and known_hash is not None:
        raise OptionError("give the expected hash once: sha256=... or known_hash=..., not both.")
    if sha256 is not None:
        digest = parse(sha256, argument="sha256")
        if digest.algorithm != "sha256":
            raise OptionError(f"sha256={sha256!r} names {digest.algorithm}; pass it as known_hash={sha256!r}.")
        return digest
    return parse(known_hash, argument="known_hash")


def name_hash(filename: str) -> Digest | None:
    """The sha256 prefix a torch.hub-style name carries (``resnet18-f37072fd.pth`` -> ``f37072fd``).

    torch.hub's own rule (``-<hex>.`` anywhere in the name), kept to prefixes of at least
    :data:`MIN_PREFIX` digits so that names like ``data-2024.csv`` are not taken for hashes.
    """
    match = _NAME_HASH.search(filename)
    if match is None or not MIN_PREFIX <= len(match.group(1)) <= 64:
        return None
    return Digest("sha256", match.group(1), from_name=True)


class Hasher:
    """sha256 of the bytes (the cache's key) and, when another algorithm is expected, that one too."""

    def __init__(self, extra: str | None = None) -> None:
        self._sha256 = hashlib.sha256()
        self._extra = hashlib.new(extra, usedforsecurity=False) if extra and extra != "sha256" else None
        self.algorithm = extra or "sha256"

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        if self._extra is not None:
            self._extra.update(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def hexdigest(self, algorithm: str) -> str:
        if algorithm == "sha256":
            return self.sha256
        if self._extra is None or self.algorithm != algorithm:
            # invariant: fetch asks only for the algorithm the Hasher was built for (the expected digest's)
            raise ValueError(f"this hasher does not compute {algorithm}")
        return self._extra.hexdigest()


class BackgroundHasher:
    """A :class:`Hasher` fed by a worker thread, so a download hashes one chunk while it receives the next.

    hashlib releases the GIL while it hashes a large buffer, so receiving, writing and hashing overlap: a
    download costs about the longest of them instead of their sum (sha256 was the largest single cost of
    a loopback download). Chunks wait in a bounded queue (``depth`` of them), so memory stays bounded
    when hashing falls behind. Reading a digest first waits for every chunk given; :meth:`close` stops the
    worker of a download given up.
    """

    def __init__(self, extra: str | None = None, *, depth: int = 8) -> None:
        self._hasher = Hasher(extra)
        self.algorithm = self._hasher.algorithm
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None

    def update(self, chunk: bytes) -> None:
        if not isinstance(chunk, bytes):
            chunk = bytes(chunk)  # the caller may reuse a mutable buffer before the worker reads it
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="zoo-hash", daemon=True)
            self._thread.start()
        self._queue.put(chunk)

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hasher.update(chunk)

    def close(self) -> None:
        """Wait until every chunk given is hashed, and end the worker."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    @property
    def sha256(self) -> str:
        self.close()
        return self._hasher.sha256

    def hexdigest(self, algorithm: str) -> str:
        self.close()
        return self._hasher.hexdigest(algorithm)


def hash_file(path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
