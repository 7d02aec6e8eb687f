"""Registration: the Keras names, timm's catalogue behind fallback entries, listing without importing timm
or torch, ``zoo plugins``, a missing timm, and a catalogue for a timm version nobody shipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo
from zoo.plugins import get_registry

ZOO = str(Path(sys.executable).with_name("zoo"))

# Keras name -> (timm architecture, smallest convenient input side)
KERAS = {
    "Xception": ("legacy_xception", 71),
    "InceptionResNetV2": ("inception_resnet_v2", 75),
    "MobileNet": ("mobilenetv1_100", 32),
    "NASNetLarge": ("nasnetalarge", 32),
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env.update(ZOO_HOME=os.environ["ZOO_HOME"], **extra)
    return env


@pytest.mark.parametrize("keras_name", sorted(KERAS))
def test_keras_names_build_and_run(keras_name):
    arch, side = KERAS[keras_name]
    entry = get_registry().lookup("applications", keras_name)
    assert entry.qualified_name == f"timm:{arch}" and entry.meta.keras_name == keras_name
    assert entry.meta.pretrained and entry.meta.weights[entry.meta.default_weights].url
    torch.manual_seed(0)
    model = zoo.load(keras_name, weights=None)
    with torch.no_grad():
        out = model(torch.randn(1, 3, side, side))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
    assert model.zoo.name == f"timm:{arch}" and model.zoo.weights is None and not model.training


def test_bare_names_stay_with_builtins_and_timm_is_qualified():
    registry = get_registry()
    assert registry.lookup("applications", "resnet50").plugin == "applications"
    assert registry.lookup("applications", "timm:resnet50").plugin == "timm"
    assert registry.lookup("applications", "resnet50d").qualified_name == "timm:resnet50d"  # timm only
    names = zoo.list("applications", "resnet50*")
    assert "resnet50" in names and "timm:resnet50" in names and "resnet50d" in names
    assert "nasnetamobile" not in zoo.list("applications", "*nasnet*")  # timm has no NASNetMobile


def test_listing_imports_neither_timm_nor_torch():
    code = (
        "import sys, json, zoo; names = zoo.list('applications'); info = zoo.info('Xception');"
        "print(json.dumps([len(names), info['qualified_name'], info['input_size'],"
        " 'timm' in sys.modules, 'torch' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    count, qualified, size, timm_imported, torch_imported = json.loads(out.stdout)
    assert count > 1000 and qualified == "timm:legacy_xception" and size == 299
    assert not timm_imported and not torch_imported


def test_registering_reads_the_index_and_weights_tables_only_when_asked(monkeypatch):
    """zoo.load("resnet50") must not pay for parsing timm's whole catalogue (1.6 MB of JSON)."""
    from zoo_timm import catalogue

    from zoo.plugins import create_plugin_manager

    full = catalogue.architectures()
    real_load = catalogue.load

    def unread(version):
        raise AssertionError("the full catalogue was read while registering")

    monkeypatch.setattr(catalogue, "load", unread)
    registry = create_plugin_manager().build_registry()
    entry = registry.lookup("applications", "timm:resnet50")
    assert entry.meta.default_weights == full["resnet50"]["default_weights"]
    monkeypatch.setattr(catalogue, "load", real_load)
    described = entry.describe()
    assert type(described["weights"]) is dict and list(described["weights"]) == list(full["resnet50"]["weights"])
    # each variant is the catalogue's facts plus timm's published figures for it (results-imagenet.json)
    published = catalogue.published_results()
    for tag, facts in full["resnet50"]["weights"].items():
        shown = described["weights"][tag]
        assert (shown["url"], shown["filename"], shown["crop_pct"]) == (facts["url"], facts["filename"], facts["crop_pct"])
        if f"resnet50.{tag}" in published:
            assert shown["metrics"]["ImageNet-1K"]["acc@1"] == published[f"resnet50.{tag}"]["acc@1"]
    assert described["weights"]["a1_in1k"] and "resnet50.a1_in1k" in published
    json.dumps(described)  # plain data for `zoo info --json`


def test_shipped_index_is_the_shipped_catalogues():
    from zoo_timm import catalogue

    version = catalogue.timm_version()
    index = json.loads(catalogue.shipped_path(version, "index").read_text())
    assert index == catalogue.index_of(json.loads(catalogue.shipped_path(version).read_text()))


def test_zoo_plugins_shows_the_plugin_and_its_counts():
    from zoo_timm import catalogue

    expected = len(catalogue.architectures())
    out = subprocess.run([ZOO, "plugins"], capture_output=True, text=True, env=_env(), check=True).stdout
    line = next(row for row in out.splitlines() if row.startswith("timm "))
    assert "zoo-timm" in line and f"{expected} applications" in line and line.rstrip().endswith("ok")


# A meta-path finder that makes ``import timm`` fail as if it were not installed.
_HIDE_TIMM = """
import sys
class _NoTimm:
    def find_spec(self, name, path=None, target=None):
        if name == "timm" or name.startswith("timm."):
            raise ModuleNotFoundError("No module named 'timm'", name="timm")
sys.meta_path.insert(0, _NoTimm())
from zoo.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_timm_the_plugin_is_failed_and_zoo_works():
    run = [sys.executable, "-c", _HIDE_TIMM]
    plugins = subprocess.run([*run, "plugins"], capture_output=True, text=True, env=_env())
    assert plugins.returncode == 0, plugins.stderr
    line = next(row for row in plugins.stdout.splitlines() if row.startswith("timm "))
    assert "FAILED" in line and "timm is not installed: pip install" in line
    listed = subprocess.run([*run, "list", "applications"], capture_output=True, text=True, env=_env())
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert "resnet50" in names and "legacy_xception" not in names and "timm:resnet50" not in names


def test_catalogue_for_an_unshipped_timm_version_is_generated_once(monkeypatch, isolated_zoo):
    from zoo_timm import catalogue

    monkeypatch.setattr(catalogue, "timm_version", lambda: "1.0.31.post9")
    catalogue.load.cache_clear()
    catalogue.load_index.cache_clear()
    try:
        index = catalogue.index()
        archs = catalogue.architectures()
        written = isolated_zoo / "timm" / "catalogue-1.0.31.post9.json"
        assert written.is_file() and "legacy_xception" in archs
        assert archs["nasnetalarge"]["weights"]["tf_in1k"]["input_size"] == [3, 331, 331]
        assert index["nasnetalarge"] == {"default_weights": "tf_in1k", "input_size": 331, "num_classes": 1000,
                                         "license": archs["nasnetalarge"]["weights"]["tf_in1k"]["license"]}  # fmt: skip
        index_file = written.parent / "index-1.0.31.post9.json"
        assert json.loads(index_file.read_text())["architectures"] == index
        from zoo_timm import generate

        catalogue.load.cache_clear()  # as a new process: read back, never generated again
        monkeypatch.setattr(generate, "build_catalogue", lambda: pytest.fail("generated a second time"))
        assert catalogue.architectures() == archs
        index_file.unlink()  # a catalogue generated before indexes existed: its index is derived, and kept
        catalogue.load_index.cache_clear()
        assert catalogue.index() == index and json.loads(index_file.read_text())["architectures"] == index
    finally:
        catalogue.load.cache_clear()
        catalogue.load_index.cache_clear()


def test_too_old_timm_is_refused(monkeypatch):
    from zoo_timm import catalogue

    from zoo.errors import PluginError

    monkeypatch.setattr(catalogue, "timm_version", lambda: "0.6.13")
    with pytest.raises(PluginError, match="too old"):
        catalogue.check_timm()


def test_name_based_preprocessing_points_to_the_model_for_timm_entries():
    import torch

    import zoo.applications

    with pytest.raises(ValueError, match="pass the loaded model"):
        zoo.applications.preprocess_input(torch.zeros(1, 3, 8, 8), "Xception")
