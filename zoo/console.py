"""What zoo's commands print, in one style: plain aligned columns under a dashed rule (readable in a
terminal, easy to grep or cut in a log)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``header`` and ``rows`` as left-aligned columns, two blanks apart; flushed, so a slow command shows
    its table before it goes on."""
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()
