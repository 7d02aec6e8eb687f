"""The hooks zoo calls. Torch-free: targets are lazy "module:attr" strings, metadata is plain data."""

from __future__ import annotations

import json
from pathlib import Path

import zoo

_WEIGHTS = Path(__file__).parent / "weights"


def _toy_weights() -> dict[str, dict]:
    """The packaged variants, described with the keys zoo's own applications use."""
    table = {}
    for meta_file in sorted(_WEIGHTS.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        size = meta["input_size"][-1]
        table[meta["variant"]] = {
            "filename": meta["file"],
            "sha256": meta["sha256"],
            "size": meta["file_size"],
            "file_size_mb": round(meta["file_size"] / 1e6, 3),
            "num_classes": len(meta["categories"]),
            "preprocessing": {"resize": size, "crop": size, "mean": meta["mean"], "std": meta["std"],
                              "interpolation": "bilinear", "antialias": True},  # fmt: skip
            "metrics": {"toy frames": meta["metrics"]},
            "num_params": meta["num_params"],
            "trained_on": meta["trained_on"],
            "recipe": meta["command"],
        }
    return table


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
    weights = _toy_weights()
    default = weights.get("toy_shapes", {})
    register(
        "toy_cnn",
        "zoo_videoqa.backbone:toy_cnn",
        description="1 MB CoordConv CNN pretrained on synthetic toy frames (colour, shape, position, size, "
        "orientation); weights ship in the package, no download",
        architecture="toy_cnn",
        family="toy_cnn",
        pretrained=bool(weights),
        default_weights="toy_shapes" if weights else None,
        weights=weights,
        num_params=default.get("num_params"),
        min_size=[8, 8],
        input_size=32,
        file_size_mb=default.get("file_size_mb"),
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
