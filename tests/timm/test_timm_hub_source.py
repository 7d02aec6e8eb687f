"""``zoo.load("hf-hub:ORG/REPO")``: a timm-layout Hub repository (config.json + model.safetensors), served by a
local server that answers as the Hub does; the weights come through zoo's cache, verified by the Hub's sha256."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import zoo


@pytest.fixture
def hub_repo(fake_hub, timm_files):
    repo = f"timm/{timm_files.arch}.{timm_files.tag}"
    config = {"architecture": timm_files.arch, "num_classes": 1000, "pretrained_cfg": {"tag": timm_files.tag}}
    fake_hub(repo, "config.json", json.dumps(config).encode(), lfs=False)
    commit = fake_hub(repo, "model.safetensors", timm_files.safetensors.read_bytes())
    return repo, commit


def test_hub_repository_loads_with_its_weights_and_variant(hub_repo, timm_files):
    repo, commit = hub_repo
    model = zoo.load(f"hf-hub:{repo}")
    expected = load_file(str(timm_files.safetensors))
    got = model.state_dict()
    assert all(torch.equal(got[key], value) for key, value in expected.items())
    assert model.zoo.sha256 == timm_files.sha256
    assert model.zoo.weights == timm_files.tag  # the repository name's tag gave that variant's preprocessing
    assert model.zoo.source.startswith(f"hf://{repo}/model.safetensors")

    # zoo.load's options pass on
    features = zoo.load(f"hf-hub:{repo}@{commit}", include_top=False, pooling="avg")
    assert features(torch.rand(1, 3, 64, 64)).ndim == 2


def test_hub_repository_errors(hub_repo, fake_hub):
    repo, _ = hub_repo
    with pytest.raises(zoo.ZooError, match="takes its weights from the repository"):
        zoo.load(f"hf-hub:{repo}", weights=None)
    with pytest.raises(zoo.ZooError, match="reads hf-hub:ORG/REPO"):
        zoo.load("hf-hub:resnet50")
    fake_hub("org/notimm", "config.json", b'{"model_type": "bert"}', lfs=False)
    with pytest.raises(zoo.ZooError, match="names no 'architecture'"):
        zoo.load("hf-hub:org/notimm")
    fake_hub("org/other", "config.json", b'{"architecture": "no_such_net_at_all"}', lfs=False)
    with pytest.raises(zoo.ZooError, match="no installed plugin serves"):
        zoo.load("hf-hub:org/other")
