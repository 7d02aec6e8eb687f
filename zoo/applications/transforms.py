"""Preprocessing steps that must match torchvision's weight presets exactly."""

from __future__ import annotations

from typing import Any

from torchvision.transforms import InterpolationMode, v2
from torchvision.transforms import functional as F


class Resize(v2.Transform):
    """Resize the shorter side to ``size`` with the functional ``resize`` torchvision's presets use.

    ``v2.Resize`` resizes uint8 tensors with its own integer kernel, which differs from the presets by one
    grey level here and there; this step keeps ``model.zoo.transforms()`` bit-identical to
    ``Weights.transforms()`` for PIL images and tensors alike.
    """

    def __init__(self, size: int, interpolation: str = "bilinear", antialias: bool = True) -> None:
        super().__init__()
        self.size = [size]
        self.interpolation = InterpolationMode(interpolation)
        self.antialias = antialias

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.resize(inpt, self.size, interpolation=self.interpolation, antialias=self.antialias)

    _transform = transform  # the name torchvision < 0.21 calls

    def extra_repr(self) -> str:
        return f"size={self.size}, interpolation={self.interpolation.value}, antialias={self.antialias}"
