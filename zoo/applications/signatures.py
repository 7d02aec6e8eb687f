"""Which built-in architecture a state dict's keys fit, from signatures computed once (by
``tools/generate_key_signatures.py``, into ``key_signatures.json``), never by building every model.

A signature is the sha256 of the sorted ``name:shape`` lines of a set of tensors. Each architecture has
three: ``full`` (its whole state dict, ImageNet head), ``headless`` (without the final classifier layer,
so a file with another number of classes fits) and ``backbone`` (what ``include_top=False`` keeps).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("key_signatures.json")


def signature(items: Iterable[tuple[str, Any]]) -> str:
    """``items`` are ``(key, shape)`` pairs; any order."""
    lines = sorted(f"{key}:{','.join(map(str, shape))}" for key, shape in items)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]


@functools.cache
def table() -> dict[str, dict[str, str]]:
    try:
        return json.loads(TABLE.read_text())["architectures"]
    except (OSError, ValueError, KeyError):
        return {}


def fitting(state: Mapping[str, Any], *, exclude: str | None = None) -> list[tuple[str, str]]:
    """``(architecture, how)`` for each built-in architecture other than ``exclude`` whose keys and
    shapes the state dict fits: ``"as is"``, ``"with another number of classes"`` or ``"as a backbone
    (include_top=False)"``."""
    shapes = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    whole = signature(shapes.items())
    found: list[tuple[str, str]] = []
    headless: dict[str, str] = {}
    for arch, sig in table().items():
        if arch == exclude:
            continue
        if sig["full"] == whole:
            found.append((arch, "as is"))
        elif sig["backbone"] == whole:
            found.append((arch, "as a backbone (include_top=False)"))
        else:
            prefix = sig["classifier"] + "."
            if prefix not in headless:
                headless[prefix] = signature((k, s) for k, s in shapes.items() if not k.startswith(prefix))
            if sig["headless"] == headless[prefix]:
                found.append((arch, "with another number of classes (num_classes=N)"))
    return found
