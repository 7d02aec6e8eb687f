"""Round trips: each format's file, loaded by its own runtime, computes what the PyTorch model computes."""

from __future__ import annotations

import os

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

import zoo
from zoo.exporters import ExportResult

from .conftest import deprecation_said


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("onnx", ".onnx"), ("torchscript", ".pt"), ("torch_export", ".pt2")]
)
def test_round_trip_each_format(tiny_cnn, tmp_path, fmt, suffix, load_back):
    tiny_cnn.train()
    with deprecation_said(fmt):
        result = zoo.export(tiny_cnn, fmt, tmp_path, torch.randn(1, 3, 16, 16))

    assert isinstance(result, ExportResult)
    assert result.path == tmp_path / f"tinycnn{suffix}" and result.path.is_file()
    assert os.listdir(tmp_path) == [result.path.name]  # no temp files left over
    assert result.format == fmt and result.batch_sizes == (1, 3)
    assert 0 <= result.max_abs_diff <= result.tolerance
    assert "max abs diff" in str(result) and fmt in str(result)
    assert tiny_cnn.training, "export must restore the model's training flag"

    tiny_cnn.eval()
    runner = load_back(fmt, result.path)
    x = torch.randn(5, 3, 16, 16)  # a batch size neither traced nor checked
    with torch.no_grad():
        expected, got = tiny_cnn(x), runner(x)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_onnx_batch_axis_is_dynamic_for_every_input_and_output(clip_and_question, tmp_path):
    result = zoo.export(clip_and_question, "onnx", tmp_path / "qa.onnx")  # traced with its example_inputs()

    assert result.input_names == ("clip", "question")  # from forward's signature
    assert result.output_names == ("output_0", "output_1")
    graph = onnx.load(str(result.path)).graph
    for value in [*graph.input, *graph.output]:
        batch = value.type.tensor_type.shape.dim[0]
        assert batch.dim_param == "batch" and not batch.dim_value, value.name
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    for n in (1, 6):
        clip, question = torch.randn(n, 3, 12), torch.randint(0, 20, (n, 7))
        answer, joint = session.run(None, {"clip": clip.numpy(), "question": question.numpy()})
        with torch.no_grad():
            expected = clip_and_question(clip, question)
        np.testing.assert_allclose(answer, expected[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(joint, expected[1].numpy(), atol=1e-5)


def test_static_batch_fixes_the_batch_axis(tiny_cnn, tmp_path):
    result = zoo.export(
        tiny_cnn, "onnx", tmp_path / "fixed.onnx", input_shape=(3, 16, 16), dynamic_batch=False,
        input_names=["image"], output_names=["logits"],
    )  # fmt: skip
    graph = onnx.load(str(result.path)).graph
    assert [i.name for i in graph.input] == ["image"] and [o.name for o in graph.output] == ["logits"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert result.batch_sizes == (2,) and not result.dynamic_batch


def test_resnet50_onnx_round_trip_by_name(tmp_path):
    torch.manual_seed(0)
    result = zoo.export(
        "ResNet50", "onnx", f"{tmp_path}/new/", input_shape=(3, 64, 64), load_kwargs={"weights": None}
    )
    assert result.path == tmp_path / "new" / "resnet50.onnx" and result.model == "resnet50"
    assert result.max_abs_diff <= result.tolerance and result.size_bytes > 90e6


def test_inception_v3_features_onnx_round_trip(tmp_path):
    torch.manual_seed(0)
    model = zoo.load("inception_v3", weights=None, include_top=False, pooling="avg")
    result = zoo.export(model, "onnx", tmp_path / "inception.onnx", torch.randn(2, 3, 75, 75))
    assert result.model == "inception_v3" and result.max_abs_diff <= result.tolerance
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 3, 75, 75)
    (features,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        expected = model(x)
    assert features.shape == (3, 2048)
    np.testing.assert_allclose(features, expected.numpy(), rtol=0, atol=result.tolerance)
