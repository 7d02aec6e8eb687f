"""PyTorch's own serialisations: TorchScript (``torch.jit``) and ExportedProgram archives (``torch.export``)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from zoo.errors import OptionError
from zoo.exporters.base import Exporter, Signature
from zoo.exporters.inputs import dynamic_shapes


class TorchExportExporter(Exporter):
    """A ``.pt2`` archive of ``torch.export.export(model, ...)`` with a dynamic batch dimension; load it with
    ``torch.export.load(path).module()``. Option: ``strict`` (trace with TorchDynamo; default False)."""

    name = "torch_export"
    suffix = ".pt2"
    atol = 1e-5
    rtol = 1e-5

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict

    def save(
        self, model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, signature: Signature
    ) -> None:
        program = torch.export.export(
            model, inputs, dynamic_shapes=dynamic_shapes(inputs, signature.dynamic_batch), strict=self.strict
        )
        with open(path, "wb") as f:  # a file object: torch.export insists on a .pt2 name for paths
            torch.export.save(program, f)

    def load(self, path: Path, signature: Signature) -> Callable[..., Any]:
        with open(path, "rb") as f:
            return torch.export.load(f).module()


class TorchScriptExporter(Exporter):
    """A TorchScript archive; load it with ``torch.jit.load(path)``, also from C++ (libtorch).

    Option: ``method="trace"`` (default: records the ops run on the example) or ``"script"`` (compiles
    Python control flow). PyTorch has deprecated TorchScript in favour of torch.export; zoo says so once per
    export instead of repeating torch.jit's warning for every call it makes.
    """

    name = "torchscript"
    suffix = ".pt"
    atol = 1e-5
    rtol = 1e-5

    def __init__(self, *, method: str = "trace") -> None:
        if method not in ("trace", "script"):
            raise OptionError(f"method must be 'trace' or 'script', got {method!r}.")
        self.method = method

    def save(
        self, model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, signature: Signature
    ) -> None:
        warnings.warn(
            "TorchScript is deprecated in PyTorch; prefer the 'torch_export' (.pt2) or 'onnx' formats.",
            FutureWarning,
            stacklevel=2,
        )
        with _quiet_deprecation():
            if self.method == "trace":
                scripted = torch.jit.trace(model, inputs, check_trace=False)
            else:
                scripted = torch.jit.script(model)
            torch.jit.save(scripted, str(path))

    def load(self, path: Path, signature: Signature) -> Callable[..., Any]:
        with _quiet_deprecation():
            return torch.jit.load(str(path))


@contextlib.contextmanager
def _quiet_deprecation() -> Iterator[None]:
    """Hide torch.jit's own "is deprecated" warnings (said once by the exporter); keep TracerWarnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=FutureWarning)
        yield
