"""Batch logs that stay on the device until someone reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any


class LazyLogs(MutableMapping):
    """A dict-like view of running metric values, turned into floats on first read.

    The loop builds one per batch without synchronising with the GPU; only a callback that actually
    reads a value (e.g. TerminateOnNaN) pays for the ``.item()``.
    """

    __slots__ = ("_compute", "_data")

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute = compute
        self._data: dict[str, Any] | None = None

    def _values(self) -> dict[str, Any]:
        if self._data is None:
            self._data = {k: _to_python(v) for k, v in self._compute().items()}
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._values()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __repr__(self) -> str:
        return repr(self._values())


def _to_python(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
        return value.item()
    return value
