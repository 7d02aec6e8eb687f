"""The zoo side of a Keras network: channels-first RGB images in [0, 1] in, torch tensors out.

A Keras 3 model on the torch backend is already a ``torch.nn.Module``; what differs is the convention around
it. zoo's applications take (N, C, H, W) images as ``model.zoo.transforms()`` gives them, and every Keras
application wants (N, H, W, C) scaled its own way (``preprocess_input``'s mode). And Keras layers read
``training`` from their call, not from ``nn.Module.training``: without ``training=self.training`` a Keras
BatchNorm would never use batch statistics under ``zoo.fit`` (and Dropout never drop).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import zoo

#: keras.applications.imagenet_utils' "caffe" mode: BGR order, ImageNet means on 0-255 (no scaling).
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class KerasApplication(nn.Module):
    """``keras_model`` behind zoo's image convention; ``head`` (a new classifier) runs on its output."""

    def __init__(self, keras_model: nn.Module, *, mode: str, head: nn.Module | None = None) -> None:
        super().__init__()
        if mode not in ("caffe", "tf", "torch", "none"):
            raise zoo.OptionError(f"unknown Keras preprocessing mode {mode!r}; use 'caffe', 'tf', 'torch' or 'none'.")
        self.keras_model = keras_model
        self.mode = mode
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise zoo.DataError(f"expected images (N, C, H, W), got a tensor of shape {tuple(x.shape)}.")
        y = self.keras_model(_keras_input(x.permute(0, 2, 3, 1), self.mode), training=self.training)
        if y.ndim == 4:  # a feature map (include_top=False, no pooling): back to channels-first
            y = y.permute(0, 3, 1, 2)
        return self.head(y) if self.head is not None else y

    def extra_repr(self) -> str:
        return f"keras={getattr(self.keras_model, 'name', '?')}, preprocessing={self.mode!r}"


def _keras_input(x: torch.Tensor, mode: str) -> torch.Tensor:
    """RGB in [0, 1], channels-last -> what this Keras application's ``preprocess_input`` would have made."""
    if mode == "tf":
        return x * 2 - 1
    if mode == "torch":
        return (x - x.new_tensor(_TORCH_MEAN)) / x.new_tensor(_TORCH_STD)
    if mode == "caffe":
        return x.flip(-1) * 255 - x.new_tensor(_CAFFE_BGR_MEAN)
    return x * 255  # "none": the network rescales 0-255 inputs itself (EfficientNet, ConvNeXt, MobileNetV3)


def preprocessing(size: int) -> dict[str, Any]:
    """zoo's preprocessing of every Keras application: shorter side to ``size``, centre crop, [0, 1] RGB
    (mean 0, std 1); the Keras-specific scaling is the boundary's."""
    return {"resize": size, "crop": size, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0],
            "interpolation": "bilinear", "antialias": True}  # fmt: skip
