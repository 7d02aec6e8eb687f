"""Keras' processing of the imdb and reuters word-index sequences, step for step.

Follows keras/src/datasets/imdb.py and reuters.py exactly, including two of their quirks, so that results
match Keras for the same options:

* ``maxlen`` keeps only sequences *shorter* than ``maxlen`` (after ``start_char`` is prepended); longer
  ones are dropped with their labels, not truncated.
* with ``num_words=None`` the cut-off is the largest index seen, and the test is ``w < num_words``, so
  that one largest index becomes ``oov_char`` too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.errors import OptionError

Seqs = list[list[int]]


def shuffled(rng: np.random.RandomState, xs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return xs[indices], labels[indices]


def offset(xs: Sequence[Sequence[int]], start_char: int | None, index_from: int) -> Seqs:
    if start_char is not None:
        return [[start_char] + [int(w) + index_from for w in x] for x in xs]
    return [[int(w) + index_from for w in x] for x in xs]


def remove_long(maxlen: int, xs: Seqs, labels: Sequence) -> tuple[Seqs, list]:
    kept = [(x, y) for x, y in zip(xs, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def restrict_vocabulary(xs: Seqs, num_words: int | None, skip_top: int, oov_char: int | None) -> Seqs:
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def check_options(num_words: int | None, skip_top: int, maxlen: int | None, index_from: int) -> None:
    for name, value in (("num_words", num_words), ("maxlen", maxlen)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise OptionError(f"{name} must be a non-negative int or None, got {value!r}.")
    for name, value in (("skip_top", skip_top), ("index_from", index_from)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OptionError(f"{name} must be a non-negative int, got {value!r}.")


def imdb(
    arrays: dict[str, np.ndarray],
    *,
    num_words: int | None,
    skip_top: int,
    maxlen: int | None,
    seed: int,
    start_char: int | None,
    oov_char: int | None,
    index_from: int,
) -> tuple[tuple[Seqs, np.ndarray], tuple[Seqs, np.ndarray]]:
    check_options(num_words, skip_top, maxlen, index_from)
    rng = np.random.RandomState(seed)
    x_train, labels_train = shuffled(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = shuffled(rng, arrays["x_test"], arrays["y_test"])
    train, test = offset(x_train, start_char, index_from), offset(x_test, start_char, index_from)
    if maxlen:
        train, labels_train = remove_long(maxlen, train, labels_train)
        test, labels_test = remove_long(maxlen, test, labels_test)
        if not train or not test:
            raise OptionError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                "Increase maxlen."
            )
    xs = restrict_vocabulary(train + test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    idx = len(train)
    return (xs[:idx], labels[:idx]), (xs[idx:], labels[idx:])


def reuters(
    arrays: dict[str, np.ndarray],
    *,
    num_words: int | None,
    skip_top: int,
    maxlen: int | None,
    test_split: float,
    seed: int,
    start_char: int | None,
    oov_char: int | None,
    index_from: int,
) -> tuple[tuple[Seqs, np.ndarray], tuple[Seqs, np.ndarray]]:
    check_options(num_words, skip_top, maxlen, index_from)
    check_split(test_split, upper_inclusive=True)
    rng = np.random.RandomState(seed)
    xs, labels = shuffled(rng, arrays["x"], arrays["y"])
    seqs = offset(xs, start_char, index_from)
    if maxlen:
        seqs, labels = remove_long(maxlen, seqs, labels)
    seqs = restrict_vocabulary(seqs, num_words, skip_top, oov_char)
    labels = np.asarray(labels)
    idx = int(len(seqs) * (1 - test_split))
    return (seqs[:idx], labels[:idx]), (seqs[idx:], labels[idx:])


def check_split(test_split: float, *, upper_inclusive: bool = False) -> None:
    number = not isinstance(test_split, bool) and isinstance(test_split, (int, float))
    if not number or not (0 <= test_split <= 1 if upper_inclusive else 0 <= test_split < 1):
        bound = "]" if upper_inclusive else ")"
        raise OptionError(f"test_split must be a fraction in [0, 1{bound}, got {test_split!r}.")
