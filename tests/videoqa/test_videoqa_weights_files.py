"""toy_cnn's and video_qa's ``weights=`` files go through zoo's one reader and fit rule: a text file, a
missing file or another model's weights is a zoo error naming the file, never a raw torch error."""

from __future__ import annotations

import pytest
import torch

import zoo

SMALL = dict(backbone="toy_cnn", video_units=8, embed_dim=8, question_units=8, hidden_units=8,
             question_vocab_size=6, num_answers=3, progress=False)  # fmt: skip


@pytest.fixture
def notes(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not weights at all\n")
    return path


@pytest.mark.parametrize("app,options", [("toy_cnn", {}), ("video_qa", SMALL)])
def test_a_text_file_as_weights_says_what_it_is(notes, app, options):
    with pytest.raises(zoo.DataError, match=r"notes\.txt is not a weights file: it is a text file"):
        zoo.load(app, weights=notes, **options)


@pytest.mark.parametrize("app,options", [("toy_cnn", {}), ("video_qa", SMALL)])
def test_a_missing_weights_file(tmp_path, app, options):
    with pytest.raises(zoo.MissingFileError, match="no such"):
        zoo.load(app, weights=str(tmp_path / "gone.pt"), **options)


def test_toy_cnn_weights_of_another_model_name_keys_and_shapes(tmp_path):
    torch.save({"encoder.weight": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(zoo.ModelError, match=r"other\.pt do not fit toy_cnn: \d+ missing keys .*unexpected keys \(encoder"):
        zoo.load("toy_cnn", weights=tmp_path / "other.pt")
    state = zoo.load("toy_cnn").state_dict()
    state["features.4.weight"] = torch.zeros(16, 128, 1, 1)
    torch.save(state, tmp_path / "shape.pt")
    with pytest.raises(zoo.ModelError, match=r"features\.4\.weight: file \(16, 128, 1, 1\) vs model \(32, 128, 1, 1\)"):
        zoo.load("toy_cnn", weights=tmp_path / "shape.pt")


def test_video_qa_head_checkpoint_of_other_sizes_names_the_tensor(tmp_path):
    torch.manual_seed(0)
    trained = zoo.load("video_qa", **SMALL)
    torch.save(trained.head.state_dict(), tmp_path / "head.pt")
    with pytest.raises(zoo.ModelError, match=r"head\.pt .*embedding\.\S+: file \(6, 8\) vs model \(9, 8\)"):
        zoo.load("video_qa", **{**SMALL, "question_vocab_size": 9}, weights=tmp_path / "head.pt")
