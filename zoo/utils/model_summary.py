"""``zoo.summary``: a Keras-style table of a model's layers, output shapes and parameter counts."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.errors import ArgumentError, OptionError
from zoo.utils._trace import Node, example_inputs, trace_eval


@dataclass
class Row:
    name: str
    type_name: str
    output_shape: str
    params: int
    trainable: str  # "Y", "N", "partly" or "" (no parameters)
    connected_to: str
    shared: bool = False


@dataclass
class ModelSummary:
    """What ``zoo.summary`` found; ``str()`` gives the table it prints."""

    title: str
    rows: list[Row]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_bytes: int

    def __str__(self) -> str:
        show_links = any(r.connected_to for r in self.rows)
        header = ["Layer (type)", "Output Shape", "Param #", "Trainable"] + (
            ["Connected to"] if show_links else []
        )
        body = [
            [
                f"{r.name} ({r.type_name})",
                r.output_shape,
                "shared" if r.shared else f"{r.params:,}",
                r.trainable,
            ]
            + ([r.connected_to] if show_links else [])
            for r in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *body]) + 2 for i in range(len(header))]
        rule = "─" * sum(widths)

        def fmt(cells: Sequence[str]) -> str:
            return "".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        lines = [f'Model: "{self.title}"', "━" * sum(widths), fmt(header), "━" * sum(widths)]
        for i, cells in enumerate(body):
            lines.append(fmt(cells))
            if i < len(body) - 1:
                lines.append(rule)
        lines.append("━" * sum(widths))
        lines += [
            f" Total params: {self.total_params:,} ({_size(self.total_bytes)})",
            f" Trainable params: {self.trainable_params:,}",
            f" Non-trainable params: {self.non_trainable_params:,}",
        ]
        return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return ""


def shape_text(shapes: Sequence[tuple[int, ...]], batch_size: int) -> str:
    """Keras style: the batch axis shows as ``None``; several outputs as a list."""
    texts = []
    for shape in shapes:
        dims = ["None" if i == 0 and d == batch_size else str(d) for i, d in enumerate(shape)]
        texts.append(f"({', '.join(dims)}{',' if len(dims) == 1 else ''})")
    return texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"


def _trainable(params: Sequence[nn.Parameter]) -> str:
    flags = {p.requires_grad for p in params}
    return "" if not flags else "Y" if flags == {True} else "N" if flags == {False} else "partly"


def build_summary(model: nn.Module, nodes: Sequence[Node], batch_size: int) -> ModelSummary:
    seen: set[int] = set()
    rows: list[Row] = []
    for node in nodes:
        params: list[nn.Parameter] = []
        shared = False
        if node.module is not None:
            own = list(node.module.parameters())
            shared = bool(own) and all(id(p) in seen for p in own)
            params = [p for p in own if id(p) not in seen]
            seen.update(id(p) for p in own)
        links = ", ".join(nodes[i].name for i in node.inputs) if node.kind != "input" else ""
        rows.append(
            Row(
                node.name,
                node.type_name,
                shape_text(node.output_shapes, batch_size),
                sum(p.numel() for p in params),
                _trainable(params if not shared else list(node.module.parameters())),
                links,
                shared,
            )
        )
    all_params = list({id(p): p for p in model.parameters()}.values())
    rest = [p for p in all_params if id(p) not in seen]
    if rest:
        rows.append(
            Row(
                "(other parameters)",
                "not in a layer call",
                "",
                sum(p.numel() for p in rest),
                _trainable(rest),
                "",
            )
        )
    trainable = sum(p.numel() for p in all_params if p.requires_grad)
    total = sum(p.numel() for p in all_params)
    buffers = list({id(b): b for b in model.buffers()}.values())
    nbytes = sum(t.numel() * t.element_size() for t in [*all_params, *buffers])
    # Links only help when the graph is not a plain chain.
    chain = all(n.inputs == [n.index - 1] for n in nodes[1:]) and sum(n.kind == "input" for n in nodes) == 1
    if chain:
        for r in rows:
            r.connected_to = ""
    return ModelSummary(type(model).__name__, rows, total, trainable, total - trainable, nbytes)


_DTYPE_NAMES = sorted(n for n in dir(torch) if isinstance(getattr(torch, n, None), torch.dtype))


def _dtype(value: Any) -> torch.dtype:
    """A ``torch.dtype``, or its name (``"float32"``, ``"int64"``, ``"torch.long"``, as Keras takes dtypes)."""
    if isinstance(value, torch.dtype):
        return value
    if isinstance(value, str):
        found = getattr(torch, value.removeprefix("torch."), None)
        if isinstance(found, torch.dtype):
            return found
        import difflib

        close = difflib.get_close_matches(value.removeprefix("torch."), _DTYPE_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"summary: unknown dtype {value!r}.{hint} Give torch dtypes (torch.float32) or their names.")
    raise OptionError(
        f"summary: dtypes must hold torch dtypes (torch.float32, torch.long) or their names, got {value!r} "
        f"({type(value).__name__})."
    )


def summary(
    model: nn.Module,
    input_size: Any = None,
    *,
    dtypes: Sequence[torch.dtype] | torch.dtype | None = None,
    batch_size: int = 2,
    device: torch.device | str | None = None,
    print_fn: Callable[[str], Any] | None = print,
    **forward_kwargs: Any,
) -> ModelSummary:
    """Print (and return) a Keras-style table of ``model``: each layer call with its output shape,
    parameter count and whether it is trainable, then total / trainable / non-trainable parameters.

    ``input_size`` is one input's shape without the batch axis (``(3, 224, 224)``), a list of them for a
    model with several inputs, or example tensors (one or a list). ``dtypes`` gives each input's dtype
    (``[torch.float32, torch.long]`` for frames and token ids). The model runs once in eval mode without
    gradients (its mode is restored), which also materialises lazily-sized layers such as ``Dense(20)``.
    ``print_fn=None`` only returns the summary.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentError(f"summary expects an nn.Module, got {type(model).__name__}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise OptionError(f"summary: batch_size must be a positive int, got {batch_size!r}.")
    if dtypes is not None:
        dtypes = _dtype(dtypes) if isinstance(dtypes, (str, torch.dtype)) else [_dtype(d) for d in dtypes]
    _check_forward_kwargs(model, forward_kwargs)
    inputs = example_inputs(model, input_size, dtypes, batch_size, device)
    batch = inputs[0].shape[0] if inputs and inputs[0].ndim else batch_size
    nodes, _ = trace_eval(model, inputs, forward_kwargs)
    result = build_summary(model, nodes, batch)
    if print_fn is not None:
        print_fn(str(result))
    return result


#: Keras' ``summary`` layout options, which zoo's table does not have (it always shows "Trainable").
_KERAS_LAYOUT = ("line_length", "positions", "expand_nested", "layer_range")
_OWN = ("input_size", "dtypes", "batch_size", "device", "print_fn")


def _check_forward_kwargs(model: nn.Module, forward_kwargs: dict[str, Any]) -> None:
    """Keywords other than summary's own go to ``model.forward``; one it cannot take (a Keras layout
    option, a typo of ``print_fn``) is an ``ArgumentError`` here, not a ``TypeError`` from inside the trace."""
    if forward_kwargs.pop("show_trainable", True) is not True:
        raise ArgumentError("summary: the Trainable column is always shown (show_trainable=False is not supported).")
    for key in forward_kwargs:
        if key in _KERAS_LAYOUT:
            raise ArgumentError(
                f"summary: Keras' {key}= is not supported; zoo's summary takes {', '.join(_OWN)} (other "
                "keywords go to the model's forward)."
            )
    call = getattr(type(model), "call", None)  # a Keras-style subclass: forward(*args, **kwargs) calls it
    try:
        parameters = inspect.signature(model.forward if call is None else call.__get__(model)).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    for key in forward_kwargs:
        if key not in parameters:
            close = difflib.get_close_matches(key, [*_OWN, *parameters], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ArgumentError(
                f"summary takes no keyword {key!r} and {type(model).__name__}.forward takes none either.{hint} "
                f"summary takes {', '.join(_OWN)}; other keywords go to forward."
            )
