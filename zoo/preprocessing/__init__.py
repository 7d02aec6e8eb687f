"""Keras-style preprocessing: sequences (``pad_sequences``), text (``Tokenizer``,
``text_to_word_sequence``), images (``load_img``, ``img_to_array``, ``array_to_img``) and augmentation
layers built on ``torchvision.transforms.v2`` (``RandomFlip``, ``RandomRotation`` ...; also registered as
layers). ``to_categorical`` and ``normalize`` live in ``zoo.utils`` and are re-exported here. Importing
this package does not import torch."""

from __future__ import annotations

from zoo._lazy import lazy_exports

_AUGMENTATIONS = (
    "Rescaling", "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast", "RandomBrightness",
)  # fmt: skip

_LAZY: dict[str, str] = {
    "pad_sequences": "zoo.preprocessing.sequence:pad_sequences",
    "text_to_word_sequence": "zoo.preprocessing.text:text_to_word_sequence",
    "Tokenizer": "zoo.preprocessing.text:Tokenizer",
    "tokenizer_from_json": "zoo.preprocessing.text:tokenizer_from_json",
    "load_img": "zoo.preprocessing.image:load_img",
    "img_to_array": "zoo.preprocessing.image:img_to_array",
    "array_to_img": "zoo.preprocessing.image:array_to_img",
    "to_categorical": "zoo.utils.numerical:to_categorical",
    "normalize": "zoo.utils.numerical:normalize",
    **{name: f"zoo.preprocessing.augmentation:{name}" for name in _AUGMENTATIONS},
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
