"""Wrong arguments to the video-QA datasets and to examples/video_qa.py are refused with zoo errors that
say what to give instead: unknown keywords with the closest one, sizes that cannot be, a bare string for
a list of answers; the example's flags out of range or not applying to --data are one line, exit 1."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "video_qa.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("video_qa_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy():
    return zoo.get("datasets", "toy_video_qa", "train", clips=3, frames=2, size=16)


# -- datasets --------------------------------------------------------------------------------------------
def test_an_unknown_keyword_names_the_closest(qa_folder):
    with pytest.raises(zoo.ArgumentError, match=r"toy_video_qa' takes no keyword 'clip'. Did you mean 'clips'\?"):
        zoo.get("datasets", "toy_video_qa", "train", clip=10)
    with pytest.raises(zoo.ArgumentError, match=r"video_qa_folder' takes no keyword 'frame'. Did you mean 'frames'\?"):
        zoo.get("datasets", "video_qa_folder", qa_folder, frame=4)


def test_a_slice_gives_the_items(toy):
    items = toy[0:2]
    assert len(items) == 2
    for (clip, question, answer), i in zip(items, (0, 1), strict=True):
        expected = toy[i]
        assert np.array_equal(clip, expected[0]) and (question, answer) == expected[1:]
    assert [item[2] for item in toy[::-3]] == [toy[i][2] for i in (8, 5, 2)]
    with pytest.raises(zoo.ArgumentError, match="cannot slice a toy_video_qa dataset"):
        toy[::0]
    with pytest.raises(zoo.ArgumentError, match="must be an integer"):
        toy["0"]
    assert [row.answer for row in toy.qa[1:3]] == [toy.qa[1].answer, toy.qa[2].answer]
    with pytest.raises(zoo.ArgumentError, match="cannot slice a toy_video_qa question table .* step cannot be zero"):
        toy.qa[::0]  # was a bare ValueError
    with pytest.raises(zoo.ArgumentError, match="cannot slice a toy_video_qa question table"):
        toy.qa["a":]


@pytest.mark.parametrize(("size", "error"), [(0, zoo.OptionError), (-1, zoo.OptionError), (2.5, zoo.OptionError),
                                              (True, zoo.OptionError)])  # fmt: skip
def test_clip_batches_refuses_a_batch_size_that_is_not_one(toy, size, error):
    with pytest.raises(error, match=rf"integer batch_size >= 1; got batch_size={size!r}"):
        toy.clip_batches(size)  # at the call, not at the first next()


def test_clip_batches_streams_every_clip(toy):
    assert [b.shape[0] for b in toy.clip_batches(2)] == [2, 1]


@pytest.mark.parametrize(("options", "match"), [({"frames": 0}, "integer frames >= 1; got frames=0"),
                                                ({"frames": -3}, "integer frames >= 1; got frames=-3"),
                                                ({"size": 0}, "integer size >= 1; got size=0"),
                                                ({"size": 8.0}, "integer size >= 1; got size=8.0")])  # fmt: skip
def test_folder_sizes_are_checked_before_any_video_is_read(qa_folder, options, match):
    with pytest.raises(zoo.OptionError, match=match):
        zoo.get("datasets", "video_qa_folder", qa_folder, **options)


def test_folder_answers_must_be_a_list(qa_folder):
    with pytest.raises(zoo.ArgumentError, match=r"answers must be a list of answers .*got 'red'.*give a list of answers"):
        zoo.get("datasets", "video_qa_folder", qa_folder, answers="red")
    with pytest.raises(zoo.ArgumentError, match="give a list of answers"):
        zoo.get("datasets", "video_qa_folder", qa_folder, answers=[])
    with pytest.raises(zoo.ArgumentError, match="give a list of answers"):
        zoo.get("datasets", "video_qa_folder", qa_folder, answers=["blue", 3])
    data = zoo.get("datasets", "video_qa_folder", qa_folder, answers=("packing", "blue", "running"))
    assert len(data) == 4


def test_folder_paths_and_indices_are_checked(qa_folder):
    with pytest.raises(zoo.ArgumentError, match="root must be a path"):
        zoo.get("datasets", "video_qa_folder", 5)
    with pytest.raises(zoo.ArgumentError, match="annotations must be a path"):
        zoo.get("datasets", "video_qa_folder", qa_folder, annotations=3)
    data = zoo.get("datasets", "video_qa_folder", qa_folder, "train", frames=2, size=8)
    with pytest.raises(zoo.DataIndexError, match=r"video_qa_folder train dataset of 2 clips: use 0\.\.1"):
        data.clip(2)
    assert [item[2] for item in data[1:]] == ["blue", "running"]


# -- the example's command line -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),
        (["--batch-size", "0"], "argument --batch-size: expected a whole number >= 1, got '0'"),
        (["--question-length", "0"], "argument --question-length: expected a whole number >= 1, got '0'"),
        (["--question-length", "-1"], "argument --question-length: expected a whole number >= 1, got '-1'"),
        (["--train-clips", "many"], "argument --train-clips: expected a whole number >= 1, got 'many'"),
        (["--lr", "nan"], "argument --lr: expected a finite number > 0"),
        (["--seed", "-1"], "argument --seed: expected a whole number >= 0"),
        (["--head", "tiny"], "argument --head: invalid choice: 'tiny' (choose from 'reference', 'small')"),
        (["--data", "somewhere", "--train-clips", "1", "--test-clips", "2"],
         "--train-clips, --test-clips only size the synthetic toy_video_qa splits; --data somewhere"),
        (["ask", "--clip", "-1", "what?"], "argument --clip: expected a whole number >= 0, got '-1'"),
        (["ask", "--clip", "0", "what?", "--out", "nowhere"], "video_qa.json not found; train first"),
    ],
)
def test_bad_flags_are_one_line_and_exit_1(example, capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert example.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_seed_applies_with_data_and_the_toy_clip_counts_do_not(example):
    args = example.parse(["--data", "somewhere", "--seed", "5"])  # it seeds initialisation and batch order
    assert args.seed == 5 and args.train_clips is None
    assert example.parse([]).train_clips == 1000


def test_the_head_follows_the_backbone_unless_given(example):
    from zoo_videoqa.model import HEAD_SIZES, REFERENCE_HEAD, video_qa

    assert example.parse([]).head == "small"  # the toy setting: a head sized to toy_cnn's 32 features
    assert example.parse(["--backbone", "Toy-CNN"]).head == "small"
    assert example.parse(["--backbone", "inception_v3"]).head == "reference"
    assert example.parse(["--head", "reference"]).head == "reference"
    assert example.HEAD_SIZES is HEAD_SIZES
    defaults = {k: p.default for k, p in inspect.signature(video_qa).parameters.items()}
    assert {k: defaults[k] for k in REFERENCE_HEAD.options()} == {
        "video_units": 256, "embed_dim": 256, "question_units": 128, "hidden_units": 128,
    }  # the application itself stays the Keras reference  # fmt: skip
    small = zoo.load("video_qa", backbone="toy_cnn", backbone_weights=None, question_vocab_size=20, num_answers=16,
                     frame_size=32, **HEAD_SIZES["small"].options())  # fmt: skip
    assert (small.head.video_lstm.units, small.head.question_lstm.units) == (64, 32)
    assert small.head.embedding.state_dict()["embedding.weight"].shape == (20, 64)
    assert small.config["hidden_units"] == 64 and small.config["embed_dim"] == 64


_RUN = {"dataset": "toy_video_qa", "frames": 2, "size": 16, "backbone": "toy_cnn", "backbone_weights": None,
        "question_length": 4, "questions": {"words": ["<pad>", "what"], "unknown": True},
        "answers": {"words": ["red"], "unknown": False}, "checkpoint": "pretrained.pt",
        "clips": {"train": 1, "validation": 1, "test": 1}, "seed": 0}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "video_qa.json is not the JSON a training run writes"),
        ("[1, 2]", "video_qa.json holds a list, not a training run's settings"),
        (json.dumps({k: v for k, v in _RUN.items() if k not in ("checkpoint", "seed")}), "lacks checkpoint, seed; train again"),
        (json.dumps({**_RUN, "head": "tiny"}), "names the head 'tiny'; zoo_videoqa knows reference, small"),
        (json.dumps({**_RUN, "head": ["small"], "checkpoint": 5}), "holds checkpoint, head of another form"),
        (json.dumps({**_RUN, "clips": {"train": 3}}), "holds clips of another form than training writes"),
        (json.dumps({**_RUN, "dataset": "toy_videoqa"}), "names the dataset 'toy_videoqa'; a run uses toy_video_qa or"),
        (json.dumps({**_RUN, "questions": {"words": 5, "unknown": True}}), "holds vocabularies training did not"),
        (json.dumps({**_RUN, "answers": {"words": []}}), "holds vocabularies training did not write"),
    ],
)  # fmt: skip
def test_ask_names_what_is_wrong_with_a_runs_settings(example, capsys, tmp_path, text, message):
    (tmp_path / "video_qa.json").write_text(text)
    assert example.main(["ask", "--clip", "0", "what?", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_an_out_folder_that_is_a_file_is_one_line(example, capsys, tmp_path):
    (tmp_path / "afile").write_text("")
    assert example.main(["--out", str(tmp_path / "afile"), "--epochs", "1"]) == 1  # was FileExistsError
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and "is a file; give the folder" in err and err.count("\n") == 1, err


def test_a_run_recorded_before_the_head_was_reads_as_the_reference(example, tmp_path):
    (tmp_path / "video_qa.json").write_text(json.dumps(_RUN))
    assert example.run_settings(tmp_path / "video_qa.json")["head"] == "reference"


def test_the_script_exits_1_with_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "0"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("error: argument --epochs") and "Traceback" not in done.stderr


def test_trains_on_a_folder(example, tmp_path, write_video, monkeypatch, capsys):
    pytest.importorskip("av")
    root = tmp_path / "videos"
    root.mkdir()
    rows = []
    for i, split in enumerate(["train", "train", "validation", "test"]):
        write_video(root / f"{i}.mp4", frames=4)
        for question, answer in (("what is it?", "cube" if i % 2 else "ball"), ("what colour?", "red")):
            rows.append({"video": f"{i}.mp4", "question": question, "answer": answer, "split": split})
    (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    argv = ["--data", str(root), "--frames", "2", "--size", "16", "--epochs", "1", "--no-random", "--quiet",
            "--seed", "3", "--out", str(out)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["video_qa.py"])
    assert example.main(argv) == 0, capsys.readouterr().err
    config = json.loads((out / "video_qa.json").read_text())
    assert config["dataset"] == "video_qa_folder" and config["clips"] is None and config["seed"] == 3
