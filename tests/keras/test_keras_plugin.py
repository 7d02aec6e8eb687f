"""zoo-keras: every keras.applications name resolves to one application; Keras' own h5 files load through
zoo's cache behind zoo's image convention; zoo's options, freezing and training mode reach the Keras layers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import zoo


def _keras_reference(keras_model, x_nchw: torch.Tensor) -> torch.Tensor:
    """What Keras itself computes for these images: its own preprocess_input on 0-255 NHWC pixels."""
    from keras.applications import nasnet

    pixels = (x_nchw.permute(0, 2, 3, 1) * 255).numpy()
    with torch.no_grad():
        return keras_model(nasnet.preprocess_input(pixels), training=False).detach()


def test_every_keras_name_resolves_to_one_application():
    from zoo_keras import table

    from zoo.plugins import get_registry

    registry = get_registry()
    owners = {name: registry.lookup("applications", name).plugin for name in table.applications()}
    # the names only Keras has are Keras'; the ones torchvision or timm serve stay theirs
    assert owners["NASNetMobile"] == owners["ResNet50V2"] == owners["EfficientNetV2B0"] == "keras"
    assert owners["ResNet50"] == "applications" and owners["NASNetLarge"] == owners["Xception"] == "timm"
    assert len(owners) == 40
    assert registry.lookup("applications", "keras:ResNet50").plugin == "keras"


def test_listing_imports_neither_keras_nor_torch():
    code = "import sys, zoo; zoo.list('applications', 'keras:*'); print('keras' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_imagenet_weights_through_the_cache_match_keras(local_table, keras_files, httpserver, keras_name):
    model = zoo.load(keras_name)
    assert model.zoo.name == f"keras:{keras_name}" and model.zoo.weights == "imagenet"
    assert model.zoo.categories[0] == "tench" and len(model.zoo.categories) == 1000
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        ours = model(x)
    torch.testing.assert_close(ours, _keras_reference(keras_files.reference, x), atol=2e-5, rtol=1e-4)
    # model.zoo.transforms() gives what the boundary takes: RGB in [0, 1], channels-first
    from PIL import Image

    image = Image.fromarray(np.uint8(np.random.default_rng(0).integers(0, 256, (230, 250, 3))))
    batch = model.zoo.transforms()(image)[None]
    assert batch.shape == (1, 3, 224, 224) and batch.min() >= 0.0 and batch.max() <= 1.0
    # the second load is a cache hit: no new request
    requests = len(httpserver.log)
    zoo.load(keras_name)
    assert len(httpserver.log) == requests


def test_a_file_that_fails_keras_md5_never_loads(local_table, keras_files, tmp_path, serve, keras_name):
    bad = tmp_path / keras_files.top.name
    data = bytearray(keras_files.top.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(data)
    local_table["top"]["url"] = serve(bad, "/bad/NASNet-mobile.h5")
    with pytest.raises(zoo.ZooError, match="md5"):
        zoo.load(keras_name)


def test_options_features_and_new_head(local_table, keras_name):
    features = zoo.load(keras_name, include_top=False)
    pooled = zoo.load(keras_name, include_top=False, pooling="avg")
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        fmap, vec = features(x), pooled(x)
    assert fmap.shape == (2, 1056, 7, 7) and vec.shape == (2, 1056)
    torch.testing.assert_close(fmap.mean((2, 3)), vec, atol=1e-5, rtol=1e-4)

    tuned = zoo.load(keras_name, num_classes=10, trainable=False)
    assert tuned(torch.rand(2, 3, 224, 224)).shape == (2, 10)
    trainable = {n for n, p in tuned.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}  # the backbone frozen, the new head not
    assert tuned.zoo.categories is None


def test_keras_batchnorm_follows_the_torch_training_mode():
    """Keras layers read ``training`` from the call: the boundary passes ``self.training``, so under zoo.fit
    Keras' BatchNorm updates its moving statistics, and a frozen model's do not move."""
    import keras

    def moving_means(model):
        layers = [x for x in model.keras_model.layers if isinstance(x, keras.layers.BatchNormalization)]
        return torch.cat([torch.as_tensor(np.asarray(layer.moving_mean.value)).flatten() for layer in layers])

    x, y = torch.rand(8, 3, 64, 64), torch.randint(0, 3, (8,))
    for trainable, moves in ((True, True), (False, False)):
        model = zoo.load("keras:MobileNetV3Small", weights=None, include_top=False, pooling="avg", trainable=trainable)
        head = torch.nn.Sequential(model, torch.nn.Linear(576, 3))
        before = moving_means(model)
        zoo.fit(
            head, x, y, loss=torch.nn.CrossEntropyLoss(), optimizer="sgd", epochs=1, batch_size=4, verbose=0
        )
        assert (not torch.equal(before, moving_means(model))) is moves


def test_wrong_inputs_are_loud(tmp_path, keras_name):
    with pytest.raises(zoo.ZooError, match=r"takes no option 'alpah'.*Did you mean 'alpha'"):
        zoo.load("keras:MobileNet", weights=None, alpah=0.5)
    with pytest.raises(zoo.ZooError, match="has no weights 'imagenet21k'"):
        zoo.load(keras_name, weights="imagenet21k")
    text = tmp_path / "weights.h5"
    text.write_text("not weights")
    with pytest.raises(zoo.plugin.WeightsFileError, match="is not an HDF5 file"):
        zoo.load(keras_name, weights=text)


def test_without_keras_the_plugin_fails_and_says_how_to_install(monkeypatch):
    import importlib.util

    from zoo_keras import plugin

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a)
    )
    with pytest.raises(zoo.PluginError, match="pip install 'keras>=3' h5py"):
        plugin.zoo_register_applications(register=lambda *args, **kwargs: None)
