"""The one rule for an exporter's on/off options, applied wherever an exporter is built (``zoo.get`` and
``zoo.export`` both go through the registry entry): a truthy string such as ``strict="false"`` must not
quietly mean the opposite. Torch-free, so the registry can call it."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from zoo.training.arguments import check_bool

_BOOL_ANNOTATIONS = ("bool", "bool|None", "None|bool", "Optional[bool]", "typing.Optional[bool]")


def flags(target: Any) -> dict[str, Any]:
    """The flags among an exporter's options (its class's or factory's), name -> default: those
    defaulting to a bool or annotated ``bool`` / ``bool | None``. Read from the signature, so every
    format, a plugin's too, gets the one bool rule without declaring anything."""
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return {}
    found = {}
    for p in params:
        hint = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", str(p.annotation))
        if isinstance(p.default, bool) or hint.replace(" ", "") in _BOOL_ANNOTATIONS:
            found[p.name] = p.default
    return found


def checked_flags(name: str, target: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with each of ``target``'s flags checked by :func:`check_bool`, the rule of ``dynamic_batch``
    and ``check`` too. ``None`` stays for a flag whose default is None (ONNX's ``external_data``: decide
    by size)."""
    known = flags(target)
    return {
        key: check_bool(f"the {name} exporter", key, value)
        if key in known and not (value is None and known[key] is None)
        else value
        for key, value in options.items()
    }
