"""The exporter hook: a plugin adds a format, and zoo.export checks it like the built-in ones."""

from __future__ import annotations

import copy
import os

import pytest
import torch

import zoo
import zoo.plugins
from zoo.exporters import ExportCheckError, Exporter
from zoo.exporters.inputs import dynamic_shapes


class HalfPrecisionExporter(Exporter):
    """A lossy format as a plugin would write one: a torch.export archive of the model in float16."""

    name = "half_pt2"
    suffix = ".half.pt2"
    atol = 1e-2  # float16 keeps ~3 significant digits; the format says how close it can be
    rtol = 1e-2

    def save(self, model, inputs, path, signature):
        half = [x.half() if x.is_floating_point() else x for x in inputs]
        program = torch.export.export(
            copy.deepcopy(model).half(),
            tuple(half),
            dynamic_shapes=dynamic_shapes(inputs, signature.dynamic_batch),
        )
        with open(path, "wb") as f:
            torch.export.save(program, f)

    def load(self, path, signature):
        with open(path, "rb") as f:
            module = torch.export.load(f).module()
        return lambda *xs: module(*(x.half() for x in xs)).float()


class FormatPlugin:
    @zoo.hookimpl
    def zoo_register_exporters(self, register):
        register("half_pt2", HalfPrecisionExporter, aliases=("fp16",), description="float16 torch.export")


@pytest.fixture
def with_plugin():
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.add_plugin(FormatPlugin(), "testplugin")
    zoo.plugins.use(pm)


def test_a_plugin_format_is_listed_and_built_by_name(with_plugin):
    assert zoo.list("exporters") == ["half_pt2", "onnx", "torch_export", "torchscript"]
    assert isinstance(zoo.get("exporters", "FP16"), HalfPrecisionExporter)
    assert zoo.info("half_pt2", kind="exporters")["plugin"] == "testplugin"


def test_a_plugin_format_round_trips_with_its_own_tolerance(with_plugin, tiny_cnn, tmp_path):
    result = zoo.export(tiny_cnn, "fp16", tmp_path, input_shape=(3, 16, 16))
    assert result.format == "half_pt2" and result.path == tmp_path / "tinycnn.half.pt2"
    assert 0 < result.max_abs_diff <= result.tolerance  # lossy, within the format's declared tolerance
    with open(result.path, "rb") as f:
        program = torch.export.load(f)
    assert {p.dtype for p in program.state_dict.values() if p.is_floating_point()} == {torch.float16}
    assert next(tiny_cnn.parameters()).dtype == torch.float32


def test_a_plugin_format_failing_the_check_leaves_no_file(with_plugin, tiny_cnn, tmp_path):
    with pytest.raises(ExportCheckError, match=r"max abs difference .* > tolerance") as info:
        zoo.export(tiny_cnn, "half_pt2", tmp_path / "m.pt2", input_shape=(3, 16, 16), atol=1e-7, rtol=0)
    assert info.value.max_abs_diff > 1e-7
    assert os.listdir(tmp_path) == []


def test_the_longest_claimed_suffix_decides_a_plugin_formats_path(with_plugin, tiny_cnn, tmp_path):
    # m.half.pt2 is half_pt2's name, so torch_export refuses it; half_pt2 writing m.pt2 passes the suffix
    # check (it reached the tolerance check above), its .half.pt2 being a .pt2 program too.
    with pytest.raises(zoo.OptionError, match=r"suffix of the half_pt2 format, but the format is torch_export.*"
                       r"name it m\.pt2,"):
        zoo.export(tiny_cnn, "torch_export", tmp_path / "m.half.pt2", input_shape=(3, 16, 16))
    assert os.listdir(tmp_path) == []
