"""The application's builder: zoo.load("tiny_cnn", include_top=..., pooling=..., num_classes=...)."""

import torch
from torch import nn


class TinyCNN(nn.Module):
    def __init__(self, num_classes: int = 10, include_top: bool = True, pooling: str | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.include_top, self.pooling = include_top, pooling
        self.classifier = nn.Linear(32, num_classes) if include_top else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if self.include_top:
            return self.classifier(x.mean((2, 3)))
        if self.pooling == "avg":
            return x.mean((2, 3))
        if self.pooling == "max":
            return x.amax((2, 3))
        return x


def tiny_cnn(*, include_top: bool = True, pooling: str | None = None, num_classes: int = 10) -> TinyCNN:
    """zoo checks the options' values and combinations before calling this, applies trainable=False,
    eval mode and model.zoo after."""
    return TinyCNN(num_classes, include_top, pooling)
