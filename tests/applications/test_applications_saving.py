"""zoo.save_pretrained / zoo.load(DIR): zoo's one saved-model format (config.json, model.safetensors, README.md;
no pickle) round-trips fine-tuned, timm, zipped and feature-extractor models with identical outputs."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch

import zoo


def _same(a, b, x):
    with torch.no_grad():
        ya, yb = a(x), b(x)
    ya, yb = (ya, yb) if isinstance(ya, list) else ([ya], [yb])
    return all(torch.equal(p, q) for p, q in zip(ya, yb, strict=True))


def test_fine_tuned_model_round_trips_with_its_card(tmp_path):
    torch.manual_seed(0)
    model = zoo.load("resnet18", weights=None, num_classes=7)
    model.zoo.categories = list("abcdefg")
    folder = zoo.save_pretrained(model, tmp_path / "mine", metrics={"val_accuracy": 0.91}, dataset="my photos",
                                 license="apache-2.0")  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert (config["format"], config["kind"], config["application"]) == (
        "zoo-saved-model",
        "application",
        "resnet18",
    )
    assert config["options"] == {"include_top": True, "num_classes": 7}
    card = (folder / "README.md").read_text()
    assert (
        "| val_accuracy | 0.91 |" in card
        and "my photos" in card
        and "apache-2.0" in card
        and 'zoo.load("mine")' in card
    )
    x = torch.rand(2, 3, 64, 64)
    for spelling in (folder, str(folder), f"local-dir:{folder}"):
        back = zoo.load(spelling)
        assert _same(model, back, x) and back.zoo.categories == list("abcdefg")
    assert zoo.load(folder).zoo.sha256 == zoo.plugin.file_sha256(folder / "model.safetensors")


def test_zip_timm_and_features(tmp_path):
    x = torch.rand(1, 3, 64, 64)
    timm_model = zoo.load("timm:resnet18", weights=None, num_classes=3)
    archive = zoo.save_pretrained(timm_model, tmp_path / "t.zip")
    assert zipfile.is_zipfile(archive)
    assert _same(timm_model, zoo.load(archive), x)
    features = zoo.load("resnet18", weights=None, features_only=True, out_indices=(1, 2, 3, 4))
    back = zoo.load(zoo.save_pretrained(features, tmp_path / "features"))
    assert _same(features, back, x) and [f.module for f in back.zoo.feature_info] == [
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]


def test_what_is_not_a_saved_model_is_loud(tmp_path):
    with pytest.raises(zoo.ZooError, match="models that zoo.load built"):
        zoo.save_pretrained(torch.nn.Linear(2, 2), tmp_path / "x")
    with pytest.raises(zoo.ZooError, match="no such folder"):
        zoo.load(f"local-dir:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(zoo.ZooError, match="has no config.json"):
        zoo.load(f"local-dir:{tmp_path / 'empty'}")
    folder = zoo.save_pretrained(zoo.load("resnet18", weights=None), tmp_path / "r")
    (folder / "model.safetensors").unlink()
    with pytest.raises(zoo.ZooError, match="weights are missing"):
        zoo.load(folder)
    (folder / "config.json").write_text(
        '{"format": "zoo-saved-model", "format_version": 99, "kind": "application"}'
    )
    with pytest.raises(zoo.ZooError, match="newer zoo"):
        zoo.load(folder)
    (folder / "config.json").write_text('{"format": "zoo-saved-model", "format_version": "abc"}')
    with pytest.raises(zoo.ZooError, match="format_version 'abc', not a whole number"):
        zoo.load(folder)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("../escape.txt", "x")
    with pytest.raises(zoo.ZooError, match="holds '../escape.txt'"):
        zoo.load(evil)
