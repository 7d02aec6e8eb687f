"""Keras' image preprocessing and augmentation layers as ``nn.Module``s on ``torchvision.transforms.v2``.

They take ``(C, H, W)`` or a batch ``(N, C, H, W)``; random layers draw fresh parameters for every image
of a batch and, as in Keras, only act in training mode (``model.eval()`` makes them the identity), so
they can sit at the front of a model. ``RandomContrast`` and ``RandomBrightness`` work on values in
``value_range`` (Keras' default 0-255, what ``img_to_array`` gives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from zoo.errors import DataError, OptionError
from zoo.layers._keras import Layer


def _symmetric(factor: float | Sequence[float], name: str) -> tuple[float, float]:
    if isinstance(factor, (int, float)):
        if factor < 0:
            raise OptionError(f"{name}: factor must be >= 0, got {factor}.")
        return -float(factor), float(factor)
    lo, hi = (float(f) for f in factor)
    if lo > hi:
        raise OptionError(f"{name}: factor range must be (low, high) with low <= high, got {factor!r}.")
    return lo, hi


def _check_image(layer: nn.Module, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"{type(layer).__name__} expects (C, H, W) or (N, C, H, W) images, got {shape}.")


class _Augmentation(Layer):
    """Applies ``self.transform`` to each image independently, in training mode only."""

    transform: Callable[[torch.Tensor], torch.Tensor]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(self, x)
        if not self.training:
            return x
        if x.ndim == 3:
            return self.transform(x)
        return torch.stack([self.transform(img) for img in x])


class Rescaling(Layer):
    """``x * scale + offset`` (e.g. ``Rescaling(1 / 255)``); always active."""

    def __init__(self, scale: float, offset: float = 0.0) -> None:
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset

    def extra_repr(self) -> str:
        return f"scale={self.scale}, offset={self.offset}"


class Resizing(Layer):
    """Resize to ``(height, width)``; always active. ``crop_to_aspect_ratio`` centre-crops first."""

    def __init__(
        self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False
    ):
        super().__init__()
        self.size = (int(height), int(width))
        self.interpolation = v2.InterpolationMode(interpolation.lower())
        self.crop_to_aspect_ratio = crop_to_aspect_ratio

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(self, x)
        if self.crop_to_aspect_ratio:
            h, w = x.shape[-2:]
            th, tw = self.size
            x = TF.center_crop(x, [min(h, round(w * th / tw)), min(w, round(h * tw / th))])
        return TF.resize(x, list(self.size), interpolation=self.interpolation, antialias=True)


class CenterCrop(Layer):
    """Crop the centre ``(height, width)``; always active."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.size = [int(height), int(width)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(self, x)
        return TF.center_crop(x, self.size)


class RandomCrop(_Augmentation):
    """A random ``(height, width)`` crop while training; the centre crop otherwise."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.size = [int(height), int(width)]
        self.transform = v2.RandomCrop(self.size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image(self, x)
        if x.shape[-2] < self.size[0] or x.shape[-1] < self.size[1]:
            raise DataError(
                f"RandomCrop{tuple(self.size)}: image {tuple(x.shape)} is smaller than the crop."
            )
        return super().forward(x) if self.training else TF.center_crop(x, self.size)


class RandomFlip(_Augmentation):
    """Flip ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (each with probability 1/2)."""

    def __init__(self, mode: str = "horizontal_and_vertical") -> None:
        super().__init__()
        steps = {"horizontal": [v2.RandomHorizontalFlip()], "vertical": [v2.RandomVerticalFlip()]}
        steps["horizontal_and_vertical"] = steps["horizontal"] + steps["vertical"]
        if mode not in steps:
            raise OptionError(f"RandomFlip: mode must be one of {sorted(steps)}, got {mode!r}.")
        self.mode = mode
        self.transform = v2.Compose(steps[mode])


class RandomRotation(_Augmentation):
    """Rotate by a random angle of ``factor`` turns (0.1 -> up to +-36 degrees); corners filled with
    ``fill_value``."""

    def __init__(
        self, factor: float | Sequence[float], fill_value: float = 0.0, interpolation: str = "bilinear"
    ):
        super().__init__()
        lo, hi = _symmetric(factor, "RandomRotation")
        self.transform = v2.RandomRotation(
            (lo * 360, hi * 360), interpolation=v2.InterpolationMode(interpolation), fill=fill_value
        )


class RandomZoom(_Augmentation):
    """Zoom by a random factor: ``0.2`` scales the content by 0.8-1.2; a range ``(a, b)`` scales by
    ``1 - b`` to ``1 - a`` (positive = zoom out, as in Keras). Uniform in both directions."""

    def __init__(self, height_factor: float | Sequence[float], fill_value: float = 0.0) -> None:
        super().__init__()
        lo, hi = _symmetric(height_factor, "RandomZoom")
        if hi >= 1:
            raise OptionError(f"RandomZoom: factors must be < 1, got {height_factor!r}.")
        self.transform = v2.RandomAffine(degrees=0, scale=(1 - hi, 1 - lo), fill=fill_value)


class RandomTranslation(_Augmentation):
    """Shift by up to ``height_factor`` of the height and ``width_factor`` of the width."""

    def __init__(self, height_factor: float, width_factor: float, fill_value: float = 0.0) -> None:
        super().__init__()
        self.transform = v2.RandomAffine(
            degrees=0, translate=(float(width_factor), float(height_factor)), fill=fill_value
        )


class RandomContrast(_Augmentation):
    """Scale each image's deviation from its per-channel mean by a random factor in ``[1-f, 1+f]`` (Keras)."""

    def __init__(self, factor: float, value_range: tuple[float, float] = (0, 255)) -> None:
        super().__init__()
        lo, hi = _symmetric(factor, "RandomContrast")
        self.low, self.high, self.value_range = max(0.0, 1 + lo), 1 + hi, value_range

    def transform(self, img: torch.Tensor) -> torch.Tensor:
        f = torch.empty((), device=img.device).uniform_(self.low, self.high)
        mean = img.mean(dim=(-2, -1), keepdim=True)
        return ((img - mean) * f + mean).clamp(*self.value_range)


class RandomBrightness(_Augmentation):
    """Add a random ``delta`` in ``factor * (range width)`` to each image (Keras), clipped to ``value_range``."""

    def __init__(self, factor: float | Sequence[float], value_range: tuple[float, float] = (0, 255)) -> None:
        super().__init__()
        self.low, self.high = _symmetric(factor, "RandomBrightness")
        self.value_range = value_range

    def transform(self, img: torch.Tensor) -> torch.Tensor:
        span = self.value_range[1] - self.value_range[0]
        delta = torch.empty((), device=img.device).uniform_(self.low, self.high) * span
        return (img + delta).clamp(*self.value_range)
