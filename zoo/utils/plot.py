"""``zoo.plot_model``: draw a model's graph of layers to PNG, SVG or PDF.

The graph comes from one traced forward pass (``zoo.utils._trace``); grandalf lays it out in ranks
(``zoo.utils.graph_layout``), so branches sit side by side and skip connections run as their own lines
between the boxes; matplotlib draws it. Neither graphviz nor its binary is needed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.atomic import atomic_path
from zoo.errors import ZooError
from zoo.utils._trace import Node, example_inputs, is_layer, trace_eval
from zoo.utils.model_summary import shape_text

_COLOURS = {"input": "#d9ead3", "layer": "#dae8fc", "op": "#fff2cc", "frozen": "#e6e6e6"}
_FORMATS = ("png", "svg", "pdf")
_FONT_SIZE = 8.0
_CHAR_WIDTH = 0.62 * _FONT_SIZE  # DejaVu Sans Mono, matplotlib's monospace font
_LINE_HEIGHT = 1.25 * _FONT_SIZE
_PADDING = 7.0


class PlotError(ZooError, ValueError):
    """A ``plot_model`` / ``plot_history`` argument that cannot be drawn."""


def _trainable(node: Node) -> str | None:
    params = list(node.module.parameters()) if node.module is not None else []
    flags = {p.requires_grad for p in params}
    return (
        None
        if not flags
        else "trainable"
        if flags == {True}
        else "frozen"
        if flags == {False}
        else "partly frozen"
    )


def _lines(node: Node, options: dict[str, bool], batch_size: int, calls: int) -> list[str]:
    head = node.type_name
    if options["show_layer_names"] and node.name != node.type_name:
        head = f"{node.name} ({node.type_name})"
    if calls > 1:
        head += f" call {node.call}/{calls}"
    lines = [head]
    if options["show_shapes"] and node.output_shapes:
        lines.append(shape_text(node.output_shapes, batch_size))
    if options["show_dtype"] and node.output_dtypes:
        lines.append(", ".join(dict.fromkeys(str(d).removeprefix("torch.") for d in node.output_dtypes)))
    activation = getattr(node.module, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        lines.append(f"activation: {getattr(activation, '__name__', type(activation).__name__)}")
    if options["show_trainable"] and _trainable(node):
        lines.append(_trainable(node))
    return lines


def _collapser(model: nn.Module, expand_nested: Any):
    """``as_node`` for the trace: which modules are drawn as one box."""
    if expand_nested is True:
        return None
    if expand_nested is False:
        expand_nested = 1
    if isinstance(expand_nested, int):
        if expand_nested < 1:
            raise PlotError(
                f"expand_nested as a depth must be 1 or more (1: the model's children), got {expand_nested}."
            )
        depth = expand_nested
        return lambda path, m: is_layer(m) or path.count(".") + 1 == depth
    if isinstance(expand_nested, (str, nn.Module)):
        expand_nested = [expand_nested]
    names = {m: n for n, m in model.named_modules() if n}
    chosen: set[str] = set()
    for item in expand_nested:
        if isinstance(item, nn.Module):
            if item not in names:
                raise PlotError(
                    f"expand_nested: a {type(item).__name__} that is not a submodule of this model."
                )
            chosen.add(names[item])
        elif isinstance(item, str):
            if item not in names.values():
                close = difflib.get_close_matches(item, list(names.values()), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else "; see model.named_modules()."
                raise PlotError(f"expand_nested: no submodule named {item!r}{hint}")
            chosen.add(item)
        else:
            raise PlotError(
                "expand_nested is True, False, a depth, or a list of submodule names or modules to collapse; "
                f"got {item!r}."
            )
    return lambda path, m: is_layer(m) or path in chosen


def plot_model(
    model: nn.Module,
    input_size: Any = None,
    to_file: str | os.PathLike = "model.png",
    *,
    dtypes: Sequence[torch.dtype] | torch.dtype | None = None,
    batch_size: int = 2,
    device: torch.device | str | None = None,
    show_shapes: bool = True,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    expand_nested: bool | int | Sequence[str | nn.Module] = True,
    rankdir: str = "TB",
    dpi: int = 96,
    **forward_kwargs: Any,
) -> Path:
    """Draw ``model``'s graph (inputs, layers, tensor ops, branches, merges, skips) to ``to_file``.

    The format follows the extension: ``.png``, ``.svg`` or ``.pdf``. ``input_size``, ``dtypes`` and
    ``batch_size`` are as for :func:`zoo.summary`. Every layer call and tensor op is a box by default (so a
    ResNet's ``add`` shows); ``expand_nested=2`` draws modules two levels down as one box each (``False``
    = 1: the model's children), a list of submodule names or modules collapses just those. A shared layer
    is one box per call. ``show_trainable`` draws frozen layers grey with a dashed border.
    ``rankdir="LR"`` lays the graph out left to right. Returns the path written (atomically). A file name
    given second is Keras' ``plot_model(model, "model.png")`` and taken as ``to_file``.
    """
    if isinstance(input_size, (str, os.PathLike)):  # Keras' plot_model(model, "model.png"): its second is to_file
        if to_file != "model.png":
            raise PlotError(f"plot_model: give the file once, got {input_size!r} and to_file={to_file!r}.")
        input_size, to_file = None, input_size
    path = Path(to_file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise PlotError(f"plot_model writes {', '.join(_FORMATS)} files; got {str(path)!r}.")
    if rankdir not in ("TB", "LR"):
        raise PlotError(f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right), got {rankdir!r}.")
    if not isinstance(model, nn.Module):
        raise PlotError(f"plot_model draws an nn.Module, got {type(model).__name__}.")
    layout, nodes, frozen = model_layout(
        model, input_size, dtypes=dtypes, batch_size=batch_size, device=device, rankdir=rankdir,
        expand_nested=expand_nested, show_shapes=show_shapes, show_dtype=show_dtype,
        show_layer_names=show_layer_names, show_layer_activations=show_layer_activations,
        show_trainable=show_trainable, **forward_kwargs,
    )  # fmt: skip
    fig = _draw(layout, nodes, frozen, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=fig.dpi)
    return path


def model_layout(model: nn.Module, input_size: Any = None, *, dtypes=None, batch_size: int = 2, device=None,
                 rankdir: str = "TB", expand_nested: Any = True, **options: Any):  # fmt: skip
    """Trace ``model`` and lay its graph out: ``(GraphLayout, {node: (Node, label lines)}, frozen nodes)``.
    What :func:`plot_model` draws, as data (tests read it back)."""
    try:
        from zoo.utils.graph_layout import layered_layout
    except ImportError:
        raise ImportError(
            "plot_model lays graphs out with grandalf: pip install grandalf (or zoo-platform[plots])."
        ) from None

    flags = {k: bool(options.pop(k, d)) for k, d in (("show_shapes", True), ("show_dtype", False),
             ("show_layer_names", True), ("show_layer_activations", False), ("show_trainable", False))}  # fmt: skip
    as_node = _collapser(model, expand_nested)
    inputs = example_inputs(model, input_size, dtypes, batch_size, device)
    nodes, output = trace_eval(model, inputs, options, as_node)
    batch = inputs[0].shape[0] if inputs and inputs[0].ndim else batch_size
    calls: dict[int, int] = {}
    for n in nodes:
        if n.module is not None and any(True for _ in n.module.parameters()):
            calls[id(n.module)] = max(calls.get(id(n.module), 0), n.call)
    labels = {n.index: _lines(n, flags, batch, calls.get(id(n.module), 1)) for n in nodes}
    sizes = {
        i: (
            max(len(line) for line in lines) * _CHAR_WIDTH + 2 * _PADDING,
            len(lines) * _LINE_HEIGHT + 2 * _PADDING,
        )
        for i, lines in labels.items()
    }
    edges = [(src, n.index) for n in nodes for src in n.inputs]
    outputs = _output_nodes(nodes, output)
    layout = layered_layout(sizes, edges, rankdir=rankdir, bottom=outputs)
    frozen = {
        n.index for n in nodes if flags["show_trainable"] and _trainable(n) in ("frozen", "partly frozen")
    }
    return layout, {n.index: (n, labels[n.index]) for n in nodes}, frozen


def _output_nodes(nodes: Sequence[Node], output: Any) -> list[int]:
    """The nodes whose results the model returns; a node nothing consumes counts too."""
    from zoo.utils._trace import _tensors

    shapes = {tuple(t.shape) for t in _tensors(output)}
    used = {i for n in nodes for i in n.inputs}
    return [n.index for n in nodes if n.index not in used and (set(n.output_shapes) & shapes or not shapes)]


def _draw(layout, nodes: dict, frozen: set[int], dpi: int):
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError:
        raise ImportError("plot_model needs matplotlib: pip install matplotlib (or zoo-platform[plots]).") from None
    width_in, height_in = layout.width / 72, layout.height / 72
    dpi = max(
        10, min(dpi, int(60000 / max(width_in, height_in)))
    )  # under the image backends' 65536-pixel limit
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)  # layout y grows downwards
    ax.axis("off")
    for route in layout.routes:
        ax.add_patch(
            FancyArrowPatch(
                path=edge_path(route.points, layout.rankdir),
                arrowstyle="-|>,head_length=0.5,head_width=0.25",
                mutation_scale=10,
                color="#555555",
                lw=0.8,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )  # fmt: skip
        )
    for index, box in layout.boxes.items():
        node, lines = nodes[index]
        is_frozen = index in frozen
        ax.add_patch(
            FancyBboxPatch(
                (box.left, box.top),
                box.width,
                box.height,
                boxstyle="round,pad=0,rounding_size=4",
                facecolor=_COLOURS["frozen" if is_frozen else node.kind],
                edgecolor="#333333",
                linewidth=0.8,
                linestyle="--" if is_frozen else "-",
                zorder=2,
            )  # fmt: skip
        )
        ax.text(box.x, box.y, "\n".join(lines), ha="center", va="center", fontsize=_FONT_SIZE,
                family="monospace", linespacing=1.25, zorder=3)  # fmt: skip
    return fig


def edge_path(points: Sequence[tuple[float, float]], rankdir: str = "TB"):
    """The matplotlib ``Path`` an edge is drawn along: straight runs inside rows, S-curves across the gaps
    (their control points stay in the gap, so the curve does too)."""
    from matplotlib.path import Path as MplPath

    axis = 1 if rankdir == "TB" else 0
    verts, codes = [points[0], points[1]], [MplPath.MOVETO, MplPath.LINETO]
    for i in range(1, len(points) - 1, 2):
        a, b = points[i], points[i + 1]
        mid = (a[axis] + b[axis]) / 2
        c1 = (a[0], mid) if axis == 1 else (mid, a[1])
        c2 = (b[0], mid) if axis == 1 else (mid, b[1])
        verts += [c1, c2, b, points[i + 2]]
        codes += [MplPath.CURVE4] * 3 + [MplPath.LINETO]
    if verts[-1] == verts[-2]:  # the target fills its row: end on the curve, so the arrowhead has a direction
        verts, codes = verts[:-1], codes[:-1]
    return MplPath(verts, codes)
