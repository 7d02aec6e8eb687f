"""Image files to tensors and back, with Keras' names and value conventions (0-255 floats), but
channels-first ``(C, H, W)`` like torchvision."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from PIL import Image

from zoo.errors import DataError, OptionError

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "hamming": Image.Resampling.HAMMING,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
}
_MODES = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}


def load_img(
    path: str | os.PathLike,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Image.Image:
    """Open an image file as a PIL image in ``color_mode`` (rgb, rgba, grayscale), resized to
    ``target_size=(height, width)``; ``keep_aspect_ratio`` centre-crops to that aspect ratio first."""
    if color_mode not in _MODES:
        raise OptionError(f"load_img: color_mode must be one of {sorted(_MODES)}, got {color_mode!r}.")
    if interpolation not in _RESAMPLE:
        raise OptionError(
            f"load_img: interpolation must be one of {sorted(_RESAMPLE)}, got {interpolation!r}."
        )
    with Image.open(path) as img:
        img = img.convert(_MODES[color_mode])
    if target_size is not None:
        height, width = target_size
        if keep_aspect_ratio:
            w, h = img.size
            crop_w, crop_h = min(w, round(h * width / height)), min(h, round(w * height / width))
            left, top = (w - crop_w) // 2, (h - crop_h) // 2
            img = img.crop((left, top, left + crop_w, top + crop_h))
        if img.size != (width, height):
            img = img.resize((width, height), _RESAMPLE[interpolation])
    return img


def img_to_array(
    img: Image.Image, data_format: str = "channels_first", dtype: Any = torch.float32
) -> torch.Tensor:
    """A PIL image as a tensor of values 0-255: ``(C, H, W)`` (or ``(H, W, C)`` with channels_last)."""
    if data_format not in ("channels_first", "channels_last"):
        raise OptionError(f"data_format must be channels_first or channels_last, got {data_format!r}.")
    array = np.asarray(img)
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(array.copy()).to(dtype)
    return tensor.permute(2, 0, 1).contiguous() if data_format == "channels_first" else tensor


def array_to_img(x: Any, data_format: str = "channels_first", scale: bool = True) -> Image.Image:
    """A ``(C, H, W)`` tensor or array (C = 1, 3 or 4) as a PIL image; ``scale`` stretches values to 0-255."""
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if array.ndim != 3:
        raise DataError(f"array_to_img expects a 3-D image, got shape {array.shape}.")
    if data_format == "channels_first":
        array = array.transpose(1, 2, 0)
    array = array.astype(np.float64)
    if scale:
        array = array - array.min()
        top = array.max()
        if top > 0:
            array = array / top * 255
    channels = array.shape[2]
    if channels not in (1, 3, 4):
        raise DataError(
            f"array_to_img: images have 1, 3 or 4 channels, got {channels} (shape {array.shape})."
        )
    array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(
        array[:, :, 0] if channels == 1 else array, {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    )
