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


# -- what an image may be: one rule for preprocess_input and model.zoo.transforms() ----------------------------
def check_image_tensor(x: Any, channels: int, who: str) -> None:
    """An image tensor ``(C, H, W)`` or batch ``(N, C, H, W)`` of uint8 or floats, with ``channels`` channels
    or one (a grayscale channel broadcasts over the weights' mean and std, as ``convert("RGB")`` repeats
    it); anything else is a ``zoo.DataError`` (``zoo.ArgumentError`` for the dtype) saying the fix, before
    torch's "the size of tensor a (32) must match the size of tensor b (3)"."""
    import torch

    from zoo.errors import ArgumentError, DataError
    from zoo.layers._keras import channel_advice, looks_channels_last

    shape = tuple(x.shape)
    expects = f"{who} expects (C, H, W) or (N, C, H, W) images, got shape {shape}"
    if x.ndim not in (3, 4):
        grey = (
            f": one grayscale image? Add its channel axis, x.unsqueeze(0) (its channel then serves all {channels}, "
            "as PIL's convert('RGB') does), or give the image in RGB"
            if x.ndim == 2 and channels != 1 else ""
        )  # fmt: skip
        raise DataError(f"{expects}{grey}.")
    if x.shape[-3] not in (1, channels):
        if looks_channels_last(shape[-3:], 2):
            order = "(2, 0, 1)" if x.ndim == 3 else "(0, 3, 1, 2)"
            raise DataError(
                f"{expects}. It looks channels-last: use x.permute{order} (or img_to_array's default channels_first)."
            )
        batch = " Or, for a batch of 2-D grayscale images, add their channel axis: x.unsqueeze(1)." if x.ndim == 3 else ""
        raise DataError(f"{channel_advice(who, x.shape[-3], channels, shape=shape)}{batch}")
    if 0 in shape[-2:]:
        raise DataError(f"{expects}: an image with no pixels (height or width 0); check how it was cut or loaded.")
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise ArgumentError(
            f"{who} expects uint8 or floating tensors, got {x.dtype}: convert with x.to(torch.uint8) for 0-255 "
            "pixels, or x.float() / its maximum."
        )


class ImageInput:
    """``model.zoo.transforms()``'s first step: the image is one the rest of the pipeline reads as meant, or a
    ``zoo`` error saying why (torchvision's own steps pass what they do not know through unchanged, and a
    channels-last tensor fails deep inside with a raw torch error):

    * a PIL image whose bands the weights cannot take (RGBA, CMYK, a palette) is converted to RGB (``L`` for
      1-channel weights), as torchvision's ``ImageFolder`` loader and ``zoo predict`` do;
    * a numpy array is an ``(H, W, C)`` or ``(H, W)`` image (a batch ``(N, H, W, C)``), as torchvision's
      ``v2.ToImage`` reads arrays (PIL, OpenCV and imageio give them so): it becomes a channels-first tensor,
      uint8 then scaled to [0, 1] as for uint8 tensors;
    * a tensor is checked by :func:`check_image_tensor` (a 2-D one is a grayscale image for 1-channel weights);
    * anything else (a list of images, a path) is a ``zoo.ArgumentError``. Later arguments (``tr(image,
      target)``, torchvision datasets' ``transforms=``) pass through, as with every v2 transform."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, *inputs: Any) -> Any:
        image = self.image(inputs[0]) if inputs else None
        return image if len(inputs) <= 1 else (image, *inputs[1:])

    def image(self, inpt: Any) -> Any:
        import numpy as np
        import PIL.Image
        import torch

        who = "model.zoo.transforms()"
        if isinstance(inpt, PIL.Image.Image):
            if inpt.mode in ("I", "F") or inpt.mode.startswith("I;"):  # 32-bit, float or 16-bit pixels
                from zoo.errors import ArgumentError

                raise ArgumentError(
                    f"{who} takes 8-bit images; this PIL image is in mode {inpt.mode!r} (16-bit, 32-bit or float "
                    "pixels), whose range it cannot know, and torchvision would scale it as if 0-2**31 were its "
                    "range. Scale it to 8 bits yourself, e.g. Image.fromarray((a / a.max() * 255).astype('uint8')) "
                    "with a = np.asarray(image, dtype=float)."
                )
            bands = len(inpt.getbands())
            if (bands not in (1, self.channels) or inpt.mode in ("P", "PA")) and self.channels in (1, 3):
                return inpt.convert("RGB" if self.channels == 3 else "L")
            return inpt
        if isinstance(inpt, np.ndarray):
            inpt = self._from_numpy(inpt, who)
        if not isinstance(inpt, torch.Tensor):
            from zoo.errors import ArgumentError

            raise ArgumentError(
                f"{who} takes one image per call (a PIL image, a (C, H, W) tensor or an (H, W, C) numpy array) or "
                f"a batch tensor (N, C, H, W); got {type(inpt).__name__}. For several images: "
                "torch.stack([tr(image) for image in images])."
            )
        if inpt.ndim == 2 and self.channels == 1:
            inpt = inpt.unsqueeze(0)
        check_image_tensor(inpt, self.channels, who)
        return inpt

    def _from_numpy(self, array: Any, who: str) -> Any:
        import numpy as np
        import torch

        from zoo.errors import DataError

        shape = array.shape
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim not in (3, 4) or array.shape[-1] not in (1, self.channels):
            looks_chw = array.ndim == 3 and shape[0] in (1, self.channels)
            hint = " It looks (C, H, W): give torch.from_numpy(a)." if looks_chw else ""
            raise DataError(
                f"{who} reads numpy arrays as (H, W, C) images (an (N, H, W, C) batch), as torchvision's ToImage "
                f"does: PIL, OpenCV and imageio give them so. Got shape {shape}, not an image of 1 or "
                f"{self.channels} channels.{hint}"
            )
        array = np.ascontiguousarray(array)  # OpenCV's x[..., ::-1] (BGR to RGB) has negative strides
        if not array.flags.writeable:  # np.asarray(pil_image): torch would warn
            array = array.copy()
        return torch.from_numpy(array).movedim(-1, -3).contiguous()  # as v2.ToImage gives it

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channels={self.channels})"
