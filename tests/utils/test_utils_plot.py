"""zoo.plot_model: a layered layout read back -- a ResNet's skips are separate edges that never cross a box,
two-input merges show, shared layers are one box per call, nested modules collapse on request."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
import torch
import torchvision
from torch import nn

import zoo
from zoo.layers import Dense
from zoo.utils.graph_layout import GraphLayout, Route, layered_layout
from zoo.utils.plot import PlotError, edge_path, model_layout


class Siamese(nn.Module):
    """One encoder applied to two inputs, then compared: the shared-layer case."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(6, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, a, b):
        return self.head(torch.abs(self.encoder(a) - self.encoder(b)))


SIZES, DTYPES = [(3, 3, 8, 8), (6,)], [torch.float32, torch.long]


def _crosses(p, q, box, inset=0.5) -> bool:
    """Whether segment p-q enters the inside of ``box`` (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = box.left + inset, box.top + inset, box.right - inset, box.bottom - inset
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, v in ((dx, x0, x1, p[0]), (dy, y0, y1, p[1])):
        if d == 0:
            if not lo < v < hi:
                return False
            continue
        a, b = (lo - v) / d, (hi - v) / d
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
    return t0 < t1


def crossings(layout) -> list[tuple[int, int, int]]:
    """(edge source, edge target, box) for every drawn edge piece that passes through a box."""
    found = []
    for route in layout.routes:
        for polygon in edge_path(route.points, layout.rankdir).to_polygons(closed_only=False):
            for p, q in zip(polygon[:-1], polygon[1:], strict=True):
                found += [
                    (route.source, route.target, i) for i, box in layout.boxes.items() if _crosses(p, q, box)
                ]
    return found


def test_crossing_check_can_fail():
    layout = layered_layout({0: (40, 20), 1: (40, 20), 2: (40, 20)}, [(0, 1), (1, 2), (0, 2)])
    assert crossings(layout) == [] and len(layout.routes) == 3
    b0, b1, b2 = (layout.boxes[i] for i in range(3))
    straight = Route(0, 2, ((b0.x, b0.bottom), (b1.x, b1.y), (b1.x, b1.y), (b2.x, b2.top)))
    assert set(crossings(GraphLayout(layout.boxes, [straight], layout.ranks, 1, 1, "TB"))) == {(0, 2, 1)}


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_resnet18_skips_are_separate_edges_that_never_cross_a_box(rankdir):
    layout, nodes, _ = model_layout(torchvision.models.resnet18(), (3, 32, 32), rankdir=rankdir)
    adds = [i for i, (n, _) in nodes.items() if n.type_name == "add"]
    assert len(adds) == 8
    for i in adds:
        into = [r for r in layout.routes if r.target == i]
        assert len({r.source for r in into}) == 2 and len({r.points[-1] for r in into}) == 2  # two arrows
    assert crossings(layout) == []
    first, last = layout.boxes[0], layout.boxes[max(layout.boxes)]
    assert nodes[max(layout.boxes)][0].name == "fc"
    if rankdir == "TB":  # input on top, output at the bottom
        assert first.top == min(b.top for b in layout.boxes.values())
        assert last.bottom == max(b.bottom for b in layout.boxes.values())
        assert layout.height < 4000  # points: the first drawing of resnet18 was 6,777 pixels tall at 96 dpi
    else:
        assert first.left == min(b.left for b in layout.boxes.values())
        assert last.right == max(b.right for b in layout.boxes.values())


def test_video_qa_inputs_side_by_side_and_merged(tmp_path, video_qa):
    layout, nodes, frozen = model_layout(
        video_qa(), SIZES, dtypes=DTYPES, show_trainable=True, show_dtype=True
    )
    by_name = {n.name: i for i, (n, _) in nodes.items()}
    a, b = layout.boxes[by_name["input_1"]], layout.boxes[by_name["input_2"]]
    assert (
        a.y == b.y
        and a.x != b.x
        and layout.ranks[by_name["input_1"]] == layout.ranks[by_name["input_2"]] == 0
    )
    merge = by_name["merge"]
    assert {nodes[r.source][0].name for r in layout.routes if r.target == merge} == {"video", "question"}
    assert crossings(layout) == []
    assert frozen == {by_name["frames"]}
    assert nodes[by_name["frames"]][1][-1] == "frozen" and nodes[by_name["video"]][1][-1] == "trainable"
    assert "int64" in nodes[by_name["input_2"]][1] and "float32" in nodes[by_name["answer"]][1]

    png = zoo.plot_model(video_qa(), SIZES, tmp_path / "model.png", dtypes=DTYPES, show_trainable=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 150 < width < 1500 and 300 < height < 1500
    svg = zoo.plot_model(video_qa(), SIZES, tmp_path / "sub" / "model.svg", dtypes=DTYPES, rankdir="LR")
    assert ET.parse(svg).getroot().tag.endswith("svg")
    pdf = zoo.plot_model(video_qa(), SIZES, tmp_path / "model.pdf", dtypes=DTYPES)
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert not list(tmp_path.rglob(".*tmp"))


def test_shared_layer_is_one_box_per_call():
    layout, nodes, _ = model_layout(Siamese(), [(6,), (6,)])
    calls = [lines[0] for n, lines in nodes.values() if n.name == "encoder"]
    assert calls == ["encoder (Linear) call 1/2", "encoder (Linear) call 2/2"]
    encoders = [i for i, (n, _) in nodes.items() if n.name == "encoder"]
    assert [r.source for r in layout.routes if r.target in encoders] == [0, 1]  # each call from its own input
    sub = next(i for i, (n, _) in nodes.items() if n.type_name == "sub")
    assert sorted(r.source for r in layout.routes if r.target == sub) == encoders
    relu_twice = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    relu_twice.add_module("again", relu_twice[1])
    assert all(
        "call" not in lines[0] for _, lines in model_layout(relu_twice, (3,))[1].values()
    )  # no weights


def test_expand_nested_collapses_by_depth_or_by_name():
    model = torchvision.models.resnet18()
    top = [n.name for n, _ in model_layout(model, (3, 32, 32), expand_nested=False)[1].values()]
    assert top == ["input_1", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                   "flatten", "fc"]  # fmt: skip
    assert top == [n.name for n, _ in model_layout(model, (3, 32, 32), expand_nested=1)[1].values()]
    blocks = [n for n, _ in model_layout(model, (3, 32, 32), expand_nested=2)[1].values()]
    assert [n.name for n in blocks if n.type_name == "BasicBlock"][:2] == ["layer1.0", "layer1.1"]
    assert not any(n.type_name == "add" for n in blocks)
    named = [
        n for n, _ in model_layout(model, (3, 32, 32), expand_nested=["layer1", model.layer4])[1].values()
    ]
    names = [n.name for n in named]
    assert (
        "layer1" in names
        and "layer4" in names
        and "layer2.0.conv1" in names
        and "layer1.0.conv1" not in names
    )
    assert sum(n.type_name == "add" for n in named) == 4  # layer2 and layer3 still show theirs


def test_wrong_arguments_say_what_to_do(tmp_path):
    model = torchvision.models.resnet18()
    with pytest.raises(PlotError, match=r"no submodule named 'layer5'; did you mean layer.*"):
        zoo.plot_model(model, (3, 32, 32), tmp_path / "m.png", expand_nested=["layer5"])
    with pytest.raises(PlotError, match="depth must be 1 or more"):
        zoo.plot_model(model, (3, 32, 32), tmp_path / "m.png", expand_nested=0)
    with pytest.raises(PlotError, match="not a submodule of this model"):
        zoo.plot_model(model, (3, 32, 32), tmp_path / "m.png", expand_nested=[nn.Linear(1, 1)])
    with pytest.raises(PlotError, match=r"png, svg, pdf.*m\.jpg"):
        zoo.plot_model(model, (3, 32, 32), tmp_path / "m.jpg")
    with pytest.raises(PlotError, match="rankdir must be 'TB'"):
        zoo.plot_model(model, (3, 32, 32), tmp_path / "m.png", rankdir="BT")
    with pytest.raises(PlotError, match="draws an nn.Module"):
        zoo.plot_model("resnet18", (3, 32, 32), tmp_path / "m.png")
    assert issubclass(PlotError, zoo.ZooError) and issubclass(PlotError, ValueError)
    assert not list(tmp_path.iterdir())


def test_keras_order_plot_model_of_a_model_with_inputs_takes_the_file_second(tmp_path):
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, zoo.layers.Dense(2)(inputs))
    assert zoo.plot_model(model, tmp_path / "keras.png") == tmp_path / "keras.png"  # was: "input size ... got '.png'"
    assert (tmp_path / "keras.png").stat().st_size > 0
    with pytest.raises(PlotError, match="give the file once"):
        zoo.plot_model(model, str(tmp_path / "a.png"), str(tmp_path / "b.png"))


def test_zoo_summary_stays_the_function_after_plot_imports_its_module():
    import zoo.utils.plot  # noqa: F401 - imports the summary module, which once shadowed zoo.utils.summary

    assert callable(zoo.utils.summary) and callable(zoo.summary)


def test_functional_model_inputs_drawn_with_their_input_names():
    frames = zoo.Input((8,), name="frames")
    question = zoo.Input((4,), name="question")
    merged = zoo.layers.concatenate([Dense(3)(frames), Dense(3)(question)])
    model = zoo.Model([frames, question], Dense(2)(merged))
    assert model.input_names == ["frames", "question"]
    _, nodes, _ = model_layout(model, [(8,), (4,)])
    inputs = [n.name for n, _ in nodes.values() if n.kind == "input"]
    assert inputs == ["frames", "question"]
