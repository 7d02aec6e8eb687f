"""video_qa_folder on real (tiny) video files written with PyAV, and its errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from zoo_videoqa.data import Vocabulary, encode
from zoo_videoqa.folder import read_video

import zoo

pytest.importorskip("av")


def test_loads_videos_and_questions_through_the_registry(qa_folder):
    train = zoo.get("datasets", "video_qa_folder", qa_folder, "train", frames=4, size=16)
    assert train.num_clips == 2 and len(train) == 3
    clip, question, answer = train[0]
    assert clip.shape == (4, 16, 16, 3) and clip.dtype == np.uint8
    assert (question, answer) == ("What is the man doing?", "packing")
    test = zoo.get("datasets", "video_qa_folder", qa_folder, "test", frames=4, size=16)
    assert [r.answer for r in test.qa] == ["blue"] and test.num_clips == 1


def test_frames_are_sampled_uniformly_over_the_whole_video(qa_folder):
    clip = read_video(qa_folder / "clips" / "a.mp4", frames=4, size=8)  # 12 frames: picks 0, 4, 7, 11
    brightness = clip.reshape(4, -1).mean(1)
    expected = 10 + 20 * np.array([0, 4, 7, 11])
    assert np.all(np.abs(brightness - expected) < 8), brightness
    short = read_video(qa_folder / "clips" / "b.mp4", frames=8, size=8)  # 5 frames -> repeats
    assert short.shape == (8, 8, 8, 3)
    assert np.all(np.diff(short.reshape(8, -1).mean(1)) >= -1)  # still in time order


def test_csv_annotations(qa_folder):
    (qa_folder / "qa.jsonl").unlink()
    (qa_folder / "qa.csv").write_text("video,question,answer\nclips/a.mp4,what is he doing?,packing\n")
    data = zoo.get("datasets", "video_qa_folder", qa_folder)
    assert data.qa[0].answer == "packing" and data.qa[0].where.endswith("qa.csv:2")
    # a spreadsheet's export starts with a byte-order mark: the header must still read "video"
    (qa_folder / "qa.csv").write_text("\ufeffvideo,question,answer\nclips/a.mp4,what?,packing\n", encoding="utf-8")
    assert zoo.get("datasets", "video_qa_folder", qa_folder).qa[0].question == "what?"


def test_fingerprint_follows_the_files(qa_folder, write_video):
    data = zoo.get("datasets", "video_qa_folder", qa_folder, frames=4, size=16)
    before = data.fingerprint
    assert zoo.get("datasets", "video_qa_folder", qa_folder, frames=4, size=16).fingerprint == before
    assert zoo.get("datasets", "video_qa_folder", qa_folder, frames=5, size=16).fingerprint != before
    write_video(qa_folder / "clips" / "b.mp4", frames=7)  # the pixels change: so must the fingerprint
    assert zoo.get("datasets", "video_qa_folder", qa_folder, frames=4, size=16).fingerprint != before


def _write_rows(root, rows):
    (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize(
    ("second_row", "error", "match"),
    [({"video": "clips/nope.mp4", "question": "q?"}, FileNotFoundError, r"qa\.jsonl:2.*nope\.mp4"),
     ({"video": "clips/a.mp4", "question": "   "}, ValueError, r"qa\.jsonl:2: the question is empty")],
    ids=["missing video", "empty question"],
)  # fmt: skip
def test_a_bad_row_is_named(qa_folder, second_row, error, match):
    _write_rows(qa_folder, [{"video": "clips/a.mp4", "question": "q?", "answer": "x"}, {**second_row, "answer": "x"}])
    with pytest.raises(error, match=match):
        zoo.get("datasets", "video_qa_folder", qa_folder)


def test_unreadable_video_names_the_file(qa_folder):
    (qa_folder / "clips" / "broken.mp4").write_bytes(b"this is not a video" * 20)
    _write_rows(qa_folder, [{"video": "clips/broken.mp4", "question": "q?", "answer": "x"}])
    data = zoo.get("datasets", "video_qa_folder", qa_folder)
    with pytest.raises(ValueError, match=r"cannot read video .*broken\.mp4"):
        data.clip(0)


def test_answer_outside_the_vocabulary_names_the_row(qa_folder):
    with pytest.raises(ValueError, match=r"qa\.jsonl:3: the answer 'running' is not in the answer vocabulary"):
        zoo.get("datasets", "video_qa_folder", qa_folder, answers=["packing", "blue"])
    # ... and when encoding a split against the training vocabulary
    train = zoo.get("datasets", "video_qa_folder", qa_folder, "train")
    _write_rows(qa_folder, [{"video": "clips/a.mp4", "question": "what?", "answer": "red", "split": "test"}])
    test = zoo.get("datasets", "video_qa_folder", qa_folder, "test")
    questions = Vocabulary.for_questions(r.question for r in train.qa)
    answers = Vocabulary.for_answers(r.answer for r in train.qa)
    with pytest.raises(ValueError, match=r"qa\.jsonl:1: the answer 'red' is not in the answer vocabulary"):
        encode(test, questions, answers, 8)


def test_malformed_rows(qa_folder):
    (qa_folder / "qa.jsonl").write_text('{"video": "clips/a.mp4", "question": "q"}\n')
    with pytest.raises(ValueError, match=r"qa\.jsonl:1: the row lacks answer"):
        zoo.get("datasets", "video_qa_folder", qa_folder)
    (qa_folder / "qa.jsonl").write_text("not json\n")
    with pytest.raises(ValueError, match=r"qa\.jsonl:1: not valid JSON"):
        zoo.get("datasets", "video_qa_folder", qa_folder)
    with pytest.raises(FileNotFoundError, match="neither qa.jsonl nor qa.csv"):
        zoo.get("datasets", "video_qa_folder", qa_folder / "clips")
