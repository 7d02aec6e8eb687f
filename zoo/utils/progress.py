"""The one rule for every progress bar zoo draws: shown on a terminal, silent otherwise unless asked.

A bar redraws itself with carriage returns; in a log file or a CI log each redraw becomes a fragment of
junk (``features:  13%|█▎ ...``), so a bar appears only where someone watches it: a terminal or a
Jupyter kernel. ``show=True`` asks for it anyway (a piped run that wants it), ``show=False`` never shows
it, and ``ZOO_QUIET=1`` silences every bar (and waiting notices) whatever was asked. Downloads, feature
extraction, ``fit``/``evaluate``/``predict`` and ``zoo benchmark`` all decide here. Torch-free.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO, Any


def wants_bar(show: bool | None = None, file: IO[str] | None = None) -> bool:
    """Whether a bar written to ``file`` (default: stderr, as tqdm) should be drawn: ``ZOO_QUIET=1`` says
    no; else ``show`` when given; else whether ``file`` is a terminal or this runs in a Jupyter kernel."""
    from zoo.hub.config import env_flag  # here, not at import: zoo.hub's own bars import this module

    if env_flag("ZOO_QUIET"):
        return False
    if show is not None:
        return bool(show)
    return _is_terminal(file if file is not None else sys.stderr) or _in_notebook()


def progress(
    iterable: Iterable | None = None,
    *,
    desc: str | None = None,
    total: float | None = None,
    unit: str = "it",
    leave: bool = False,
    show: bool | None = None,
    file: IO[str] | None = None,
    **tqdm_options: Any,
) -> Any:
    """A ``tqdm`` bar (over ``iterable`` or updated by hand) that :func:`wants_bar` switches off where it
    would only clutter a log; a silent bar still iterates and takes ``update``/``close`` like a shown one."""
    from tqdm.auto import tqdm

    return tqdm(
        iterable, desc=desc, total=total, unit=unit, leave=leave, file=file,
        disable=not wants_bar(show, file), **tqdm_options,
    )  # fmt: skip


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")
