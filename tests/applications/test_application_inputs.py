"""What an application and its ``model.zoo.transforms()`` do with inputs they cannot take as given: work as
meant (numpy images, RGBA/palette PIL images) or a ``zoo`` error saying the fix, never a raw torch error
or an input passed through unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import v2

import zoo
from zoo.applications.info import ModelInfo

PERMUTE_CHW = r"looks channels-last: use x\.permute\(2, 0, 1\)"
PERMUTE_NCHW = r"looks channels-last.*x\.permute\(0, 3, 1, 2\)"


@pytest.fixture(scope="module")
def toy():
    return zoo.load("toy_cnn")  # bundled weights; its stem is a CoordConv taking 3 + 2 channels


@pytest.fixture(scope="module")
def resnet():
    return zoo.load("resnet18", weights=None)


def _rgb(h: int = 40, w: int = 48) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


# -- model.zoo.transforms() -----------------------------------------------------------------------------------
def test_transforms_refuse_channels_last_tensors_as_preprocess_input_does(toy):
    tr = toy.zoo.transforms()
    for x in (torch.rand(32, 32, 3), torch.rand(2, 32, 32, 3)):
        with pytest.raises(zoo.DataError) as theirs:
            zoo.preprocess_input(x, toy)
        with pytest.raises(zoo.DataError) as ours:
            tr(x)
        assert "looks channels-last" in str(ours.value)
        assert str(ours.value).replace("model.zoo.transforms()", "preprocess_input") == str(theirs.value)
    with pytest.raises(zoo.DataError, match=PERMUTE_CHW):
        tr(torch.rand(32, 32, 3))


def test_transforms_say_how_to_fix_a_channel_count_or_a_grayscale_tensor(toy):
    tr = toy.zoo.transforms()
    with pytest.raises(zoo.DataError, match=r"takes 3-channel images, got 4 .*x\[:3\] drops an alpha.*x\.unsqueeze\(1\)"):
        tr(torch.rand(4, 32, 32))
    with pytest.raises(zoo.DataError, match=r"got shape \(32, 32\): one grayscale image\? .*x\.unsqueeze\(0\)"):
        tr(torch.rand(32, 32))
    for mode in ("I", "I;16", "F"):  # torchvision scaled these by 2**31 - 1: silently near-black images
        with pytest.raises(zoo.ArgumentError, match=rf"takes 8-bit images; this PIL image is in mode '{mode}'"):
            tr(Image.new(mode, (32, 32), 200))
    with pytest.raises(zoo.DataError, match=r"got shape \(3, 0, 0\): an image with no pixels"):
        tr(torch.rand(3, 0, 0))  # was ZeroDivisionError from Resize
    with pytest.raises(zoo.ArgumentError, match=r"uint8 or floating tensors, got torch\.int64"):
        tr(torch.randint(0, 256, (3, 32, 32)))  # ToDtype(scale=True) would divide by 2**63 - 1
    # weights of one channel: a 2-D tensor is that channel
    gray = ModelInfo("gray", None, None, None, None, {"crop": 8, "mean": [0.5], "std": [0.5]}, (1, 1)).transforms()
    x = torch.rand(8, 8)
    assert torch.equal(gray(x), gray(x[None]))


def test_numpy_images_are_read_as_torchvisions_to_image_reads_them(toy):
    tr = toy.zoo.transforms()
    a = _rgb()
    expected = tr(v2.functional.to_image(a))  # HWC uint8 -> CHW uint8, scaled by ToDtype as any uint8
    assert torch.equal(tr(a), expected)
    assert torch.equal(tr(torch.from_numpy(a.copy()).permute(2, 0, 1)), expected)
    assert torch.equal(tr(a[None])[0], expected)  # an (N, H, W, C) batch
    assert torch.equal(tr(a[..., ::-1]), tr(v2.functional.to_image(a[..., ::-1].copy())))  # OpenCV's BGR->RGB view
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.asarray(PIL image) is read-only: torch would warn
        tr(np.asarray(Image.fromarray(a)))
    assert tr(a[:, :, 0]).shape == (3, 32, 32)  # (H, W): one grayscale channel, as ToImage reads it
    with pytest.raises(zoo.DataError, match=r"reads numpy arrays as \(H, W, C\).*looks \(C, H, W\): give torch\.from_numpy"):
        tr(np.ascontiguousarray(a.transpose(2, 0, 1)))


def test_transforms_refuse_what_they_would_return_unchanged(toy):
    tr = toy.zoo.transforms()
    for wrong in ([1, 2, 3], [Image.fromarray(_rgb())], "image.png"):
        with pytest.raises(zoo.ArgumentError, match=r"one image per call.*torch\.stack"):
            tr(wrong)
    image, target = tr(Image.fromarray(_rgb()), 7)  # torchvision datasets' transforms=(image, target)
    assert image.shape == (3, 32, 32) and target == 7


def test_pil_images_are_unchanged_and_other_modes_become_rgb(toy):
    tr = toy.zoo.transforms()
    image = Image.fromarray(_rgb())
    assert torch.equal(tr(image), v2.Compose(tr.transforms[1:])(image))  # the added step leaves RGB alone
    for mode in ("RGBA", "P", "CMYK"):
        other = image.convert(mode)
        assert torch.equal(tr(other), tr(other.convert("RGB"))), mode


def test_weights_without_preprocessing_say_so():
    lenet = zoo.load("lenet5")
    with pytest.raises(zoo.ModelError, match="declare no crop, mean, std"):
        lenet.zoo.transforms()
    with pytest.raises(zoo.ModelError, match="declare no mean, std"):
        zoo.preprocess_input(torch.rand(1, 1, 28, 28), lenet)


# -- the application's own input watch ----------------------------------------------------------------------
def test_toy_cnn_channels_come_from_its_declaration_not_its_coordconv_stem(toy):
    assert toy.features[0][0].in_channels == 5
    with pytest.raises(zoo.DataError, match=PERMUTE_NCHW):
        toy(torch.rand(2, 64, 64, 3))  # was "needs images of at least 8x8 pixels, got 64x3"
    with pytest.raises(zoo.DataError, match=PERMUTE_NCHW):
        zoo.summary(toy, input_size=(64, 64, 3))
    with pytest.raises(zoo.DataError, match=r"takes 3-channel images, got 1 .*x\.expand\(-1, 3, -1, -1\)"):
        toy(torch.rand(2, 1, 64, 64))  # was torch's "expected ... to have 5 channels"
    assert toy(torch.rand(2, 3, 64, 64)).shape == (2, 15)


def test_a_batch_of_the_wrong_dtype_or_channels_says_the_conversion(resnet):
    x = torch.rand(1, 3, 64, 64)
    with pytest.raises(zoo.DataError, match=r"uint8 batch.*x\.float\(\) / 255 and normalise.*model\.zoo\.transforms\(\)"):
        resnet((x * 255).byte())
    with pytest.raises(zoo.DataError, match=r"the batch is torch\.float64: convert it with x\.float\(\)"):
        resnet(x.double())
    with pytest.raises(zoo.DataError, match=r"takes 3-channel images, got 1 .*x\.expand\(-1, 3, -1, -1\)"):
        resnet(x[:, :1])
    with pytest.raises(zoo.DataError, match=r"got 4 .*x\[:, :3\] drops an alpha"):
        resnet(torch.cat([x, x[:, :1]], 1))
    half = zoo.load("resnet18", weights=None).half()
    with pytest.raises(zoo.DataError, match=r"weights are torch\.float16.*x\.half\(\)"):
        half(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts the batch for the stem itself
        assert resnet(x.half()).dtype == torch.bfloat16
        with pytest.raises(zoo.DataError, match=r"x\.float\(\)"):
            resnet(x.double())  # which autocast leaves alone


def test_a_replaced_stem_says_the_channels_from_then_on():
    model = zoo.load("resnet18", weights=None)
    model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)  # fine-tuning for grayscale
    assert model(torch.rand(1, 1, 64, 64)).shape == (1, 1000)
    with pytest.raises(zoo.DataError, match="takes 1-channel images, got 3"):
        model(torch.rand(1, 3, 64, 64))


def test_channels_built_for_come_from_the_load_options():
    model = zoo.load("convnext_atto", weights=None, in_chans=1)  # timm's keyword; the weights' mean has 3
    assert model(torch.rand(1, 1, 64, 64)).shape == (1, 1000)
    with pytest.raises(zoo.DataError, match="takes 1-channel images, got 3"):
        model(torch.rand(1, 3, 64, 64))


def test_nothing_is_checked_while_tracing():
    digits = zoo.load("tiny_digits")  # declares 3 channels, but its network averages them
    with pytest.raises(zoo.DataError, match="takes 3-channel images, got 1"):
        digits(torch.rand(1, 1, 8, 8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.jit.trace(digits, torch.rand(1, 1, 8, 8), check_trace=False)  # refused, were the hook checking
        # resnet18 has the InputSizeCheck hook too (tiny_digits has none): comparing traced sizes would warn
        # that the trace may be wrong, and bake the example's size into it.
        sized = zoo.load("resnet18", weights=None)
        assert "InputSizeCheck" in [type(hook).__name__ for hook in sized._forward_pre_hooks.values()]
        torch.jit.trace(sized, torch.rand(1, 3, 64, 64), check_trace=False)
    assert not [w for w in caught if w.filename.endswith(("_keras.py", "builder.py"))]


# -- features_only --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["resnet18", "toy_cnn"])
def test_features_only_models_have_the_same_watch(name):
    features = zoo.load(name, weights=None, features_only=True)
    x = torch.rand(1, 3, 64, 64)
    assert all(f.ndim == 4 for f in features(x))
    with pytest.raises(zoo.DataError, match=PERMUTE_NCHW):
        features(torch.rand(1, 64, 64, 3))  # was torch's "expected ... 3 channels, but got 64"
    with pytest.raises(zoo.DataError, match="takes 3-channel images, got 1"):
        features(x[:, :1])
    with pytest.raises(zoo.DataError, match=r"x\.float\(\) / 255"):
        features((x * 255).byte())
    with pytest.raises(zoo.DataError, match=r"\(N, C, H, W\)"):
        features(x[0])  # the size check comes along too
