"""A compact, pickle-free file format for sparse state dicts, so a compression rate can be measured in bytes.

Each tensor is stored in whichever of three layouts is smallest for it:

* ``dense``: the raw bytes;
* ``bitmap``: one bit per entry saying "non-zero", then the non-zero values;
* ``relative``: the non-zero values, each with a one-byte gap to the previous one (Han et al.'s
  relative indexing, "Deep Compression", 2016); a gap over 256 is bridged with explicit zero fillers.

Layout: ``b"ZSPR"``, a version byte, the SHA-256 of everything after it (32 bytes), a little-endian u32
header length, a UTF-8 JSON header (names, dtypes, shapes, layouts, byte lengths), then the payloads in
header order. Decoding never unpickles. The digest is there because a flipped bit in a value would
otherwise decode to a plausible, wrong weight; it covers the header too, so a changed name or shape is
caught as well. Version 1 files (written before the digest) still decode, unchecked.
"""

from __future__ import annotations

import hashlib
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
VERSION = 2
_READS = (1, 2)  # version 1: no digest
_DIGEST = 32  # bytes of a SHA-256
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
    if not isinstance(state_dict, Mapping):
        raise zoo.ArgumentError(
            f"expected a state dict (a mapping of names to tensors, e.g. model.state_dict()), got "
            f"{type(state_dict).__name__}"
        )
    header: dict[str, list] = {"tensors": []}
    payload: list[bytes] = []
    for name, tensor in state_dict.items():
        if not isinstance(name, str):
            raise zoo.ArgumentError(f"state dict keys must be strings, got {name!r} ({type(name).__name__})")
        if not isinstance(tensor, torch.Tensor):
            raise zoo.ArgumentError(f"state dict entry {name!r} is a {type(tensor).__name__}, not a tensor")
        meta, parts = _encode_tensor(tensor)
        header["tensors"].append({"name": name, **meta})
        payload.extend(parts)
    head = json.dumps(header, separators=(",", ":")).encode()
    body = b"".join([struct.pack("<I", len(head)), head, *payload])
    return b"".join([MAGIC, struct.pack("<B", VERSION), hashlib.sha256(body).digest(), body])


def _dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise zoo.DataError(f"sparse file names unknown dtype {name!r}")
    return dtype


def decode(data: bytes) -> dict[str, torch.Tensor]:
    """The state dict ``encode`` wrote; raises ``zoo.DataError`` (a ``ValueError``) on anything
    that is not a whole, valid file."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise zoo.ArgumentError(
            f"decode takes the bytes of a sparse file, got {type(data).__name__}; to read a file use "
            f"zoo_surgery.sparse.load(path)"
        )
    view = memoryview(data).cast("B")
    if bytes(view[:4]) != MAGIC or len(view) < 5:
        raise zoo.DataError("not a zoo-surgery sparse file (bad magic bytes)")
    version = view[4]
    if version not in _READS:
        raise zoo.DataError(
            f"sparse file version {version} is not supported (this reader knows {', '.join(map(str, _READS))})"
        )
    body = 5 + (_DIGEST if version >= 2 else 0)
    if len(view) < body + 4:
        raise zoo.DataError("sparse file is truncated inside its header")
    (head_len,) = struct.unpack("<I", view[body : body + 4])
    offset = body + 4 + head_len
    try:
        header = json.loads(bytes(view[body + 4 : offset]))
    except ValueError as exc:
        raise zoo.DataError(f"sparse file header is corrupt: {exc}") from exc
    try:
        end = offset + sum(_lengths(header))
        if end > len(view):
            raise zoo.DataError(f"sparse file is truncated: {end - len(view)} bytes missing")
        if end < len(view):
            raise zoo.DataError(f"sparse file has {len(view) - end} unexpected trailing bytes")
        if version >= 2 and hashlib.sha256(view[body:]).digest() != bytes(view[5:body]):
            raise zoo.DataError(
                "sparse file is damaged: its SHA-256 does not match the digest it was written with; "
                "save it again from the model"
            )
        return _decode_tensors(view, header, offset)
    except zoo.DataError:
        raise
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
        raise zoo.DataError(f"sparse file header is malformed ({type(exc).__name__}: {exc})") from exc


def _lengths(header: dict) -> list[int]:
    """Every payload's byte length, as the header lists them: what the file's size must add up to."""
    lengths = [length for meta in header["tensors"] for length in meta["lengths"]]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths):
        raise zoo.DataError("sparse file header is malformed (a payload length is not a whole number >= 0)")
    return lengths


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


def _path(path: object, function: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise zoo.ArgumentError(
            f"sparse.{function} takes a file path (str or os.PathLike), got {type(path).__name__}"
        )
    return Path(path).expanduser()


def save(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike) -> int:
    """Write ``encode(state_dict)`` to ``path`` atomically (never a partial file); returns its size."""
    target = _path(path, "save")
    if target.is_dir():
        raise zoo.OptionError(
            f"cannot save to {path}: it is a folder; give a file path such as {target / 'model.zspr'}"
        )
    if not target.parent.exists():  # a file in its place is zoo's writer's own error
        raise zoo.MissingFileError(
            f"cannot save to {path}: folder {target.parent} does not exist; create it first"
        )
    data = encode(state_dict)  # after the path checks: a bad path costs no encode
    write_bytes_atomic(target, data, fsync=True)
    return len(data)


def load(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a file written by :func:`save`."""
    source = _path(path, "load")
    if source.is_dir():
        raise zoo.OptionError(
            f"cannot load {path}: it is a folder, not a sparse file; give the .zspr file's path"
        )
    if not source.is_file():
        raise zoo.MissingFileError(f"no sparse file at {path}; check the path (sparse.save writes one)")
    return decode(source.read_bytes())
