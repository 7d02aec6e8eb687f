"""The tiny_digits network (no zoo import: make_weights.py trains it before any weights exist)."""

import torch
from torch import nn


class TinyDigits(nn.Module):
    """RGB (or grey) 8x8 images -> 10 digits; the image is averaged to one channel first."""

    def __init__(self, num_classes: int = 10, include_top: bool = True, pooling: str | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.include_top, self.pooling = include_top, pooling
        self.classifier = nn.Linear(16 * 2 * 2, num_classes) if include_top else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x.mean(1, keepdim=True))
        if self.include_top:
            return self.classifier(x.flatten(1))
        if self.pooling == "avg":
            return x.mean((2, 3))
        if self.pooling == "max":
            return x.amax((2, 3))
        return x
