"""zoo hooks of the surgery plugin. No torch import here: every target is a lazy "module:attr" string."""

import zoo

_PAPER = "Guo, Yao, Chen. Dynamic Network Surgery for Efficient DNNs. NIPS 2016"


@zoo.hookimpl
def zoo_register_layers(register):
    register(
        "MaskedLinear",
        "zoo_surgery.layers:MaskedLinear",
        description="nn.Linear computing with W*T; the gradient reaches every weight (straight-through)",
    )
    register(
        "MaskedConv2d",
        "zoo_surgery.layers:MaskedConv2d",
        description="nn.Conv2d computing with W*T; the gradient reaches every weight (straight-through)",
    )


@zoo.hookimpl
def zoo_register_callbacks(register):
    register(
        "dynamic_network_surgery",
        "zoo_surgery.callback:DynamicNetworkSurgery",
        description="prune with splicing while fine-tuning (" + _PAPER + ")",
    )


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "lenet_300_100",
        "zoo_surgery.models:lenet_300_100",
        pretrained=False,
        num_params=266_610,
        input_size=(1, 28, 28),
        num_classes=10,
        options=("num_classes", "input_shape"),
        description="LeNet-300-100 MLP (Caffe's MNIST example); the paper prunes it 56x",
    )
    register(
        "lenet5",
        "zoo_surgery.models:lenet5",
        pretrained=False,
        num_params=431_080,
        input_size=(1, 28, 28),
        num_classes=10,
        min_size=(16, 16),  # two 5x5 convolutions and two 2x2 poolings
        options=("num_classes", "input_shape"),
        description="LeNet-5 as in Caffe's MNIST example; the paper prunes it 108x",
    )
