"""How zoo.export picks and makes inputs: defaults per kind of model, tracing batch, random check batches."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.exporters import inputs
from zoo.metadata import ApplicationMeta


def test_default_example_prefers_the_models_own(clip_and_question, tiny_cnn):
    clip, question = inputs.default_example(clip_and_question, ApplicationMeta(input_size=99))
    assert clip.shape == (2, 3, 12) and question.dtype == torch.int64
    (image,) = inputs.default_example(tiny_cnn, ApplicationMeta(input_size=32))  # registry metadata: an image side
    assert image.shape == (2, 3, 32, 32)
    (image,) = inputs.default_example(tiny_cnn, ApplicationMeta(input_size=(1, 8, 8)))
    assert image.shape == (2, 1, 8, 8)
    (image,) = inputs.default_example(nn.Sequential(nn.Conv2d(4, 2, 1)), None)  # a conv net: 224x224
    assert image.shape == (2, 4, 224, 224)
    with pytest.raises(TypeError, match="cannot tell what input Sequential takes"):
        inputs.default_example(nn.Sequential(nn.Linear(3, 2)), None)


def test_default_example_of_a_zoo_model_uses_its_crop_size():
    model = zoo.load("mobilenet_v3_small", weights=None)
    (image,) = inputs.default_example(model, None)
    assert image.shape == (2, 3, 224, 224)


def test_tracing_batch_is_at_least_two_and_shared():
    (x,) = inputs.for_tracing((torch.randn(1, 3),), dynamic_batch=True)
    assert x.shape == (2, 3)
    assert inputs.for_tracing((torch.randn(1, 3),), dynamic_batch=False)[0].shape == (1, 3)
    with pytest.raises(ValueError, match=r"different batch sizes \[2, 3\]"):
        inputs.for_tracing((torch.randn(2, 1), torch.randn(3, 1)), dynamic_batch=True)
    with pytest.raises(ValueError, match="0-dim"):
        inputs.for_tracing((torch.tensor(1.0),), dynamic_batch=True)


def test_random_check_batches_keep_dtype_and_integer_range():
    example = (
        torch.randn(2, 4, dtype=torch.float64),
        torch.tensor([[3, 9], [5, 7]]),
        torch.ones(2, 1).bool(),
    )
    floats, ids, mask = inputs.random_batch(example, 50, torch.Generator().manual_seed(0))
    assert floats.shape == (50, 4) and floats.dtype == torch.float64 and floats.std() > 0.5
    assert ids.shape == (50, 2) and ids.min() >= 3 and ids.max() <= 9 and len(ids.unique()) > 3
    assert mask.dtype == torch.bool and mask.any() and not mask.all()


def test_names_default_and_validation(clip_and_question):
    assert inputs.names(None, 1, "input") == ("input",)
    assert inputs.names(None, 2, "input", clip_and_question) == ("clip", "question")
    assert inputs.names(None, 3, "output") == ("output_0", "output_1", "output_2")
    with pytest.raises(ValueError, match="2 distinct names"):
        inputs.names(["a", "a"], 2, "input")
