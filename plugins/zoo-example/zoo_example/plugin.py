"""The hooks zoo calls. Kept free of torch imports: targets are lazy "module:attr" strings."""

import zoo


@zoo.hookimpl
def zoo_register_activations(register):
    register("squareplus", "zoo_example.ops:Squareplus", description="(x + sqrt(x^2 + b)) / 2, a smooth ReLU")


@zoo.hookimpl
def zoo_register_layers(register):
    register(
        "SquareplusDense", "zoo_example.ops:SquareplusDense", description="Linear followed by squareplus"
    )
