"""get_layer takes exactly one of a name and an index, as Keras; a wrong one of either is a ModelError
saying what the model has, never the raw IndexError of the layer list."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
from zoo.layers import Dense


@pytest.fixture
def model():
    x = zoo.Input((4,))
    return zoo.Model(x, Dense(2, name="out")(Dense(3, name="hidden")(x)))


@pytest.mark.parametrize("index", [99, 2, -3, -99])
def test_an_index_past_the_layers_says_how_many_there_are(model, index):
    with pytest.raises(zoo.ModelError, match=rf"Was asked to retrieve layer at index {index} but model only has "
                                             r"2 layers: use 0\.\.1 \(or -2\.\.-1\)"):  # fmt: skip
        model.get_layer(index=index)


def test_a_model_without_layers_says_so():
    class Empty(zoo.Model):
        def call(self, x):
            return x

    with pytest.raises(zoo.ModelError, match=r"at index 0 but model only has 0 layers\.$"):
        Empty().get_layer(index=0)


def test_indices_count_like_a_list(model):
    assert model.get_layer(index=0) is model.get_layer("hidden")
    assert model.get_layer(index=-1) is model.get_layer("out")
    assert model.get_layer(index=np.int64(1)) is model.get_layer(index=torch.tensor(1)) is model.layers[1]


@pytest.mark.parametrize(("index", "hint"), [(1.5, r"\(float\)\.$"), (True, r"\(bool\)\.$"), ("out", r"by name is get_layer\('out'\)")])
def test_a_non_int_index_is_refused(model, index, hint):
    with pytest.raises(zoo.ModelError, match=r"get_layer\(index=\.\.\.\) takes an int, got .*" + hint):
        model.get_layer(index=index)


def test_neither_or_both_is_refused(model):
    with pytest.raises(zoo.ModelError, match=r"takes a layer name or a layer index, and got neither"):
        model.get_layer()
    with pytest.raises(zoo.ModelError, match=r"takes a layer name or a layer index, not both"):
        model.get_layer("out", index=1)
    with pytest.raises(zoo.ModelError, match="not both"):
        model.get_layer("out", 0)


def test_a_name_that_is_not_a_string_is_refused(model):
    with pytest.raises(zoo.ModelError, match=r"takes a layer name as a string, got 1 \(int\)\. A layer by position is get_layer\(index=1\)"):
        model.get_layer(1)


def test_sequential_uses_the_same_rule():
    model = zoo.Sequential([zoo.Input((4,)), Dense(3, name="a"), Dense(2, name="b")])
    assert model.get_layer(index=-1) is model.get_layer("b")
    with pytest.raises(zoo.ModelError, match="only has 2 layers"):
        model.get_layer(index=2)
