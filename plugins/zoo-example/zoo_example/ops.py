"""Squareplus (So, 2021): a ReLU-like activation that is smooth and needs only a square root."""

import torch
from torch import nn


def squareplus(x: torch.Tensor, b: float = 4.0) -> torch.Tensor:
    return (x + torch.sqrt(x * x + b)) / 2


class Squareplus(nn.Module):
    def __init__(self, b: float = 4.0) -> None:
        super().__init__()
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return squareplus(x, self.b)


class SquareplusDense(nn.Linear):
    """A fully connected layer with squareplus built in, to show a layer entry."""

    def __init__(self, in_features: int, out_features: int, b: float = 4.0, **kwargs) -> None:
        super().__init__(in_features, out_features, **kwargs)
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return squareplus(super().forward(x), self.b)
