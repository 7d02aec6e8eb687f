"""How a dataset takes an index: one rule for zoo's datasets and the plugins' (``zoo.plugin.checked_index``).

Importing this module does not import torch: a tensor index can only exist once torch is imported, so it is
looked up in ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import operator
import sys
from typing import Any

from zoo.errors import ArgumentError, DataIndexError


def checked_index(index: Any, size: int, what: str, *, slices: bool = True, items: str = "items") -> int:
    """``index`` as an int in ``0..size-1``, negative counting from the end (as a Python list). One out of
    range is a ``DataIndexError``, an ``IndexError``, so ``for item in dataset`` still ends at the last
    item; anything that is not one whole number is an ``ArgumentError`` (a ``TypeError``, as ``list["a"]``)
    instead of a tensor's fancy indexing silently returning a batch. For the messages: ``what`` is indexed,
    ``items`` are what it holds, and ``slices`` whether the caller takes a slice too."""
    if type(index) is int:  # the common case, at the cost of one type check per item
        position = index
    else:
        position = None
        torch = sys.modules.get("torch")
        a_batch = (
            torch is not None and isinstance(index, torch.Tensor) and (index.ndim > 0 or index.dtype == torch.bool)
        )
        if not isinstance(index, bool) and not a_batch:
            with contextlib.suppress(TypeError):
                position = operator.index(index)  # a numpy integer, a 0-d integer tensor
        if position is None:
            several = hasattr(index, "__len__") and not isinstance(index, str)
            hint = " For several items by position use torch.utils.data.Subset(dataset, indices)." if several else ""
            raise ArgumentError(
                f"the index of a {what} must be an integer{' or a slice' if slices else ''}; got {index!r} "
                f"({type(index).__name__}).{hint}"
            )
    if not -size <= position < size:
        span = f"use 0..{size - 1} (or -{size}..-1)" if size else f"it has no {items}"
        raise DataIndexError(f"index {position} is out of range for a {what} of {size} {items}: {span}.")
    return position % size


def checked_range(index: slice, size: int, what: str) -> range:
    """The positions a slice takes, as a list's slice would (bounds past the end are clipped); a zero step
    or bounds that are not integers are an ``ArgumentError`` naming ``what`` rather than Python's bare
    ValueError/TypeError."""
    try:
        return range(*index.indices(size))
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"cannot slice a {what} with {index!r}: {exc}.") from None
