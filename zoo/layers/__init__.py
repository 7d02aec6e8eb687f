"""Keras-named layers as ordinary ``torch.nn.Module``s (channels-first, batch-first sequences).

``from zoo.layers import Dense, LSTM, TimeDistributed`` or ``zoo.get("layers", "LSTM", 128)``. Layers
whose input size Keras infers (``Dense(20)``) infer it on the first call: run one forward pass (or
``zoo.summary``) before creating the optimizer. Importing this package does not import torch; each
layer's module loads on first use.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports
from zoo.layers._catalog import FUNCTIONS, LAYERS

_WHERE: dict[str, str] = {
    **{name: f"zoo.layers.{module}:{name}" for table in (LAYERS, FUNCTIONS) for module, names in table.items()
       for name in names},
    "Layer": "zoo.layers._keras:Layer",  # the base class of every zoo layer, and of yours
}  # fmt: skip

__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
