"""``zoo.plot_model``: draw a model's graph of layers to PNG, SVG or PDF with matplotlib.

The graph comes from one traced forward pass (see ``zoo.utils._trace``); nodes are placed in ranks by
their longest distance from an input, ordered within a rank by their parents' positions to limit edge
crossings. matplotlib is the only requirement (``pip install matplotlib`` or ``zoo[plots]``); graphviz is
not needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.utils._trace import Node, example_inputs, trace_eval
from zoo.utils.summary import shape_text

_COLOURS = {"input": "#d9ead3", "layer": "#dae8fc", "op": "#fff2cc"}
_FORMATS = ("png", "svg", "pdf")


def _ranks(nodes: Sequence[Node]) -> dict[int, int]:
    rank: dict[int, int] = {}
    for node in nodes:  # nodes are recorded in execution order, so parents come first
        rank[node.index] = 1 + max((rank[i] for i in node.inputs), default=-1)
    return rank


def _label(node: Node, show_shapes: bool, show_layer_names: bool, batch_size: int) -> str:
    head = (
        f"{node.name}: {node.type_name}"
        if show_layer_names and node.name != node.type_name
        else node.type_name
    )
    if show_shapes and node.output_shapes:
        return f"{head}\n{shape_text(node.output_shapes, batch_size)}"
    return head


def layout(nodes: Sequence[Node]) -> dict[int, tuple[float, int]]:
    """(x position in slots, rank) for each node."""
    rank = _ranks(nodes)
    by_rank: dict[int, list[Node]] = {}
    for node in nodes:
        by_rank.setdefault(rank[node.index], []).append(node)
    x: dict[int, float] = {}
    for r in sorted(by_rank):
        row = by_rank[r]
        if r > 0:
            row.sort(key=lambda n: sum(x[i] for i in n.inputs) / max(len(n.inputs), 1))
        width = len(row)
        for slot, node in enumerate(row):
            x[node.index] = slot - (width - 1) / 2
    return {i: (x[i], rank[i]) for i in x}


def plot_model(
    model: nn.Module,
    input_size: Any = None,
    to_file: str | os.PathLike = "model.png",
    *,
    dtypes: Sequence[torch.dtype] | torch.dtype | None = None,
    batch_size: int = 2,
    device: torch.device | str | None = None,
    show_shapes: bool = True,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 96,
    **forward_kwargs: Any,
) -> Path:
    """Draw ``model``'s graph (inputs, layers, branches, merges) to ``to_file`` and return its path.

    The format follows the extension: ``.png``, ``.svg`` or ``.pdf``. ``input_size``, ``dtypes`` and
    ``batch_size`` are as for :func:`zoo.summary`. ``rankdir="LR"`` lays the graph out left to right.
    """
    path = Path(to_file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"plot_model writes {', '.join(_FORMATS)} files; got {str(path)!r}.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', got {rankdir!r}.")
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch
    except ImportError:
        raise ImportError("plot_model needs matplotlib: pip install matplotlib (or zoo[plots]).") from None

    inputs = example_inputs(model, input_size, dtypes, batch_size, device)
    nodes = trace_eval(model, inputs, forward_kwargs)
    batch = inputs[0].shape[0] if inputs and inputs[0].ndim else batch_size
    labels = {n.index: _label(n, show_shapes, show_layer_names, batch) for n in nodes}
    pos = layout(nodes)

    char_w, line_h = 0.075, 0.2  # inches per character / per text line at fontsize 8
    box_w = max(max(len(line) for line in text.split("\n")) for text in labels.values()) * char_w + 0.3
    box_h = max(text.count("\n") + 1 for text in labels.values()) * line_h + 0.2
    gap_x, gap_y = box_w + 0.4, box_h + 0.5
    slots = max(abs(x) for x, _ in pos.values()) * 2 + 1
    ranks = max(r for _, r in pos.values()) + 1
    if rankdir == "TB":
        size = (slots * gap_x + 0.4, ranks * gap_y + 0.2)

        def centre(i: int) -> tuple[float, float]:
            x, r = pos[i]
            return size[0] / 2 + x * gap_x, size[1] - (r + 0.5) * gap_y
    else:
        size = (ranks * (box_w + 0.8) + 0.2, slots * (box_h + 0.4) + 0.4)

        def centre(i: int) -> tuple[float, float]:
            x, r = pos[i]
            return (r + 0.5) * (box_w + 0.8), size[1] / 2 - x * (box_h + 0.4)

    dpi = min(dpi, int(60000 / max(size)))  # stay under the 65536-pixel limit of the image backends
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, size[0])
    ax.set_ylim(0, size[1])
    ax.axis("off")
    for node in nodes:
        cx, cy = centre(node.index)
        ax.add_patch(
            FancyBboxPatch(
                (cx - box_w / 2, cy - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=_COLOURS[node.kind],
                edgecolor="#333333",
                linewidth=0.8,
            )  # fmt: skip
        )
        ax.text(cx, cy, labels[node.index], ha="center", va="center", fontsize=8, family="monospace")
        for parent in node.inputs:
            px, py = centre(parent)
            if rankdir == "TB":
                start, end = (px, py - box_h / 2), (cx, cy + box_h / 2)
            else:
                start, end = (px + box_w / 2, py), (cx - box_w / 2, cy)
            ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.8))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, format=fmt, dpi=dpi)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
