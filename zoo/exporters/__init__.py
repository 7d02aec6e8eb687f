"""Exporters: turn a model into a file a production runtime can load, and prove it computes the same.

``zoo.export(model, "onnx", "model.onnx")`` writes the file, loads it back (onnxruntime for ONNX), compares
it with the PyTorch model on random inputs of two batch sizes, and only then moves it into place. Formats
are registered entries of kind ``exporters``: ``onnx``, ``torchscript`` and ``torch_export`` are built in,
and a plugin adds more with ``zoo_register_exporters``. Importing this package does not import torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zoo.exporters.base import Exporter, Signature
from zoo.exporters.errors import (
    ExportCheckError,
    ExportError,
    MissingDependencyError,
    UnsupportedOperatorError,
)
from zoo.exporters.result import ExportResult

if TYPE_CHECKING:
    import torch

__all__ = [
    "ExportCheckError",
    "ExportError",
    "ExportResult",
    "Exporter",
    "MissingDependencyError",
    "Signature",
    "UnsupportedOperatorError",
    "export",
]


def export(
    model: torch.nn.Module | str,
    format: str = "onnx",
    path: str | os.PathLike[str] | None = None,
    example_input: torch.Tensor | Sequence[torch.Tensor] | None = None,
    *,
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None,
    load_kwargs: Mapping[str, Any] | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
    check: bool = True,
    batch_sizes: Sequence[int] = (1, 3),
    atol: float | None = None,
    rtol: float | None = None,
    **options: Any,
) -> ExportResult:
    """Export ``model`` (a module, or a registered name built with ``zoo.load(name, **load_kwargs)``) to
    ``format`` at ``path`` (default: ``<name><suffix>`` in the current directory) and check the result.

    ``example_input`` is a tensor, or a tuple of tensors for a model with several inputs, batch axis first;
    without it, ``input_shape`` (one sample, no batch axis), the model's ``example_inputs(batch_size)``, its
    registry ``input_size``, or a 224x224 image for a convolutional model is used. Axis 0 of every input is
    exported as a dynamic batch unless ``dynamic_batch=False``.

    The check runs the written file on random inputs of each of ``batch_sizes`` and requires
    ``max|exported - eager| <= atol + rtol * max|eager|`` (defaults per format); a failure raises
    :class:`ExportCheckError` and leaves no file. Other keyword ``options`` configure the exporter, e.g.
    ``opset_version=18`` for ONNX or ``method="script"`` for TorchScript. The model is exported in eval
    mode and its training flag restored afterwards.
    """
    from zoo.exporters.pipeline import run_export

    return run_export(
        model, format, path, example_input,
        input_shape=input_shape, load_kwargs=load_kwargs, input_names=input_names, output_names=output_names,
        dynamic_batch=dynamic_batch, check=check, batch_sizes=batch_sizes, atol=atol, rtol=rtol,
        options=options,
    )  # fmt: skip
