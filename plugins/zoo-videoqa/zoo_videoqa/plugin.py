"""The hooks zoo calls. Torch-free: targets are lazy "module:attr" strings, metadata is plain data."""

from __future__ import annotations

import json
from pathlib import Path

import zoo

_WEIGHTS = Path(__file__).parent / "weights"


def _toy_weights() -> dict[str, dict]:
    table = {}
    for meta_file in sorted(_WEIGHTS.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        table[meta["variant"]] = {k: meta[k] for k in ("file", "sha256", "file_size", "num_params", "metrics")}
    return table


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "video_qa",
        "zoo_videoqa.model:video_qa",
        description="Keras video-QA reference: frozen per-frame CNN -> LSTM(256), question -> Embedding -> "
        "LSTM(128), concatenate -> Dense(128, relu) -> Dense(answers, softmax)",
        task="video question answering",
        weights={},
    )
    register(
        "toy_cnn",
        "zoo_videoqa.backbone:toy_cnn",
        description="1 MB CoordConv CNN pretrained on synthetic toy frames (colour, shape, position, size, "
        "orientation); weights ship in the package, no download",
        task="image classification / frame features",
        input_size=[3, 32, 32],
        weights=_toy_weights(),
    )


@zoo.hookimpl
def zoo_register_datasets(register):
    register(
        "toy_video_qa",
        "zoo_videoqa.toy:load_toy_video_qa",
        description="synthetic clips of a coloured shape acting on clutter, 3 question types, one-word "
        "answers; drawn on the fly from (seed, index)",
        splits=["train", "validation", "test"],
        offline=True,
    )
    register(
        "video_qa_folder",
        "zoo_videoqa.folder:load_video_qa_folder",
        description="a folder of video files plus qa.jsonl/qa.csv of (video, question, answer), decoded with PyAV",
        offline=True,
    )
