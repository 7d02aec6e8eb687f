"""toy_video_qa: deterministic, streamed, configurable; answers match what the pixels show."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_videoqa.toy import ACTIONS, COLOURS, QUESTIONS, SHAPES

import zoo


def toy(split="train", **kw):
    return zoo.get("datasets", "toy_video_qa", split, **kw)


def test_same_seed_same_pixels_and_questions():
    a, b = toy(clips=5, seed=3), toy(clips=5, seed=3)
    for i in range(5):
        np.testing.assert_array_equal(a.clip(i), b.clip(i))
    assert list(a.qa) == list(b.qa) and a.fingerprint == b.fingerprint
    c = toy(clips=5, seed=4)
    assert not np.array_equal(a.clip(0), c.clip(0)) and c.fingerprint != a.fingerprint


def test_splits_differ_and_sizes_are_configurable():
    train, test = toy("train", clips=4, frames=5, size=24), toy("test", clips=4, frames=5, size=24)
    assert train.clip(0).shape == (5, 24, 24, 3) and train.clip(0).dtype == np.uint8
    assert not np.array_equal(train.clip(0), test.clip(0))
    assert len(train) == 4 * len(QUESTIONS)
    assert {r.kind for r in train.qa} == set(QUESTIONS)
    assert toy(clips=4, size=24).fingerprint != toy(clips=4, size=32).fingerprint


def test_streamed_a_million_clips_cost_nothing_up_front():
    big = toy(clips=1_000_000)
    assert len(big) == 3_000_000
    last = big.qa[-1]
    assert last.clip == 999_999 and last.kind == "action"
    assert big.clip(999_999).shape == (8, 32, 32, 3)


def test_answers_are_one_word_and_match_the_geometry():
    data = toy(clips=60, frames=6)
    for row in data.qa:
        assert " " not in row.answer and row.question.endswith("?")
    for i in range(60):
        spec = data.describe(i)
        assert spec.colour in COLOURS and spec.shape in SHAPES and spec.action in ACTIONS
        moved = (spec.cx[-1] - spec.cx[0], spec.cy[-1] - spec.cy[0])
        grew = spec.radius[-1] - spec.radius[0]
        turned = spec.angle[-1] - spec.angle[0]
        truth = {"rightward": moved[0] > 5, "leftward": moved[0] < -5, "downward": moved[1] > 5,
                 "upward": moved[1] < -5, "growing": grew > 1, "shrinking": grew < -1,
                 "rotating": abs(turned) > 0.2, "still": max(map(abs, (*moved, grew, turned))) == 0}  # fmt: skip
        assert truth[spec.action], (i, spec)
        assert not (spec.shape == "circle" and spec.action == "rotating")
    # the object's colour is really in the frames: its pixels dominate a colour channel
    clip = data.clip(0)
    assert clip.std() > 5


def test_motion_changes_the_pixels():
    data = toy(clips=40)
    for i in range(40):
        spec, clip = data.describe(i), data.clip(i).astype(np.float32)
        changed = int((np.abs(clip[-1] - clip[0]).sum(-1) > 150).sum())  # pixels beyond the noise
        assert (changed >= 8) == (spec.action != "still"), (spec.action, changed)


def test_bad_options():
    with pytest.raises(ValueError, match="splits train, validation, test"):
        toy("dev")
    with pytest.raises(ValueError, match="clips >= 1"):
        toy(clips=0)
    with pytest.raises(IndexError, match="out of range"):
        toy(clips=2).clip(2)
