"""The by-name API: ``get``, ``list``, ``info``, ``load``. Importing this module does not import torch."""

from __future__ import annotations

import builtins
from typing import Any

from zoo.plugins import get_registry
from zoo.registry import canonical_kind


def get(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Build the entry ``name`` of ``kind``: ``zoo.get("optimizers", "adam", model.parameters(), lr=1e-3)``."""
    return get_registry().lookup(kind, name)(*args, **kwargs)


def load(name: str, **kwargs: Any) -> Any:
    """A pretrained application as a plain ``torch.nn.Module``: ``zoo.load("resnet50")``.

    Keyword arguments follow keras.applications: ``weights``, ``include_top``, ``pooling``,
    ``num_classes``, ``trainable``, ``progress``; see the README.
    """
    return get("applications", name, **kwargs)


def list(kind: str = "applications", pattern: str = "*", **filters: Any) -> builtins.list[str]:  # noqa: A001
    """Names of ``kind`` matching an fnmatch ``pattern`` and metadata filters, naturally sorted."""
    return get_registry().names(kind, pattern, **filters)


def info(name: str, kind: str | None = None) -> dict[str, Any]:
    """An entry's metadata as plain data. Without ``kind``, the first kind with that name is used."""
    registry = get_registry()
    if kind is not None:
        return registry.lookup(kind, name).describe()
    from zoo.errors import UnknownNameError
    from zoo.hookspecs import KINDS

    for each in KINDS:
        try:
            return registry.lookup(each, name).describe()
        except UnknownNameError:
            continue
    # Re-raise with the applications suggestions, the most common intent.
    return registry.lookup(canonical_kind("applications"), name).describe()
