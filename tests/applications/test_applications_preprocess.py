"""What comes with a loaded model: the weights' preprocessing, decoding, and ``zoo predict``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import models

import zoo
from zoo.applications.info import default_info
from zoo.cli import main


def _image(h: int = 300, w: int = 400, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 3), np.float32)
    noise = rng.integers(0, 60, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("name", "weights"),
    [
        ("resnet50", models.ResNet50_Weights.IMAGENET1K_V2),  # resize 232, crop 224
        ("inception_v3", models.Inception_V3_Weights.IMAGENET1K_V1),  # 342 / 299
        ("vit_b_16", models.ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1),  # bicubic 384
        ("efficientnet_v2_l", models.EfficientNet_V2_L_Weights.IMAGENET1K_V1),  # mean/std 0.5
    ],
)
def test_transforms_equal_torchvisions(name, weights):
    ours, theirs = default_info(name, weights.name).transforms(), weights.transforms()
    pil = _image()
    torch.testing.assert_close(ours(pil), theirs(pil))
    tensor = torch.from_numpy(np.array(_image(seed=1))).permute(2, 0, 1).contiguous()
    torch.testing.assert_close(ours(tensor), theirs(tensor))
    batch = torch.stack([tensor, tensor.flip(-1)]).float() / 255
    torch.testing.assert_close(ours(batch), theirs(batch))


def test_preprocess_input_scales_uint8_and_normalises():
    x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    out = zoo.preprocess_input(x, "resnet50")
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(out, (x.float() / 255 - mean) / std)
    torch.testing.assert_close(zoo.preprocess_input(x.float() / 255, "resnet50"), out)  # floats: in [0, 1]
    torch.testing.assert_close(zoo.preprocess_input(x[0], "efficientnet_v2_l"), (x[0].float() / 255 - 0.5) / 0.5)
    with pytest.raises(ValueError, match="channels-last"):
        zoo.preprocess_input(x.permute(0, 2, 3, 1), "resnet50")


def test_decode_predictions_softmaxes_logits_and_keeps_probabilities():
    logits = torch.full((2, 1000), -5.0)
    logits[0, 207], logits[0, 208], logits[1, 1] = 6.0, 5.0, 9.0
    decoded = zoo.decode_predictions(logits, top=3)
    assert [i for i, _, _ in decoded[0]] == [207, 208, decoded[0][2][0]]
    assert decoded[0][0][1] == "golden retriever" and decoded[1][0][1] == "goldfish"
    probs = logits.softmax(dim=1)
    assert decoded[0][0][2] == pytest.approx(float(probs[0, 207]))
    again = zoo.decode_predictions(probs, top=3)  # already probabilities: no second softmax
    assert again[0][0][2] == pytest.approx(float(probs[0, 207]))
    single = zoo.decode_predictions(probs[1], top=1)
    assert single == [[(1, "goldfish", pytest.approx(float(probs[1, 1])))]]
    assert zoo.decode_predictions(torch.tensor([[0.1, 3.0]]), top=1, categories=["cat", "dog"])[0][0][:2] == (1, "dog")
    with pytest.raises(ValueError, match="10 scores per sample but 1000"):
        zoo.decode_predictions(torch.zeros(1, 10))


def test_zoo_predict_prints_a_top_table(tmp_path, capsys):
    torch.manual_seed(0)
    model = models.mobilenet_v3_small().eval()
    torch.save(model.state_dict(), tmp_path / "m.pth")
    for i in range(2):
        _image(seed=i).save(tmp_path / f"img{i}.png")
    assert main(["predict", "MobileNetV3Small", str(tmp_path / "img0.png"), str(tmp_path / "img1.png"),
                 "--weights", str(tmp_path / "m.pth"), "--top", "3"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    preprocess = models.MobileNet_V3_Small_Weights.IMAGENET1K_V1.transforms()
    with torch.no_grad():
        expected = model(preprocess(_image(seed=1)).unsqueeze(0)).softmax(1).topk(3)
    block = out.split("img1.png")[1]
    names = models.MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta["categories"]
    for rank, index in enumerate(expected.indices[0].tolist(), 1):
        assert f"{rank}  {names[index]}" in block
    assert out.count("rank") == 2
    assert main(["predict", "resnet50", str(tmp_path / "missing.png")]) == 1
    pickle.loads(pickle.dumps(model_zoo_transforms()))  # DataLoader workers (spawn) pickle the pipeline


def model_zoo_transforms():
    return default_info("resnet50").transforms()


def test_the_keras_chain_gives_what_transforms_gives(tmp_path, monkeypatch):
    """preprocess_input(img_to_array(load_img(p))) -- 0-255 floats, as in Keras -- is the model's input that
    model.zoo.transforms() makes from the same file (resize aside), to float precision."""
    from zoo.applications import transforms
    from zoo.preprocessing import img_to_array, load_img

    monkeypatch.setattr(transforms, "_warned_0_255", False)
    path = tmp_path / "photo.png"
    _image(232, 232, seed=3).save(path)  # resnet50's resize is 232: only the centre crop to 224 is left
    info = default_info("resnet50")
    expected = info.transforms()(load_img(path))
    pixels = img_to_array(load_img(path))
    assert pixels.dtype == torch.float32 and float(pixels.max()) > 200  # Keras' 0-255 floats
    with pytest.warns(transforms.PixelRangeWarning, match="taken as 0-255"):
        keras_chain = zoo.preprocess_input(pixels, "resnet50")
    torch.testing.assert_close(keras_chain[:, 4:228, 4:228], expected)
    # the same pixels as uint8, or as [0, 1] floats: the same input, and no further warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.testing.assert_close(zoo.preprocess_input(pixels.to(torch.uint8), "resnet50"), keras_chain)
        torch.testing.assert_close(zoo.preprocess_input(pixels / 255, "resnet50"), keras_chain)
        torch.testing.assert_close(zoo.preprocess_input(pixels, "resnet50"), keras_chain)  # warned once only
        # transforms() on img_to_array's float tensor: 0-255, not silently [0, 1] as torchvision would
        torch.testing.assert_close(info.transforms()(pixels), expected)
        torch.testing.assert_close(info.transforms()(pixels.to(torch.uint8)), expected)
    # already normalised values given again are refused, not scaled a second time
    with pytest.raises(zoo.DataError, match="already normalised"):
        zoo.preprocess_input(keras_chain, "resnet50")
    with pytest.raises(zoo.DataError, match="already normalised"):
        info.transforms()(keras_chain)
    with pytest.raises(ValueError, match=r"channels-last: use x.permute\(2, 0, 1\)"):
        zoo.preprocess_input(img_to_array(load_img(path), data_format="channels_last"), "resnet50")
