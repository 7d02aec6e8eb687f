"""Turn an exporter's failure into one line a user can act on, naming the operator that could not go.

torch.onnx and torch.export bury the cause several exceptions deep, behind pages of advice meant for
PyTorch developers. The operator's name is what a user needs: it tells them which layer to replace, or
which translation to register.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import traceback

from zoo.exporters.errors import ExportError, UnsupportedOperatorError

# Where exporters name an operator, most specific first:
# torch.onnx "No ONNX function found for <OpOverload(op='aten.kthvalue', ...)>";
# torch.export "no fake impl registered for <CustomOpDef(ns::op)>";
# torch.onnx "Error when translating node ... target=torch.ops.aten.x.default";
# the legacy TorchScript-based ONNX exporter; torch.jit; other "no kernel/meta for ns::op" messages.
_OP_PATTERNS = (
    re.compile(r"OpOverload\(op='(?P<op>[\w.]+)'"),
    re.compile(r"CustomOpDef\((?P<op>\w+::\w+)\)"),
    re.compile(r"target=torch\.ops\.(?P<op>[\w.]+)\]?\("),
    re.compile(r"Exporting the operator '(?P<op>[\w:.]+)'"),
    re.compile(r"[Uu]nknown builtin op: (?P<op>[\w:.]+)"),
    re.compile(
        r"[Nn]o (?:ONNX function|decomposition|kernel|fake impl|meta)\w* (?:found|registered) for (?P<op>\w+::\w+)"
    ),
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# torch.export names the user's line that forced a data-dependent decision.
_RAISED_AT = re.compile(
    r"The following call raised this error:\s*File \"(?P<file>[^\"]+)\", line (?P<line>\d+), in \S+\s*\n\s*(?P<code>[^\n]+)"
)
_OVERLOADS = re.compile(r"\.(default|Tensor|Scalar|int|float|self|out|dim|values|input)$")
_TOOLCHAIN = ("torch", "functorch", "onnx", "onnxscript", "onnxruntime", "zoo.exporters")


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, outermost first."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return chain


def operator_name(exc: BaseException) -> str | None:
    """The operator an export failure is about (``aten::kthvalue``), or None when it is not about one."""
    texts = [_ANSI.sub("", str(e)) for e in causes(exc)]
    for pattern in _OP_PATTERNS:
        for text in reversed(texts):  # the innermost error is the most precise
            match = pattern.search(text)
            if match and match.group("op"):
                return _canonical(match.group("op"))
    return None


def _canonical(op: str) -> str:
    """``aten.kthvalue.default`` -> ``aten::kthvalue``, the spelling PyTorch uses in schemas."""
    if "::" in op:
        return op
    namespace, _, rest = op.partition(".")
    return f"{namespace}::{_OVERLOADS.sub('', rest)}" if rest else op


def reason(exc: BaseException, limit: int = 400) -> str:
    """The first paragraph of the innermost error on one line: the cause, without the advice for PyTorch
    developers that exporters append."""
    for error in reversed(causes(exc)):
        text = " ".join(_ANSI.sub("", str(error)).strip().split("\n\n")[0].split())
        if text:
            text = text if len(text) <= limit else text[: limit - 3] + "..."
            return f"{type(error).__name__}: {text}"
    return type(exc).__name__


def location(exc: BaseException) -> str | None:
    """``file:line (code)`` of the model's own code where export failed, when it can be told."""
    for error in reversed(causes(exc)):
        match = _RAISED_AT.search(_ANSI.sub("", str(error)))
        if match:
            return f"{match['file']}:{match['line']} ({match['code'].strip()})"
    for error in reversed(causes(exc)):
        frames = [f for f in traceback.extract_tb(error.__traceback__) if not _is_library(f.filename)]
        if frames:
            frame = frames[-1]
            return f"{frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"
    return None


def _is_library(filename: str) -> bool:
    """Frames of the exporters, the standard library, or zoo.exporters itself: not where the model went wrong."""
    roots = [sysconfig.get_paths()["stdlib"]]
    for name in _TOOLCHAIN:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            roots.append(os.path.dirname(module.__file__))
    path = os.path.abspath(filename)
    return filename.startswith("<") or any(path.startswith(root + os.sep) for root in roots)


def explain(exc: BaseException, *, what: str, format: str) -> ExportError:
    """The :class:`ExportError` to raise (from ``exc``) when exporting ``what`` to ``format`` failed."""
    op = operator_name(exc)
    why = reason(exc)
    if op is not None:
        return UnsupportedOperatorError(
            f"cannot export {what} to {format}: the {format} exporter does not support the operator {op} "
            f"({why}). Replace the layer that calls {op}, give the exporter a translation for it, or try "
            "another format ('zoo list exporters').",
            op=op,
            format=format,
        )
    where = location(exc)
    if any(type(e).__name__ == "GuardOnDataDependentSymNode" for e in causes(exc)):
        return ExportError(
            f"cannot export {what} to {format}: the model branches on tensor values"
            f"{f' at {where}' if where else ''}, which a trace cannot follow ({why}). Skip that check while "
            "exporting (if not torch.compiler.is_compiling(): ...) or express it with torch.cond."
        )
    return ExportError(f"cannot export {what} to {format}: {why}{f' (at {where})' if where else ''}")
