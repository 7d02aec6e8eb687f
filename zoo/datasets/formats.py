"""Parsers for the datasets' real on-disk formats: IDX (gzip), CIFAR binary records, and npz.

Nothing here unpickles freely. Numeric npz members load with ``allow_pickle=False``; the ragged
sequences of imdb.npz / reuters.npz are object arrays, which numpy can only store as a pickle stream, so
they go through :class:`RestrictedUnpickler`, which admits numpy's array-reconstruction helpers and
nothing else: a tampered file cannot reach ``os.system`` or any other callable.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ZooError


class FormatError(ZooError):
    """A file is not in the format its dataset promises (damaged, truncated or tampered with)."""


# -- IDX -----------------------------------------------------------------------------------------------
# http://yann.lecun.com/exdb/mnist/: magic = 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 20


def read_idx_header(stream: io.BufferedIOBase, name: str) -> tuple[np.dtype, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) != 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES or magic[3] == 0:
        raise FormatError(f"{name} is not an IDX file (bad magic number {magic.hex() or 'empty'}).")
    ndim = magic[3]
    raw = stream.read(4 * ndim)
    if len(raw) != 4 * ndim:
        raise FormatError(f"{name}: the IDX header is truncated.")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4"))
    return np.dtype(_IDX_TYPES[magic[2]]), shape


def idx_to_npy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> tuple[int, ...]:
    """Decompress a (gzipped) IDX file straight into a ``.npy`` file, chunk by chunk, so that the data
    can afterwards be memory-mapped; returns the array's shape. ``target`` is written whole or not at all
    by the caller (it writes into a temporary folder)."""
    source = Path(source)
    with open(source, "rb") as head:
        opener = gzip.open if head.read(2) == b"\x1f\x8b" else open
    try:
        with opener(source, "rb") as stream:
            dtype, shape = read_idx_header(stream, source.name)
            out = np.lib.format.open_memmap(target, mode="w+", dtype=dtype.newbyteorder("="), shape=shape)
            flat = out.reshape(-1)
            done, total, item = 0, flat.size, dtype.itemsize
            while done < total:
                want = min(total - done, max(1, _CHUNK // item))
                raw = stream.read(want * item)
                if len(raw) != want * item:
                    raise FormatError(
                        f"{source.name}: the IDX data is truncated ({done + len(raw) // item} of {total} values)."
                    )
                flat[done : done + want] = np.frombuffer(raw, dtype)
                done += want
            if stream.read(1):
                raise FormatError(f"{source.name}: unexpected bytes after the IDX data (shape {shape}).")
            out.flush()
            del flat, out
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise FormatError(f"{source.name} is damaged (truncated or corrupt gzip: {exc}).") from exc
    return shape


# -- CIFAR binary ---------------------------------------------------------------------------------------
# https://www.cs.toronto.edu/~kriz/cifar.html: each record is <label bytes><3072 pixel bytes>, the pixels
# being the red, green then blue 32x32 planes, row-major: exactly (3, 32, 32).
CIFAR_PIXELS = 3 * 32 * 32


def cifar_to_npy(files: list[Path], label_bytes: int, images_path: Path, labels_path: Path) -> int:
    """Write the records of CIFAR binary batch files as ``images (N, 3, 32, 32) uint8`` and
    ``labels (N, label_bytes) uint8`` ``.npy`` files, one input file at a time; returns N.

    CIFAR-10 records carry one label byte; CIFAR-100 records carry two (coarse, then fine)."""
    record = label_bytes + CIFAR_PIXELS
    counts = []
    for path in files:
        size = path.stat().st_size
        if size == 0 or size % record:
            raise FormatError(
                f"{path.name}: {size} bytes is not a whole number of {record}-byte CIFAR records "
                "(truncated, or not the binary version)."
            )
        counts.append(size // record)
    n = sum(counts)
    images = np.lib.format.open_memmap(images_path, mode="w+", dtype=np.uint8, shape=(n, 3, 32, 32))
    labels = np.lib.format.open_memmap(labels_path, mode="w+", dtype=np.uint8, shape=(n, label_bytes))
    start = 0
    for path, count in zip(files, counts, strict=True):
        raw = np.memmap(path, np.uint8, mode="r", shape=(count, record))
        labels[start : start + count] = raw[:, :label_bytes]
        images[start : start + count] = raw[:, label_bytes:].reshape(count, 3, 32, 32)
        start += count
        del raw
    images.flush()
    labels.flush()
    del images, labels
    return n


# -- npz -----------------------------------------------------------------------------------------------
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),  # files written by numpy < 2
        ("numpy._core.multiarray", "_reconstruct"),  # and by numpy >= 2
        ("_codecs", "encode"),  # how pickle protocol 2 spells bytes under Python 3; a pure function
    }
)
_MAX_MEMBER_BYTES = 4 << 30  # a member declaring more than this and 100x its stored size is a zip bomb


class RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds numpy object arrays (of lists of ints) and refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: only numpy arrays may be rebuilt from a dataset file."
        )


def _read_npy(stream: io.BytesIO, member: str, source: str) -> np.ndarray:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    try:
        array = RestrictedUnpickler(stream).load()
    except pickle.UnpicklingError as exc:
        raise FormatError(
            f"{source}: member {member!r} was refused ({exc}). The file may be tampered with."
        ) from exc
    except Exception as exc:  # noqa: BLE001 - any other failure means a damaged stream
        raise FormatError(f"{source}: member {member!r} is damaged ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise FormatError(f"{source}: member {member!r} does not hold the array its header declares.")
    return array


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, without arbitrary unpickling (see :class:`RestrictedUnpickler`)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                if info.file_size > _MAX_MEMBER_BYTES and info.file_size > 100 * max(info.compress_size, 1):
                    raise FormatError(
                        f"{path.name}: member {info.filename!r} looks like a decompression bomb."
                    )
                stream = io.BytesIO(zf.read(info))
                arrays[info.filename[: -len(".npy")]] = _read_npy(stream, info.filename, path.name)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise FormatError(f"{path.name} is damaged (not a whole npz/zip file: {exc}).") from exc
    except ValueError as exc:  # numpy's header parser
        raise FormatError(f"{path.name} is damaged (bad .npy header: {exc}).") from exc
    return arrays


def require(arrays: dict[str, np.ndarray], keys: tuple[str, ...], source: str) -> None:
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise FormatError(f"{source} lacks the arrays {missing}; found {sorted(arrays)}.")
