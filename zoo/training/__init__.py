"""Keras-style training for any ``nn.Module``: ``fit``, ``evaluate``, ``predict`` with optimizers, losses,
metrics and callbacks given by registered name, ``{"name": ..., **config}`` dict, or object.

The names below load on first use, so importing ``zoo.training.plugin`` (done when zoo lists entries)
does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

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
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'zoo.training' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
