"""zoo.testing.check_plugin finds what a plugin gets wrong, entry by entry, and passes a correct one."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import tomllib
from torch import nn

import zoo
import zoo.plugins
from zoo.testing import PluginCheckError, check_plugin

ROOT = Path(__file__).resolve().parents[2]


class Net(nn.Module):
    def __init__(self, classes: int, top: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, classes) if top else None

    def forward(self, x):
        x = self.conv(x).mean((2, 3))
        return self.fc(x) if self.fc is not None else x


def good_app(*, weights=None, include_top=True, num_classes=None):
    return Net(num_classes or 5, include_top)


def deaf_app(*, weights=None, include_top=True, num_classes=None):
    return Net(5, include_top)  # declares num_classes but ignores it


class GoodLoss(nn.Module):
    def forward(self, pred, true):
        return ((pred - true) ** 2).mean()


class NanLoss(nn.Module):
    def forward(self, pred, true):
        return pred.sum() * float("nan")


class GoodMetric:
    def __call__(self, pred, true):
        return float((pred.argmax(-1) == true).float().mean()) if true.ndim == 1 else float("nan")


class BoomMetric:
    def __call__(self, pred, true):
        raise RuntimeError("boom")


class GoodCallback:
    def on_epoch_end(self, epoch, logs=None):
        self.loss = logs["loss"]


class CrashingCallback:
    def on_train_batch_end(self, batch, logs=None):
        raise RuntimeError("callback crashed")


def kwargs_app(**kwargs):
    return Net(5, True)  # declares include_top, takes it through **kwargs and ignores it


class Sloppy:
    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register("kwargs_net", kwargs_app, input_size=(3, 8, 8), num_classes=5, options=("include_top",))

    @zoo.hookimpl
    def zoo_register_lossses(self, register):  # the typo: zoo never calls it
        pass


class Good:
    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register("net", good_app, input_size=(3, 8, 8), num_classes=5, options=("weights", "include_top", "num_classes"),
                 weights={"v1": {"url": "https://example.org/net.pth", "sha256": "a" * 64}})  # fmt: skip

    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("good_loss", GoodLoss)

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        register("good_metric", GoodMetric)

    @zoo.hookimpl
    def zoo_register_callbacks(self, register):
        register("good_cb", GoodCallback)

    @zoo.hookimpl
    def zoo_register_datasets(self, register):
        register("data", lambda **kw: None, files=[{"url": "https://example.org/d.npz", "sha256": "b" * 64}])


class Bad:
    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register("deaf", deaf_app, input_size=(3, 8, 8), options=("num_classes", "colour"))
        register("missing", "no_such_module_xyz:build")
        register("badweights", good_app, weights={"v1": {"url": "ftp://x/y.pth", "sha256": "nothex"}})

    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("nan_loss", NanLoss)

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        register("boom", BoomMetric)

    @zoo.hookimpl
    def zoo_register_callbacks(self, register):
        register("crash", CrashingCallback)

    @zoo.hookimpl
    def zoo_register_datasets(self, register):
        register("data2", lambda **kw: None, files=[{"url": "https://example.org/d.npz", "sha256": "c" * 10,
                                                     "filename": "../escape.npz"}])  # fmt: skip


def _use(**plugins):
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    for name, plugin in plugins.items():
        pm.add_plugin(plugin, name)
    zoo.plugins.use(pm)


def test_a_correct_plugin_passes_and_the_report_says_what_ran():
    _use(good=Good())
    report = check_plugin("good")
    assert report.checked == {"applications": ["net"], "datasets": ["data"], "losses": ["good_loss"],
                              "metrics": ["good_metric"], "callbacks": ["good_cb"]}  # fmt: skip
    assert report.options["net"] == ["include_top", "num_classes", "trainable"]
    assert report.problems == [] and report.unverified == []


def test_every_problem_is_reported_naming_entry_and_cause():
    _use(bad=Bad())
    with pytest.raises(PluginCheckError) as err:
        check_plugin("bad")
    text = str(err.value)
    for expected in (
        "applications 'bad:deaf': does not build with num_classes=3: PluginError: application 'bad:deaf' of plugin "
        "'bad' was asked for num_classes=3, but no layer of the model its builder returned has 3 outputs",
        "applications 'bad:deaf': declares option 'colour', which zoo does not know and its builder does not take",
        "applications 'bad:missing': target 'no_such_module_xyz:build' does not import",
        "weights 'v1' url 'ftp://x/y.pth' is not http(s)://",
        "weights 'v1' sha256 'nothex' is not 64 hex digits",
        "losses 'bad:nan_loss': runs on none of the small batches",
        "metrics 'bad:boom': runs on none of the small batches: regression (4, 3) vs (4, 3): RuntimeError: boom",
        "callbacks 'bad:crash': one tiny zoo.fit (1 epoch, 2 batches) fails: RuntimeError: callback crashed",
        "datasets 'bad:data2': file 0 (../escape.npz) sha256 'cccccccccc' is not 64 hex digits",
        "filename '../escape.npz' must be a plain file name",
    ):
        assert expected in text, expected


def test_an_ignored_declared_option_and_a_hook_warning_fail_the_check():
    with pytest.warns(zoo.plugins.PluginWarning):
        _use(sloppy=Sloppy())
    with pytest.raises(PluginCheckError) as err:
        check_plugin("sloppy")
    text = str(err.value)
    assert "with include_top=False: outputs (2, 5), as with the defaults: the builder ignores include_top=False" in text
    assert "'zoo_register_lossses' is not a zoo hook" in text


def test_the_built_in_keras_losses_pass_the_kit():
    """Keras-named cross-entropies refuse logits (loudly, by design): the kit tries probabilities too."""
    _use()
    check_plugin("training", only=["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"])


def test_an_unknown_or_failed_plugin_is_an_error():
    _use(good=Good())
    with pytest.raises(PluginCheckError, match="no plugin 'nope' is loaded"):
        check_plugin("nope")
    with pytest.raises(PluginCheckError, match="names no entry of plugin .good."):
        check_plugin("good", only=["zzz*"])


def test_the_kit_builds_on_the_meta_device_and_never_downloads(monkeypatch):
    seen = []

    def spy(*, weights=None, include_top=True, num_classes=None):
        model = good_app(weights=weights, include_top=include_top, num_classes=num_classes)
        seen.append((weights, model.conv.weight.device.type))
        return model

    class Spy:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            register("spy", spy, input_size=(3, 8, 8), options=("weights", "include_top", "num_classes"),
                     weights={"v1": {"url": "https://example.org/s.pth", "sha256": "d" * 64}})  # fmt: skip

    _use(spy=Spy())
    check_plugin("spy")
    assert seen and all(w is None and device == "meta" for w, device in seen)


def test_the_fixture_is_a_pytest11_entry_point_of_the_distribution(check_plugin):
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    points = importlib.metadata.distribution(name).entry_points
    assert any(ep.group == "pytest11" and ep.value == "zoo.testing.pytest_plugin" for ep in points)
    assert check_plugin is zoo.testing.check_plugin
