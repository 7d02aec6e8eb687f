"""``zoo.load(name, features_only=True, out_indices=...)``: the maps at each stride, found where timm puts
them, equal to the network's own intermediate outputs; indices checked; freezing, summary and export work."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.applications.features import extract

RESNET18 = [("relu", 64, 2), ("layer1", 64, 4), ("layer2", 128, 8), ("layer3", 256, 16), ("layer4", 512, 32)]


def _levels(model):
    return [(f.module, f.channels, f.reduction) for f in model.zoo.feature_info]


def test_levels_are_the_stage_outputs_and_equal_the_networks_own():
    backbone = zoo.load("resnet18", weights=None, include_top=False)
    features = extract(backbone, None, name="resnet18", size=64)
    # the stage outputs timm names for a ResNet, not the first conv of the next stage (still at the old stride)
    assert _levels(features) == RESNET18
    seen = {}
    hooks = [getattr(backbone, name).register_forward_hook(lambda m, a, out, n=name: seen.setdefault(n, out))
             for name, _, _ in RESNET18]  # fmt: skip
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        maps = features(x)
        backbone(x)
    for hook in hooks:
        hook.remove()
    assert isinstance(maps, list) and len(maps) == 5
    for got, (name, channels, reduction) in zip(maps, RESNET18, strict=True):
        assert got.shape == (2, channels, 64 // reduction, 64 // reduction)
        torch.testing.assert_close(got, seen[name], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "densenet121",
            [
                "features.relu0",
                "features.denseblock1",
                "features.denseblock2",
                "features.denseblock3",
                "features",
            ],
        ),
        ("mobilenet_v3_small", ["features.0", "features.1", "features.3", "features.8", "features"]),
        ("timm:resnet18", ["act1", "layer1", "layer2", "layer3", "layer4"]),  # timm's own feature_info
    ],
)
def test_levels_of_other_families(name, expected):
    model = zoo.load(name, weights=None, features_only=True)
    assert [f.module for f in model.zoo.feature_info] == expected
    assert [f.reduction for f in model.zoo.feature_info] == [2, 4, 8, 16, 32]
    maps = model(torch.rand(1, 3, 64, 64))
    assert [m.shape[1] for m in maps] == [f.channels for f in model.zoo.feature_info]


def test_out_indices_negative_and_wrong():
    model = zoo.load("resnet18", weights=None, features_only=True, out_indices=(1, -1))
    assert _levels(model) == [RESNET18[1], RESNET18[4]]
    assert [m.shape[1] for m in model(torch.rand(1, 3, 64, 64))] == [64, 512]
    with pytest.raises(
        zoo.ZooError, match=r"resnet18 has 5 feature levels \(0..4, or -5..-1\).*cannot take 5.*1: layer1"
    ):
        zoo.load("resnet18", weights=None, features_only=True, out_indices=(1, 5))
    for wrong, message in [((1, 1), "names level 1 twice"), ("12", "non-empty sequence"), ((), "non-empty"),
                           ((1.0,), "whole numbers")]:  # fmt: skip
        with pytest.raises(zoo.ZooError, match=message):
            zoo.load("resnet18", weights=None, features_only=True, out_indices=wrong)


def test_options_that_do_not_apply_are_loud():
    with pytest.raises(zoo.ZooError, match="needs features_only=True"):
        zoo.load("resnet18", weights=None, out_indices=(1, 2))
    with pytest.raises(zoo.ZooError, match="pooling= does not apply"):
        zoo.load("resnet18", weights=None, features_only=True, pooling="avg")
    with pytest.raises(zoo.ZooError, match="num_classes= does not apply"):
        zoo.load("resnet18", weights=None, features_only=True, num_classes=3)
    with pytest.raises(zoo.ZooError, match="num_classes= does not apply"):  # Keras' spelling: the same
        zoo.load("resnet18", weights=None, features_only=True, classes=3)
    with pytest.raises(zoo.OptionError, match="takes no option 'dropuot'"):
        zoo.load("resnet18", weights=None, features_only=True, dropuot=0.1)
    with pytest.raises(zoo.ZooError, match="features_only must be True or False"):
        zoo.load("resnet18", weights=None, features_only="yes")
    with pytest.raises(zoo.ZooError, match="mlp has no .N, C, H, W. feature maps"):
        extract(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2)), None, name="mlp", size=2)
    with pytest.raises(zoo.OptionError, match="'surgery:lenet_300_100' does not support features_only=True"):
        zoo.load("lenet_300_100", weights=None, features_only=True)
    with pytest.raises(zoo.ZooError, match="vit_b_16: features_only does not serve it .a ViT has one scale"):
        zoo.load("vit_b_16", weights=None, features_only=True)


def test_frozen_summary_and_export(tmp_path):
    model = zoo.load("resnet18", weights=None, features_only=True, trainable=False)
    assert not any(p.requires_grad for p in model.parameters())
    model.train()  # a parent's .train() does not wake the frozen BatchNorm
    assert not any(m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    table = zoo.summary(model, (3, 64, 64), print_fn=None)
    assert "layer4" in str(table)
    result = zoo.export(model, "torch_export", tmp_path / "features.pt2", example_input=torch.rand(1, 3, 64, 64))
    loaded = torch.export.load(str(result.path)).module()
    x = torch.rand(1, 3, 64, 64)
    for a, b in zip(loaded(x), model(x), strict=True):
        torch.testing.assert_close(a, b)
