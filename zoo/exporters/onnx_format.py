"""ONNX through torch.onnx's torch.export-based exporter, checked with onnxruntime.

Axis 0 of every input and output is a named dynamic ``batch`` dimension, so one file serves batch 1 and
batch 32 alike.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.errors import ArgumentError, OptionError
from zoo.exporters.base import Exporter, Signature
from zoo.exporters.errors import ExportError
from zoo.exporters.inputs import dynamic_shapes
from zoo.training.arguments import check_bool


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
        self.opset_version = opset_version
        self.optimize = check_bool("the onnx exporter", "optimize", optimize)
        self.external_data = None if external_data is None else check_bool("the onnx exporter", "external_data", external_data)
        self.custom_translation_table = dict(custom_translation_table or {}) or None
        self.providers = _checked_providers(providers)

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
        asked = [p if isinstance(p, str) else p[0] for p in self.providers]
        missing = [p for p in asked if p not in session.get_providers()]
        if missing:  # onnxruntime fell back (a provider's libraries failed to load) and only printed so
            raise ExportError(
                f"onnxruntime could not start {', '.join(missing)} (the session runs on "
                f"{', '.join(session.get_providers())}); fix that provider's installation, or leave it out of providers."
            )
        wanted = {i.name for i in session.get_inputs()}  # an input the graph never reads is dropped

        def run(*tensors: torch.Tensor) -> list[Any]:
            feed = {
                name: t.detach().cpu().numpy()
                for name, t in zip(signature.input_names, tensors, strict=True)
                if name in wanted
            }
            return session.run(None, feed)

        return run


def _checked_providers(providers: Any) -> list[Any]:
    """``providers`` as onnxruntime takes them: names (or ``(name, options)`` pairs) of providers this
    onnxruntime has. onnxruntime itself only prints a misspelt or absent one and falls back to the CPU,
    so a check meant for the GPU would pass on the CPU. Without onnxruntime installed the names are not
    checked here: ``check_requirements`` says what to install first."""
    if isinstance(providers, (str, bytes)) or not isinstance(providers, Sequence) or not providers:
        raise ArgumentError(
            f"providers must be a non-empty list of onnxruntime execution providers such as "
            f"['CUDAExecutionProvider', 'CPUExecutionProvider'], got {providers!r}."
        )
    names = []
    for item in providers:
        name = item[0] if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping) else item
        if not isinstance(name, str):
            raise ArgumentError(
                f"each of providers must be a provider name or a (name, options dict) pair, got {item!r}."
            )
        names.append(name)
    try:
        import onnxruntime
    except ImportError:
        return list(providers)
    available = onnxruntime.get_available_providers()
    for name in names:
        if name in available:
            continue
        known = onnxruntime.get_all_providers()
        if name in known:
            raise OptionError(
                f"the onnxruntime installed here has no {name} (it has {', '.join(available)}); install the "
                f"onnxruntime build with it (onnxruntime-gpu for CUDAExecutionProvider), or leave it out of providers."
            )
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(
            f"{name!r} is not an onnxruntime execution provider.{hint} This onnxruntime has {', '.join(available)}."
        )
    return list(providers)
