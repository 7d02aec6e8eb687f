"""Keras-style preprocessing: sequences (``pad_sequences``), text (``Tokenizer``,
``text_to_word_sequence``), images (``load_img``, ``img_to_array``, ``array_to_img``) and augmentation
layers built on ``torchvision.transforms.v2`` (``RandomFlip``, ``RandomRotation`` ...; also registered as
layers). ``to_categorical`` and ``normalize`` live in ``zoo.utils`` and are re-exported here. Importing
this package does not import torch."""

from __future__ import annotations

import importlib
from typing import Any

_AUGMENTATIONS = (
    "Rescaling", "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast", "RandomBrightness",
)  # fmt: skip

_LAZY: dict[str, str] = {
    "pad_sequences": "zoo.preprocessing.sequence",
    "text_to_word_sequence": "zoo.preprocessing.text",
    "Tokenizer": "zoo.preprocessing.text",
    "tokenizer_from_json": "zoo.preprocessing.text",
    "load_img": "zoo.preprocessing.image",
    "img_to_array": "zoo.preprocessing.image",
    "array_to_img": "zoo.preprocessing.image",
    "to_categorical": "zoo.utils.numerical",
    "normalize": "zoo.utils.numerical",
    **{name: "zoo.preprocessing.augmentation" for name in _AUGMENTATIONS},
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.preprocessing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
