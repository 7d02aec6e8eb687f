"""Read a weights file into a flat ``{name: tensor}`` dict without ever running code from it.

``torch.load(..., weights_only=True)`` restricts unpickling to tensors and plain containers, so a file
whose pickle would call ``os.system`` (or anything else) is refused before any of it runs. ``mmap=True``
maps the tensors from the file instead of reading them, which is where most of the load-time win over
``torchvision.models.NAME(weights=...)`` comes from; the mapping is copy-on-write, so training the loaded
model never writes to the cached file. Once a cached file has been read this way, later loads take its
tensors from the layout recorded beside it (:mod:`zoo.applications.tensor_layout`) and skip the unpickler.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zoo.applications import tensor_layout, weights_file
from zoo.errors import DataError, MissingFileError


class WeightsFileError(DataError):
    """A weights file that is unsafe, unreadable or does not fit the architecture: a ``DataError`` like
    every other file that does not hold what it was given as (``zoo.models.saving``'s readers)."""


class MissingWeightsFileError(WeightsFileError, MissingFileError):
    """``weights=PATH`` where nothing is: caught as a ``WeightsFileError`` and, as every missing file given
    by path, as a ``zoo.MissingFileError`` (a ``FileNotFoundError``)."""


# torchvision's DenseNet files predate the rule against '.' in module names ('norm.1' -> 'norm1').
_DENSENET_LEGACY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
_NESTED_KEYS = ("state_dict", "model_state_dict", "model")


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors in ``path``: a ``torch.save``-d state dict (or a checkpoint dict holding one under
    ``state_dict``/``model_state_dict``/``model``), or a safetensors file.

    Anything else raises :class:`WeightsFileError` saying what the file is (empty, an HTML page, JSON, a
    truncated zip, a pickle that would run code, a whole pickled model ...). A file the cache downloaded
    without a hash to check is removed from the cache then, so that the next call downloads it again
    instead of reusing, say, a server's error page."""
    path = Path(path)
    try:
        return _read(path)
    except WeightsFileError as exc:
        raise _with_eviction(path, exc) from None


def _read(path: Path) -> dict[str, torch.Tensor]:
    head, size = _head(path)
    if path.suffix == ".safetensors" or weights_file.looks_like_safetensors(head, size):
        return _load_safetensors(path)
    recorded = tensor_layout.load(path)
    if recorded is not None:
        return _attach(*recorded)
    if not (head.startswith(b"PK") or weights_file.is_legacy_torch(head)):
        raise _refusal(path)  # not something torch.save writes: no need to ask torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc) or head.startswith(b"PK"):
            raise _refusal(path) from None
        # Files written before torch 1.6 (not zip-based) cannot be memory-mapped; read them whole.
        obj = _load_whole(path)
    except Exception:  # noqa: BLE001 - torch.load raises a dozen types for bad bytes; the file is described
        raise _refusal(path) from None
    state = _flat_tensors(obj, path)
    tensor_layout.save(path, state)
    return state


def _head(path: Path) -> tuple[bytes, int]:
    try:
        with open(path, "rb") as f:
            return f.read(16), os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise WeightsFileError(f"cannot read weights file {path}: {exc.strerror or exc}") from None


def _load_whole(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - as above
        raise _refusal(path) from None


def _refusal(path: Path) -> WeightsFileError:
    return WeightsFileError(
        f"{path} is not a weights file: it is {weights_file.describe(path)}. zoo reads state dicts saved with "
        "torch.save(model.state_dict(), path) and .safetensors files, and never unpickles other objects."
    )


def _with_eviction(path: Path, exc: WeightsFileError) -> WeightsFileError:
    from zoo import hub

    url = hub.forget_unverified(path)
    if url is None and hub.content_sha256(path) is not None:
        return WeightsFileError(
            f"{exc} The file is in zoo's cache, whose bytes were verified when they entered: if they were "
            "damaged since, 'zoo cache verify --fix' finds and removes them (they download again)."
        )
    if url is None:
        return exc
    return WeightsFileError(
        f"{exc} It was downloaded from {url} with no hash to check, so it has been removed from the zoo "
        "cache (the next call downloads it again); pass sha256= to have the download itself verified."
    )


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError:
        raise WeightsFileError(f"{path} is a safetensors file; install the 'safetensors' package to read it.") from None
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        if weights_file.is_torch_file(path):
            raise WeightsFileError(
                f"{path} is a torch file (torch.save's format) named like safetensors: rename it to .pt (or "
                "write safetensors with safetensors.torch.save_file) and load it again."
            ) from None
        raise WeightsFileError(
            f"{path} is not a readable safetensors file ({_first_line(exc)}): it is {weights_file.describe(path)}."
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _flat_tensors(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and not _all_tensors(obj):
        for key in _NESTED_KEYS:
            if isinstance(obj.get(key), Mapping) and _all_tensors(obj[key]):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj or not _all_tensors(obj):
        what = "an empty mapping" if isinstance(obj, Mapping) and not obj else _what_object(obj)
        raise WeightsFileError(
            f"{path} is a torch file but not a state dict (a mapping of names to tensors): it holds "
            f"{what}; save one with torch.save(model.state_dict(), path)."
        )
    state = with_metadata(dict(obj), obj)
    if all(k.startswith("module.") for k in state):  # saved from DataParallel / DistributedDataParallel
        state = with_metadata({k[len("module."):]: v for k, v in state.items()}, state, strip="module.")
    return state


def _what_object(obj: Any) -> str:
    if isinstance(obj, torch.Tensor):
        return f"a single tensor of shape {tuple(obj.shape)}"
    if isinstance(obj, Mapping):
        odd = next(((k, v) for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))))
        return f"a mapping with {len(obj)} entries, e.g. {str(odd[0])[:40]!r}: {type(odd[1]).__name__}"
    return f"a {type(obj).__name__}"


class StateDict(dict):
    """A plain dict that can carry ``_metadata`` (per-module versions some ``_load_from_state_dict`` read,
    e.g. torchvision's MNASNet), as the ``OrderedDict`` from ``torch.save`` does."""


def with_metadata(new: dict[str, torch.Tensor], old: Any, strip: str = "") -> dict[str, torch.Tensor]:
    """``new`` carrying ``old``'s ``_metadata`` (its keys without the prefix ``strip``)."""
    metadata = getattr(old, "_metadata", None)
    if metadata is not None and strip:
        metadata = {k[len(strip):] if k.startswith(strip) else k: v for k, v in metadata.items()}
    return _attach(new, metadata)


def _attach(state: dict[str, torch.Tensor], metadata: dict[str, Any] | None) -> dict[str, torch.Tensor]:
    if metadata is None:
        return state
    state = StateDict(state)
    state._metadata = metadata  # type: ignore[attr-defined]
    return state


def _all_tensors(mapping: Mapping[Any, Any]) -> bool:
    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in mapping.items())


def rename_legacy_keys(state: dict[str, torch.Tensor], family: str) -> dict[str, torch.Tensor]:
    """Map old key spellings still present in published files onto today's module names."""
    if family != "densenet":
        return state
    renamed = {}
    for key, value in state.items():
        match = _DENSENET_LEGACY.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return with_metadata(renamed, state)
