"""Failures: a clear error naming what went wrong, and nothing left behind (nor an old file replaced)."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from torch import nn

import zoo
from zoo.exporters import ExportCheckError, ExportError, MissingDependencyError, UnsupportedOperatorError


@torch.library.custom_op("zoo_export_test::wiggle", mutates_args=())
def wiggle(x: torch.Tensor) -> torch.Tensor:
    return x.sin() * 2


@wiggle.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


@torch.library.custom_op("zoo_export_test::opaque", mutates_args=())
def opaque(x: torch.Tensor) -> torch.Tensor:  # no fake kernel: torch.export cannot trace through it
    return x.cos()


class MedianOfRows(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.kthvalue(x, 2, dim=-1).values


class Calls(nn.Module):
    def __init__(self, op) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x) + 1


class ChecksValues(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.min() < -100:  # a validation on tensor values: fine eagerly, untraceable
            raise ValueError("out of range")
        return x * 2


class BakesInBatch(nn.Module):
    """Converts the batch size to a Python int: a trace records it as a constant."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.ones(int(x.shape[0]), 1)


def test_onnx_names_unsupported_builtin_op_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "median.onnx"
    target.write_bytes(b"previous export")
    with pytest.raises(UnsupportedOperatorError) as info:
        zoo.export(MedianOfRows(), "onnx", target, torch.randn(2, 4, 5))
    assert info.value.op == "aten::kthvalue" and info.value.format == "onnx"
    assert "aten::kthvalue" in str(info.value) and "MedianOfRows" in str(info.value)
    assert os.listdir(tmp_path) == ["median.onnx"] and target.read_bytes() == b"previous export"


def test_onnx_names_a_custom_op_it_cannot_translate(tmp_path):
    with pytest.raises(UnsupportedOperatorError, match="zoo_export_test::wiggle") as info:
        zoo.export(Calls(wiggle), "onnx", tmp_path / "wiggle.onnx", torch.randn(2, 3))
    assert info.value.op == "zoo_export_test::wiggle"
    assert os.listdir(tmp_path) == []


def test_torch_export_names_an_op_without_fake_kernel(tmp_path):
    with pytest.raises(UnsupportedOperatorError) as info:
        zoo.export(Calls(opaque), "torch_export", tmp_path / "opaque.pt2", torch.randn(2, 3))
    assert info.value.op == "zoo_export_test::opaque"
    assert os.listdir(tmp_path) == []


def test_data_dependent_branch_is_located_in_the_model_code(tmp_path):
    with pytest.raises(ExportError, match="branches on tensor values") as info:
        zoo.export(ChecksValues(), "torch_export", tmp_path / "values.pt2", torch.randn(2, 3))
    assert f"{__file__}:" in str(info.value) and "if x.min() < -100:" in str(info.value)
    assert os.listdir(tmp_path) == []


class FailsWhileTracing(nn.Module):
    def forward(self, x):
        if torch.jit.is_tracing():
            raise RuntimeError("this layer cannot be traced")
        return x * 2


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_an_error_raised_in_model_code_is_located_from_its_traceback(tmp_path):
    """No exporter message names the place here: the traceback's last frame outside torch does."""
    with pytest.raises(ExportError, match="this layer cannot be traced") as info:
        zoo.export(FailsWhileTracing(), "torchscript", tmp_path / "fails.pt", torch.randn(2, 3))
    assert f"{__file__}:" in str(info.value) and 'raise RuntimeError("this layer cannot be traced")' in str(info.value)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_failed_check_is_an_error_and_leaves_no_file(tmp_path, fmt):
    # Both exporters quietly bake the batch size in (torch.onnx falls back to a static shape); the check
    # catches it at batch 1.
    out = tmp_path / "new" / "sub"
    with pytest.raises(ExportCheckError) as info:
        zoo.export(BakesInBatch(), fmt, out / "baked.model", torch.randn(2, 3))
    assert "on a batch of 1" in str(info.value) and "batch size it was traced with (2)" in str(info.value)
    assert os.listdir(tmp_path) == []  # directories it created are gone too


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::torch.jit.TracerWarning")
def test_a_model_random_in_eval_mode_is_named_as_the_cause(tmp_path):
    """Monte Carlo dropout (Dropout(x, training=True)) differs from itself: the check said to loosen atol."""
    inputs = zoo.Input((4,))
    layers = zoo.layers
    model = zoo.Model(inputs, layers.Dense(2)(layers.Dropout(0.5)(layers.Dense(8)(inputs), training=True)))
    with pytest.raises(ExportCheckError, match="so do two PyTorch calls on the same input: the model is random") as info:
        zoo.export(model, "torchscript", tmp_path / "mc.pt")
    assert "Pass larger atol" not in str(info.value)
    zoo.export(model, "torchscript", tmp_path / "mc.pt", check=False)


def test_missing_onnx_runtime_names_the_package_before_building_anything(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(MissingDependencyError, match=r"onnxruntime.*pip install 'zoo-platform\[onnx\]'"):
        zoo.export("no_such_model", "onnx", tmp_path / "x.onnx")
    assert os.listdir(tmp_path) == []


def test_unknown_format_suggests_the_close_one(tiny_cnn, tmp_path):
    with pytest.raises(zoo.UnknownNameError, match="Did you mean: onnx"):
        zoo.export(tiny_cnn, "onx", tmp_path / "m.onnx")


def test_bad_inputs_are_explained(tiny_cnn, tmp_path):
    with pytest.raises(TypeError, match="example_input must be a tensor"):
        zoo.export(tiny_cnn, "onnx", tmp_path / "m.onnx", "3x16x16")
    with pytest.raises(ExportError, match=r"fails on the example input \(shapes \[\(2, 5\)\]\)"):
        zoo.export(tiny_cnn, "onnx", tmp_path / "m.onnx", input_shape=(5,))
    with pytest.raises(TypeError, match="cannot tell what input"):
        zoo.export(nn.Sequential(nn.Linear(3, 2)), "onnx", tmp_path / "m.onnx")
    with pytest.raises(TypeError, match=r"bad option for the onnx exporter \(opset\)"):
        zoo.export(tiny_cnn, "onnx", tmp_path / "m.onnx", opset=18)
    with pytest.raises(TypeError, match="load_kwargs only apply"):
        zoo.export(tiny_cnn, "onnx", tmp_path / "m.onnx", load_kwargs={"weights": None})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fmt, name, fixed", [("torchscript", "m.onnx", "m.pt"), ("onnx", "m.pt2", "m.onnx")])
def test_a_path_with_another_formats_suffix_is_refused_before_export(tmp_path, fmt, name, fixed):
    with pytest.raises(zoo.OptionError, match=f"suffix of the .* format, but the format is {fmt}.*name it {fixed}"):
        zoo.export(torch.nn.Linear(3, 2), fmt, tmp_path / name, torch.randn(2, 3))
    assert list(tmp_path.iterdir()) == []
    zoo.export(torch.nn.Linear(3, 2), "torchscript", tmp_path / "m.bin", torch.randn(2, 3))  # no format's suffix
    assert (tmp_path / "m.bin").is_file()
