"""toy_cnn exports with default arguments: its example input comes from its metadata (3-channel 32x32
images), not from its first convolution, which sees 5 channels after the two coordinate channels it adds."""

from __future__ import annotations

import os

import torch

import zoo
from zoo.cli import main
from zoo.exporters import inputs


def test_default_example_of_toy_cnn_takes_the_channels_of_its_preprocessing():
    model = zoo.load("toy_cnn")
    assert model.features[0][0].in_channels == 5  # what a guess from the first conv would take
    (image,) = inputs.default_example(model, None)
    assert image.shape == (2, 3, 32, 32)


def test_torchscript_export_of_toy_cnn_with_defaults(tmp_path):
    result = zoo.export(zoo.load("toy_cnn"), "torchscript", tmp_path / "toy.pt")
    loaded = torch.jit.load(str(result.path))
    assert loaded(torch.rand(2, 3, 32, 32)).shape == (2, len(zoo.load("toy_cnn").zoo.categories))


def test_zoo_export_toy_cnn_cli_with_default_arguments(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "toy_cnn"]) == 0
    assert "exported toy_cnn to onnx" in capsys.readouterr().out
    assert os.listdir(tmp_path) == ["toy_cnn.onnx"]


def test_a_zoo_model_without_a_preprocessing_mean_takes_its_first_convolutions_channels():
    model = zoo.load("lenet5", weights=None)  # grayscale digits: no per-channel mean in its metadata
    (image,) = inputs.default_example(model, None)
    assert image.shape[1] == 1
