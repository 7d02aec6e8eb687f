"""Pretrained image models (torchvision architectures) and the helpers that go with them.

``zoo.load("resnet50", include_top=False, pooling="avg", trainable=False)`` builds one; the helpers here
work with what it returns. This package imports torch only when one of them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "freeze": "zoo.applications.freezing",
    "unfreeze": "zoo.applications.freezing",
    "is_frozen": "zoo.applications.freezing",
    "decode_predictions": "zoo.applications.info",
    "preprocess_input": "zoo.applications.info",
    "ModelInfo": "zoo.applications.info",
    "FeatureExtractor": "zoo.applications.families",
    "build": "zoo.applications.builder",
    "WeightsFileError": "zoo.applications.loading",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
