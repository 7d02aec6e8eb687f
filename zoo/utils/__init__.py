"""Utilities: ``summary`` and ``plot_model`` for any ``nn.Module``, ``to_categorical`` and ``normalize``
(Keras ``keras.utils``), and ``FeatureCache``. Importing this package does not import torch."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "summary": "zoo.utils.summary:summary",
    "ModelSummary": "zoo.utils.summary:ModelSummary",
    "plot_model": "zoo.utils.plot:plot_model",
    "to_categorical": "zoo.utils.numerical:to_categorical",
    "normalize": "zoo.utils.numerical:normalize",
    "FeatureCache": "zoo.utils.feature_cache:FeatureCache",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'zoo.utils' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
