"""model.save / zoo.load_model: one saved-model format, identical outputs, no pickle."""

import json

import pytest
import torch

import zoo
from zoo.layers import LSTM, Concatenate, Dense, Embedding, concatenate


@pytest.fixture(autouse=True)
def _configs(monkeypatch):
    """Constructor arguments as zoo layers report them (layer.get_config(), from the Layer base)."""
    def dense(self):
        return {"units": self.units, "activation": None if self.activation is None else "relu"}

    def embedding(self):
        return {"input_dim": self.input_dim, "output_dim": self.output_dim, "mask_zero": self.mask_zero}

    monkeypatch.setattr(Dense, "get_config", dense, raising=False)
    monkeypatch.setattr(Embedding, "get_config", embedding, raising=False)
    monkeypatch.setattr(LSTM, "get_config", lambda self: {"units": self.units}, raising=False)
    monkeypatch.setattr(Concatenate, "get_config", lambda self: {"axis": self.axis}, raising=False)


def test_sequential_round_trip_folder_and_zip(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), Dense(8, activation="relu"), Dense(2)]).eval()
    x = torch.randn(5, 4)
    for target in (tmp_path / "seq", tmp_path / "seq.zip"):
        model.save(target)
        loaded = zoo.load_model(target)
        assert torch.equal(loaded(x), model(x))
    config = json.loads((tmp_path / "seq" / "config.json").read_text())
    assert config["kind"] == "sequential" and config["model"]["layers"][0]["class_name"] == "Dense"
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == ["README.md", "config.json", "model.safetensors"]


def test_functional_round_trip_with_shared_layer_and_masks(tmp_path):
    q = zoo.Input((6,), dtype=torch.long, name="question")
    v = zoo.Input((3,), name="video")
    shared = Dense(4)
    h = LSTM(5)(Embedding(20, 3, mask_zero=True)(q))
    out = Dense(2)(concatenate([shared(h[:, :3] * 1.0 + v), shared(v)]))
    model = zoo.Model([v, q], out).eval()
    ids = torch.randint(1, 20, (2, 6))
    ids[:, :2] = 0
    x = torch.randn(2, 3)
    model.save(tmp_path / "fn")
    loaded = zoo.load(tmp_path / "fn")  # the same format through zoo.load(DIR)
    assert torch.equal(loaded(x, ids), model(x, ids))
    assert loaded.code.count(f"self.{shared.name}(") == 2  # layer names are saved with the layers


def test_subclassed_model_saves_weights_and_says_so(tmp_path):
    class Mine(zoo.Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2, input_dim=3)

        def call(self, x):
            return self.dense(x)

    model = Mine()
    with pytest.warns(UserWarning, match="only the weights"):
        model.save(tmp_path / "mine")
    with pytest.raises(zoo.ModelError, match="load_weights"):
        zoo.load_model(tmp_path / "mine")
    other = Mine()
    other.load_weights(tmp_path / "mine" / "model.safetensors")
    assert torch.equal(other.dense.linear.weight, model.dense.linear.weight)
