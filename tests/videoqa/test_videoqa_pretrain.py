"""The toy_cnn pretraining script is deterministic: two runs write byte-identical weights."""

from __future__ import annotations

import json

import torch
from zoo_videoqa.backbone import ToyCNN
from zoo_videoqa.pretrain import pretrain


def test_two_runs_write_the_same_file(tmp_path):
    infos = [
        pretrain(tmp_path / run, frames=192, epochs=1, batch_size=64, log=lambda *_: None) for run in ("a", "b")
    ]
    assert infos[0]["sha256"] == infos[1]["sha256"]
    assert (tmp_path / "a" / "toy_cnn.pt").read_bytes() == (tmp_path / "b" / "toy_cnn.pt").read_bytes()
    meta = json.loads((tmp_path / "a" / "toy_cnn.json").read_text())
    assert meta["variant"] == "toy_shapes" and meta["file_size"] <= 2 * 1024 * 1024
    state = torch.load(tmp_path / "a" / "toy_cnn.pt", weights_only=True)
    ToyCNN().load_state_dict(state)  # exactly the architecture zoo.load("toy_cnn") builds
    other = pretrain(tmp_path / "c", frames=192, epochs=1, batch_size=64, seed=1, log=lambda *_: None)
    assert other["sha256"] != infos[0]["sha256"]
