"""``pad_sequences`` with Keras semantics (numpy in, numpy out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.errors import DataError, OptionError


def pad_sequences(
    sequences: Sequence[Sequence[Any]],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or cut) each sequence to ``maxlen`` (default: the longest) and stack them: ``(N, maxlen, ...)``.

    As in Keras, ``padding`` and ``truncating`` default to ``"pre"`` (pad and cut at the front, keeping
    the end of long sequences); ``"post"`` works at the end. Sequences of vectors keep their inner shape.
    An ``Embedding(mask_zero=True)`` followed by a zoo recurrent layer gives the same result for either
    padding side.
    """
    if padding not in ("pre", "post"):
        raise OptionError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}.")
    if truncating not in ("pre", "post"):
        raise OptionError(f"pad_sequences: truncating must be 'pre' or 'post', got {truncating!r}.")
    if not hasattr(sequences, "__len__"):
        raise DataError("pad_sequences: sequences must be a list of sequences.")
    lengths, sample_shape = [], None
    for i, seq in enumerate(sequences):
        if not hasattr(seq, "__len__"):
            raise DataError(f"pad_sequences: sequences must be a list of sequences; item {i} is {seq!r}.")
        lengths.append(len(seq))
        if sample_shape is None and len(seq):
            sample_shape = np.asarray(seq).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if maxlen < 0:
        raise OptionError(f"pad_sequences: maxlen must be >= 0, got {maxlen}.")
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise OptionError(
            f"pad_sequences: dtype {dtype!r} cannot hold the padding value {value!r}; use dtype=object."
        )
    out = np.full((len(lengths), maxlen, *sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise DataError(
                f"pad_sequences: sequence {i} has items of shape {kept.shape[1:]}, the first had {sample_shape}."
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, maxlen - len(kept) :] = kept
    return out
