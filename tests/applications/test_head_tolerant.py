"""Backbone-only checkpoints load with include_top=False or num_classes=N; a mismatch lists missing and
unexpected keys and names the built-in architecture the file fits (from signatures computed once)."""

from __future__ import annotations

import logging

import pytest
import torch
import torchvision

import zoo
from zoo.applications import signatures
from zoo.applications.loading import WeightsFileError


@pytest.fixture(scope="module")
def backbone_file(tmp_path_factory):
    torch.manual_seed(0)
    state = torchvision.models.resnet18().state_dict()
    path = tmp_path_factory.mktemp("heads") / "ssl-backbone.pth"
    torch.save({k: v for k, v in state.items() if not k.startswith("fc.")}, path)
    return path, state


def test_backbone_file_loads_without_its_top(backbone_file, caplog):
    path, state = backbone_file
    with caplog.at_level(logging.INFO, logger="zoo.applications"):
        model = zoo.load("resnet18", weights=path, include_top=False)
    assert "has no top (2 keys: fc.weight, fc.bias)" in caplog.text
    assert torch.equal(model.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 2, 2)


def test_backbone_file_gets_a_new_head_with_num_classes(backbone_file):
    path, state = backbone_file
    model = zoo.load("resnet18", weights=path, num_classes=10)
    assert model.fc.weight.device.type == "cpu" and model(torch.zeros(2, 3, 64, 64)).shape == (2, 10)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])
    assert model.zoo.dropped_keys == []  # nothing pretrained was dropped: the file had no head


def test_backbone_file_with_the_top_asked_for_says_what_to_do(backbone_file):
    path, _ = backbone_file
    with pytest.raises(WeightsFileError) as info:
        zoo.load("resnet18", weights=path)
    text = str(info.value)
    assert "2 missing keys (fc.weight, fc.bias)" in text and "include_top=False" in text
    assert not text.rstrip().endswith("..")


def test_a_file_that_is_not_only_headless_is_still_refused(backbone_file, tmp_path):
    _, state = backbone_file
    cut = {k: v for k, v in state.items() if not k.startswith(("fc.", "layer4.1."))}
    torch.save(cut, tmp_path / "less.pth")
    with pytest.raises(WeightsFileError, match=r"missing keys \(layer4\.1\."):
        zoo.load("resnet18", weights=tmp_path / "less.pth", include_top=False)


def test_mismatch_lists_counts_and_names_the_architecture_that_fits(tmp_path):
    torch.save(torchvision.models.resnet34().state_dict(), tmp_path / "r34.pth")
    with pytest.raises(WeightsFileError) as info:
        zoo.load("resnet18", weights=tmp_path / "r34.pth")
    text = str(info.value)
    assert "96 unexpected keys (layer1.2.conv1.weight, " in text and "... 93 more" in text
    assert "They fit resnet34 as is" in text
    state = torchvision.models.wide_resnet50_2(num_classes=7).state_dict()
    torch.save(state, tmp_path / "wide.pth")
    with pytest.raises(WeightsFileError, match="fit wide_resnet50_2 with another number of classes") as info:
        zoo.load("resnet50", weights=tmp_path / "wide.pth")
    assert "of other shapes (layer1.0.conv1.weight: file (128, 64, 1, 1) vs model (64, 64, 1, 1)" in str(info.value)


def test_signature_table_matches_the_builders():
    """The table is data generated once; a drift from torchvision's builders would misname files."""
    for arch, build in (("resnet18", torchvision.models.resnet18), ("vgg11", torchvision.models.vgg11)):
        with torch.device("meta"):
            model = build()
        entry = signatures.table()[arch]
        assert entry["full"] == signatures.signature((k, v.shape) for k, v in model.state_dict().items())
        headless = ((k, v.shape) for k, v in model.state_dict().items() if not k.startswith(entry["classifier"] + "."))
        assert entry["headless"] == signatures.signature(headless)
    assert len(signatures.table()) == len(zoo.applications.table.architectures())
