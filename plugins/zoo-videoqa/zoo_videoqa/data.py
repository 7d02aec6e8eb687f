"""What every video-QA dataset offers, and turning questions and answers into integer ids.

A dataset is a list of (clip, question, answer) rows over ``num_clips`` clips, where ``clip(i)`` decodes
or draws the frames of one clip on demand, (T, H, W, 3) uint8. Several questions share a clip, so a
frozen backbone sees each clip once (see ``zoo.utils.FeatureCache``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import zoo
from zoo.plugin import checked_index, checked_range

PAD, OOV = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class QA:
    """One question about one clip; ``where`` names the source row for error messages."""

    clip: int
    question: str
    answer: str
    kind: str
    where: str


class VideoQADataset:
    """Base of the video-QA datasets: ``qa`` rows, ``clip(i)`` frames, a ``fingerprint`` of the pixels."""

    name: str
    split: str
    frames: int
    size: int
    qa: list[QA]

    @property
    def num_clips(self) -> int:
        raise NotImplementedError

    def clip(self, index: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        """Changes whenever any clip's pixels would change (config, files, generator version)."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.qa)

    def __getitem__(self, index: int | slice) -> Any:
        """``(clip frames, question, answer)`` of row ``index``; a slice gives the list of those items, as
        zoo's in-memory datasets do (not a list of rows, which has no frames)."""
        if isinstance(index, slice):
            return [self[i] for i in checked_range(index, len(self), f"{self.name} dataset")]
        row = self.qa[checked_index(index, len(self), f"{self.name} dataset", items="questions")]
        return self.clip(row.clip), row.question, row.answer

    def _clip_index(self, index: Any) -> int:
        """A clip index as an int in 0..num_clips-1 (negative ones count from the end, as for a list)."""
        split = f" {self.split}" if self.split is not None else ""
        return checked_index(index, self.num_clips, f"{self.name}{split} dataset", slices=False, items="clips")

    def clip_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """All clips in order, ``batch_size`` at a time, as (B, T, H, W, 3) uint8: streamed, never all at once."""
        check_count(f"{self.name}.clip_batches", "batch_size", batch_size, 1)
        return self._clip_batches(int(batch_size))

    def _clip_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        # A generator of its own, so that a wrong batch_size fails at the call, not at the first next().
        for start in range(0, self.num_clips, batch_size):
            stop = min(start + batch_size, self.num_clips)
            yield np.stack([self.clip(i) for i in range(start, stop)])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, clips={self.num_clips}, questions={len(self.qa)}, "
            f"frames={self.frames}, size={self.size})"
        )


def check_count(owner: str, name: str, value: Any, minimum: int) -> None:
    """A whole-number setting (clips, frames, size, seed, batch size) of at least ``minimum``: a bool, a
    float or a string is refused rather than read as a number, and one too small is named with its limit
    rather than failing later inside numpy or the video decoder."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise zoo.OptionError(f"{owner} needs an integer {name} >= {minimum}; got {name}={value!r}.")


def tokenize(text: str) -> list[str]:
    """Lower-case words; punctuation dropped (``"What colour?"`` -> ``["what", "colour"]``)."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Words <-> ids. Id 0 pads (Keras ``mask_zero``); for questions id 1 stands for unknown words."""

    def __init__(self, words: Iterable[str], *, unknown: bool = True):
        self.unknown = unknown
        specials = [PAD, OOV] if unknown else []
        self.words: list[str] = specials + [w for w in dict.fromkeys(words) if w not in specials]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def for_questions(cls, questions: Iterable[str]) -> Vocabulary:
        counts = Counter(w for q in questions for w in tokenize(q))
        return cls(sorted(counts))

    @classmethod
    def for_answers(cls, answers: Iterable[str]) -> Vocabulary:
        return cls(sorted(set(answers)), unknown=False)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode_question(self, question: str, length: int, *, where: str = "question") -> np.ndarray:
        """Word ids, padded/truncated at the front like Keras ``pad_sequences`` (so the last step is a word)."""
        words = tokenize(question) if isinstance(question, str) else []
        if not words:
            raise zoo.DataError(f"{where}: the question {question!r} is empty; ask a question with at least one word.")
        ids = [self.index.get(w, 1) for w in words][-length:]
        out = np.zeros(length, np.int64)
        out[length - len(ids) :] = ids
        return out

    def encode_answer(self, answer: str, *, where: str = "answer") -> int:
        if answer not in self.index:
            known = ", ".join(self.words[:20]) + (" ..." if len(self.words) > 20 else "")
            raise zoo.DataError(
                f"{where}: the answer {answer!r} is not in the answer vocabulary ({known}); answers must be one "
                "of the answers seen in training, or pass an answer vocabulary that contains it."
            )
        return self.index[answer]

    def to_dict(self) -> dict:
        return {"words": self.words, "unknown": self.unknown}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary:
        vocab = cls([], unknown=False)
        vocab.words, vocab.unknown = list(data["words"]), bool(data["unknown"])
        vocab.index = {w: i for i, w in enumerate(vocab.words)}
        return vocab


def encode(
    dataset: VideoQADataset, questions: Vocabulary, answers: Vocabulary, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clip index, question ids (N, length), answer id) arrays for every row; bad rows raise naming the row."""
    clip_ids = np.array([row.clip for row in dataset.qa], np.int64)
    q = np.stack([questions.encode_question(row.question, length, where=row.where) for row in dataset.qa])
    a = np.array([answers.encode_answer(row.answer, where=row.where) for row in dataset.qa], np.int64)
    return clip_ids, q, a


def majority_baseline(train: Sequence[QA], test: Sequence[QA]) -> dict[str, float]:
    """Accuracy per question kind (and ``"overall"``) of always answering the kind's most common train answer."""
    best = {
        kind: Counter(r.answer for r in train if r.kind == kind).most_common(1)[0][0]
        for kind in {r.kind for r in train}
    }
    out: dict[str, float] = {}
    for kind in sorted({r.kind for r in test}):
        rows = [r for r in test if r.kind == kind]
        out[kind] = sum(r.answer == best.get(kind) for r in rows) / len(rows)
    out["overall"] = sum(r.answer == best.get(r.kind) for r in test) / max(len(test), 1)
    return out
