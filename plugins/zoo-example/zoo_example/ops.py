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
