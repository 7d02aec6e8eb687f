"""The plugin's argument rules, each in one place, so a wrong value fails where it is given and says how to
fix it, instead of being taken as something else (a truthy ``"no"``, a NaN threshold that prunes nothing, a
typo'd layer pattern that matches nothing) or failing later as a raw Python error.

Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import math
import numbers
from collections.abc import Iterable

import zoo

__all__ = ["flag", "matches", "no_unmatched", "patterns", "real", "whole"]


def _got(value: object) -> str:
    return f"{value!r} ({type(value).__name__})"


_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def flag(value: object, name: str) -> bool:
    """``value`` if it is ``True`` or ``False``: a string such as ``"no"`` is truthy, so taking it as a
    flag would silently mean the opposite of what it says."""
    if isinstance(value, bool):
        return value
    if (
        hasattr(value, "dtype")
        and getattr(value, "shape", None) == ()
        and str(value.dtype) in ("bool", "torch.bool")
    ):
        return bool(value)  # a numpy/torch boolean scalar means what it says
    hint = ""
    if isinstance(value, str):
        meant = _WORDS.get(value.strip().lower())
        hint = f"; pass {meant} (a non-empty string is always true)" if meant is not None else ""
    raise zoo.OptionError(f"{name} must be True or False, got {_got(value)}{hint}.")


def _number(value: object, name: str, kind: str) -> float:
    """``value`` as a float if it is a real number (not a bool, not a string)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        item = value.item()  # a 0-d numpy/torch number
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            return float(item)
    hint = ""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            hint = f"; pass {float(value)!r} (a number, not a string)"
    raise zoo.OptionError(f"{name} must be {kind}, got {_got(value)}{hint}.")


def real(value: object, name: str, *, minimum: float | None = None) -> float:
    """A finite real number (``>= minimum``): NaN compares false with everything, so a NaN rate or
    threshold would quietly switch pruning off; infinity is no setting either."""
    kind = "a finite number" if minimum is None else f"a finite number >= {minimum:g}"
    number = _number(value, name, kind)
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        raise zoo.OptionError(f"{name} must be {kind}, got {value!r}.")
    return number


def whole(
    value: object, name: str, *, minimum: int = 0, maximum: int | None = None, kind: str | None = None
) -> int:
    """A whole number in ``[minimum, maximum]`` (``kind`` says so for the message); a float that is one
    (``1.4e4``) is taken as the int it spells, a fractional one is refused rather than truncated."""
    if kind is None:
        kind = f"a whole number >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    else:
        as_float = _number(value, name, kind)
        if not (math.isfinite(as_float) and as_float.is_integer()):
            raise zoo.OptionError(f"{name} must be {kind}, got {value!r}.")
        number = int(as_float)
    if number < minimum or (maximum is not None and number > maximum):
        raise zoo.OptionError(f"{name} must be {kind}, got {value!r}.")
    return number


def patterns(value: object, name: str) -> tuple[str, ...]:
    """fnmatch patterns on module names: a bare string is one pattern (iterating it would give one pattern
    per character, ``"fc1"`` -> ``"f"``, ``"c"``, ``"1"``)."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise zoo.OptionError(
            f"{name} must be a layer name or fnmatch pattern, or a list of them, got {_got(value)}."
        )
    items = tuple(value)
    wrong = [item for item in items if not isinstance(item, str)]
    if wrong:
        raise zoo.OptionError(
            f"{name} must hold layer names or fnmatch patterns (strings), got {_got(wrong[0])}."
        )
    return items


def matches(name: str, pattern: str) -> bool:
    """Whether module ``name`` is picked by ``pattern``, the same rule for every option that names layers:
    the exact name, or an fnmatch pattern such as ``"features.*"``."""
    return name == pattern or fnmatch.fnmatchcase(name, pattern)


def no_unmatched(given: Iterable[str], names: list[str], *, option: str, layers: str) -> None:
    """Refuse patterns that pick none of ``names``: a typo would otherwise select nothing, silently.
    ``layers`` says what ``names`` are, for the message."""
    unmatched = [p for p in given if not any(matches(n, p) for n in names)]
    if not unmatched:
        return
    close = [c for p in unmatched for c in difflib.get_close_matches(p, names, n=1, cutoff=0.6)]
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    listed = ", ".join(map(repr, names)) if names else "none"
    raise zoo.OptionError(
        f"{option}: layer pattern(s) {', '.join(map(repr, unmatched))} match no {layers}; the model's {layers}s "
        f"are {listed}.{hint}"
    )
