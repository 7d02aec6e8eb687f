"""zoo.save_pretrained / zoo.load(DIR): zoo's one saved-model format (config.json, model.safetensors, README.md;
no pickle) round-trips fine-tuned, timm, zipped and feature-extractor models with identical outputs."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch

import zoo
import zoo.plugin


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


def test_load_model_reads_what_save_pretrained_wrote(tmp_path):
    torch.manual_seed(0)
    model = zoo.load("lenet5", weights=None)
    folder = zoo.save_pretrained(model, tmp_path / "lenet")
    back = zoo.load_model(folder)  # was KeyError: 'model' (it read only model.save's kinds)
    assert back.zoo.name == "lenet5" and _same(model, back, torch.rand(2, 1, 28, 28))
    with pytest.raises(zoo.ArgumentError, match="custom_objects rebuild the layers of a model.save'd"):
        zoo.load_model(folder, custom_objects={"X": torch.nn.Identity})


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda c: c.pop("application"), 'a saved application model\'s config needs "application"'),
        (lambda c: c.pop("kind"), 'has no "kind"'),
        (lambda c: c.update(kind=3), 'has no "kind"'),
        (lambda c: c.update(options=[1, 2]), '"options" must be an object, got \\[1, 2\\]'),
        (lambda c: c.update(categories=5), '"categories" must be a list or null, got 5'),
        (lambda c: c.update(categories="abc"), '"categories" must be a list or null, got "abc"'),  # was 3 names
        (lambda c: c.update(categories=[1, 2]), '"categories" must be a list of class names'),
        (lambda c: c.update(preprocessing=[1]), '"preprocessing" must be an object or null'),
        (lambda c: c.update(preprocessing={"resize": 32, "crop": 28, "mean": "abc", "std": [1.0]}),
         "preprocessing 'mean' must be a list of numbers"),
        (lambda c: c.update(preprocessing={"meen": [0.5]}), "unknown preprocessing keys \\['meen'\\]"),
        (lambda c: c.update(base_weights="x"), '"base_weights" must be an object or null'),
        (lambda c: c.update(format_version=-1), "format_version -1, not a whole number"),
    ],
)
def test_a_hand_edited_config_is_a_saved_model_error_naming_the_file(tmp_path, edit, said):
    folder = zoo.save_pretrained(zoo.load("lenet5", weights=None), tmp_path / "lenet")
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    for load in (zoo.load, zoo.load_model):
        with pytest.raises(zoo.SavedModelError, match=said) as info:
            load(folder)
        assert str(folder) in str(info.value)


def test_missing_paths_are_missing_file_errors(tmp_path):
    for load in (
        lambda: zoo.load_model(tmp_path / "missing"),
        lambda: zoo.load(f"local-dir:{tmp_path / 'missing'}"),
        lambda: zoo.load("resnet18", weights=str(tmp_path / "missing.pt")),
        lambda: zoo.load(str(tmp_path / "nonexist" / "x.safetensors")),
    ):
        with pytest.raises(zoo.MissingFileError) as info:
            load()
        assert isinstance(info.value, FileNotFoundError), info.value
    with pytest.raises(zoo.plugin.WeightsFileError):  # still what it was, too
        zoo.load("resnet18", weights=str(tmp_path / "missing.pt"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(zoo.OptionError, match="folder without the config.json") as info:
        zoo.load(str(tmp_path / "folder"))
    assert "weights=" not in str(info.value)  # a folder is no weights file to suggest


def test_a_bare_name_that_is_also_a_file_here_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.safetensors").write_bytes(b"")
    with pytest.raises(zoo.UnknownNameError, match="'good.safetensors' is also a file here: write './good.safetensors'"):
        zoo.load("good.safetensors")
    with pytest.raises(zoo.UnknownNameError) as info:
        zoo.load("resnet181")
    assert "also a" not in str(info.value)
