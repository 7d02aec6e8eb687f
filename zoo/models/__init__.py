"""Keras' three ways to make a model, on torch: ``Sequential``, the functional API (``Input`` + ``Model``)
and subclassing ``Model``; with ``compile``/``fit``/``evaluate``/``predict``/``summary``/``save`` over the
one training engine, ``load_model`` for saved models, and the ``trainable`` property.

Importing this package does not import torch; each name loads its module on first use.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Sequential": "zoo.models.sequential:Sequential",
    "Model": "zoo.models.model:Model",
    "Functional": "zoo.models.model:Functional",
    "Input": "zoo.models.symbolic:Input",
    "SymbolicTensor": "zoo.models.symbolic:SymbolicTensor",
    "InputSpec": "zoo.models.graph:InputSpec",
    "Trainable": "zoo.models.trainable:Trainable",
    "with_trainable": "zoo.models.trainable:with_trainable",
    "load_model": "zoo.models.saving:load_model",
    "save_model": "zoo.models.saving:save_model",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
