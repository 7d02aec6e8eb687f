"""``torch.utils.data.Dataset`` views of loaded splits, for ``zoo.datasets.load(..., as_dataset=True)``.

They index the (memory-mapped) tensors lazily, so a DataLoader streams a large set from the page cache
instead of holding a transformed copy of it. Every index goes through :func:`checked_index`, so a wrong one
is a zoo error rather than whatever the underlying tensor or list happens to raise.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.errors import ArgumentError, DataError, DataIndexError


def checked_index(index: Any, size: int, what: str) -> int:
    """``index`` as an int in ``0..size-1``, negative counting from the end (as a Python list). One out of
    range is a ``DataIndexError``, an ``IndexError``, so ``for item in dataset`` still ends at the last
    item; anything that is not one whole number is an ``ArgumentError`` (a ``TypeError``, as ``list["a"]``)
    instead of a tensor's fancy indexing silently returning a batch."""
    position = None
    a_batch = isinstance(index, torch.Tensor) and (index.ndim > 0 or index.dtype == torch.bool)
    if not isinstance(index, bool) and not a_batch:
        with contextlib.suppress(TypeError):
            position = operator.index(index)  # an int, a numpy integer, a 0-d integer tensor
    if position is None:
        several = hasattr(index, "__len__") and not isinstance(index, str)
        hint = " For several items by position use torch.utils.data.Subset(dataset, indices)." if several else ""
        raise ArgumentError(
            f"the index of a {what} must be an integer or a slice; got {index!r} ({type(index).__name__}).{hint}"
        )
    if not -size <= position < size:
        span = f"use 0..{size - 1} (or -{size}..-1)" if size else "it has no items"
        raise DataIndexError(f"index {position} is out of range for a {what} of {size} items: {span}.")
    return position % size


def checked_range(index: slice, size: int, what: str) -> range:
    """The positions a slice takes, as a list's slice would (bounds past the end are clipped)."""
    try:
        return range(*index.indices(size))
    except (TypeError, ValueError) as exc:  # a zero step, bounds that are not integers
        raise ArgumentError(f"cannot slice a {what} with {index!r}: {exc}.") from None


class TensorPairDataset(Dataset):
    """``(transform(x[i]), target_transform(y[i]))`` over two tensors of equal length."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if len(x) != len(y):
            raise DataError(f"x has {len(x)} items but y has {len(y)}.")
        self.x, self.y = x, y
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int | slice) -> Any:
        """Item ``index``; a slice gives the list of those items, each transformed as one item is (not a
        batch through the transforms, which are written for single samples)."""
        if isinstance(index, slice):
            return [self._item(i) for i in checked_range(index, len(self), "dataset")]
        return self._item(checked_index(index, len(self), "dataset"))

    def _item(self, index: int) -> tuple[Any, Any]:
        x, y = self.x[index], self.y[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


class SequenceDataset(TensorPairDataset):
    """Word-index sequences of varying length: item ``i`` is ``(int64 tensor of the words, label)``.

    Batch them with ``collate_fn=zoo.datasets.pad_collate`` (or a transform that pads to a fixed length)."""

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        y: torch.Tensor,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if len(sequences) != len(y):
            raise DataError(f"{len(sequences)} sequences but {len(y)} labels.")
        self.x, self.y = sequences, y
        self.transform, self.target_transform = transform, target_transform

    def _item(self, index: int) -> tuple[Any, Any]:
        x, y = torch.as_tensor(self.x[index], dtype=torch.int64), self.y[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


def pad_collate(batch: Sequence[tuple[torch.Tensor, Any]], *, value: int = 0) -> tuple[torch.Tensor, Any]:
    """A DataLoader ``collate_fn`` padding a batch of sequences at the front, as Keras' ``pad_sequences``."""
    from torch.utils.data import default_collate

    xs, ys = zip(*batch, strict=True)
    maxlen = max((len(x) for x in xs), default=0)
    out = torch.full((len(xs), maxlen), value, dtype=torch.int64)
    for i, x in enumerate(xs):
        if len(x):
            out[i, maxlen - len(x) :] = x
    return out, default_collate(list(ys))
