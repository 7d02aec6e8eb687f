"""Regularisation noise, active only in training mode (identity in eval mode), as in Keras."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from zoo.errors import OptionError
from zoo.layers._base import get_mask, with_mask
from zoo.layers._keras import Layer


def _check_rate(layer: str, rate: float) -> float:
    if not 0.0 <= rate < 1.0:
        raise OptionError(f"{layer}: rate must be in [0, 1), got {rate!r}.")
    return float(rate)


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev``."""

    def __init__(self, stddev: float) -> None:
        super().__init__()
        self.stddev = float(stddev)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.stddev == 0:
            return x
        return with_mask(x + torch.randn_like(x) * self.stddev, get_mask(x))

    def extra_repr(self) -> str:
        return f"stddev={self.stddev}"


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = _check_rate("GaussianDropout", rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        std = math.sqrt(self.rate / (1.0 - self.rate))
        return with_mask(x * (1.0 + torch.randn_like(x) * std), get_mask(x))

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations (``F.alpha_dropout``)."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = _check_rate("AlphaDropout", rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        return with_mask(F.alpha_dropout(x, self.rate, True), get_mask(x))

    def extra_repr(self) -> str:
        return f"rate={self.rate}"
