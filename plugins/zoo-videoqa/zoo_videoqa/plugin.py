"""The hooks zoo calls. Torch-free: targets are lazy "module:attr" strings, metadata is plain data."""

from __future__ import annotations

import zoo
from zoo_videoqa.variants import DEFAULT_WEIGHTS, MIN_SIZE, variants


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "video_qa",
        "zoo_videoqa.model:video_qa",
        description="Keras video-QA reference: frozen per-frame CNN -> LSTM(256), question -> Embedding -> "
        "LSTM(128), concatenate -> Dense(128, relu) -> Dense(answers, softmax)",
        task="video question answering",
        pretrained=False,
        weights={},
    )
    weights = variants()
    default = weights.get(DEFAULT_WEIGHTS, {})
    register(
        "toy_cnn",
        "zoo_videoqa.backbone:toy_cnn",
        description="1 MB CoordConv CNN pretrained on synthetic toy frames (colour, shape, position, size, "
        "orientation); weights ship in the package, no download",
        architecture="toy_cnn",
        family="toy_cnn",
        pretrained=bool(weights),
        default_weights=DEFAULT_WEIGHTS if weights else None,
        weights=weights,
        num_params=default.get("num_params"),
        min_size=list(MIN_SIZE),
        input_size=default.get("preprocessing", {}).get("crop"),
        file_size_mb=default.get("file_size_mb"),
        options=("weights", "include_top", "pooling", "num_classes", "trainable", "progress"),
    )


@zoo.hookimpl
def zoo_register_datasets(register):
    register(
        "toy_video_qa",
        "zoo_videoqa.toy:ToyVideoQA",
        description="synthetic clips of a coloured shape acting on clutter, 3 question types, one-word "
        "answers; drawn on the fly from (seed, index)",
        splits=["train", "validation", "test"],
        offline=True,
    )
    register(
        "video_qa_folder",
        "zoo_videoqa.folder:VideoQAFolder",
        description="a folder of video files plus qa.jsonl/qa.csv of (video, question, answer), decoded with PyAV",
        offline=True,
    )
