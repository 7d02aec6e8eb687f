"""Typed metadata: checked at registration (a bad field fails the plugin naming entry and field), read as
attributes, shown as plain data; `zoo download` on entries that need no download."""

from __future__ import annotations

import pytest

import zoo
import zoo.plugins
from zoo.cli import main
from zoo.metadata import ApplicationMeta, DatasetMeta, WeightsVariant, parse
from zoo.plugins import PluginWarning


def _plugin(**meta):
    class Plugin:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            register("tiny", "builtins:print", **meta)

    return Plugin()


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"params": 10}, r"'tiny' with unknown field 'params': did you mean 'num_params'"),
        ({"weights": [None]}, r"'tiny'.*'weights' must map variant tags"),
        ({"num_params": "many"}, r"'tiny': field 'num_params' must be an int >= 0"),
        ({"weights": {"v1": {"url": "https://x/a.pth", "sha": "ab"}}}, r"'tiny' weights\['v1'\] with unknown field 'sha'"),
        ({"weights": {"v1": {"url": "https://x/a.pth"}}, "default_weights": "v2"}, r"'default_weights' is 'v2'"),
    ],
)
def test_a_bad_field_fails_the_plugin_naming_entry_and_field(make_pm, meta, message):
    make_pm({"bad": _plugin(**meta)})
    with pytest.warns(PluginWarning, match=r"plugin 'bad' was not loaded: .*" + message):
        assert zoo.list("applications") == []
    assert zoo.plugins.get_plugin_manager().info["bad"].status == "failed"


def test_strict_mode_makes_a_bad_field_an_error(make_pm, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    make_pm({"bad": _plugin(input_shape=(1, 28, 28))})
    with pytest.raises(zoo.PluginError, match="unknown field 'input_shape'"):
        zoo.list("applications")


def test_metadata_is_typed_and_described_as_plain_data(make_pm):
    weights = {"v1": {"url": "https://x/tiny-v1.pth", "sha256": "ab" * 32, "categories": ["a", "b"]}}
    make_pm({"good": _plugin(weights=weights, default_weights="v1", num_params=7, extra={"note": "hi"})})
    entry = zoo.plugins.get_registry().lookup("applications", "tiny")
    assert isinstance(entry.meta, ApplicationMeta) and entry.meta.pretrained is True
    assert isinstance(entry.meta.weights["v1"], WeightsVariant)
    assert entry.meta.weights["v1"].categories == ("a", "b")
    assert entry.meta.variant("IMAGENET") == "v1" and entry.meta.variant("V1") == "v1"
    assert entry.meta.variant("v9") is None
    info = zoo.info("tiny")
    assert info["num_params"] == 7 and info["note"] == "hi" and info["weights"]["v1"]["categories"] == ["a", "b"]
    assert zoo.list("applications", pretrained=True) == ["tiny"]
    assert zoo.list("applications", note="hi") == ["tiny"]  # an extra fact filters too


def test_an_unknown_filter_field_is_an_error_with_a_suggestion(make_pm):
    make_pm({"good": _plugin(num_params=7)})
    with pytest.raises(zoo.ZooError, match="no metadata field 'num_param'. Did you mean 'num_params'"):
        zoo.list("applications", num_param=7)


def test_datasets_take_split_names_or_counts_and_require_file_urls():
    assert parse("datasets", {"splits": ["train", "test"]}, "d").splits == {"train": None, "test": None}
    meta = parse("datasets", {"splits": {"train": 3}, "files": [{"url": "https://x/f", "size": 3}]}, "d")
    assert isinstance(meta, DatasetMeta) and meta.files[0].label == "f" and meta.files[0].size == 3
    with pytest.raises(zoo.RegistrationError, match="'files'.*has no url"):
        parse("datasets", {"files": [{"filename": "f"}]}, "d")


def test_every_registered_entry_conforms():
    """Built-ins and the installed in-tree plugins all register valid metadata (none FAILED for it)."""
    registry = zoo.plugins.get_registry()
    failed = {n: i.error for n, i in zoo.plugins.get_plugin_manager().info.items() if i.status == "failed"}
    assert not {n: e for n, e in failed.items() if "field" in (e or "")}
    assert registry.lookup("applications", "lenet5").meta.num_params == 431_080
    for name in zoo.list("applications", "*resnet*")[:5]:
        zoo.info(name, "applications")  # lazy weights tables are read and checked here


@pytest.mark.parametrize("name", ["digits", "lenet5", "toy_cnn"])
def test_download_says_nothing_to_download(name, capsys):
    assert main(["download", name]) == 0
    assert "nothing to download" in capsys.readouterr().out
