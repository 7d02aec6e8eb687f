"""``torch.utils.data.Dataset`` views of loaded splits, for ``zoo.datasets.load(..., as_dataset=True)``.

They index the (memory-mapped) tensors lazily, so a DataLoader streams a large set from the page cache
instead of holding a transformed copy of it. Every index goes through :func:`checked_index`, so a wrong one
is a zoo error rather than whatever the underlying tensor or list happens to raise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.datasets.indexing import checked_index, checked_range
from zoo.errors import DataError


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
