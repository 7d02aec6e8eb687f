"""The checks the training API applies to its arguments (callbacks' constructors, ``fit``), one rule per
kind of argument.

Callbacks are built long before they act: an argument of the wrong kind must be refused when the callback
is made, not found out as a raw ``TypeError`` at the end of an epoch (or never, as ``"False"``, a truthy
string, passed for a bool would be)."""

from __future__ import annotations

import inspect
import math
import numbers
import os
from collections.abc import Callable, Mapping
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



def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


# Options whose default says too little (None, or an int 0 that stands for any number): a rule of their own.
_OPTION_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "label_smoothing": ("a number in [0, 1]", lambda v: _is_real(v) and 0 <= v <= 1),
    "delta": ("a finite number > 0", lambda v: _is_real(v) and v > 0),
    "ignore_class": ("a class index (a whole number) or None", lambda v: v is None or _is_whole(v)),
    "k": ("a whole number >= 1", lambda v: _is_whole(v) and v >= 1),
    "axis": ("a whole number (an axis)", _is_whole),
}


def check_options(owner: str, target: Any, options: Mapping[str, Any], *, skip: int = 0) -> dict[str, Any]:
    """The options of a loss, metric or optimizer (``target`` is its function or class), checked by one rule
    each: a flag (a ``bool`` default or annotation) takes True or False only, so ``from_logits="False"`` or
    ``nesterov="no"`` (truthy strings) is refused instead of meaning yes; a number (a float default) a finite
    number, not a string or NaN; and the options of ``_OPTION_RULES`` their range, so a negative Huber
    ``delta`` or ``label_smoothing=2`` cannot train on a negative loss. Returns the options with flags as
    plain bools. Options the signature does not name are left to the keyword check."""
    try:
        params = dict(list(inspect.signature(target).parameters.items())[skip:])
    except (TypeError, ValueError):
        return dict(options)
    checked = dict(options)
    for key, value in options.items():
        param = params.get(key)
        if param is None or hasattr(value, "__torch_function__"):  # a tensor (a learning rate): torch's to check
            continue
        if key in _OPTION_RULES:
            kind, ok = _OPTION_RULES[key]
            if not ok(value):
                raise OptionError(f"{owner}: {key} must be {kind}, got {value!r} ({type(value).__name__}).")
        elif isinstance(param.default, bool) or (param.default is None and "bool" in str(param.annotation)):
            if value is not None or param.default is not None:
                checked[key] = check_bool(owner, key, value)
        elif isinstance(param.default, float) and not _is_real(value):
            raise OptionError(f"{owner}: {key} must be a finite number, got {value!r} ({type(value).__name__}).")
    return checked
