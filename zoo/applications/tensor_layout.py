"""Where each tensor of a cached ``torch.save`` file lies, so a warm load maps it without unpickling.

``torch.load(weights_only=True)`` runs a pure-Python unpickler over the file's pickle: 20 ms of a
resnet50's 40 ms load, every time, although the bytes in the cache never change. The first safe load of a
cached file therefore records, beside it, what safetensors keeps in its header: per tensor its dtype,
shape, stride and byte range in the file (plus the state dict's ``_metadata``). Later loads memory-map the
file once and cut the tensors out of it (1.5 ms for resnet50), the same copy-on-write mapping
``torch.load(mmap=True)`` makes.

Both of torch's formats are described: the zip archive of torch >= 1.6 and the older one torchvision's
oldest weights (VGG, DenseNet, the first ResNets) still use, which ``mmap=True`` cannot open at all: such a
file is read whole on its first load, and mapped on every later one. A record is written only when, at the
place the format puts each storage, the file's bytes equal those of the storage the safe load returned, so it
is right by construction; a file it cannot describe that way (compressed records, a format torch changes one
day) simply gets none. The old format does not align its data: where a storage does not start at a
multiple of its element size, the first load also writes the tensors' bytes once more, each storage at a
multiple of 64 bytes, to ``..<filename>.aligned.bin`` beside the file, and the record points into that
copy instead (the same bytes, taken from the safe load; it costs the file's size on disk once). Later loads
map the copy, never handing kernels an odd address; without a copy (it could not be written) each such
storage is copied out of the mapping, as every warm load of such a file did before.

Nothing in a record can run code, and a damaged one (byte ranges outside the file, unknown dtypes, sizes
torch's bounds checks refuse, a file changed since) is ignored: the file is read the ordinary way again and
the record rewritten. Only files in zoo's cache get one (never a user's own file), as
``..<filename>.tensors.json`` next to the name it describes.
"""

from __future__ import annotations

import json
import logging
import os
import pickletools
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

from zoo.atomic import atomic_open, write_json_atomic
from zoo.hub.store import derived_record, is_blob_folder

log = logging.getLogger("zoo.applications")

_FORMAT = 1
#: What a record may hold: plain numeric dtypes (no quantized ones, whose scale a record does not carry).
_DTYPES = {
    str(dtype).removeprefix("torch."): dtype
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64, torch.complex128,
                  torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
}  # fmt: skip
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then the name and extra-field lengths
#: Where each storage starts in an aligned copy: a multiple of this (what any kernel or SIMD load wants).
ALIGN = 64


def record_path(path: Path) -> Path | None:
    """The record's path for a file in zoo's cache (``blobs/<sha256>/<name>``), else None."""
    return derived_record(path, "tensors") if is_blob_folder(path.parent) else None


def aligned_path(path: Path) -> Path:
    """Where the aligned copy of a cached file's tensors goes (when its own data is not aligned)."""
    return derived_record(path, "aligned")


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None] | None:
    """The tensors of ``path`` and the state dict's ``_metadata`` from its record, or None when it has no
    usable record."""
    record_file = record_path(path)
    if record_file is None:
        return None
    try:
        record = json.loads(record_file.read_text())
        stat = os.stat(path)
        recorded = [record.get("format"), record.get("size"), record.get("mtime_ns")]
        if recorded != [_FORMAT, stat.st_size, stat.st_mtime_ns]:
            return None
        return _cut(path, record)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        log.debug("ignoring the tensor record of %s: %s", path, exc)
        return None


def _cut(path: Path, record: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    size, metadata = record["size"], record["metadata"]
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, dict) for v in metadata.values())
    ):
        # invariant: caught by load(), which then ignores the record and the file is read in full
        raise TypeError("metadata is not a dict of dicts")
    data = record.get("aligned")
    if data is not None:  # the ranges are in the aligned copy, which must be the one recorded
        path = aligned_path(path)
        stat = os.stat(path)
        if [data.get("size"), data.get("mtime_ns")] != [stat.st_size, stat.st_mtime_ns]:
            # invariant: caught by load(), as above
            raise ValueError("the aligned copy is not the one recorded")
        size = stat.st_size
    whole = torch.UntypedStorage.from_file(os.fspath(path), False, size)  # private: copy-on-write
    storages: dict[int, torch.UntypedStorage] = {}
    state: dict[str, torch.Tensor] = {}
    for name, (dtype_name, shape, stride, offset, start, nbytes) in record["tensors"].items():
        dtype = _DTYPES[dtype_name]
        numbers = [*shape, *stride, offset, start, nbytes]
        if not all(type(n) is int for n in numbers) or start < 0 or nbytes < 0 or start + nbytes > size:
            # invariant: caught by load(), as above
            raise ValueError(f"{name}: byte range {start}+{nbytes} is not inside the file")
        storage = storages.get(start)
        if storage is None:
            storage = whole[start : start + nbytes]
            if start % dtype.itemsize:  # kernels may assume aligned data: copy (when no aligned copy exists)
                storage = storage.clone()
            storages[start] = storage
        state[name] = torch.empty((0,), dtype=dtype).set_(storage, offset, shape, stride)  # checks the bounds
    return state, metadata


def save(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Record where ``state``'s tensors (just read from ``path`` by ``torch.load(weights_only=True)``) lie."""
    record_file = record_path(path)
    if record_file is None or not os.access(record_file.parent, os.W_OK):
        return  # a read-only cache still loads, only without the shortcut (and without checking every byte)
    try:
        record = _describe(path, state)
    except (OSError, ValueError, TypeError, RuntimeError, zipfile.BadZipFile) as exc:  # TypeError: metadata not JSON
        record = None
        log.debug("no tensor record for %s: %s", path, exc)
    if record is None:
        return
    if any(start % _DTYPES[dtype].itemsize for dtype, *_, start, _n in record["tensors"].values()):
        record = _with_aligned_copy(path, state, record)
    try:
        write_json_atomic(record_file, record, compact=True)
    except OSError as exc:
        log.debug("cannot write %s: %s", record_file, exc)


def _with_aligned_copy(path: Path, state: dict[str, torch.Tensor], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` pointing into a new aligned copy of ``state``'s storages (each at a multiple of
    :data:`ALIGN`), or as it was when the copy cannot be written (the warm load then copies in memory)."""
    moved: dict[int, int] = {}  # old start -> new start
    storages: dict[int, torch.UntypedStorage] = {}
    for (*_, start, _n), tensor in zip(record["tensors"].values(), state.values(), strict=True):
        storages.setdefault(start, tensor.untyped_storage())
    target = aligned_path(path)
    try:
        with atomic_open(target, "wb", fsync=True) as f:
            position = 0
            for start, storage in sorted(storages.items()):
                padding = -position % ALIGN
                f.write(b"\0" * padding)
                moved[start] = position = position + padding
                f.write(memoryview(_bytes(storage).numpy()))
                position += storage.nbytes()
        stat = os.stat(target)
    except OSError as exc:
        log.debug("no aligned copy of %s: %s", path, exc)
        return record
    tensors = {name: [*fields[:4], moved[fields[4]], fields[5]] for name, fields in record["tensors"].items()}
    return {**record, "tensors": tensors, "aligned": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}}


def _describe(path: Path, state: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    """Each storage's byte range in the file, found where the format says storages lie and accepted only
    where the file's bytes there equal the safely loaded storage's (so a record is right by construction)."""
    size = os.path.getsize(path)
    whole = torch.UntypedStorage.from_file(os.fspath(path), False, size)
    unplaced: dict[int, list[torch.UntypedStorage]] = {}  # by size in bytes
    element_size: dict[int, int] = {}  # by data_ptr
    for tensor in state.values():
        if (type(tensor) is not torch.Tensor or tensor.requires_grad or tensor.layout != torch.strided
                or tensor.dtype not in _DTYPES.values() or tensor.device.type != "cpu" or tensor.is_conj()
                or tensor.is_neg()):  # fmt: skip
            return None  # a record holds plain strided tensors only
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in element_size:
            unplaced.setdefault(storage.nbytes(), []).append(storage)
        element_size[storage.data_ptr()] = max(element_size.get(storage.data_ptr(), 1), tensor.element_size())
    starts: dict[int, int] = {}

    def place(start: int, nbytes: int) -> bool:
        """Find the unplaced storage whose bytes lie at ``start``; False when none does."""
        candidates = unplaced.get(nbytes, [])
        found = _bytes(whole[start : start + nbytes]) if start + nbytes <= size else None
        for n, storage in enumerate(candidates):
            if found is not None and torch.equal(found, _bytes(storage)):
                starts[storage.data_ptr()] = start
                del candidates[n]
                return True
        return False

    with open(path, "rb") as raw:
        if zipfile.is_zipfile(raw):
            regions = _zip_regions(raw)
            if regions is None or not all(place(start, nbytes) for start, nbytes in regions):
                return None
        elif not _walk_legacy(raw, size, place, element_sizes=sorted(set(element_size.values()))):
            return None
    if any(unplaced.values()):
        return None
    tensors = {}
    for name, tensor in state.items():
        storage = tensor.untyped_storage()
        tensors[name] = [str(tensor.dtype).removeprefix("torch."), list(tensor.shape), list(tensor.stride()),
                         tensor.storage_offset(), starts[storage.data_ptr()], storage.nbytes()]  # fmt: skip
    metadata = getattr(state, "_metadata", None)
    return {"format": _FORMAT, "size": size, "mtime_ns": os.stat(path).st_mtime_ns, "tensors": tensors,
            "metadata": json.loads(json.dumps(metadata)) if metadata is not None else None}  # fmt: skip


def _bytes(storage: torch.UntypedStorage) -> torch.Tensor:
    return torch.empty((0,), dtype=torch.uint8).set_(storage)


def _zip_regions(raw: BinaryIO) -> list[tuple[int, int]] | None:
    """(start, size) of each data record (``<archive>/data/<key>``) of torch's zip format, stored raw."""
    regions = []
    with zipfile.ZipFile(raw) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if len(parts) != 3 or parts[1] != "data":
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                return None
            raw.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
            if signature != b"PK\x03\x04":
                return None
            regions.append((info.header_offset + _LOCAL_HEADER.size + name_length + extra_length, info.file_size))
    return regions


def _walk_legacy(raw: BinaryIO, size: int, place: Callable[[int, int], bool], element_sizes: list[int]) -> bool:
    """torch's format before 1.6 (``_use_new_zipfile_serialization=False``, still the format of torchvision's
    oldest weights, VGG and DenseNet among them): five pickles (magic number, protocol, system info, the
    object, the storage keys), then each storage as an int64 element count and its bytes, back to back.
    The pickles are only stepped over (``pickletools.genops`` decodes opcodes, builds no object)."""
    raw.seek(0)
    for _ in range(5):
        for _op in pickletools.genops(raw):
            pass
    position = raw.tell()
    while position < size:
        raw.seek(position)
        header = raw.read(8)
        if len(header) != 8:
            return False
        count = int.from_bytes(header, sys.byteorder)
        start = position + 8
        nbytes = next((count * e for e in element_sizes if place(start, count * e)), None)
        if nbytes is None:
            return False
        position = start + nbytes
    return position == size
