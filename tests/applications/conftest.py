"""Weight files in torchvision's real format (``torch.save`` of a torchvision model's state dict), made once
per session, and a local HTTP server serving them from disk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torchvision
from werkzeug.wrappers import Response

# Architectures loaded end to end; googlenet/inception_v3 weights carry transform_input=True.
ARCHES = ("resnet50", "vgg16", "inception_v3")


@dataclass
class WeightsFile:
    arch: str
    path: Path
    sha256: str
    reference: torch.nn.Module  # the torchvision model the file was saved from, in eval mode

    @property
    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.reference.state_dict()


def _make(arch: str, folder: Path) -> WeightsFile:
    torch.manual_seed(0)
    extra = {"aux_logits": False, "init_weights": False} if arch == "inception_v3" else {}
    if arch == "vgg16":
        extra = {"init_weights": False}  # default init of 138M params is slow; weights stay random either way
    model = getattr(torchvision.models, arch)(weights=None, **extra)
    if arch == "inception_v3":
        model.transform_input = True  # as torchvision builds it for the ImageNet weights
    with torch.no_grad():  # BN statistics away from (0, 1), so a wrong BN mode shows in the outputs
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    model.eval()
    path = folder / f"{arch}-test.pth"
    torch.save(model.state_dict(), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return WeightsFile(arch, path, digest, model)


@pytest.fixture(scope="session")
def weights_files(tmp_path_factory) -> dict[str, WeightsFile]:
    folder = tmp_path_factory.mktemp("app_weights")
    return {arch: _make(arch, folder) for arch in ARCHES}


@pytest.fixture
def serve(httpserver):
    """``serve(path) -> URL``: the local server streams the file from disk (vgg16's is 528 MB)."""

    def _serve(path: Path, name: str | None = None) -> str:
        route = f"/models/{name or path.name}"

        def handler(request):
            size = path.stat().st_size
            return Response(path.open("rb"), headers={"Content-Length": str(size)},
                            mimetype="application/octet-stream", direct_passthrough=True)  # fmt: skip

        httpserver.expect_request(route).respond_with_handler(handler)
        return httpserver.url_for(route)

    return _serve
