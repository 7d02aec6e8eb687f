"""Pretrained image models (torchvision architectures) and the helpers that go with them.

``zoo.load("resnet50", include_top=False, pooling="avg", trainable=False)`` builds one; the helpers here
work with what it returns. This package imports torch only when one of them is used.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports

_LAZY = {
    "freeze": "zoo.applications.freezing:freeze",
    "unfreeze": "zoo.applications.freezing:unfreeze",
    "is_frozen": "zoo.applications.freezing:is_frozen",
    "decode_predictions": "zoo.applications.info:decode_predictions",
    "preprocess_input": "zoo.applications.info:preprocess_input",
    "ModelInfo": "zoo.applications.info:ModelInfo",
    "FeatureExtractor": "zoo.applications.families:FeatureExtractor",
    "build": "zoo.applications.builder:build",
    # for plugins whose builders end like the built-ins (zoo-timm)
    "ChosenWeights": "zoo.applications.builder:ChosenWeights",
    "check_options": "zoo.applications.builder:check_options",
    "finish": "zoo.applications.builder:finish",
    "architecture_builders": "zoo.applications.models:architecture_builders",
    "WeightsFileError": "zoo.applications.loading:WeightsFileError",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
