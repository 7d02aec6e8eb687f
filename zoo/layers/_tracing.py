"""Whether a layer is being traced for export, so it can skip eager-only work.

Input checks that read tensor values (``int(ids.max())``) and the packed-sequence path of the recurrent
layers cannot be followed by a trace: torch.export (and the ONNX exporter built on it) stops at a value it
cannot know, and ``torch.jit.trace`` would bake the example's values into the graph. Layers ask here and
take a trace-friendly path instead; it computes the same result. The same holds under a
``FakeTensorMode`` (``zoo.Input``'s shape inference): fake tensors have shapes but no values.
"""

from __future__ import annotations

import sys

import torch


def is_tracing() -> bool:
    """True under ``torch.export``/``torch.compile`` (ONNX export included), ``torch.jit.trace`` and a
    ``FakeTensorMode``."""
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return True
    if torch._C._get_dispatch_mode(torch._C._TorchDispatchModeKey.FAKE) is not None:
        return True
    onnx = sys.modules.get("torch.onnx")  # not imported: no ONNX export runs (and importing it costs 20 ms)
    return onnx is not None and onnx.is_in_onnx_export()
