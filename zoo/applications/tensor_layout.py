"""Where each tensor of a cached ``torch.save`` file lies, so a warm load maps it without unpickling.

``torch.load(weights_only=True)`` runs a pure-Python unpickler over the file's pickle: 20 ms of a
resnet50's 40 ms load, every time, although the bytes in the cache never change. The first safe load of a
cached file therefore records, beside it, what safetensors keeps in its header: per tensor its dtype,
shape, stride and byte range in the file (plus the state dict's ``_metadata``). Later loads memory-map the
file once and cut the tensors out of it (1.5 ms for resnet50), the same copy-on-write mapping
``torch.load(mmap=True)`` makes.

The record is only derived from what the safe load returned and checked against the zip's own offsets; a
file it cannot describe exactly (another byte order, compressed records, a layout torch changes one day)
simply gets no record. Nothing in it can run code: a damaged record fails torch's bounds checks and the
file is read the ordinary way again. Only files in zoo's cache get one (never a user's own file), as
``.<filename>.tensors.json`` next to the name it describes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger("zoo.applications")

_FORMAT = 1
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then the name and extra-field lengths


def record_path(path: Path) -> Path | None:
    """The record's path for a file in zoo's cache (``blobs/<sha256>/<name>``), else None."""
    folder = path.parent
    if folder.parent.name != "blobs" or len(folder.name) != 64:
        return None
    return path.with_name(f".{path.name}.tensors.json")


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None] | None:
    """The tensors of ``path`` and the state dict's ``_metadata`` from its record, or None when it has no
    usable record."""
    record_file = record_path(path)
    if record_file is None:
        return None
    try:
        record = json.loads(record_file.read_text())
        if record.get("format") != _FORMAT or record.get("size") != os.path.getsize(path):
            return None
        return _cut(path, record)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        log.debug("ignoring the tensor record of %s: %s", path, exc)
        return None


def _cut(path: Path, record: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    whole = torch.UntypedStorage.from_file(os.fspath(path), False, record["size"])  # private: copy-on-write
    storages: dict[int, torch.UntypedStorage] = {}
    state: dict[str, torch.Tensor] = {}
    for name, (dtype_name, shape, stride, offset, start, nbytes) in record["tensors"].items():
        dtype = getattr(torch, dtype_name)
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"{dtype_name!r} is not a torch dtype")
        storage = storages.get(start)
        if storage is None:
            storage = storages[start] = whole[start : start + nbytes]
        state[name] = torch.empty((0,), dtype=dtype).set_(storage, offset, shape, stride)
    return state, record["metadata"]


def save(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Record where ``state``'s tensors (just loaded from ``path`` with ``mmap=True``) lie in the file."""
    record_file = record_path(path)
    if record_file is None:
        return
    try:
        record = _describe(path, state)
    except (OSError, ValueError, TypeError, zipfile.BadZipFile) as exc:  # TypeError: metadata not JSON
        record = None
        log.debug("no tensor record for %s: %s", path, exc)
    if record is None:
        return
    tmp = record_file.with_name(f"{record_file.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):  # a read-only cache still loads, only without the shortcut
        tmp.write_text(json.dumps(record, separators=(",", ":")))
        os.replace(tmp, record_file)
    with contextlib.suppress(OSError):
        tmp.unlink()


def _describe(path: Path, state: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    offsets = _storage_offsets(path)
    if offsets is None:
        return None
    # torch.load(mmap=True) cuts every storage out of one mapping of the file, in file order: the k-th
    # storage by address is the k-th data record by offset, and address - offset is the same for all.
    by_address: dict[int, int] = {}
    for tensor in state.values():
        if tensor.layout != torch.strided or tensor.is_quantized or tensor.device.type != "cpu":
            return None
        storage = tensor.untyped_storage()
        by_address[storage.data_ptr()] = storage.nbytes()
    addresses = sorted(by_address)
    if len(addresses) != len(offsets) or 0 in by_address.values():
        return None
    base = addresses[0] - offsets[0]
    if any(address - base != offset for address, offset in zip(addresses, offsets, strict=True)):
        return None
    tensors = {}
    for name, tensor in state.items():
        storage = tensor.untyped_storage()
        start = storage.data_ptr() - base
        tensors[name] = [str(tensor.dtype).removeprefix("torch."), list(tensor.shape), list(tensor.stride()),
                         tensor.storage_offset(), start, storage.nbytes()]  # fmt: skip
    metadata = getattr(state, "_metadata", None)
    return {"format": _FORMAT, "size": os.path.getsize(path), "tensors": tensors,
            "metadata": json.loads(json.dumps(metadata)) if metadata is not None else None}  # fmt: skip


def _storage_offsets(path: Path) -> list[int] | None:
    """Byte offsets of the data records (``<archive>/data/<key>``) in file order, if all are stored raw."""
    offsets = []
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if len(parts) == 2 and parts[1] == "byteorder" and archive.read(info).decode() != sys.byteorder:
                return None
            if len(parts) != 3 or parts[1] != "data":
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                return None
            raw.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
            if signature != b"PK\x03\x04":
                return None
            offsets.append(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    return sorted(offsets)
