"""Start writing a growing file's bytes to disk while it is still being downloaded.

A download is fsynced before it enters the cache, so a power cut never leaves a verified name on
half-written bytes. Left alone, the kernel holds the whole file in dirty pages and that final fsync
waits for all of it (about 0.1 s per 256 MiB here: a quarter of a loopback download). Linux's
``sync_file_range(SYNC_FILE_RANGE_WRITE)`` starts that write-out without waiting for it (what RocksDB's
``bytes_per_sync`` does), so the disk works while the network does and the final fsync finds little
left. It is only a head start: the fsync stays, and where the call is missing (not Linux, no libc)
nothing changes but the timing.
"""

from __future__ import annotations

import contextlib
import sys

#: Start write-out after this many new bytes.
EVERY = 8 << 20
_SYNC_FILE_RANGE_WRITE = 2


def _load():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_sync_file_range = _load()


class Writeback:
    """Counts bytes written to one file; every :data:`EVERY` of them, starts their write-out."""

    def __init__(self) -> None:
        self._pending = 0

    def wrote(self, file, n: int) -> None:
        self._pending += n
        if self._pending < EVERY or _sync_file_range is None:
            return
        self._pending = 0
        with contextlib.suppress(OSError, ValueError):
            file.flush()
            _sync_file_range(file.fileno(), 0, 0, _SYNC_FILE_RANGE_WRITE)  # whole file; not waiting for it
