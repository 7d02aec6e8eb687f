"""video_qa refuses inputs it would misread: unscaled video (uint8, 0-255 floats), questions that are not
(batch, length) ids, head features of another size, adapt on nothing, and build options of the wrong type."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zoo_videoqa.model import video_tensor

import zoo

SMALL = dict(backbone="toy_cnn", video_units=8, embed_dim=8, question_units=8, hidden_units=8,
             question_vocab_size=6, num_answers=3, progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return zoo.load("video_qa", **SMALL).eval()


def _question(n: int = 2) -> torch.Tensor:
    return torch.randint(1, 6, (n, 4))


def test_video_in_unit_range_works_and_video_tensor_converts_uint8(model):
    clips = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
    assert model(video_tensor(clips), _question()).shape == (2, 3)
    assert model(torch.rand(2, 3, 3, 32, 32) * (1 + 5e-4), _question()).shape == (2, 3)  # within tolerance


def test_uint8_video_is_refused_with_the_conversion(model):
    video = torch.randint(0, 256, (2, 3, 3, 32, 32), dtype=torch.uint8)
    with pytest.raises(zoo.DataError, match=r"floats in \[0, 1\]; got torch.uint8.*video_tensor"):
        model(video, _question())


@pytest.mark.parametrize("scale,hint", [(255.0, "divide by 255"), (-1.0, "unnormalised")])
def test_floats_outside_unit_range_are_refused(model, scale, hint):
    video = torch.rand(2, 3, 3, 32, 32) * scale
    with pytest.raises(zoo.DataError, match=hint):
        model(video, _question())
    with pytest.raises(zoo.DataError, match=hint):
        model.encoder(video)


def test_a_one_dimensional_question_and_a_batch_mismatch(model):
    with pytest.raises(zoo.DataError, match=r"\(batch, length\).*unsqueeze\(0\)"):
        model(torch.rand(1, 3, 3, 32, 32), torch.tensor([1, 2, 3]))
    with pytest.raises(zoo.DataError, match="2 videos but 3 questions"):
        model(torch.rand(2, 3, 3, 32, 32), _question(3))
    with pytest.raises(zoo.DataError, match="integer tensor"):
        model.head(torch.randn(2, 3, 32), torch.rand(2, 4))


def test_head_features_of_another_size_name_the_expected_one(model):
    with pytest.raises(zoo.DataError, match=r"\(samples, frames, 32\).*got shape \(2, 3, 7\)"):
        model.head(torch.randn(2, 3, 7), _question())


def test_adapt_refuses_empty_wrongly_sized_and_list_features(model):
    head = model.head
    before = head.feature_mean.clone(), head.feature_scale.clone()
    with pytest.raises(zoo.DataError, match="at least one sample"):
        head.adapt(torch.rand(0, 4, 32))
    with pytest.raises(zoo.DataError, match=r"feature size is 32\); got shape \(5, 4, 8\)"):
        head.adapt(torch.rand(5, 4, 8))
    with pytest.raises(zoo.ArgumentError, match="got a list"):
        head.adapt([torch.rand(4, 32)])
    with pytest.raises(zoo.DataError, match="NaN"):
        head.adapt(torch.full((2, 4, 32), float("nan")))
    assert torch.equal(head.feature_mean, before[0]) and torch.equal(head.feature_scale, before[1])
    assert torch.isfinite(head.feature_mean).all()


@pytest.mark.parametrize("options,match", [
    ({"frame_size": "32"}, "frame_size must be a positive integer"),
    ({"frame_size": -1}, "frame_size must be a positive integer"),
    ({"frame_size": 2}, "larger frame_size"),
    ({"num_classes": 3, "num_answers": 5}, "num_classes=3 and num_answers=5"),
    ({"question_vocab_size": True}, "positive integer question_vocab_size"),
    ({"video_units": 0}, "positive integer video_units"),
])  # fmt: skip
def test_build_options_are_checked(options, match):
    with pytest.raises(zoo.OptionError, match=match):
        zoo.load("video_qa", **{**SMALL, "num_answers": None, **options})


def test_num_classes_is_a_synonym_of_num_answers():
    built = zoo.load("video_qa", **{**SMALL, "num_answers": None}, num_classes=4)
    assert built.config["num_answers"] == 4
    assert zoo.load("video_qa", **{**SMALL, "num_answers": 4}, num_classes=4).config["num_answers"] == 4
