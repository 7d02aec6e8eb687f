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


# -- the pixel range: one rule for preprocess_input and model.zoo.transforms() -------------------------------
class PixelRangeWarning(UserWarning):
    """Float pixels above 1 were taken as 0-255 values (Keras' convention) rather than [0, 1]."""


_warned_0_255 = False


def to_unit_range(x: Any, who: str) -> Any:
    """Float image tensors in [0, 1] for the normalisation that follows; the rule, in one place:

    * uint8: divided by 255 (torchvision's ``ToDtype(scale=True)``);
    * floats within [0, 1]: kept (torchvision's convention);
    * floats above 1 and none below 0: 0-255 values (Keras' ``img_to_array`` gives those), divided by 255,
      with a warning the first time (a model would otherwise see inputs 255 times too large);
    * floats below 0 (already normalised?) mixed with values above 1: refused (``zoo.DataError``).
    """
    import torch

    from zoo.errors import DataError

    if not isinstance(x, torch.Tensor):
        return x
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if not x.is_floating_point() or x.numel() == 0:
        return x
    low, high = float(x.min()), float(x.max())
    if high <= 1.0:
        return x
    if low < 0.0:
        raise DataError(
            f"{who} got float pixels in [{low:.4g}, {high:.4g}]: neither [0, 1] nor 0-255. Is the image already "
            "normalised? Give raw pixels: uint8, floats in [0, 1], or 0-255 floats (img_to_array's); a "
            "bicubic resize of [0, 1] pixels overshoots both ends: x.clamp(0, 1)."
        )
    global _warned_0_255
    if not _warned_0_255:
        _warned_0_255 = True
        import warnings

        warnings.warn(
            f"{who}: float pixels go up to {high:.4g}, so they are taken as 0-255 values (Keras' img_to_array "
            "convention) and divided by 255. Give uint8 tensors or floats in [0, 1] to say so explicitly "
            "(this warning is shown once).",
            PixelRangeWarning,
            stacklevel=3,
        )
    return x / 255.0


class UnitRange(v2.Transform):
    """``model.zoo.transforms()``'s first step: :func:`to_unit_range` on float tensors, before a resize
    can overshoot [0, 1]; uint8 tensors and PIL images pass (``ToDtype`` scales them, as torchvision's
    presets do, bit for bit)."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not getattr(inpt, "is_floating_point", lambda: False)():
            return inpt
        return to_unit_range(inpt, "model.zoo.transforms()")

    _transform = transform
