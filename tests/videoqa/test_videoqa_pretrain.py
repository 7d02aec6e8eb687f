"""The toy_cnn pretraining script is deterministic (two runs write byte-identical weights) and refuses a wrong
option before it trains or writes anything."""

from __future__ import annotations

import json

import pytest
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


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),  # trained nothing, wrote weights
        (["--frames", "many"], "argument --frames: expected a whole number >= 1, got 'many'"),
        (["--seed", "-1"], "argument --seed: expected a whole number >= 0, got '-1'"),
        (["--epohcs", "1"], "Did you mean '--epochs'?"),
    ],
)
def test_a_wrong_option_is_one_line_before_anything_is_written(tmp_path, argv, said):
    from zoo_videoqa.pretrain import main

    with pytest.raises(SystemExit) as info:
        main(["--out", str(tmp_path / "out"), *argv])
    text = str(info.value.code)
    assert text.startswith("python -m zoo_videoqa.pretrain: error: ") and said in text and "\n" not in text
    assert not (tmp_path / "out").exists()
