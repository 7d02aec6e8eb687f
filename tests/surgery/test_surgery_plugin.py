"""The plugin package: found through its entry point, light to list, its LeNet applications."""

import subprocess
import sys

import pytest
import torch
from zoo_surgery import plugin
from zoo_surgery.layers import MaskedConv2d, MaskedLinear

import zoo
import zoo.plugins


def test_installed_plugin_is_found_through_its_entry_point():
    info = zoo.info("dynamic_network_surgery", kind="callbacks")
    assert info["plugin"] == "surgery"
    assert zoo.info("lenet_300_100")["qualified_name"] == "surgery:lenet_300_100"
    assert set(zoo.list("layers", "Masked*")) >= {"MaskedLinear", "MaskedConv2d"}


def test_hooks_validate_in_a_fresh_manager():
    pm = zoo.plugins.create_plugin_manager(builtins=False, entrypoints=False)
    pm.add_plugin(plugin, "surgery")
    pm.check_pending()  # a misspelled hook name would fail here
    zoo.plugins.use(pm)
    assert zoo.list("applications") == ["lenet5", "lenet_300_100"]
    assert zoo.list("callbacks") == ["dynamic_network_surgery"]


def test_listing_does_not_import_torch():
    code = (
        "import sys, zoo; zoo.list('applications'); zoo.info('dynamic_network_surgery'); "
        "import zoo_surgery; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lenet_applications():
    mlp = zoo.load("LeNet-300-100", weights=None)
    assert sum(p.numel() for p in mlp.parameters()) == 266_610  # the paper's 267K
    assert mlp(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    cnn = zoo.load("lenet5")
    assert sum(p.numel() for p in cnn.parameters()) == 431_080  # the paper's 431K
    assert cnn(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    small = zoo.load("lenet_300_100", input_shape=(1, 8, 8), num_classes=3, masked=True)
    assert isinstance(small.fc1, MaskedLinear) and small.fc1.in_features == 64 and small.fc3.out_features == 3
    assert isinstance(zoo.load("lenet5", masked=True, input_shape=(3, 16, 16)).conv1, MaskedConv2d)


def test_lenet_bad_options():
    with pytest.raises(zoo.OptionError, match="'surgery:lenet5' has no pretrained weights"):
        zoo.load("lenet5", weights="imagenet")
    with pytest.raises(ValueError, match="16x16"):
        zoo.load("lenet5", input_shape=(1, 8, 8))
    with pytest.raises(zoo.OptionError, match="does not support include_top=False: it supports num_classes, input_shape"):
        zoo.load("lenet_300_100", include_top=False)
    with pytest.raises(ValueError, match="input_shape"):
        zoo.load("lenet_300_100", input_shape=(8, 8))
