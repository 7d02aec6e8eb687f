"""An export format: ``zoo.export(model, "pt2_static", "model.pt2")``, a ``torch.export`` archive traced for
the example batch's exact shape (no dynamic batch axis). zoo's pipeline calls ``save``, loads the file back
with ``load`` and checks its outputs against the PyTorch model before the file is kept."""

from pathlib import Path

import torch

from zoo.plugin import Exporter, Signature


class StaticExportExporter(Exporter):
    name = "pt2_static"
    suffix = ".pt2"
    atol = 1e-5
    rtol = 1e-5

    def save(self, model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, signature: Signature) -> None:
        program = torch.export.export(model, inputs)
        with open(path, "wb") as f:  # a file object: torch.export insists on a .pt2 name for paths
            torch.export.save(program, f)

    def load(self, path: Path, signature: Signature):
        with open(path, "rb") as f:
            return torch.export.load(f).module()
