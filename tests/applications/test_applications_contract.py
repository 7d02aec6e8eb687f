"""The applications contract the core applies to every plugin's applications (zoo/applications/contract.py):
declared options checked, undeclared entries passed through, eval mode, freezing, ``model.zoo`` and the
``zoo_model_built`` hook for builders that never call ``finish``, and ``zoo predict`` from metadata."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn

import zoo
import zoo.plugins
from zoo.cli import main

CATEGORIES = ["cat", "dog", "fox"]
PREP = {"resize": 36, "crop": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
calls: list[dict] = []


def tiny(*, num_classes: int = 3, include_top: bool = True, weights=None, **seen):
    """A builder that does nothing of the contract itself: no eval, no freezing, no model.zoo, no hook."""
    calls.append({"num_classes": num_classes, "include_top": include_top, "weights": weights, **seen})
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if include_top:
        layers.append(nn.Linear(4, num_classes))
    return nn.Sequential(*layers).train()


def plain(**seen):
    calls.append(seen)
    return nn.Sequential(nn.Linear(2, 2)).train()


def liar(*, num_classes: int = 10, trainable: bool = True):
    """Takes num_classes and trainable, and ignores both."""
    return nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 10))


class Plugin:
    built: list[tuple[str, dict]] = []

    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register("declared", tiny, options=("num_classes", "weights", "include_top"),
                 weights={"toy": {"categories": CATEGORIES, "preprocessing": PREP}}, default_weights="toy")  # fmt: skip
        register("bare", plain)  # declares nothing and names nothing: only its own keywords pass
        register("named", tiny)  # declares nothing: supports what its signature names
        register("liar", liar, options=("num_classes", "trainable"))
        register("noprep", tiny, options=("num_classes",), weights={"v1": {"categories": CATEGORIES}})
        register("notmodule", lambda **kw: "not a module", options=())

    @zoo.hookimpl
    def zoo_model_built(self, model, name, options):
        self.built.append((name, dict(options)))


@pytest.fixture
def plugin():
    calls.clear()
    Plugin.built.clear()
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)  # built-ins: the predict command
    pm.add_plugin(Plugin(), "toyplug")
    zoo.plugins.use(pm)
    return Plugin


def test_an_undeclared_option_is_an_error_naming_application_option_and_support(plugin):
    with pytest.raises(zoo.OptionError) as err:
        zoo.load("declared", pooling="avg", include_top=False)
    text = str(err.value)
    assert "'toyplug:declared'" in text and "pooling='avg'" in text
    assert "num_classes, weights, include_top, classifier_activation, input_shape, trainable" in text and "'toyplug'" in text
    assert calls == []  # refused before the builder ran
    with pytest.raises(zoo.OptionError, match="does not support pooling='max'"):
        zoo.get("applications", "declared", include_top=False, pooling="max")  # zoo.get goes through the contract too
    # input_shape and classifier_activation are the core's: checked and applied for every entry
    assert zoo.get("applications", "declared", input_shape=(3, 8, 8)) is not None
    with pytest.raises(zoo.OptionError, match="does not support features_only=True"):
        zoo.load("noprep", features_only=True)
    with pytest.raises(zoo.OptionError, match="no pretrained weights"):
        zoo.load("notmodule", weights="imagenet")


def test_neutral_values_ask_nothing_and_are_not_passed(plugin):
    zoo.load("noprep", include_top=True, pooling=None, trainable=True, features_only=False)
    assert calls == [{"num_classes": 3, "include_top": True, "weights": None}]  # the builder's defaults


def test_values_are_checked_for_every_entry_declared_or_not(plugin):
    for bad in ({"include_top": "no"}, {"num_classes": 0}, {"pooling": "mean", "include_top": False},
                {"trainable": 1}, {"num_classes": 3, "include_top": False}, {"progress": "loud"},
                {"progress": 5}, {"weights": None, "sha256": "deadbeef"}):  # fmt: skip
        with pytest.raises(zoo.OptionError):
            zoo.load("bare", **bad)
    assert calls == []


def test_an_entry_declaring_nothing_supports_the_options_its_builder_names(plugin):
    model = zoo.load("named", include_top=False)
    assert calls == [{"num_classes": 3, "include_top": False, "weights": None}]
    with pytest.raises(zoo.OptionError, match="does not support pooling='max'"):  # **seen would swallow it
        zoo.load("named", include_top=False, pooling="max")
    assert model.zoo.name == "named" and not model.training
    model = zoo.load("bare", custom=7)  # a keyword the core does not know is the builder's own
    assert calls[-1] == {"custom": 7}
    calls.clear()
    for option in ({"include_top": False}, {"num_classes": 3}):  # **seen swallowed them unseen before
        with pytest.raises(zoo.OptionError, match=r"does not support .*the options its builder names as parameters"):
            zoo.load("bare", **option)
    with pytest.raises(zoo.OptionError, match="has no pretrained weights"):
        zoo.load("bare", weights="imagenet")
    assert calls == []


def test_a_builder_ignoring_trainable_or_num_classes_is_a_plugin_error(plugin):
    with pytest.raises(zoo.PluginError, match=r"takes trainable=False but its builder left all 4 parameters trainable"):
        zoo.load("liar", trainable=False)
    with pytest.raises(zoo.PluginError, match=r"num_classes=3, but no layer .* has 3 outputs: the builder ignored it"):
        zoo.load("liar", num_classes=3)
    assert zoo.load("liar", num_classes=8)  # a layer with 8 outputs: taken as honoured (a hidden layer here)


def test_a_weights_word_naming_no_variant_is_refused_with_the_closest(plugin):
    with pytest.raises(zoo.OptionError, match=r"'toyplug:declared' has no weights 'tyo'\. Did you mean 'toy'\?"):
        zoo.load("declared", weights="tyo")
    assert calls == []


def test_core_applies_eval_freezing_model_zoo_and_hook(plugin):
    model = zoo.load("declared", trainable=False)
    assert "trainable" not in calls[-1]  # the builder does not take it: the core freezes
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.zoo.name == "declared" and model.zoo.weights == "toy"
    assert model.zoo.categories == CATEGORIES and model.zoo.preprocessing["crop"] == 32
    assert plugin.built == [("declared", {"include_top": True, "pooling": None, "num_classes": None, "trainable": False})]
    fresh = zoo.load("declared", num_classes=5, weights=None)
    assert fresh.zoo.categories is None and fresh.zoo.weights is None  # random, new head: no names
    assert fresh.zoo.load_options == {"num_classes": 5}
    assert all(p.requires_grad for p in fresh.parameters())
    assert len(plugin.built) == 2


def test_a_builder_must_return_a_module(plugin):
    with pytest.raises(zoo.ZooError, match="'toyplug:notmodule' of plugin 'toyplug' built a str"):
        zoo.load("notmodule")


def test_finish_fires_the_hook_once_inside_zoo_load():
    fired = []

    class Watch:
        @zoo.hookimpl
        def zoo_model_built(self, model, name, options):
            fired.append(name)

    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.add_plugin(Watch(), "watch")
    zoo.plugins.use(pm)
    zoo.load("resnet18", weights=None)  # the built-in builder calls finish; the core fires the hook
    assert fired == ["resnet18"]


def test_lenet5_gets_model_zoo_and_freezing():
    fired = []

    class Watch:
        @zoo.hookimpl
        def zoo_model_built(self, model, name, options):
            fired.append(name)

    pm = zoo.plugins.create_plugin_manager()
    pm.add_plugin(Watch(), "watch")
    zoo.plugins.use(pm)
    model = zoo.load("lenet5", trainable=False)
    assert model.zoo.name == "lenet5" and fired == ["lenet5"]
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def _image(path):
    Image.new("RGB", (40, 40), (200, 120, 40)).save(path)
    return str(path)


def test_predict_works_from_metadata_and_says_why_not(plugin, tmp_path, capsys):
    image = _image(tmp_path / "a.png")
    assert main(["predict", "declared", image, "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "declared, toy" in out and sum(name in out for name in CATEGORIES) == 2
    assert main(["predict", "noprep", image]) == 1
    err = capsys.readouterr().err
    assert "no preprocessing (crop, mean, std)" in err and "Traceback" not in err
    assert main(["predict", "bare", image]) == 1
    assert "no pretrained weights in its metadata" in capsys.readouterr().err


def test_predict_on_lenet5_says_why_not(tmp_path, capsys):
    image = _image(tmp_path / "a.png")
    assert main(["predict", "lenet5", image]) == 1
    err = capsys.readouterr().err
    assert "no category names and no preprocessing" in err and "FileNotFoundError" not in err
    assert main(["predict", "lenet5", image, "--categories", ",".join("abcdefghij")]) == 1
    assert "no preprocessing" in capsys.readouterr().err


@pytest.mark.parametrize("name, option, raised", [
    ("squeezenet1_0", {"dropout": "x"}, "TypeError: '<' not supported"),
    ("resnet18", {"groups": 0}, "ValueError: BasicBlock only supports groups=1"),
])  # fmt: skip
def test_a_wrong_builder_own_option_is_an_option_error_naming_it(name, option, raised):
    (key, value), = option.items()
    with pytest.raises(zoo.OptionError, match=rf"'applications:{name}' failed to build with its builder's own "
                       rf"option\(s\) {key}={value!r}: {raised}"):  # fmt: skip
        zoo.load(name, weights=None, **option)
