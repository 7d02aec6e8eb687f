"""The hooks zoo calls: one entry of every kind. Kept free of torch imports: targets are lazy "module:attr"
strings, imported only when the entry is used, and the metadata is plain data."""

import zoo
from zoo_example.variants import VARIANTS


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "tiny_digits",
        "zoo_example.app:tiny_digits",
        description="3k-parameter CNN for 8x8 digits; weights trained on sklearn digits ship in the package",
        architecture="tiny_digits",
        family="tiny_digits",
        weights=VARIANTS,
        default_weights="v1",
        input_size=(3, 8, 8),
        min_size=(8, 8),
        num_classes=10,
        num_params=3_194,
        license="apache-2.0",
        # the zoo.load options the builder serves: zoo refuses any other (trainable is listed because the
        # builder spares a new head; without it zoo's core would freeze the whole model itself)
        options=("weights", "include_top", "pooling", "num_classes", "trainable"),
    )


@zoo.hookimpl
def zoo_register_datasets(register):
    register(
        "xor_blobs",
        "zoo_example.data:xor_blobs",
        description="four Gaussian blobs labelled by XOR of their corner; generated from a seed",
        splits={"train": 200, "test": 50},
        shapes={"x": [2], "y": []},
        num_classes=2,
        options=("n", "seed", "noise"),
    )


@zoo.hookimpl
def zoo_register_layers(register):
    register("SquareplusDense", "zoo_example.ops:SquareplusDense", description="Linear followed by squareplus")


@zoo.hookimpl
def zoo_register_activations(register):
    register("squareplus", "zoo_example.ops:Squareplus", description="(x + sqrt(x^2 + b)) / 2, a smooth ReLU")


@zoo.hookimpl
def zoo_register_losses(register):
    register("focal", "zoo_example.training:FocalLoss", description="focal loss on logits (Lin et al., 2017)")


@zoo.hookimpl
def zoo_register_metrics(register):
    register("top_k_hit", "zoo_example.training:TopKHit", description="true class among the k best")


@zoo.hookimpl
def zoo_register_callbacks(register):
    register("epoch_timer", "zoo_example.training:EpochTimer", description="logs epoch_seconds")


@zoo.hookimpl
def zoo_register_optimizers(register):
    register("sign_sgd", "zoo_example.training:SignSGD", description="SGD on the sign of the gradient")


@zoo.hookimpl
def zoo_register_initializers(register):
    register("scaled_uniform", "zoo_example.training:ScaledUniform", description="U(-a, a), a = scale/sqrt(fan_in)")


@zoo.hookimpl
def zoo_register_regularizers(register):
    register("l_half", "zoo_example.training:L1Half", description="strength * sum(sqrt(|w|))")


@zoo.hookimpl
def zoo_register_constraints(register):
    register("clip_value", "zoo_example.training:ClipValue", description="clip every weight to [-limit, limit]")


@zoo.hookimpl
def zoo_register_exporters(register):
    register("pt2_static", "zoo_example.export:StaticExportExporter", suffix=".pt2", runtime="torch",
             description="torch.export archive for the example batch's shape")  # fmt: skip
