"""Keras' model.inputs / outputs / input / output and layer.output: the feature-extraction recipe."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.layers import Dense, Dropout


def _model():
    inputs = zoo.Input((8,), name="x")
    hidden = Dense(16, activation="relu", name="hidden")(inputs)
    return zoo.Model(inputs, Dense(3, name="out")(Dropout(0.5)(hidden, training=True)))


def test_a_feature_extractor_from_a_built_models_input_and_a_layers_output():
    model = _model()  # the tensors it was described with are gone
    assert model.input.shape == (None, 8) and [t.name for t in model.inputs] == ["x"]
    assert model.output.shape == (None, 3) and len(model.outputs) == 1
    features = zoo.Model(model.input, model.get_layer("hidden").output)
    x = torch.randn(4, 8)
    hidden = model.get_layer("hidden")
    assert torch.allclose(features(x), torch.relu(hidden.linear(x)))
    assert features.get_layer("hidden") is hidden  # shared, as in Keras: training one trains the other
    head = zoo.Model(model.input, Dense(2)(model.output))
    assert head(x).shape == (4, 2)
    head.eval()
    assert not torch.equal(head(torch.ones(64, 8)), head(torch.ones(64, 8)))  # training=True kept


def test_sequential_and_several_inputs():
    sequential = zoo.Sequential([zoo.Input((8,)), Dense(4, name="a"), Dense(2, name="b")])
    assert zoo.Model(sequential.input, sequential.get_layer("a").output)(torch.zeros(3, 8)).shape == (3, 4)
    a, b = zoo.Input((2,), name="a"), zoo.Input((3,), name="b")
    joined = zoo.Model([a, b], zoo.layers.Concatenate()([a, b]))
    assert isinstance(joined.input, list) and [t.shape for t in joined.input] == [(None, 2), (None, 3)]


def test_what_has_no_endpoints_says_so():
    class Sub(zoo.Model):
        def call(self, x):
            return x

    with pytest.raises(zoo.ModelError, match="Sub has no symbolic inputs"):
        Sub().inputs  # noqa: B018
    with pytest.raises(zoo.ModelError, match="has no symbolic inputs"):
        zoo.Sequential([Dense(2)]).input  # noqa: B018 - no input size yet
    with pytest.raises(zoo.ModelError, match="layer 'lonely' has no output yet"):
        Dense(3, name="lonely").output  # noqa: B018
    unsized = zoo.Sequential([Dense(3, name="unsized")])
    with pytest.raises(zoo.ModelError, match=r"Sequential has no symbolic inputs.*model.build"):
        unsized.get_layer("unsized").output  # noqa: B018 - says why, not "no output yet"
    shared = Dense(4, name="shared")
    inputs = zoo.Input((4,))
    model = zoo.Model(inputs, shared(shared(inputs)))
    with pytest.raises(zoo.ModelError, match="'shared' is called 2 times"):
        model.get_layer("shared").output  # noqa: B018


def test_a_subclass_keeps_its_own_attributes_of_those_names():
    class Head(zoo.Model):
        def __init__(self):
            super().__init__()
            self.output = Dense(2)  # a submodule named like Keras' attribute: it wins
            self.inputs = ["question", "video"]  # a plain value too

        def call(self, x):
            return self.output(x)

    head = Head()
    assert isinstance(head.output, Dense) and head.inputs == ["question", "video"]
    assert head(torch.zeros(1, 3)).shape == (1, 2) and "output.linear.weight" in head.state_dict()

    class Block(zoo.layers.Layer):
        def __init__(self):
            super().__init__()
            self.output = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.output(x)

    assert isinstance(Block().output, torch.nn.Linear)


@pytest.mark.parametrize(("name", "gain"), [("he_normal", 2.0), ("glorot_normal", None), ("lecun_normal", 1.0)])
def test_truncated_normal_initializers_work_on_symbolic_inputs(name, gain):
    """Their trunc_normal_ read values under the recording's fake-tensor mode: a RecordingError blaming the
    user's code for `Dense(2, kernel_initializer="he_normal")(zoo.Input((4,)))`."""
    inputs = zoo.Input((576,))
    layer = Dense(1000, kernel_initializer=name)
    zoo.Model(inputs, layer(inputs))
    weight = layer.linear.weight
    expected = (gain / 576) ** 0.5 if gain else (2 / (576 + 1000)) ** 0.5
    assert weight.std().item() == pytest.approx(expected, rel=0.05) and weight.requires_grad


def test_a_sequential_changed_after_its_endpoints_were_read_makes_them_again():
    model = zoo.Sequential([zoo.Input((8,)), Dense(4, name="a")])
    assert model.output.shape == (None, 4)
    model.add(Dense(2, name="b"))  # the cached output was the old last layer's
    assert model.output.shape == (None, 2)
    assert zoo.Model(model.input, model.get_layer("b").output)(torch.zeros(1, 8)).shape == (1, 2)


def test_reading_a_layer_costs_nothing_until_its_output_is_read():
    from zoo.models import endpoints

    model = _model()
    hidden = model.get_layer("hidden")  # Keras code does this to freeze a layer: no graph run for it
    assert model not in endpoints._ENDPOINTS
    assert model.layers[1].output.shape == (None, 16) and model in endpoints._ENDPOINTS  # model.layers[i] too
    assert hidden.output is model.layers[0].output
