"""The one spelling rule for default names made from class names (Keras' ``to_snake_case``)."""

from __future__ import annotations

import re

_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL = re.compile(r"([a-z])([A-Z])")


def snake_case(name: str) -> str:
    """``"MeanSquaredError"`` -> ``"mean_squared_error"``; an acronym stays one word: ``"AUC"`` -> ``"auc"``,
    ``"TopKCategoricalAccuracy"`` -> ``"top_k_categorical_accuracy"``."""
    return _CAMEL.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()
