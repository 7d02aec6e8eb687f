"""The checks the training API applies to its arguments (callbacks' constructors, ``fit``), one rule per
kind of argument.

Callbacks are built long before they act: an argument of the wrong kind must be refused when the callback
is made, not found out as a raw ``TypeError`` at the end of an epoch (or never, as ``"False"``, a truthy
string, passed for a bool would be)."""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np

from zoo.errors import ArgumentError, OptionError


def _owner(owner: Any) -> str:
    return owner if isinstance(owner, str) else type(owner).__name__


def check_number(
    owner: Any, name: str, value: Any, *, integer: bool = False, minimum: float | None = 0.0
) -> None:
    """A numeric argument: a bool is not a number here (``patience=True`` is a mistake, not 1)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind) or (not integer and not math.isfinite(value)):
        what = "a whole number" if integer else "a finite number"
        raise OptionError(
            f"{_owner(owner)}: {name} must be {what}"
            f"{f' >= {minimum:g}' if minimum is not None else ''}, got {value!r} ({type(value).__name__})."
        )
    if minimum is not None and value < minimum:
        raise OptionError(f"{_owner(owner)}: {name} must be >= {minimum:g}, got {value!r}.")


def check_bool(owner: Any, name: str, value: Any) -> bool:
    """A yes/no argument, returned as a plain bool. Only True/False (and 1/0) are taken: any other value
    would be read by its truthiness, so ``append="no"`` or ``restore_best_weights="False"`` would mean yes."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    hint = " (a non-empty string is truthy: it would have read as True)" if isinstance(value, str) else ""
    raise OptionError(f"{_owner(owner)}: {name} must be True or False, got {value!r} ({type(value).__name__}){hint}.")


def check_verbose(owner: Any, value: Any) -> int:
    """A callback's ``verbose``, returned as an int. Keras 3 documents 0 (silent) or 1 (a message when the
    callback acts) and prints whenever ``verbose > 0``; so True/False and ``fit``'s 2 work too, as there."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    raise OptionError(
        f"{_owner(owner)}: verbose must be 0 (silent) or 1 (print a message when the callback acts), "
        f"got {value!r} ({type(value).__name__})."
    )


def check_path(owner: Any, name: str, value: Any) -> str:
    """A file or folder argument (a ``str`` or ``os.PathLike``), returned as a ``str``."""
    path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if path == "":
        raise OptionError(f"{_owner(owner)}: {name} is an empty path; give a file name.")
    if isinstance(path, str):
        return path
    raise ArgumentError(
        f"{_owner(owner)}: {name} must be a path (a str or pathlib.Path), got {value!r} ({type(value).__name__})."
    )
