"""Utilities: ``summary`` and ``plot_model`` for any ``nn.Module``, ``to_categorical`` and ``normalize``
(Keras ``keras.utils``), and ``FeatureCache``. Importing this package does not import torch."""

from __future__ import annotations

from zoo._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "summary": "zoo.utils.model_summary:summary",
    "ModelSummary": "zoo.utils.model_summary:ModelSummary",
    "plot_model": "zoo.utils.plot:plot_model",
    "plot_history": "zoo.utils.curves:plot_history",
    "to_categorical": "zoo.utils.numerical:to_categorical",
    "normalize": "zoo.utils.numerical:normalize",
    "FeatureCache": "zoo.utils.feature_cache:FeatureCache",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
