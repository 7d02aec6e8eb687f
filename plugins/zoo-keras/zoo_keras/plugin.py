"""The Keras plugin: every keras.applications name as a *fallback* application.

``keras:NAME`` always reaches Keras' network; a bare name reaches it only where no other plugin serves that
name, not even as a fallback (torchvision's ``ResNet50``, timm's ``Xception``, ``NASNetLarge`` and
``convnext_xlarge`` stay theirs: ``fallback=2``), so the names only Keras
has (``NASNetMobile``, ``ResNet50V2``, ``EfficientNetV2B0`` ...) resolve bare to this plugin and every
keras.applications name resolves to exactly one application. Registration reads a JSON table and imports
neither Keras nor torch; without Keras installed the hook raises, so ``zoo plugins`` shows this plugin as
failed with the install command and nothing else changes.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from zoo.plugin import PluginError, hookimpl


def _variant(files: dict[str, Any]) -> dict[str, Any]:
    """A weights variant as registry metadata: the file with the top (what ``zoo download`` fetches), its
    Keras hash under the algorithm's key, the file without the top under ``extra``."""
    return {**_spec(files["top"]), "extra": {"notop": _spec(files["notop"])}}


def _spec(file: dict[str, Any]) -> dict[str, Any]:
    spec = {"url": file["url"], "filename": file["filename"]}
    if file["known_hash"]:
        algorithm, _, digest = file["known_hash"].partition(":")
        spec[algorithm] = digest
    return spec


@hookimpl
def zoo_register_applications(register: Any) -> None:
    if importlib.util.find_spec("keras") is None:
        raise PluginError("Keras is not installed: pip install 'keras>=3' h5py (zoo-keras runs it on torch).")
    from zoo_keras import table

    for name, facts in table.applications().items():
        register(
            name,
            f"zoo_keras.models:{name}",
            fallback=2,
            architecture=name,
            family="keras",
            keras_name=name,
            pretrained=True,
            default_weights="imagenet",
            weights={tag: _variant(files) for tag, files in facts["weights"].items()},
            num_params=facts["num_params"],
            input_size=facts["input_size"],
            min_size=[facts["min_size"], facts["min_size"]],
            categories="imagenet1k",
        )
