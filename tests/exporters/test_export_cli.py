"""``zoo export NAME``: builds the model through zoo.load with the loader options given, exports, checks."""

from __future__ import annotations

import json
import os
import sys

import onnx
import onnxruntime
import pytest
import torch

import zoo
import zoo.plugins
from zoo.cli import main


class TinyApplications:
    """A test plugin registering one application whose builder records the options it was called with."""

    def __init__(self, model_class) -> None:
        self.calls: list[dict] = []
        self.model_class = model_class

    def build(self, **options):
        self.calls.append(options)
        torch.manual_seed(0)
        return self.model_class()

    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register("tiny_cnn", self.build, input_size=(3, 16, 16), options=("weights", "include_top", "pooling"))


@pytest.fixture
def apps(tiny_cnn):
    plugin = TinyApplications(type(tiny_cnn))
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.add_plugin(plugin, "testapps")
    zoo.plugins.use(pm)
    return plugin


def test_zoo_export_builds_by_name_and_checks(apps, tmp_path, capsys):
    out = tmp_path / "tiny.onnx"
    argv = ["export", "tiny-cnn", "--format", "onnx", "-o", str(out), "--weights", "none", "--no-top"]
    assert main([*argv, "--pooling", "avg", "--batch-sizes", "1,4", "--option", "opset_version=21"]) == 0

    assert apps.calls == [{"weights": None, "include_top": False, "pooling": "avg"}]
    printed = capsys.readouterr().out
    assert (
        "exported tiny_cnn to onnx" in printed and "batch size 1, 4" in printed and "max abs diff" in printed
    )
    assert {o.domain: o.version for o in onnx.load(str(out)).opset_import}[""] == 21  # --option reached it
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 3, 16, 16]  # from the entry's input_size metadata


def test_zoo_export_json_and_input_shape(apps, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "tiny_cnn", "-f", "torch_export", "--input-shape", "3,8,8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(tmp_path / "tiny_cnn.pt2") and report["format"] == "torch_export"
    assert report["max_abs_diff"] <= report["tolerance"] and report["batch_sizes"] == [1, 3]
    assert apps.calls == [{}]


def test_zoo_export_without_onnxruntime_says_what_to_install(apps, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert main(["export", "tiny_cnn", "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: exporting to onnx needs the package 'onnxruntime'")
    assert "pip install 'zoo-platform[onnx]'" in err and "Traceback" not in err
    assert apps.calls == [] and os.listdir(tmp_path) == []


def test_zoo_export_bad_arguments_are_one_line_errors(apps, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "tiny_cnn", "--batch-sizes", "1,x"]) == 1
    assert "--batch-sizes expects comma-separated positive integers such as 1,3" in capsys.readouterr().err
    assert main(["export", "tiny_cnn", "--batch-sizes", "0,-1"]) == 1
    assert "such as 1,3, got '0,-1'" in capsys.readouterr().err
    assert main(["export", "tiny_cnn", "--input-shape", "3,0,8"]) == 1
    assert "--input-shape expects comma-separated positive integers such as 3,224,224" in capsys.readouterr().err
    assert main(["export", "tiny_cnn", "--option", "opset_version"]) == 1
    assert "--option expects KEY=VALUE" in capsys.readouterr().err
    assert main(["export", "tiny_cnn", "-f", "tflite"]) == 1
    assert "no exporters named 'tflite'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == [] and apps.calls == []


def test_zoo_list_exporters(capsys):
    assert main(["list", "exporters"]) == 0
    listed = capsys.readouterr().out.split()
    assert {"onnx", "torch_export", "torchscript"} <= set(listed) and listed == sorted(listed)  # + plugins' (zoo-example)
