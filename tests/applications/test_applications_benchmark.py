"""``zoo.benchmark`` and ``zoo benchmark``: the protocol (warm-up, timed steps), the figures it reports
(parameters, GMACs, latency order), training steps that really train, and loud errors for bad settings."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from torch import nn

import zoo
from zoo.applications.benchmark import benchmark
from zoo.cli import main


class Counted(nn.Module):
    """A conv net whose forward calls are counted; its MACs are known by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.head = nn.Linear(8, 5)
        self.calls = 0
        self.inference = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.inference.append(torch.is_inference_mode_enabled())
        return self.head(self.conv(x).mean((2, 3)))


def test_protocol_counts_and_figures():
    model = Counted()
    result = benchmark(model, batch_size=4, img_size=16, warmup=3, steps=7)
    # one batch-1 pass for the MAC count, then warm-up, then timed steps: nothing skipped, nothing extra
    assert model.calls == 1 + 3 + 7
    assert result.params == sum(p.numel() for p in model.parameters()) == 3 * 8 * 9 + 8 + 8 * 5 + 5
    assert result.gmacs == round((3 * 8 * 9 * 16 * 16 + 8 * 5) / 1e9, 3)
    assert (result.mode, result.batch_size, result.img_size, result.model) == ("infer", 4, 16, "Counted")
    assert 0 < result.latency_p50_ms <= result.latency_p95_ms
    # samples/s over the whole timed run agrees with the mean step time (the run is only the steps)
    assert result.samples_per_sec == pytest.approx(4 / (result.step_ms / 1000), rel=0.25)
    assert not model.training and all(model.inference)


def test_train_steps_update_weights_and_frozen_models_are_refused():
    model = Counted()
    before = model.conv.weight.detach().clone()
    result = benchmark(model, batch_size=2, img_size=8, warmup=0, steps=2, train=True)
    assert result.mode == "train" and model.training and not any(model.inference[1:])
    assert not torch.equal(before, model.conv.weight)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(zoo.ZooError, match="trainable parameters"):
        benchmark(model, batch_size=2, img_size=8, steps=1, train=True)


def test_precision_and_channels_last_run():
    result = benchmark(
        Counted(), batch_size=2, img_size=8, warmup=1, steps=2, precision="bf16", channels_last=True
    )
    assert (result.precision, result.channels_last) == ("bf16", True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"steps": 0}, "steps must be"),
        ({"warmup": -1}, "warmup must be a whole number >= 0"),
        ({"precision": "fp8"}, "precision must be one of fp32, bf16, fp16"),
        ({"device": "gpu0"}, "is not a torch device"),
        ({"channels": 0}, "channels must be a whole number >= 1"),
    ],
)
def test_bad_settings_are_loud(kwargs, message):
    with pytest.raises(zoo.ZooError, match=message):
        benchmark(Counted(), **kwargs)


def test_image_smaller_than_the_architecture_allows():
    with pytest.raises(zoo.ZooError, match="at least 75x75 pixels; img_size=32"):
        benchmark("inception_v3", img_size=32)


def test_cli_json_csv_and_exit_codes(capsys, tmp_path):
    out = tmp_path / "results.csv"
    args = ["benchmark", "toy_cnn", "--steps", "2", "--warmup", "0", "--batch-size", "3"]
    assert main([*args, "--format", "json", "--output", str(out)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["model"], row["batch_size"], row["img_size"], row["error"]) == ("toy_cnn", 3, 32, "")
    assert row["params"] == sum(p.numel() for p in zoo.load("toy_cnn", weights=None).parameters())
    (saved,) = csv.DictReader(out.open())
    assert saved["model"] == "toy_cnn" and float(saved["samples_per_sec"]) > 0

    # several models: one that cannot run at this size is a row saying why, the others still run, exit 1
    assert (
        main(["benchmark", "toy_cnn", "inception_v3", "--img-size", "32", "--steps", "1", "--format", "csv"])
        == 1
    )
    rows = {r["model"]: r for r in csv.DictReader(capsys.readouterr().out.splitlines())}
    assert rows["toy_cnn"]["error"] == "" and "at least 75x75" in rows["inception_v3"]["error"]

    # a grey-scale application takes --channels 1
    assert (
        main(
            ["benchmark", "lenet5", "--channels", "1", "--img-size", "28", "--steps", "1", "--format", "json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)[0]["gmacs"] > 0

    assert main(["benchmark", "toy_cn"]) == 1
    assert "Did you mean: toy_cnn" in capsys.readouterr().err
    assert main(["benchmark", "no_such_*"]) == 1
    assert "no application matches 'no_such_*'" in capsys.readouterr().err
    assert main(["benchmark", "toy_cnn", "--batch-size", "0"]) == 1
    assert "batch_size must be a whole number >= 1" in capsys.readouterr().err
