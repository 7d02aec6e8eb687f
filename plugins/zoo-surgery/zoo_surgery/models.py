"""The paper's MNIST networks, as in Caffe's examples (which the paper's numbers come from).

* LeNet-300-100: 784-300-100-10 fully connected, ReLU (266,610 parameters with biases).
* LeNet-5 (Caffe's variant): conv 20@5x5, max-pool 2, conv 50@5x5, max-pool 2, fc 500, ReLU, fc 10;
  Caffe's LeNet has no non-linearity after the convolutions (431,080 parameters).

Layers are named ``fc1``/``conv1`` ... so per-layer surgery settings and reports read like the paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

import zoo
from zoo_surgery._checks import flag
from zoo_surgery.layers import MaskedConv2d, MaskedLinear

__all__ = ["LeNet5", "LeNet300100", "lenet5", "lenet_300_100"]


class LeNet300100(nn.Module):
    def __init__(self, in_features: int = 784, num_classes: int = 10, *, masked: bool = False) -> None:
        super().__init__()
        linear, _ = _layer_types(masked)
        self.fc1 = linear(in_features, 300)
        self.fc2 = linear(300, 100)
        self.fc3 = linear(100, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(x)))))


class LeNet5(nn.Module):
    def __init__(
        self, input_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, *, masked: bool = False
    ) -> None:
        super().__init__()
        channels, height, width = _shape(input_shape)
        side = [(s - 4) // 2 for s in (height, width)]
        side = [(s - 4) // 2 for s in side]
        if min(side) < 1:
            raise zoo.OptionError(
                f"LeNet-5 needs inputs of at least 16x16 pixels (two 5x5 convolutions and two 2x2 poolings); "
                f"got {height}x{width}"
            )
        linear, conv = _layer_types(masked)
        self.conv1 = conv(channels, 20, 5)
        self.conv2 = conv(20, 50, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = linear(50 * side[0] * side[1], 500)
        self.fc2 = linear(500, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.conv2(self.pool(self.conv1(x))))
        return self.fc2(self.relu(self.fc1(torch.flatten(x, 1))))


def _layer_types(masked: object) -> tuple[type[nn.Linear], type[nn.Conv2d]]:
    return (MaskedLinear, MaskedConv2d) if flag(masked, "masked") else (nn.Linear, nn.Conv2d)


def _shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise zoo.OptionError(
            f"input_shape must be (channels, height, width) of positive sizes, got {input_shape}"
        )
    return shape  # type: ignore[return-value]


def lenet_300_100(
    *,
    num_classes: int = 10,
    input_shape: Sequence[int] = (1, 28, 28),
    masked: bool = False,
) -> LeNet300100:
    """LeNet-300-100 for ``input_shape`` (flattened; MNIST by default, ``(1, 8, 8)`` for sklearn digits).

    ``masked=True`` builds it from :class:`MaskedLinear` layers, ready for surgery.
    """
    return LeNet300100(math.prod(_shape(input_shape)), num_classes, masked=masked)


def lenet5(
    *,
    num_classes: int = 10,
    input_shape: Sequence[int] = (1, 28, 28),
    masked: bool = False,
) -> LeNet5:
    """LeNet-5 as in Caffe's MNIST example; inputs of at least 16x16."""
    return LeNet5(input_shape, num_classes, masked=masked)
