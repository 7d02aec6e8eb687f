"""Weights files in timm's real formats (safetensors as on the Hugging Face Hub, and a ``torch.save``-d
``pytorch_model.bin``) for a small architecture, and the catalogue pointed at a local HTTP server that
serves them, so no test depends on the network."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ARCH = "mobilenetv1_100"  # Keras' MobileNet; 4.2M parameters, quick to build and run


@dataclass
class TimmFiles:
    arch: str
    tag: str
    safetensors: Path
    bin: Path
    sha256: str  # of the safetensors file


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def timm_files(tmp_path_factory) -> TimmFiles:
    import timm
    from safetensors.torch import save_file
    from zoo_timm import catalogue

    tag = catalogue.architecture(ARCH)["default_weights"]
    torch.manual_seed(0)
    model = timm.create_model(ARCH, pretrained=False)
    with torch.no_grad():  # BN statistics away from (0, 1), so a wrong BN mode or a skipped tensor shows
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    folder = tmp_path_factory.mktemp("timm_weights")
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    torch.save(state, folder / "pytorch_model.bin")
    return TimmFiles(ARCH, tag, folder / "model.safetensors", folder / "pytorch_model.bin",
                     _sha256(folder / "model.safetensors"))  # fmt: skip


@pytest.fixture
def local_catalogue(monkeypatch, httpserver):
    """The installed catalogue with ``ARCH``'s default weights moved from huggingface.co to the local server
    (same paths), as a mirror would serve them. Returns ``hub_url(filename) -> URL``."""
    from zoo_timm import catalogue

    archs = dict(catalogue.architectures())
    facts = copy.deepcopy(archs[ARCH])
    variant = facts["weights"][facts["default_weights"]]
    local = httpserver.url_for("/").rstrip("/")

    def move(spec: dict) -> None:
        spec["url"] = (
            spec["url"].replace("https://huggingface.co", local).replace("https://github.com", local)
        )

    move(variant)
    for alt in variant["alternates"]:
        move(alt)
    archs[ARCH] = facts
    monkeypatch.setattr(catalogue, "architectures", lambda: archs)

    def hub_url(filename: str) -> str:
        return f"/timm/{ARCH}.{facts['default_weights']}/resolve/main/{filename}"

    return hub_url
