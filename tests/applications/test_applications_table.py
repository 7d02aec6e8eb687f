"""The weights table: complete against torchvision, and readable without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import torchvision
from torchvision import models

import zoo
from zoo.applications import table


def test_table_has_every_torchvision_classifier_and_variant():
    archs = table.architectures()
    assert sorted(archs) == models.list_models(module=models)
    for name, facts in archs.items():
        enum = models.get_model_weights(name)
        assert facts["default_weights"] == enum.DEFAULT.name
        assert list(facts["weights"]) == [w.name for w in enum]
        for weights in enum:
            row = facts["weights"][weights.name]
            assert row["url"] == weights.url and weights.url.endswith(row["filename"])
            assert f"-{row['sha256']}." in row["filename"] and len(row["sha256"]) >= 8
            assert row["num_params"] == weights.meta["num_params"]
            assert row["gflops"] == weights.meta["_ops"] and row["file_size_mb"] == weights.meta["_file_size"]
            assert row["metrics"] == json.loads(json.dumps(weights.meta["_metrics"]))
            assert list(row["min_size"]) == list(weights.meta["min_size"])
            assert table.categories(row["categories"]) == weights.meta["categories"]
            preset = weights.transforms()
            p = row["preprocessing"]
            assert (p["resize"], p["crop"]) == (preset.resize_size[0], preset.crop_size[0])
            assert p["mean"] == list(preset.mean) and p["std"] == list(preset.std)
            assert p["interpolation"] == preset.interpolation.value
    assert table.load_table()["torchvision_version"] == torchvision.__version__.split("+")[0]


def test_every_variant_is_registered_with_its_facts():
    names = zoo.list("applications", pretrained=True)
    assert {"resnet50", "vgg16", "inception_v3", "vit_h_14"} <= set(names)
    info = zoo.info("resnet50", kind="applications")
    assert info["default_weights"] == "IMAGENET1K_V2" and info["pretrained"] is True
    v2 = info["weights"]["IMAGENET1K_V2"]
    assert v2["url"].endswith("resnet50-11ad3fa6.pth") and v2["sha256"] == "11ad3fa6" and v2["size"] is None
    assert v2["metrics"]["ImageNet-1K"]["acc@1"] == 80.858
    assert zoo.list("applications", "resnet*", family="resnet")[:3] == ["resnet18", "resnet34", "resnet50"]


PROBE = textwrap.dedent(
    """
    import io, sys, contextlib
    import zoo, zoo.plugins, zoo.applications.plugin
    from zoo.cli import main
    pm = zoo.plugins.ZooPluginManager()
    pm.add_plugin(zoo.applications.plugin, "applications", builtin=True)
    zoo.plugins.use(pm)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["list", "applications"]) == 0
        assert main(["info", "InceptionV3"]) == 0
        assert main(["list", "applications", "--where", "pretrained=true"]) == 0
    assert zoo.info("vgg16")["weights"]["IMAGENET1K_FEATURES"].get("categories") is None  # unset fields are left out
    heavy = sorted(m for m in ("torch", "torchvision", "numpy", "PIL") if m in sys.modules)
    print(heavy, out.getvalue().count("\\n"), "resnet50" in out.getvalue(), "IMAGENET1K_V1" in out.getvalue())
    """
)


def test_listing_and_info_do_not_import_torch():
    # Only the applications plugin is loaded: this checks its own listing path, CLI command included.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    heavy, *rest = result.stdout.rsplit("]", 1)
    assert heavy == "[" and rest[0].split()[1:] == ["True", "True"], result.stdout
