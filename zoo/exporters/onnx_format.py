"""ONNX through torch.onnx's torch.export-based exporter, checked with onnxruntime.

Axis 0 of every input and output is a named dynamic ``batch`` dimension, so one file serves batch 1 and
batch 32 alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.errors import ArgumentError
from zoo.exporters.base import Exporter, Signature
from zoo.exporters.inputs import dynamic_shapes


class OnnxExporter(Exporter):
    """Options: ``opset_version`` (default: torch's), ``optimize`` (onnxscript graph optimisation),
    ``external_data`` (weights in a side file; default: only past ONNX's 2 GB limit),
    ``custom_translation_table`` (ONNX functions for operators torch.onnx cannot translate), and
    ``providers`` (onnxruntime execution providers used by the check)."""

    name = "onnx"
    suffix = ".onnx"
    requires = {"onnx": "onnx", "onnxscript": "onnxscript", "onnxruntime": "onnxruntime"}
    extra = "onnx"

    def __init__(
        self,
        *,
        opset_version: int | None = None,
        optimize: bool = True,
        external_data: bool | None = None,
        custom_translation_table: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        if opset_version is not None and (isinstance(opset_version, bool) or not isinstance(opset_version, int)):
            raise ArgumentError(f"opset_version must be an ONNX opset number such as 18, got {opset_version!r}.")
        for label, flag in (("optimize", optimize), ("external_data", external_data)):
            if flag is not None and not isinstance(flag, bool):
                raise ArgumentError(f"{label} must be true or false, got {flag!r}.")
        self.opset_version = opset_version
        self.optimize = optimize
        self.external_data = external_data
        self.custom_translation_table = dict(custom_translation_table or {}) or None
        self.providers = list(providers)

    def save(
        self, model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, signature: Signature
    ) -> None:
        with warnings.catch_warnings():
            # torch.onnx notes that inputs sharing one batch Dim share one axis name; that is the intent.
            warnings.filterwarnings("ignore", message=r".*The axis name: .* will not be used")
            program = torch.onnx.export(
                model,
                inputs,
                input_names=list(signature.input_names),
                output_names=list(signature.output_names),
                dynamic_shapes=dynamic_shapes(inputs, signature.dynamic_batch),
                opset_version=self.opset_version,
                optimize=self.optimize,
                custom_translation_table=self.custom_translation_table,
                dynamo=True,
                verbose=False,
            )
            program.save(path, external_data=self.external_data)

    def load(self, path: Path, signature: Signature) -> Callable[..., Any]:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=self.providers)
        wanted = {i.name for i in session.get_inputs()}  # an input the graph never reads is dropped

        def run(*tensors: torch.Tensor) -> list[Any]:
            feed = {
                name: t.detach().cpu().numpy()
                for name, t in zip(signature.input_names, tensors, strict=True)
                if name in wanted
            }
            return session.run(None, feed)

        return run
