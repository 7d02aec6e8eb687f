"""zoo.load end to end: weights from a local HTTP server into torchvision architectures."""

from __future__ import annotations

import copy
import logging
import os
import pickle

import pytest
import torch
import torchvision
from torch import nn

import zoo
from zoo.applications import table
from zoo.applications.loading import WeightsFileError

SIZES = {"resnet50": 64, "vgg16": 32, "inception_v3": 80}  # small inputs keep the forward passes cheap


def _x(arch: str, n: int = 2) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(n, 3, SIZES[arch], SIZES[arch])


@pytest.mark.parametrize("arch", ["resnet50", "vgg16", "inception_v3"])
def test_served_weights_give_torchvisions_outputs(arch, weights_files, serve):
    wf = weights_files[arch]
    url = serve(wf.path)
    model = zoo.load(arch, weights=url, progress=False)
    # the class gains only Keras' trainable property (a cached subclass of torchvision's own)
    assert isinstance(model, type(wf.reference)) and type(model).__name__ == type(wf.reference).__name__
    assert not model.training and model.trainable
    assert list(model.state_dict()) == list(wf.reference.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(model(_x(arch)), wf.reference(_x(arch)), rtol=1e-5, atol=1e-5)
    assert model.zoo.sha256 == wf.sha256  # the full hash of the cached file, checked by the hub
    assert model.zoo.source == url
    assert model.zoo.categories is not None and len(model.zoo.categories) == 1000
    assert zoo.hub.cached_path(url, sha256=wf.sha256) is not None


def test_default_weights_go_through_the_table_entry(weights_files, serve, monkeypatch):
    wf = weights_files["resnet50"]
    variant = table.architecture("resnet50")["weights"]["IMAGENET1K_V2"]
    monkeypatch.setitem(variant, "url", serve(wf.path, name=variant["filename"]))
    monkeypatch.setitem(variant, "sha256", wf.sha256[:8])  # a prefix, as torchvision publishes
    model = zoo.load("ResNet50", progress=False)  # Keras spelling, weights="imagenet"
    assert model.zoo.weights == "IMAGENET1K_V2" and model.zoo.sha256 == wf.sha256
    with torch.no_grad():
        torch.testing.assert_close(model(_x("resnet50")), wf.reference(_x("resnet50")))
    # torchvision's enum member and its string spelling name the same variant (now a cache hit)
    again = zoo.load("resnet50", weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V2, progress=False)
    assert again.zoo.weights == "IMAGENET1K_V2" and again.zoo.sha256 == wf.sha256
    assert table.find_variant("resnet50", "ResNet50_Weights.IMAGENET1K_V1") == "IMAGENET1K_V1"
    with pytest.raises(ValueError, match="not weights of resnet50"):
        zoo.load("resnet50", weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1)


def test_wrong_hash_is_refused_and_not_cached(weights_files, serve, monkeypatch):
    wf = weights_files["resnet50"]
    variant = table.architecture("resnet50")["weights"]["IMAGENET1K_V1"]
    monkeypatch.setitem(variant, "url", serve(wf.path, name=variant["filename"]))  # sha256 prefix stays 0676ba61
    with pytest.raises(zoo.IntegrityError):
        zoo.load("resnet50", weights="IMAGENET1K_V1", progress=False)
    assert zoo.hub.cached_path(variant["url"], filename=variant["filename"]) is None


@pytest.mark.parametrize(
    ("arch", "feature_shape", "pooled"),
    [("resnet50", (2048, 2, 2), 2048), ("vgg16", (512, 1, 1), 512), ("inception_v3", (2048, 1, 1), 2048)],
)
def test_include_top_false_and_pooling(arch, feature_shape, pooled, weights_files):
    wf = weights_files[arch]
    x = _x(arch)
    features = zoo.load(arch, weights=wf.path, include_top=False)
    avg = zoo.load(arch, weights=wf.path, include_top=False, pooling="avg")
    mx = zoo.load(arch, weights=wf.path, include_top=False, pooling="max")
    with torch.no_grad():
        fmap = features(x)
        assert fmap.shape == (2, *feature_shape)
        torch.testing.assert_close(avg(x), fmap.mean(dim=(2, 3)))
        torch.testing.assert_close(mx(x), fmap.amax(dim=(2, 3)))
    kept = set(features.state_dict())
    assert kept < set(wf.state_dict) and all(not k.startswith(("fc.", "classifier.")) for k in kept)
    assert set(features.zoo.dropped_keys) == set(wf.state_dict) - kept


def test_resnet50_feature_map_is_torchvisions_last_stage(weights_files):
    wf = weights_files["resnet50"]
    ref = wf.reference
    x = _x("resnet50")
    with torch.no_grad():
        expected = ref.layer4(ref.layer3(ref.layer2(ref.layer1(ref.maxpool(ref.relu(ref.bn1(ref.conv1(x))))))))
        torch.testing.assert_close(zoo.load("resnet50", weights=wf.path, include_top=False)(x), expected)


def test_num_classes_replaces_the_head_and_reports_dropped_keys(weights_files, caplog):
    wf = weights_files["resnet50"]
    with caplog.at_level(logging.INFO, logger="zoo.applications"):
        model = zoo.load("resnet50", weights=wf.path, num_classes=10)
    assert model.fc.out_features == 10
    assert model.zoo.dropped_keys == ["fc.weight", "fc.bias"]
    assert "fc.weight" in caplog.text and "10-way" in caplog.text
    assert model.zoo.categories is None  # ImageNet names no longer describe the outputs
    for key, value in model.state_dict().items():
        if not key.startswith("fc."):
            assert torch.equal(value, wf.state_dict[key]), key
    assert not torch.equal(model.fc.weight[:10], wf.state_dict["fc.weight"][:10])
    with torch.no_grad():
        assert model(_x("resnet50")).shape == (2, 10)


def test_num_classes_matching_the_file_keeps_its_head(weights_files, tmp_path):
    wf = weights_files["resnet50"]
    tuned = dict(wf.state_dict)
    tuned["fc.weight"], tuned["fc.bias"] = torch.randn(3, 2048), torch.randn(3)
    torch.save(tuned, tmp_path / "tuned.pth")
    model = zoo.load("resnet50", weights=tmp_path / "tuned.pth", num_classes=3)
    assert model.zoo.dropped_keys == [] and torch.equal(model.fc.weight, tuned["fc.weight"])


def test_weights_none_builds_a_random_model_with_the_asked_head():
    model = zoo.load("resnet18", weights=None, num_classes=4)
    assert model.fc.out_features == 4 and model.zoo.weights is None
    assert not any(p.is_meta for p in model.parameters())
    assert model.conv1.weight.std() > 0  # really initialised


def _parent(backbone: nn.Module) -> nn.Module:
    return nn.Sequential(backbone, nn.Linear(2048, 3))


def test_trainable_false_freezes_and_keeps_batchnorm_in_eval(weights_files):
    wf = weights_files["resnet50"]
    backbone = zoo.load("resnet50", weights=wf.path, include_top=False, pooling="avg", trainable=False)
    parent = _parent(backbone)
    parent.train()
    assert parent.training and parent[1].training
    assert not any(m.training for m in backbone.modules())
    assert not any(p.requires_grad for p in backbone.parameters())
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    parent(_x("resnet50")).sum().backward()  # a training step's forward must not touch BN statistics
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert parent[1].weight.grad is not None

    clone = pickle.loads(pickle.dumps(parent))
    twin = copy.deepcopy(parent)
    for other in (clone, twin):
        other.train()
        assert other[1].training and not any(m.training for m in other[0].modules())
        assert list(other.state_dict()) == list(parent.state_dict())
    zoo.unfreeze(backbone)
    parent.train()
    assert all(m.training for m in backbone.modules()) and all(p.requires_grad for p in backbone.parameters())


def test_trainable_false_with_new_head_trains_only_the_head(weights_files):
    model = zoo.load("resnet50", weights=weights_files["resnet50"].path, num_classes=5, trainable=False)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    model.train()
    assert not model.bn1.training and not model.layer4.training


def test_freeze_any_module():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5))
    outer = nn.Sequential(zoo.freeze(net), nn.ReLU())
    outer.train()
    assert not net[1].training and not net[2].training and outer[1].training
    assert not any(p.requires_grad for p in net.parameters())
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                      "1.running_var", "1.num_batches_tracked"]  # fmt: skip
    with pytest.raises(TypeError):
        zoo.freeze("not a module")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_is_rejected_without_running(tmp_path, serve):
    marker = tmp_path / "pwned"
    bad = tmp_path / "resnet50-evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "payload": _Exploit(marker)}, bad)
    with pytest.raises(WeightsFileError, match="never unpickles"):
        zoo.load("resnet50", weights=bad)
    with pytest.raises(zoo.ZooError, match="never unpickles"):
        zoo.load("resnet50", weights=serve(bad), progress=False)
    assert not marker.exists()


def test_too_small_input_fails_early_with_a_clear_message(weights_files):
    model = zoo.load("inception_v3", weights=weights_files["inception_v3"].path)
    with pytest.raises(ValueError, match=r"inception_v3 needs images of at least 75x75 pixels, got 64x64"):
        model(torch.zeros(1, 3, 64, 64))
    features = zoo.load("inception_v3", weights=weights_files["inception_v3"].path, include_top=False)
    with pytest.raises(ValueError, match="at least 75x75"):
        features(torch.zeros(1, 3, 74, 80))


def test_keras_spellings_resolve():
    for spelling, name in [("ResNet50", "resnet50"), ("InceptionV3", "inception_v3"),
                           ("MobileNetV2", "mobilenet_v2"), ("VGG16", "vgg16"), ("DenseNet121", "densenet121"),
                           ("EfficientNetB0", "efficientnet_b0"), ("EfficientNetV2S", "efficientnet_v2_s"),
                           ("MobileNetV3Large", "mobilenet_v3_large"), ("ConvNeXtTiny", "convnext_tiny"),
                           ("RegNetY016", "regnet_y_1_6gf"), ("resnet-50", "resnet50")]:  # fmt: skip
        assert zoo.info(spelling, kind="applications")["name"] == name
    model = zoo.load("MobileNetV3Small", weights=None)
    assert isinstance(model, torchvision.models.MobileNetV3) and model.zoo.name == "mobilenet_v3_small"


def test_bad_options_say_how_to_fix(weights_files):
    path = weights_files["resnet50"].path
    with pytest.raises(ValueError, match="include_top=False"):
        zoo.load("resnet50", weights=path, pooling="avg")
    with pytest.raises(ValueError, match="pooling must be"):
        zoo.load("resnet50", weights=path, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="IMAGENET1K_V1, IMAGENET1K_V2"):
        zoo.load("resnet50", weights="imagenet21k")
    with pytest.raises(WeightsFileError, match="does not exist"):
        zoo.load("resnet50", weights="missing/weights.pth")
    with pytest.raises(WeightsFileError, match="do not fit resnet18"):
        zoo.load("resnet18", weights=path)


def test_model_built_hook_sees_every_model(weights_files):
    """... built with the cyclic garbage collector paused (zoo/_gc.py), which is on again afterwards."""
    import gc

    seen = []

    class Spy:
        @zoo.hookimpl
        def zoo_model_built(self, model, name, options):
            seen.append((name, options["include_top"], hasattr(model, "zoo"), gc.isenabled()))

    zoo.plugins.get_plugin_manager().register(Spy(), name="spy")
    zoo.load("resnet50", weights=weights_files["resnet50"].path, include_top=False)
    assert seen == [("resnet50", False, True, False)] and gc.isenabled()


def test_file_named_like_a_published_variant_gets_its_facts(weights_files, tmp_path):
    variant = table.architecture("inception_v3")["weights"]["IMAGENET1K_V1"]
    path = tmp_path / variant["filename"]
    path.write_bytes(weights_files["inception_v3"].path.read_bytes())
    model = zoo.load("inception_v3", weights=path)
    assert model.zoo.weights == "IMAGENET1K_V1" and model.zoo.preprocessing["crop"] == 299
    assert model.zoo.source == str(path) and model.zoo.sha256 == weights_files["inception_v3"].sha256


def test_features_only_variant_needs_include_top_false(weights_files, tmp_path):
    variant = table.architecture("vgg16")["weights"]["IMAGENET1K_FEATURES"]
    path = tmp_path / variant["filename"]
    os.link(weights_files["vgg16"].path, path)  # a second name, not a 528 MB copy
    with pytest.raises(ValueError, match="include_top=False"):
        zoo.load("vgg16", weights=path)
    features = zoo.load("vgg16", weights=path, include_top=False, pooling="avg")
    assert features.zoo.weights == "IMAGENET1K_FEATURES" and features.zoo.preprocessing["std"][0] < 0.01
    with torch.no_grad():
        assert features(_x("vgg16")).shape == (2, 512)
