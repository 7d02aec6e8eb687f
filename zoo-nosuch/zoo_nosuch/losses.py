"""Losses are nn.Modules called as loss(input, target) (torch's order)."""

import torch
from torch import nn


class ScaledMSE(nn.Module):
    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.scale * ((input - target.to(input.dtype)) ** 2).mean()
