"""The hooks of the nosuch plugin. No torch import here: every target is a lazy "module:attr" string,
imported only when the entry is used (zoo list and zoo info never import it)."""

import zoo


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "tiny_cnn",
        "zoo_nosuch.models:tiny_cnn",
        description="a 3-layer CNN for 32x32 images (replace with your architecture)",
        input_size=(3, 32, 32),
        num_classes=10,
        # the zoo.load options the builder serves; zoo refuses any other (trainable is zoo's own)
        options=("include_top", "pooling", "num_classes"),
        # weights={"v1": {"url": "https://...", "sha256": "<64 hex>", "categories": [...],
        #                 "preprocessing": {"resize": 36, "crop": 32, "mean": [...], "std": [...]}}},
    )


@zoo.hookimpl
def zoo_register_losses(register):
    register("scaled_mse", "zoo_nosuch.losses:ScaledMSE", description="mean squared error times a scale")


@zoo.hookimpl
def zoo_register_callbacks(register):
    register("loss_printer", "zoo_nosuch.callbacks:LossPrinter", description="prints the loss every epoch")
