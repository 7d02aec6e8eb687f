"""Fixtures of the video-QA tests: tiny real video files written with PyAV, and a tiny QA folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def _write_video(path: Path, frames: int = 12, size: tuple[int, int] = (48, 64), codec: str = "mpeg4") -> Path:
    """A real video whose frame i is a flat grey of brightness 10 + 20 * i (so sampling is checkable)."""
    av = pytest.importorskip("av")
    height, width = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), 10 + 20 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def write_video():
    """``write_video(path, frames=12, size=(48, 64))`` writes a real mpeg4 file with PyAV."""
    return _write_video


@pytest.fixture
def qa_folder(tmp_path: Path) -> Path:
    """Two videos, three questions each over train/test splits, as qa.jsonl."""
    root = tmp_path / "qa_data"
    (root / "clips").mkdir(parents=True)
    _write_video(root / "clips" / "a.mp4", frames=12)
    _write_video(root / "clips" / "b.mp4", frames=5)
    rows = [
        {"video": "clips/a.mp4", "question": "What is the man doing?", "answer": "packing", "split": "train"},
        {"video": "clips/a.mp4", "question": "What color is his shirt?", "answer": "blue", "split": "train"},
        {"video": "clips/b.mp4", "question": "What is the man doing?", "answer": "running", "split": "train"},
        {"video": "clips/b.mp4", "question": "What color is his shirt?", "answer": "blue", "split": "test"},
    ]
    (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root
