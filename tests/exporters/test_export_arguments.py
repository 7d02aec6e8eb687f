"""zoo.export refuses arguments it cannot use as meant, before building or writing anything: flags that
are not bools (one rule for the pipeline's and every exporter's), ONNX providers onnxruntime does not have,
a path, batch sizes or load options of the wrong kind. And the example input follows what the model is:
a ``zoo.load`` module's registry ``input_size``, the ``input_shape`` it was built for."""

from __future__ import annotations

import os

import pytest
import torch

import zoo
import zoo.plugins
from zoo.exporters import Exporter


def _nothing_written(folder) -> bool:
    return os.listdir(folder) == []


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        ("pt2", {"strict": "false"}, r"the torch_export exporter: strict must be True or False, got 'false'.*truthy"),
        ("pt2", {"check": "no"}, r"zoo.export: check must be True or False, got 'no'"),
        ("pt2", {"dynamic_batch": "no"}, r"zoo.export: dynamic_batch must be True or False, got 'no'"),
        ("onnx", {"optimize": "yes"}, r"the onnx exporter: optimize must be True or False, got 'yes'"),
        ("onnx", {"external_data": "false"}, r"external_data must be True or False, got 'false'"),
        ("pt2", {"strict": None}, r"strict must be True or False, got None"),
    ],
)
def test_flags_that_are_not_bools_are_refused(tiny_cnn, tmp_path, fmt, options, message):
    with pytest.raises(zoo.OptionError, match=message):
        zoo.export(tiny_cnn, fmt, tmp_path / f"m.{'onnx' if fmt == 'onnx' else 'pt2'}", input_shape=(3, 8, 8), **options)
    assert _nothing_written(tmp_path)


def test_zoo_get_of_an_exporter_checks_its_flags_too():
    with pytest.raises(zoo.OptionError, match=r"the torch_export exporter: strict must be True or False, got 'false'"):
        zoo.get("exporters", "pt2", strict="false")  # was an exporter whose strict read as True
    assert zoo.get("exporters", "onnx", external_data=None).external_data is None  # None: decide by size
    assert zoo.get("exporters", "pt2", strict=0).strict is False


def test_real_bools_still_work(tiny_cnn, tmp_path):
    fixed = zoo.export(tiny_cnn, "pt2", tmp_path / "a.pt2", torch.randn(2, 3, 8, 8), strict=False, dynamic_batch=False)
    assert fixed.batch_sizes == (2,) and not fixed.dynamic_batch
    unchecked = zoo.export(tiny_cnn, "pt2", tmp_path / "b.pt2", input_shape=(3, 8, 8), check=0)  # 1/0 are bools too
    assert unchecked.max_abs_diff is None and unchecked.path.is_file()


class FlaggedExporter(Exporter):
    """A plugin's format with a flag of its own: it gets the same bool rule without declaring anything."""

    name, suffix = "flagged", ".flagged"

    def __init__(self, *, fancy: bool = False) -> None:
        self.fancy = fancy

    def save(self, model, inputs, path, signature):  # pragma: no cover - refused before
        raise AssertionError("the flag should have been refused before saving")


class FlagPlugin:
    @zoo.hookimpl
    def zoo_register_exporters(self, register):
        register("flagged", FlaggedExporter)


def test_a_plugin_exporters_flag_gets_the_same_rule(tiny_cnn, tmp_path):
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.add_plugin(FlagPlugin(), "flagplugin")
    zoo.plugins.use(pm)
    with pytest.raises(zoo.OptionError, match=r"the flagged exporter: fancy must be True or False, got 'no'"):
        zoo.export(tiny_cnn, "flagged", tmp_path / "m.flagged", input_shape=(3, 8, 8), fancy="no")


def test_a_misspelt_onnx_provider_is_refused_with_the_right_name(tiny_cnn, tmp_path):
    pytest.importorskip("onnxruntime")
    with pytest.raises(zoo.OptionError, match=r"'CUDAExecutionProvder' is not an onnxruntime .*Did you mean 'CUDAExecutionProvider'"):
        zoo.export(tiny_cnn, "onnx", tmp_path / "m.onnx", input_shape=(3, 8, 8), providers=["CUDAExecutionProvder"])
    assert _nothing_written(tmp_path)


def test_onnx_providers_are_checked_against_this_onnxruntime(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    missing = [p for p in onnxruntime.get_all_providers() if p not in onnxruntime.get_available_providers()]
    if missing:  # a provider onnxruntime knows but this build lacks: it would fall back to the CPU
        with pytest.raises(zoo.OptionError, match=f"has no {missing[0]}"):
            zoo.get("exporters", "onnx", providers=[missing[0]])
    with pytest.raises(zoo.ArgumentError, match="a non-empty list of onnxruntime execution providers"):
        zoo.get("exporters", "onnx", providers="CPUExecutionProvider")  # a bare name: its letters
    with pytest.raises(zoo.ArgumentError, match="a provider name or a"):
        zoo.get("exporters", "onnx", providers=[3])
    given = [("CPUExecutionProvider", {})]
    assert zoo.get("exporters", "onnx", providers=given).providers == given


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"path": 5}, zoo.ArgumentError, r"path must be a path \(a str or pathlib.Path\), got 5"),
        ({"batch_sizes": 3}, zoo.ArgumentError, r"batch_sizes must be a list of positive integers .*write \(3,\)"),
        ({"batch_sizes": "13"}, zoo.ArgumentError, "batch_sizes must be a list"),
        ({"batch_sizes": [1, True]}, zoo.OptionError, "batch_sizes must be positive integers"),
        ({"batch_sizes": [0]}, zoo.OptionError, "batch_sizes must be positive integers"),
    ],
)
def test_path_and_batch_sizes_of_the_wrong_kind(tiny_cnn, tmp_path, arguments, error, message):
    with pytest.raises(error, match=message):
        zoo.export(tiny_cnn, "pt2", **{"path": tmp_path / "m.pt2", **arguments}, input_shape=(3, 8, 8))
    assert _nothing_written(tmp_path)


def test_load_kwargs_must_be_a_mapping(tmp_path):
    with pytest.raises(zoo.ArgumentError, match=r"load_kwargs must be a dict of zoo.load options.*got \['a'\]"):
        zoo.export("lenet5", "pt2", tmp_path / "m.pt2", load_kwargs=["a"])


def test_a_zoo_load_module_is_traced_at_its_registry_input_size(tmp_path):
    model = zoo.load("lenet5")  # no weights, so no preprocessing: the registry's input_size (1, 28, 28)
    result = zoo.export(model, "pt2", tmp_path / "lenet5.pt2")
    assert result.model == "lenet5" and result.max_abs_diff is not None
    with open(result.path, "rb") as f:
        exported = torch.export.load(f).module()
    assert exported(torch.randn(4, 1, 28, 28)).shape == (4, 10)


def test_the_input_shape_a_model_was_built_for_is_its_example(tmp_path):
    by_name = zoo.export("lenet_300_100", "pt2", tmp_path / "a.pt2", load_kwargs={"input_shape": (1, 8, 8)})
    module = zoo.export(zoo.load("lenet_300_100", input_shape=(1, 8, 8)), "pt2", tmp_path / "b.pt2")
    for result in (by_name, module):
        with open(result.path, "rb") as f:
            exported = torch.export.load(f).module()
        assert exported(torch.randn(3, 1, 8, 8)).shape == (3, 10)
