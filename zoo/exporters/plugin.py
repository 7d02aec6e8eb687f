"""Built-in plugin: the ``onnx``, ``torchscript`` and ``torch_export`` formats and the ``zoo export`` command.

Targets are lazy strings, so listing formats imports neither torch nor onnx.
"""

from __future__ import annotations

import argparse

from zoo.plugin import Register, hookimpl


@hookimpl
def zoo_register_exporters(register: Register) -> None:
    register(
        "onnx",
        "zoo.exporters.onnx_format:OnnxExporter",
        suffix=".onnx",
        runtime="onnxruntime",
        requires=["onnx", "onnxruntime", "onnxscript"],
        install="pip install 'zoo-platform[onnx]'",
        description="ONNX via torch.onnx (torch.export-based), dynamic batch axis, checked with onnxruntime",
    )
    register(
        "torchscript",
        "zoo.exporters.torch_formats:TorchScriptExporter",
        aliases=("jit",),
        suffix=".pt",
        runtime="torch.jit.load / libtorch",
        description="TorchScript archive (torch.jit.trace, or script with method='script'); deprecated upstream",
    )
    register(
        "torch_export",
        "zoo.exporters.torch_formats:TorchExportExporter",
        aliases=("pt2", "exported_program"),
        suffix=".pt2",
        runtime="torch.export.load",
        description="ExportedProgram archive from torch.export with a dynamic batch dimension",
    )


@hookimpl
def zoo_register_commands(subparsers: argparse._SubParsersAction) -> None:
    from zoo.exporters.cli import add_command

    add_command(subparsers)
