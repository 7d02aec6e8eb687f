"""The Keras datasets, downloaded through zoo's cache and parsed from their real formats.

``zoo.datasets.load("mnist")`` returns ``((x_train, y_train), (x_test, y_test))`` as torch tensors;
``as_dataset=True`` returns ``(train, test)`` ``torch.utils.data.Dataset`` objects instead. Any registered
dataset (built-in or from a plugin) loads by name; ``zoo list datasets`` shows them.

Importing this package does not import torch or numpy: the loaders load on first use.
"""

from __future__ import annotations

import os
from typing import Any

from zoo._lazy import lazy_exports

__all__ = [
    "SequenceDataset",
    "TensorPairDataset",
    "boston_housing",
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "get_word_index",
    "imdb",
    "import_folder",
    "load",
    "mnist",
    "pad_collate",
    "reuters",
]

_LAZY = {
    "pad_collate": "zoo.datasets.torchdata:pad_collate",
    "TensorPairDataset": "zoo.datasets.torchdata:TensorPairDataset",
    "SequenceDataset": "zoo.datasets.torchdata:SequenceDataset",
    **{
        name: f"zoo.datasets.loaders:{name}"
        for name in (
            "mnist",
            "fashion_mnist",
            "cifar10",
            "cifar100",
            "imdb",
            "reuters",
            "boston_housing",
            "digits",
        )
    },
}


def load(name: str, **options: Any) -> Any:
    """Load the dataset ``name`` (any spelling: ``"fashion-mnist"``, ``"CIFAR10"``).

    Options are the dataset's Keras arguments (``num_words=10000``, ``label_mode="coarse"``, ...) plus
    ``as_dataset``, ``transform``, ``target_transform`` and ``progress``; ``zoo info NAME`` lists them."""
    from zoo.api import get

    return get("datasets", name, **options)


def import_folder(name: str, folder: str | os.PathLike[str]) -> list[Any]:
    """Import the IDX dataset ``name`` (mnist, fashion_mnist) from files in ``folder`` into the cache, each
    verified by its upstream ``.gz`` or raw IDX sha256; later ``load(name)`` calls read it from there.
    Returns the files with the digest each matched. ``load(name, from_dir=folder)`` does the same and loads."""
    from zoo.datasets.loaders import import_folder as run
    from zoo.plugins import get_registry

    return run(get_registry().lookup("datasets", name).name, folder)


def get_word_index(name: str, **options: Any) -> dict[str, int]:
    """The word -> index mapping of a text dataset (``"imdb"``, ``"reuters"``), as Keras' ``get_word_index``."""
    from zoo.errors import ZooError
    from zoo.plugins import get_registry

    entry = get_registry().lookup("datasets", name)
    target = entry.meta.word_index  # type: ignore[attr-defined]
    if not target:
        raise ZooError(
            f"dataset {entry.name!r} has no word index (only text datasets such as imdb have one)."
        )
    return entry.import_path(target, "with word_index")(entry.name, **options)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
