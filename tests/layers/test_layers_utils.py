"""zoo.summary (plot_model: tests/utils/test_utils_plot.py) on a two-input video-QA-shaped model, a residual net and lazy layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.utils import normalize, to_categorical


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))  # used directly in forward, not in a layer

    def forward(self, x):
        y = self.a(x)
        y += self.b(y)  # in-place merge written as plain torch
        return torch.cat([y, x], -1) * torch.cat([self.scale, self.scale])


SIZES = [(3, 3, 8, 8), (6,)]
DTYPES = [torch.float32, torch.long]


def test_summary_counts_equal_parameters_for_two_inputs_and_lazy_layers(video_qa):
    model = video_qa()
    lines = []
    s = zoo.summary(model, SIZES, dtypes=DTYPES, print_fn=lines.append)
    total = sum(p.numel() for p in model.parameters())  # lazy layers are materialised now
    assert s.total_params == total == sum(r.params for r in s.rows)
    frozen = sum(p.numel() for p in model.frames.parameters())
    assert s.non_trainable_params == frozen and s.trainable_params == total - frozen
    rows = {r.name: r for r in s.rows}
    assert rows["frames"].trainable == "N" and rows["video"].trainable == "Y"
    assert rows["video"].params == 4 * 8 * (4 + 8 + 2)  # torch LSTM: two bias vectors
    assert rows["merge"].output_shape == "(None, 13)" and rows["merge"].connected_to == "video, question"
    assert rows["embed"].output_shape == "(None, 6, 6)"
    text = lines[0]
    assert "Total params: " + f"{total:,}" in text and "Non-trainable params: " + f"{frozen:,}" in text
    assert "frames (TimeDistributed)" in text and "(None, 3, 4)" in text
    assert model.training  # mode restored
    examples = [torch.randn(1, 3, 3, 8, 8), torch.tensor([[0, 0, 4, 5, 6, 7]])]
    again = zoo.summary(model, examples, print_fn=None)  # example tensors instead of sizes
    assert (
        again.total_params == total and {r.name: r.output_shape for r in again.rows}["merge"] == "(None, 13)"
    )


def test_summary_with_example_tensors_inplace_ops_and_loose_parameters():
    model = Residual()
    s = zoo.summary(model, torch.randn(5, 4), print_fn=None)
    assert s.total_params == sum(p.numel() for p in model.parameters()) == sum(r.params for r in s.rows)
    names = [r.name for r in s.rows]
    assert names[-1] == "(other parameters)" and s.rows[-1].params == 4
    add = next(r for r in s.rows if r.type_name == "add")
    assert add.connected_to == "a, b"
    shared = nn.Sequential(nn.Linear(3, 3))
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    s2 = zoo.summary(twice, (3,), print_fn=None)
    assert [r.shared for r in s2.rows] == [False, False, False, True]
    assert s2.total_params == 12 == sum(r.params for r in s2.rows)


class Casting(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.b(self.drop(self.a(x).double().float().contiguous()))


def test_summary_keeps_each_modules_mode_and_follows_conversions():
    model = Casting()
    model.drop.eval()  # a submodule the user put in eval mode stays there
    s = zoo.summary(model, (3,), print_fn=None)
    assert model.training and not model.drop.training
    links = {r.name: r.connected_to for r in s.rows}
    assert links == {
        "input_1": "",
        "a": "",
        "drop": "",
        "b": "",
    }  # a plain chain: .double().float() is no node


def test_summary_bad_input_sizes(video_qa):
    with pytest.raises(ValueError, match="input size must be a tuple of positive ints"):
        zoo.summary(video_qa(), [(3, 3, 8, 8), (0,)], dtypes=DTYPES, print_fn=None)
    with pytest.raises(ValueError, match="2 input sizes but 1 dtypes"):
        zoo.summary(video_qa(), SIZES, dtypes=[torch.float32], print_fn=None)


def test_to_categorical_and_normalize_like_keras():
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), np.eye(3, dtype="float32")[[0, 2, 1]])
    assert to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    t = to_categorical(torch.tensor([[1, 0], [2, 2]]))
    assert isinstance(t, torch.Tensor) and t.shape == (2, 2, 3) and t[1, 0, 2] == 1
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\)"):
        to_categorical([0, 3], num_classes=2)
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0]])
    torch.testing.assert_close(
        normalize(torch.tensor(x), order=1), torch.tensor([[3 / 7, 4 / 7], [0, 0]], dtype=torch.float64)
    )
