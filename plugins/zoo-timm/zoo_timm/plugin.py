"""The timm plugin: every timm architecture as an application, from the JSON catalogue's index.

Entries are *fallbacks* (a bare name such as ``resnet50`` stays with the built-in torchvision entry;
``timm:resnet50`` reaches timm's), except the Keras applications that nothing else provides, which are
registered as ordinary entries under their Keras names. Without timm the hook raises, so ``zoo plugins``
lists this plugin as failed with the install command, and the rest of zoo keeps working.
"""

from __future__ import annotations

from typing import Any

from zoo.plugin import hookimpl

#: timm architecture -> the keras.applications name it stands for. Keras' NASNetMobile has no timm
#: counterpart (timm ships NASNet-A Large and PNASNet only), so it is not registered.
KERAS_NAMES = {
    "legacy_xception": "Xception",
    "inception_resnet_v2": "InceptionResNetV2",
    "mobilenetv1_100": "MobileNet",
    "nasnetalarge": "NASNetLarge",
}


#: The zoo.load options the timm builder serves (the core checks them against this).
_OPTIONS = ("weights", "include_top", "pooling", "num_classes", "trainable", "progress", "sha256", "preprocessing")


@hookimpl
def zoo_register_applications(register: Any) -> None:
    from zoo_timm import catalogue

    for arch, facts in catalogue.index().items():
        tag = facts["default_weights"]
        keras = KERAS_NAMES.get(arch)
        register(
            arch,
            f"zoo_timm.models:{arch}",
            aliases=(keras,) if keras else (),
            fallback=keras is None,
            architecture=arch,
            family="timm",
            keras_name=keras,
            pretrained=tag is not None,
            default_weights=tag,
            weights=catalogue.WeightsTable(arch),
            input_size=facts["input_size"],
            num_classes=facts["num_classes"],
            categories="imagenet1k" if facts["num_classes"] == 1000 and tag else None,
            license=facts["license"],
            options=_OPTIONS,
        )
