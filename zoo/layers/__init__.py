"""Keras-named layers as ordinary ``torch.nn.Module``s (channels-first, batch-first sequences).

``from zoo.layers import Dense, LSTM, TimeDistributed`` or ``zoo.get("layers", "LSTM", 128)``. Layers
whose input size Keras infers (``Dense(20)``) infer it on the first call: run one forward pass (or
``zoo.summary``) before creating the optimizer. Importing this package does not import torch; each
layer's module loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo.layers._catalog import FUNCTIONS, LAYERS

_WHERE: dict[str, str] = {
    name: module for table in (LAYERS, FUNCTIONS) for module, names in table.items() for name in names
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.layers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"zoo.layers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
