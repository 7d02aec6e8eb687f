"""toy_video_qa refuses clips that do not exist and seeds numpy cannot take, with zoo errors; iteration
still ends at the last question (DataIndexError is an IndexError)."""

from __future__ import annotations

import pytest

import zoo


@pytest.fixture(scope="module")
def ds():
    return zoo.get("datasets", "toy_video_qa", clips=4)


def test_describe_and_clip_out_of_range(ds):
    with pytest.raises(zoo.DataIndexError, match=r"index 99 is out of range for a toy_video_qa train dataset of 4 clips: use 0\.\.3"):
        ds.describe(99)
    with pytest.raises(zoo.DataIndexError, match="out of range"):
        ds.clip(4)
    with pytest.raises(IndexError):  # still an IndexError
        ds[12]
    assert ds.describe(-1) == ds.describe(3)
    assert (ds.clip(-4) == ds.clip(0)).all()


def test_non_integer_indices_are_refused(ds):
    with pytest.raises(zoo.ArgumentError, match=r"must be an integer; got 1\.5 \(float\)"):
        ds.clip(1.5)
    with pytest.raises(zoo.ArgumentError, match="must be an integer"):
        ds[True]


def test_iteration_ends_at_the_last_question(ds):
    assert len(list(ds.qa)) == len(ds) == 12


@pytest.mark.parametrize("seed", ["a", 1.5, -1, True])
def test_bad_seeds_are_refused_at_build(seed):
    with pytest.raises(zoo.OptionError, match="integer seed >= 0"):
        zoo.get("datasets", "toy_video_qa", clips=4, seed=seed)


def test_video_qa_folder_missing_root_is_a_data_error(tmp_path):
    with pytest.raises(zoo.DataError, match="is not a folder"):
        zoo.get("datasets", "video_qa_folder", root=tmp_path / "missing")
