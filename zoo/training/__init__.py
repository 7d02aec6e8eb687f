"""Keras-style training for any ``nn.Module``: ``fit``, ``evaluate``, ``predict`` with optimizers, losses,
metrics and callbacks given by registered name, ``{"name": ..., **config}`` dict, or object.

The names below load on first use, so importing ``zoo.training.plugin`` (done when zoo lists entries)
does not import torch.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "fit": "zoo.training.trainer:fit",
    "evaluate": "zoo.training.trainer:evaluate",
    "predict": "zoo.training.trainer:predict",
    "Trainer": "zoo.training.trainer:Trainer",
    "Callback": "zoo.training.callbacks.base:Callback",
    "CallbackList": "zoo.training.callbacks.base:CallbackList",
    "History": "zoo.training.callbacks.history:History",
    "Metric": "zoo.training.metrics:Metric",
    "Loss": "zoo.training.losses:Loss",
    "load_training_state": "zoo.training.checkpoint:load_training_state",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
