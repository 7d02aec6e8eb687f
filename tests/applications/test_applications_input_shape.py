"""``input_shape=`` that the built model's own size check refuses is an OptionError at load, not a
DataError at the first forward pass (fixed-size architectures: torchvision's and timm's ViTs)."""

from __future__ import annotations

import pytest
import torch

import zoo


@pytest.mark.parametrize("name", ["vit_b_16", "timm:vit_tiny_patch16_224"])
def test_a_fixed_size_vit_refuses_another_input_shape_at_load(name):
    with pytest.raises(zoo.OptionError, match=r"takes 224x224 images only, so input_shape=\(3, 256, 256\) cannot be "
                       r"served: leave input_shape out and resize images to 224x224"):
        zoo.load(name, weights=None, input_shape=(3, 256, 256))
    model = zoo.load(name, weights=None, input_shape=(3, 224, 224))  # its own size passes
    with pytest.raises(zoo.DataError, match="takes 224x224 images only, got 256x256"):
        model(torch.zeros(1, 3, 256, 256))


def test_an_architecture_built_for_another_size_takes_that_input_shape():
    model = zoo.load("vit_b_16", weights=None, image_size=256, input_shape=(3, 256, 256))
    assert model(torch.zeros(1, 3, 256, 256)).shape == (1, 1000)
