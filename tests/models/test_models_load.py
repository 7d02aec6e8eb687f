"""What zoo.load adds for Keras habits: cnn.trainable = False freezes; input_tensor= gives a symbolic tensor."""

import pytest
import torch

import zoo
from zoo.layers import Dense


def test_trainable_false_on_a_loaded_application_really_freezes():
    cnn = zoo.load("resnet18", weights=None, include_top=False, pooling="avg")
    assert cnn.trainable is True
    cnn.trainable = False
    inp = zoo.Input((3, 32, 32))
    model = zoo.Model(inp, Dense(2)(cnn(inp)))
    before = {k: v.clone() for k, v in cnn.state_dict().items()}
    model.compile("sgd", loss={"name": "sparse_categorical_crossentropy", "from_logits": True})
    model.fit(torch.randn(8, 3, 32, 32), torch.randint(0, 2, (8,)), epochs=1, batch_size=4, verbose=0)
    assert all(torch.equal(before[k], v) for k, v in cnn.state_dict().items())  # BN statistics too
    assert model.summary(print_fn=None).rows[1].trainable == "N"


def test_input_tensor_returns_the_application_called_on_it():
    inp = zoo.Input((3, 32, 32))
    features = zoo.load("resnet18", weights=None, include_top=False, pooling="avg", input_tensor=inp)
    assert isinstance(features, zoo.models.SymbolicTensor) and features.shape == (None, 512)
    model = zoo.Model(inp, features)
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 512)
    with pytest.raises(zoo.ModelError, match="input_tensor"):
        zoo.load("resnet18", weights=None, input_tensor=torch.randn(1, 3, 32, 32))
