"""Weights files that are not weights, or not this model's: ``zoo.load_model``, ``load_weights`` (through
``zoo.models.saving.load_weights``) and ``zoo.fit(resume_from=...)`` read them with zoo's one reader and
check them with its one fit rule, so each is a zoo error naming the file and what is wrong."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.layers import Dense
from zoo.models.saving import load_weights


@pytest.fixture(autouse=True)
def _configs(monkeypatch):
    def dense(self):
        return {"units": self.units, "activation": None if self.activation is None else "relu"}

    monkeypatch.setattr(Dense, "get_config", dense, raising=False)


def _model(units: int = 2) -> zoo.Sequential:
    return zoo.Sequential([zoo.Input((4,)), Dense(8, activation="relu"), Dense(units)]).eval()


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not weights\n")
    return path


def test_load_weights_of_text_garbage_and_missing_files(tmp_path, text_file):
    model = _model()
    with pytest.raises(zoo.DataError, match=r"notes\.txt is not a weights file: it is a text file"):
        load_weights(model, text_file)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(zoo.DataError, match=r"garbage\.bin is not a weights file"):
        load_weights(model, garbage)
    with pytest.raises(zoo.MissingFileError, match=r"nope\.safetensors does not exist"):
        load_weights(model, tmp_path / "nope.safetensors")


def test_load_weights_of_another_model_names_keys_and_shapes(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "mine.safetensors")
    load_weights(_model(), tmp_path / "mine.safetensors")  # the same architecture loads
    with pytest.raises(zoo.ModelError, match=r"other shapes \(.*file \(2, 8\) vs model \(3, 8\)"):
        load_weights(_model(3), tmp_path / "mine.safetensors")
    torch.save({"encoder.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(zoo.ModelError, match=r"other\.pt do not fit .*missing keys .*unexpected keys \(encoder\.weight\)"):
        load_weights(_model(), tmp_path / "other.pt")


def test_load_model_of_a_truncated_safetensors_and_of_a_file(tmp_path, text_file):
    _model().save(tmp_path / "saved")
    weights = tmp_path / "saved" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-40])
    with pytest.raises(zoo.DataError, match=r"model\.safetensors is not a readable safetensors file"):
        zoo.load_model(tmp_path / "saved")
    with pytest.raises(zoo.ZooError, match=r"notes\.txt is a file, not a saved-model folder or zip"):
        zoo.load_model(text_file)
    with pytest.raises(zoo.ZooError, match="no such folder"):
        zoo.load_model(tmp_path / "missing")
    for name in ("weights.pt", "weights.zip"):  # torch.save writes a zip: it said "holds 'weights/data.pkl'"
        torch.save(_model().state_dict(), tmp_path / name)
        with pytest.raises(zoo.SavedModelError, match=rf"{name} is a torch.save file, not a saved-model .*load_weights"):
            zoo.load_model(tmp_path / name)


def test_load_model_whose_weights_belong_to_another_model(tmp_path):
    _model().save(tmp_path / "two")
    _model(3).save(tmp_path / "three")
    (tmp_path / "three" / "model.safetensors").write_bytes((tmp_path / "two" / "model.safetensors").read_bytes())
    with pytest.raises(zoo.ModelError, match=r"do not fit .*vs model \(3, 8\)"):
        zoo.load_model(tmp_path / "three")


def test_load_pretrained_folder_with_weights_of_another_head(tmp_path):
    zoo.save_pretrained(zoo.load("toy_cnn"), tmp_path / "toy")
    zoo.save_pretrained(zoo.load("toy_cnn", weights=None, num_classes=3), tmp_path / "toy3")
    (tmp_path / "toy3" / "model.safetensors").write_bytes((tmp_path / "toy" / "model.safetensors").read_bytes())
    with pytest.raises(zoo.ModelError, match=r"classifier\.weight: file \(15, 32\) vs model \(3, 32\)"):
        zoo.load(tmp_path / "toy3")


def test_resume_from_a_text_file_or_another_models_checkpoint(tmp_path, text_file):
    from zoo.training.callbacks import ModelCheckpoint

    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    loss = {"name": "sparse_categorical_crossentropy", "from_logits": True}
    with pytest.raises(zoo.DataError, match=r"notes\.txt.* is not a checkpoint: it is a text file"):
        zoo.fit(_model(), x, y, optimizer="sgd", loss=loss, resume_from=text_file, verbose=0)
    with pytest.raises(zoo.MissingFileError, match="no such checkpoint"):
        zoo.fit(_model(), x, y, optimizer="sgd", loss=loss, resume_from=tmp_path / "gone.pt", verbose=0)
    path = tmp_path / "full.pt"
    zoo.fit(_model(), x, y, optimizer="sgd", loss=loss, verbose=0, callbacks=[ModelCheckpoint(path)])
    with pytest.raises(zoo.ModelError, match=r"full\.pt do not fit .*vs model \(3, 8\)"):
        zoo.fit(_model(3), x, y, optimizer="sgd", loss=loss, resume_from=path, verbose=0, epochs=2)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_torch_file_named_safetensors_says_so(tmp_path, legacy):
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    path = tmp_path / "model.safetensors"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(zoo.ZooError, match="is a torch file .* named like safetensors: rename it to .pt"):
        load_weights(model, path)


@pytest.mark.parametrize("kind", ["file", "folder", "missing"])
def test_zoo_load_of_a_path_that_is_no_saved_model_says_what_it_is(tmp_path, kind):
    path = tmp_path / "resnet50.pt"
    if kind == "file":
        path.write_bytes(b"not weights")
    elif kind == "folder":
        path.mkdir()
    expected = {"file": "is a file, not a folder or .zip", "folder": "is a folder without the config.json",
                "missing": "there is no file or folder"}[kind]  # fmt: skip
    error = zoo.MissingFileError if kind == "missing" else zoo.OptionError
    hint = "" if kind == "folder" else r".*zoo.load\('resnet50', weights="  # a folder is no weights file
    with pytest.raises(error, match=expected + hint):
        zoo.load(str(path))
    with pytest.raises(error, match=expected):
        zoo.load(path)  # a Path too
