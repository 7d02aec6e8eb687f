"""``video_qa_folder``: real video-QA data, a folder of video files plus a table of questions.

Layout::

    my_data/
      qa.jsonl            {"video": "clips/a.mp4", "question": "what is the man doing?", "answer": "packing",
                           "split": "train", "type": "action"}          (split and type are optional)
      clips/a.mp4 ...     any container/codec FFmpeg (PyAV) decodes

or ``qa.csv`` with a header row ``video,question,answer[,split,type]``. ``video`` is relative to the
folder (or absolute). Each clip is decoded with PyAV, ``frames`` frames are taken uniformly over its
length and each is resized to ``size`` x ``size`` RGB (as the Keras reference resizes to 150x150).
Every row is checked when the dataset is built, so a missing video, an empty question or an answer
outside ``answers`` fails at once with the file and line; an unreadable video fails when decoded, with
its path.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from zoo_videoqa.data import QA, VideoQADataset, check_count

DECODER_VERSION = 1
REQUIRED = ("video", "question", "answer")


def read_video(path: str | Path, frames: int, size: int) -> np.ndarray:
    """``frames`` frames sampled uniformly over the video, resized to (size, size): (T, size, size, 3) uint8.

    Only the chosen frames are kept while decoding (when the container states its frame count), so a long
    video costs little memory. A video shorter than ``frames`` repeats frames.
    """
    try:
        import av
    except ImportError:  # pragma: no cover - av is in zoo's "video" extra
        raise ImportError("video_qa_folder decodes videos with PyAV: pip install av (or zoo-platform[video]).") from None
    path = Path(path)
    if not path.is_file():
        raise zoo.MissingFileError(f"video file {path} does not exist.")
    kept: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise zoo.DataError(f"{path} has no video stream.")
            total = container.streams.video[0].frames
            wanted = set(np.linspace(0, total - 1, frames).round().astype(int).tolist()) if total > 0 else None
            last = max(wanted) if wanted else None
            for i, frame in enumerate(container.decode(video=0)):
                if wanted is None or i in wanted:
                    kept.append(frame.reformat(width=size, height=size, format="rgb24").to_ndarray())
                if last is not None and i >= last:
                    break
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise zoo.DataError(f"cannot read video {path}: {exc}. Is it a complete video file FFmpeg can decode?") from exc
    if not kept:
        raise zoo.DataError(f"cannot read video {path}: it decodes to no frames.")
    if wanted is not None and len(kept) == len(wanted):
        chosen = [kept[j] for j in np.searchsorted(sorted(wanted), np.linspace(0, total - 1, frames).round())]
    else:  # frame count unknown or overstated: choose among what was decoded
        chosen = [kept[int(j)] for j in np.linspace(0, len(kept) - 1, frames).round()]
    return np.stack(chosen)


def _rows(table: Path) -> list[tuple[int, dict]]:
    """(line number, row) of a qa.jsonl or qa.csv file, with clear errors for malformed lines."""
    rows: list[tuple[int, dict]] = []
    if table.suffix == ".jsonl":
        for number, line in enumerate(table.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise zoo.DataError(f"{table}:{number}: not valid JSON ({exc.msg}).") from None
            if not isinstance(row, dict):
                raise zoo.DataError(f"{table}:{number}: each line must be a JSON object with {', '.join(REQUIRED)}.")
            rows.append((number, row))
    elif table.suffix == ".csv":
        with open(table, newline="", encoding="utf-8-sig") as f:  # -sig: a spreadsheet's BOM
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise zoo.DataError(f"{table}: the header row lacks column(s) {', '.join(missing)}.")
            rows = [(number, row) for number, row in enumerate(reader, 2)]
    else:
        raise zoo.DataError(f"{table}: annotations must be a .jsonl or .csv file.")
    return rows


class VideoQAFolder(VideoQADataset):
    """The ``video_qa_folder`` dataset (see the module docstring for the layout).

    ``split`` keeps the rows whose ``split`` column equals it (``None``: every row). ``answers`` restricts
    answers to a known vocabulary (e.g. the training answers), failing on any row outside it.
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        *,
        frames: int = 8,
        size: int = 112,
        annotations: str | Path | None = None,
        answers: list[str] | None = None,
    ):
        self.root = Path(_path("root", root)).expanduser()
        if split is not None and not isinstance(split, str):
            raise zoo.ArgumentError(
                f"video_qa_folder: split must be a split name such as 'train' (or None: every row); got {split!r}."
            )
        check_count("video_qa_folder", "frames", frames, 1)
        check_count("video_qa_folder", "size", size, 1)
        allowed = _answer_set(answers)
        if not self.root.is_dir():
            raise zoo.MissingFileError(f"video_qa_folder: {self.root} is not a folder.")
        self.table = self._find_table(None if annotations is None else _path("annotations", annotations))
        self.name, self.split, self.frames, self.size = "video_qa_folder", split, int(frames), int(size)
        videos: dict[Path, int] = {}
        self.qa: list[QA] = []
        for number, row in _rows(self.table):
            where = f"{self.table}:{number}"
            missing = [c for c in REQUIRED if not isinstance(row.get(c), str)]
            if missing:
                raise zoo.DataError(f"{where}: the row lacks {', '.join(missing)} (each must be a string).")
            if split is not None and row.get("split", split) != split:
                continue
            question, answer = row["question"].strip(), row["answer"].strip()
            if not question:
                raise zoo.DataError(f"{where}: the question is empty.")
            if not answer:
                raise zoo.DataError(f"{where}: the answer is empty.")
            if allowed is not None and answer not in allowed:
                raise zoo.DataError(
                    f"{where}: the answer {answer!r} is not in the answer vocabulary ({len(allowed)} answers); "
                    "fix the row or add the answer to the vocabulary."
                )
            video = Path(row["video"])
            video = video if video.is_absolute() else self.root / video
            if not video.is_file():
                raise zoo.MissingFileError(f"{where}: video file {video} does not exist.")
            index = videos.setdefault(video, len(videos))
            self.qa.append(QA(index, question, answer, str(row.get("type") or "all"), where))
        if not self.qa:
            wanted = f" with split {split!r}" if split is not None else ""
            raise zoo.DataError(f"{self.table} has no rows{wanted}.")
        self.videos = list(videos)

    def _find_table(self, annotations: str | Path | None) -> Path:
        if annotations is not None:
            table = Path(annotations)
            table = table if table.is_absolute() else self.root / table
            if not table.is_file():
                raise zoo.MissingFileError(f"video_qa_folder: annotations file {table} does not exist.")
            return table
        for name in ("qa.jsonl", "qa.csv"):
            if (self.root / name).is_file():
                return self.root / name
        raise zoo.MissingFileError(f"video_qa_folder: {self.root} has neither qa.jsonl nor qa.csv.")

    @property
    def num_clips(self) -> int:
        return len(self.videos)

    def clip(self, index: int) -> np.ndarray:
        return read_video(self.videos[self._clip_index(index)], self.frames, self.size)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{DECODER_VERSION}|{self.frames}|{self.size}".encode())
        for video in self.videos:
            stat = video.stat()
            digest.update(f"|{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        return "video_qa_folder-" + digest.hexdigest()[:24]


def _path(name: str, value: Any) -> str | os.PathLike:
    if isinstance(value, (str, os.PathLike)) and str(value):
        return value
    raise zoo.ArgumentError(f"video_qa_folder: {name} must be a path (a str or pathlib.Path); got {value!r}.")


def _answer_set(answers: Any) -> set[str] | None:
    """The answer vocabulary as a set. A bare string is refused: iterated it would allow its letters
    (``"red"`` -> r, e, d), failing every row with an answer that is not one of them."""
    if answers is None:
        return None
    if isinstance(answers, str) or not isinstance(answers, Iterable):
        raise zoo.ArgumentError(
            f"video_qa_folder: answers must be a list of answers such as ['red', 'blue']; got {answers!r}. "
            "For one answer, give a list of answers with one item."
        )
    allowed = list(answers)
    odd = [a for a in allowed if not isinstance(a, str)]
    if odd or not allowed:
        what = f"{odd[0]!r} is not a string" if odd else "it is empty, so no row could pass"
        raise zoo.ArgumentError(f"video_qa_folder: give a list of answers (strings); {what}.")
    return set(allowed)
