"""A compact, pickle-free file format for sparse state dicts, so a compression rate can be measured in bytes.

Each tensor is stored in whichever of three layouts is smallest for it:

* ``dense``: the raw bytes;
* ``bitmap``: one bit per entry saying "non-zero", then the non-zero values;
* ``relative``: the non-zero values, each with a one-byte gap to the previous one (Han et al.'s
  relative indexing, "Deep Compression", 2016); a gap over 256 is bridged with explicit zero fillers.

Layout: ``b"ZSPR"``, a version byte, a little-endian u32 header length, a UTF-8 JSON header (names,
dtypes, shapes, layouts, byte lengths), then the payloads in header order. Decoding never unpickles.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

import zoo
from zoo.plugin import write_bytes_atomic

__all__ = ["decode", "encode", "load", "save"]

MAGIC = b"ZSPR"
VERSION = 1
_MAX_GAP = 256  # a u8 holds gap - 1


def _raw_rows(tensor: torch.Tensor) -> np.ndarray:
    """The tensor as a (numel, itemsize) uint8 array: works for every dtype, bfloat16 included."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().reshape(flat.numel(), flat.element_size())


def _relative(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u8 gap codes, index of the real entry behind each code or -1 for a filler)."""
    gaps = np.diff(np.concatenate(([-1], positions)))
    fillers = (gaps - 1) // _MAX_GAP
    lengths = fillers + 1
    ends = np.cumsum(lengths) - 1
    codes = np.full(int(lengths.sum()), _MAX_GAP - 1, dtype=np.uint8)
    codes[ends] = gaps - _MAX_GAP * fillers - 1
    source = np.full(codes.size, -1, dtype=np.int64)
    source[ends] = np.arange(positions.size)
    return codes, source


def _encode_tensor(tensor: torch.Tensor) -> tuple[dict, list[bytes]]:
    rows = _raw_rows(tensor)
    numel, itemsize = rows.shape
    positions = torch.nonzero(tensor.detach().cpu().reshape(-1)).reshape(-1).numpy()
    values = rows[positions]
    codes, source = _relative(positions)
    filled = np.zeros((codes.size, itemsize), dtype=np.uint8)
    filled[source >= 0] = values
    sizes = {
        "dense": numel * itemsize,
        "bitmap": (numel + 7) // 8 + values.size,
        "relative": codes.size * (1 + itemsize),
    }
    layout = min(sizes, key=sizes.__getitem__)
    if layout == "dense":
        parts = [rows.tobytes()]
    elif layout == "bitmap":
        mask = np.zeros(numel, dtype=bool)
        mask[positions] = True
        parts = [np.packbits(mask).tobytes(), values.tobytes()]
    else:
        parts = [codes.tobytes(), filled.tobytes()]
    meta = {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "shape": list(tensor.shape),
        "layout": layout,
        "entries": int(codes.size) if layout == "relative" else int(positions.size),
        "lengths": [len(p) for p in parts],
    }
    return meta, parts


def encode(state_dict: Mapping[str, torch.Tensor]) -> bytes:
    """The bytes of ``state_dict`` in the sparse format; ``len()`` of it is the real stored size."""
    header: dict[str, list] = {"tensors": []}
    payload: list[bytes] = []
    for name, tensor in state_dict.items():
        if not isinstance(tensor, torch.Tensor):
            raise zoo.ArgumentError(f"state dict entry {name!r} is a {type(tensor).__name__}, not a tensor")
        meta, parts = _encode_tensor(tensor)
        header["tensors"].append({"name": name, **meta})
        payload.extend(parts)
    head = json.dumps(header, separators=(",", ":")).encode()
    return b"".join([MAGIC, struct.pack("<BI", VERSION, len(head)), head, *payload])


def _dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise zoo.DataError(f"sparse file names unknown dtype {name!r}")
    return dtype


def decode(data: bytes) -> dict[str, torch.Tensor]:
    """The state dict ``encode`` wrote; raises ``zoo.DataError`` (a ``ValueError``) on anything
    that is not a whole, valid file."""
    view = memoryview(data)
    if bytes(view[:4]) != MAGIC or len(view) < 9:
        raise zoo.DataError("not a zoo-surgery sparse file (bad magic bytes)")
    version, head_len = struct.unpack("<BI", view[4:9])
    if version != VERSION:
        raise zoo.DataError(f"sparse file version {version} is not supported (this reader knows {VERSION})")
    try:
        header = json.loads(bytes(view[9 : 9 + head_len]))
    except ValueError as exc:
        raise zoo.DataError(f"sparse file header is corrupt: {exc}") from exc
    try:
        return _decode_tensors(view, header, 9 + head_len)
    except (KeyError, TypeError, IndexError) as exc:
        raise zoo.DataError(f"sparse file header is malformed ({type(exc).__name__}: {exc})") from exc


def _decode_tensors(view: memoryview, header: dict, offset: int) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for meta in header["tensors"]:
        parts = []
        for length in meta["lengths"]:
            if offset + length > len(view):
                raise zoo.DataError(f"sparse file is truncated inside tensor {meta['name']!r}")
            parts.append(np.frombuffer(view[offset : offset + length], dtype=np.uint8))
            offset += length
        dtype = _dtype(meta["dtype"])
        numel = int(np.prod(meta["shape"], dtype=np.int64))
        itemsize = torch.empty((), dtype=dtype).element_size()
        rows = np.zeros((numel, itemsize), dtype=np.uint8)
        if meta["layout"] == "dense":
            rows[:] = parts[0].reshape(numel, itemsize)
        elif meta["layout"] == "bitmap":
            mask = np.unpackbits(parts[0], count=numel).astype(bool)
            rows[mask] = parts[1].reshape(-1, itemsize)
        elif meta["layout"] == "relative":
            positions = np.cumsum(parts[0].astype(np.int64) + 1) - 1
            if positions.size and positions[-1] >= numel:
                raise zoo.DataError(f"sparse file indices run past tensor {meta['name']!r}")
            rows[positions] = parts[1].reshape(-1, itemsize)
        else:
            raise zoo.DataError(f"unknown layout {meta['layout']!r} for tensor {meta['name']!r}")
        tensor = torch.from_numpy(rows.reshape(-1)).view(dtype).reshape(meta["shape"])
        out[meta["name"]] = tensor.clone()
    if offset != len(view):
        raise zoo.DataError(f"sparse file has {len(view) - offset} unexpected trailing bytes")
    return out


def save(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike) -> int:
    """Write ``encode(state_dict)`` to ``path`` atomically (never a partial file); returns its size."""
    data = encode(state_dict)
    write_bytes_atomic(path, data, fsync=True)
    return len(data)


def load(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a file written by :func:`save`."""
    return decode(Path(path).read_bytes())
