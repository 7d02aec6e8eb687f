"""What every application builder (built-in and plugins alike) records for weights given as a file or
URL: the file's sha256 (hashed once per file version, remembered under ``$ZOO_HOME/digests``) and the
preprocessing asked for with ``preprocessing=`` (a variant tag of the architecture, or a dict)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from zoo.errors import ArgumentError, DataError, MissingFileError, ModelError, OptionError

PREPROCESSING_KEYS = ("resize", "crop", "mean", "std", "interpolation", "antialias", "crop_mode")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a weights file: free for a file in zoo's cache (its folder's name), else hashed once
    and remembered by path, size and modification time."""
    from zoo.atomic import write_json_atomic
    from zoo.hub import cache_dir, content_sha256
    from zoo.hub.hashes import hash_file
    from zoo.hub.store import read_json

    path = Path(path).absolute()
    cached = content_sha256(path)
    if cached is not None:
        return cached
    stat = path.stat()
    memo = cache_dir() / "digests" / f"{hashlib.sha256(str(path).encode()).hexdigest()[:24]}.json"
    known = read_json(memo) or {}
    if [known.get("path"), known.get("size"), known.get("mtime_ns")] == [str(path), stat.st_size, stat.st_mtime_ns]:
        return known["sha256"]
    digest = hash_file(path)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(memo, {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                 "sha256": digest}, compact=True)  # fmt: skip
    except OSError:
        pass  # a read-only cache: hash again next time
    return digest


def choose_preprocessing(
    requested: str | Mapping[str, Any] | None,
    default: dict[str, Any],
    variant: Callable[[str], dict[str, Any] | None],
    label: str,
    tags: list[str],
) -> tuple[str | None, dict[str, Any]]:
    """``(tag, preprocessing)`` for ``preprocessing=``: ``None`` keeps ``default``; a tag takes that
    variant's (``variant(tag)``, None when unknown); a dict overrides keys of ``default``."""
    if requested is None:
        return None, default
    if isinstance(requested, str):
        found = variant(requested)
        if found is None:
            raise OptionError(
                f"{label} has no weights variant {requested!r} to take the preprocessing of; its variants: "
                f"{', '.join(tags) or 'none'} (or pass a dict such as {{'resize': 256, 'crop': 224}})."
            )
        return requested, found
    if not isinstance(requested, Mapping):
        raise ArgumentError(f"preprocessing must be a variant tag or a dict, got {type(requested).__name__}.")
    unknown = sorted(set(requested) - set(PREPROCESSING_KEYS))
    if unknown:
        raise OptionError(f"unknown preprocessing keys {unknown}; known: {', '.join(PREPROCESSING_KEYS)}.")
    merged = {**default, **dict(requested)}
    _check(merged)
    return None, json.loads(json.dumps(merged))  # a plain copy the caller may keep


def _check(p: dict[str, Any]) -> None:
    for key in ("resize", "crop"):
        value = p.get(key)
        sizes = value if isinstance(value, (list, tuple)) else [value]
        if not sizes or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes):
            raise OptionError(f"preprocessing {key!r} must be a positive int (or [h, w]), got {value!r}.")
    for key in ("mean", "std"):
        value = p.get(key)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, (int, float)) for v in value):
            raise OptionError(f"preprocessing {key!r} must be a list of numbers (one per channel), got {value!r}.")
    if not all(v > 0 for v in p["std"]):
        raise OptionError(f"preprocessing 'std' must be positive, got {p['std']!r}.")


# -- one reader and one fit rule for every weights file zoo reads ------------------------------------------
def read_weights(path: str | os.PathLike[str], *, what: str = "weights file") -> dict[str, Any]:
    """The tensors of a weights file through zoo's one reader (:func:`zoo.applications.loading.load_state_dict`:
    torch files read with ``weights_only=True``, safetensors, never unpickling code), for every place that
    reads weights (``model.load_weights``, saved models, plugin checkpoints).

    A path that is not there is a :class:`zoo.MissingFileError`; a file that is not weights (text, HTML, a
    truncated zip or safetensors, a pickle of other objects) a :class:`zoo.DataError` naming the file and
    saying what it is instead."""
    from zoo.applications.loading import WeightsFileError, load_state_dict

    file = Path(path).expanduser()
    if not file.is_file():
        where = "is a folder, not a file" if file.is_dir() else "does not exist"
        raise MissingFileError(f"{what} {file} {where}; give the path of a .pt/.pth/.safetensors file.")
    try:
        return load_state_dict(file)
    except WeightsFileError as exc:
        raise DataError(str(exc)) from None


def fit_weights(module: Any, state: Mapping[str, Any], *, name: str, source: Any, strict: bool = True) -> None:
    """Load ``state`` into ``module`` after checking that it fits: missing and unexpected keys (a few of each
    named) and tensors of other shapes (each named with both shapes) are a :class:`zoo.ModelError` naming
    ``source``, before torch's ``load_state_dict`` could fail with its own wall of text. ``strict=False``
    allows missing keys (the module keeps its own tensors there)."""
    from torch.nn.parameter import is_lazy

    expected = module.state_dict(keep_vars=True)
    sized = {k: t for k, t in expected.items() if not is_lazy(t)}  # a lazy layer takes the file's size
    # A tensor tied to another (one storage under two names) is written once by safetensors' save_model.
    present = {t.data_ptr() for k, t in sized.items() if k in state and t.numel()}
    tied = [k for k, t in sized.items() if k not in state and t.numel() and t.data_ptr() in present]
    missing = [k for k in expected if k not in state and k not in tied] if strict else []
    unexpected = [k for k in state if k not in expected]
    shapes = [k for k in state if k in sized and tuple(state[k].shape) != tuple(sized[k].shape)]
    if missing or unexpected or shapes:
        from zoo.applications.builder import mismatch_summary

        raise ModelError(
            f"the weights in {source} do not fit {name}: "
            f"{mismatch_summary(state, missing, unexpected, shapes, expected)}. Load weights saved from a model "
            "built the same way (same layers and sizes)."
        )
    module.load_state_dict(state, strict=strict and not tied)
