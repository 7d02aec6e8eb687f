"""The catalogue: one row per weights variant, filtered by comparisons and sorted, from Python and the CLI;
real figures from torchvision's meta and timm's published results; no torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import zoo
from zoo.catalogue import Condition, catalogue
from zoo.cli import main


def _variant(acc1, params, license=None, mb=None):
    return {"url": "https://example.org/w.pth", "metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc1 + 10}},
            "num_params": params, "file_size_mb": mb, "license": license, "preprocessing": {"crop": 224}}  # fmt: skip


class Catalogue:
    @zoo.hookimpl
    def zoo_register_applications(self, register):
        register(
            "small",
            "builtins:abs",
            family="tiny",
            default_weights="a",
            weights={
                "a": _variant(70.0, 2_000_000, "Apache-2.0", 8.0),
                "b": _variant(75.5, 2_000_000, "mit"),
            },
        )
        register(
            "big",
            "builtins:abs",
            family="huge",
            default_weights="x",
            weights={"x": _variant(82.0, 90_000_000, "apache-2.0", 350.0)},
        )
        register("nothing", "builtins:abs", num_params=5)  # no pretrained weights: one row, weights None
        register("unmeasured", "builtins:abs", weights={"u": {"url": "https://example.org/u.pth"}})  # fmt: skip


def _names(rows):
    return [(r.name, r.weights) for r in rows]


def test_filters_and_sorts(make_pm):
    make_pm({"cat": Catalogue()})
    assert _names(catalogue(sort="-acc1", pretrained=True)) == [
        ("big", "x"),
        ("small", "b"),
        ("small", "a"),
        ("unmeasured", "u"),
    ]  # unknown figures last
    assert _names(catalogue(where=["params<10e6", "license=apache-2.0"])) == [("small", "a")]  # case ignored
    assert _names(catalogue(where=["acc1>=75.5"], sort="acc1")) == [("small", "b"), ("big", "x")]
    # "!=" keeps what is unknown too (no licence stated is not "mit"); other comparisons never do
    assert _names(catalogue(where=["license!=mit"], sort="name")) == [("big", "x"), ("nothing", None), ("small", "a"),
                                                                      ("unmeasured", "u")]  # fmt: skip
    assert _names(catalogue(where=["weights=none"])) == [("nothing", None)]
    row = catalogue("big")[0]
    assert (row.acc5, row.resolution, row.file_size_mb, row.family, row.dataset) == (
        92.0,
        224,
        350.0,
        "huge",
        "ImageNet-1K",
    )
    assert _names(catalogue(sort=["family", "-acc1"], where=["size_mb>0"])) == [("big", "x"), ("small", "a")]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("params", "write COLUMN OP VALUE"),
        ("acc1>>3", "acc1 holds numbers"),
        ("license<x", "license holds text"),
        ("paramz<3", "no column 'paramz'. Did you mean 'params'"),
    ],
)
def test_bad_conditions_say_how_to_write_them(condition, message):
    with pytest.raises(zoo.ZooError, match=message):
        Condition.parse(condition)


def test_real_figures_from_torchvision_and_timm():
    (tv,) = [r for r in catalogue("resnet50") if r.weights == "IMAGENET1K_V2"]
    assert (tv.acc1, tv.acc5, tv.gflops, tv.file_size_mb, tv.num_params) == (
        80.858,
        95.434,
        4.089,
        97.79,
        25557032,
    )
    assert tv.paper == "https://arxiv.org/abs/1512.03385" and tv.resolution == 224
    (timm,) = [r for r in catalogue("timm:resnet50") if r.weights == "a1_in1k"]
    assert (timm.acc1, timm.resolution, timm.license, timm.num_params) == (
        80.382,
        224,
        "apache-2.0",
        25560000,
    )


def test_cli_catalogue_and_torch_free(capsys):
    assert main(["list", "applications", "resnet50", "--sort", "-acc1", "--columns", "name,weights,acc1,params",
                 "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0]) == ["name", "weights", "acc1", "num_params"]
    accs = [r["acc1"] for r in rows if r["acc1"] is not None]
    assert accs == sorted(accs, reverse=True) and len(accs) > 10
    assert (
        main(["list", "applications", "--where", "params<3e6", "--where", "acc1>70", "--format", "csv"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("name,weights,acc1") and len(lines) > 2
    assert main(["list", "layers", "--sort", "name"]) == 1
    assert "catalogue of applications only" in capsys.readouterr().err
    assert main(["list", "applications", "--where", "acc1>101"]) == 1
    assert "no weights variant matches" in capsys.readouterr().err
    code = "import sys, zoo; zoo.catalogue(where=['acc1>80']); print('torch' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
