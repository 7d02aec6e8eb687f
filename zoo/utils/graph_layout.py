"""Layered (Sugiyama) placement of a graph of boxes, with edges routed between the rows, never through a box.

grandalf does the graph drawing proper -- ranks, crossing reduction by median sweeps, Brandes-Köpf
coordinates -- and gives every edge that skips ranks one dummy vertex per rank it passes, each with a slot
of its own in that rank's row. This module turns that into boxes and edge routes that run straight along
the rank axis inside a row (on the edge's own port or dummy slot, where no box is) and change lanes only
in the empty gap between two rows; so no edge can cross a box, and a skip connection is its own line
beside the boxes it skips. Plain data in and out: no torch, no matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import Layer, SugiyamaLayout

from zoo.errors import OptionError

Point = tuple[float, float]

_DUMMY_SLOT = 8.0  # points across the rank axis that a passing edge reserves in a row


@dataclass(frozen=True)
class Box:
    """A node's box: centre and size in points; ``y`` grows downwards (top-to-bottom, as in SVG)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """One edge's path. ``points`` come in pairs: each pair is a straight run along the rank axis inside one
    row (leaving the source's box, passing a row on a dummy slot, entering the target's box); one pair's end
    and the next pair's start face each other across the gap between two rows, where the drawing may curve."""

    source: int
    target: int
    points: tuple[Point, ...]


@dataclass(frozen=True)
class GraphLayout:
    """Boxes and routes of a whole graph, in points, with ``(0, 0)`` at the top left."""

    boxes: dict[int, Box]
    routes: list[Route]
    ranks: dict[int, int]
    width: float
    height: float
    rankdir: str  # "TB": ranks are rows, top to bottom; "LR": ranks are columns, left to right


def layered_layout(
    sizes: dict[int, tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    rankdir: str = "TB",
    bottom: Sequence[int] = (),
    node_gap: float = 14.0,
    rank_gap: float = 24.0,
    margin: float = 8.0,
) -> GraphLayout:
    """Place boxes of ``sizes`` (node -> (width, height) in points) in ranks so that every edge of ``edges``
    (source, target) points down the rank axis; nodes are numbered so that every edge goes from a smaller
    number to a larger one (execution order does that). The nodes in ``bottom`` (a model's outputs) go to
    the last rank of their part of the graph; unconnected parts sit side by side."""
    backwards = [(a, b) for a, b in edges if a >= b]
    if backwards:
        # invariant: the edges come from a trace, which numbers nodes in execution order
        raise ValueError(f"edges must go from a smaller node number to a larger one, got {backwards[:3]}.")
    if rankdir not in ("TB", "LR"):
        raise OptionError(f"rankdir must be 'TB' or 'LR', got {rankdir!r}.")
    across = 0 if rankdir == "TB" else 1  # which of (width, height) lies across the rank axis
    vertices = {}
    for node, size in sizes.items():
        v = Vertex(node)
        v.view = _View(size[across], size[1 - across])
        vertices[node] = v
    graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in edges])
    boxes: dict[int, Box] = {}
    routes: list[Route] = []
    ranks: dict[int, int] = {}
    offset, depth = margin, 0.0
    for part in sorted(graph.C, key=lambda c: min(v.data for v in c.sV)):
        part_boxes, part_routes, part_ranks, extent = _lay_out_part(
            part, set(bottom), node_gap, rank_gap, shift=(offset, margin)
        )
        boxes.update(part_boxes)
        routes += part_routes
        ranks.update(part_ranks)
        offset += extent[0] + 2 * node_gap
        depth = max(depth, extent[1])
    width, height = offset - 2 * node_gap + margin, depth + 2 * margin
    if rankdir == "LR":
        boxes = {n: Box(b.y, b.x, b.height, b.width) for n, b in boxes.items()}
        routes = [Route(r.source, r.target, tuple((y, x) for x, y in r.points)) for r in routes]
        width, height = height, width
    return GraphLayout(boxes, routes, ranks, width, height, rankdir)


class _View:
    """What grandalf reads and writes on a vertex: its size and, after layout, its centre ``xy``."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy: Point = (0.0, 0.0)


class _OutputsLast(SugiyamaLayout):
    """grandalf's longest-path ranks, except that the ``floor`` nodes (the outputs) sink to the last rank."""

    def __init__(self, part, bottom: set[int]) -> None:
        super().__init__(part)
        depth: dict = {}
        for v in sorted(part.sV, key=lambda v: v.data):  # parents have smaller numbers
            depth[v] = max((depth[u] + 1 for u in v.N(-1)), default=0)
        last = max(depth.values())
        self.floor = {v: last for v in part.sV if v.data in bottom}
        self.dw = self.dh = _DUMMY_SLOT  # the size of a passing edge's dummy vertex

    def setrank(self, v) -> None:
        rank = max([self.grx[x].rank for x in v.N(-1)] + [-1, self.floor.get(v, 0) - 1]) + 1
        self.grx[v].rank = rank
        while len(self.layers) <= rank:
            self.layers.append(Layer([]))
        self.layers[rank].append(v)


def _lay_out_part(part, bottom: set[int], node_gap: float, rank_gap: float, shift: Point):
    layout = _OutputsLast(part, bottom)
    layout.xspace, layout.yspace = node_gap, rank_gap
    roots = sorted((v for v in part.sV if not v.e_in()), key=lambda v: v.data)
    layout.init_all(roots=roots, inverted_edges=[])
    layout.draw(3)

    rows = [r for r in layout.layers if r]
    left = min(v.view.xy[0] - v.view.w / 2 for r in rows for v in r)
    top = min(v.view.xy[1] - v.view.h / 2 for r in rows for v in r)
    dx, dy = shift[0] - left, shift[1] - top

    def at(v) -> Point:
        return v.view.xy[0] + dx, v.view.xy[1] + dy

    band = {}  # rank -> (top, bottom) of its row
    for rank, row in enumerate(layout.layers):
        if row:
            half = max(v.view.h for v in row) / 2
            y = at(row[0])[1]
            band[rank] = (y - half, y + half)
    boxes = {}
    ranks = {}
    for v in part.sV:
        x, y = at(v)
        boxes[v.data] = Box(x, y, v.view.w, v.view.h)
        ranks[v.data] = layout.grx[v].rank

    lanes = []  # per edge: the x of each row it crosses, source row first
    for e in part.sE:
        a, b = e.v
        ra, rb = layout.grx[a].rank, layout.grx[b].rank
        dummies = [layout.ctrls[e][r] for r in range(ra + 1, rb)] if e in layout.ctrls else []
        lanes.append((e, [at(a)[0], *(at(d)[0] for d in dummies), at(b)[0]], ra))
    ports = _ports(lanes, boxes)
    routes = []
    for e, xs, ra in lanes:
        a, b = e.v
        xs = [ports[(id(e), "out")], *xs[1:-1], ports[(id(e), "in")]]
        points: list[Point] = [(xs[0], boxes[a.data].bottom), (xs[0], band[ra][1])]
        for step, x in enumerate(xs[1:-1], start=1):
            points += [(x, band[ra + step][0]), (x, band[ra + step][1])]
        rb = ra + len(xs) - 1
        points += [(xs[-1], band[rb][0]), (xs[-1], boxes[b.data].top)]
        routes.append(Route(a.data, b.data, tuple(points)))
    routes.sort(key=lambda r: (r.target, r.source))
    right = max(v.view.xy[0] + v.view.w / 2 for r in rows for v in r) + dx
    deepest = max(v.view.xy[1] + v.view.h / 2 for r in rows for v in r) + dy
    return boxes, routes, ranks, (right - shift[0], deepest - shift[1])


def _ports(lanes, boxes: dict[int, Box]) -> dict[tuple[int, str], float]:
    """Where each edge leaves its source and enters its target: spread along the box's side, ordered by
    where the edge goes next, so that two edges into one merge are two arrows, not one."""
    ends: dict[tuple[int, str], list[tuple[float, int]]] = {}
    for e, xs, _ in lanes:
        a, b = e.v
        ends.setdefault((a.data, "out"), []).append((xs[1], id(e)))
        ends.setdefault((b.data, "in"), []).append((xs[-2], id(e)))
    ports = {}
    for (node, side), items in ends.items():
        box = boxes[node]
        items.sort()
        spacing = min(12.0, 0.7 * box.width / max(len(items) - 1, 1))
        for i, (_, edge) in enumerate(items):
            ports[(edge, side)] = box.x + (i - (len(items) - 1) / 2) * spacing
    return ports
