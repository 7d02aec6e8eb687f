"""The spelling rules, each once: default names made from class names (Keras' ``to_snake_case``), and the
words that mean an application's recommended weights."""

from __future__ import annotations

import re

_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL = re.compile(r"([a-z])([A-Z])")

#: ``weights=`` spellings for "the recommended weights": Keras' ``"imagenet"``, torchvision's ``"DEFAULT"``.
DEFAULT_WEIGHTS_SPELLINGS = frozenset({"imagenet", "default"})


def snake_case(name: str) -> str:
    """``"MeanSquaredError"`` -> ``"mean_squared_error"``; an acronym stays one word: ``"AUC"`` -> ``"auc"``,
    ``"TopKCategoricalAccuracy"`` -> ``"top_k_categorical_accuracy"``."""
    return _CAMEL.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()


def means_default_weights(weights: str) -> bool:
    """``weights`` asks for the recommended variant: ``"imagenet"`` or ``"default"`` in any case, also behind
    an enum or architecture prefix (``"ResNet50_Weights.DEFAULT"``, ``"resnet50.imagenet"``); surrounding
    blanks are ignored. A path (``"./imagenet"``, ``"w/x.default"``) is not such a spelling."""
    prefix, _, word = weights.strip().rpartition(".")
    return word.lower() in DEFAULT_WEIGHTS_SPELLINGS and (not prefix or prefix.isidentifier())
