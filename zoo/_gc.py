"""Pausing Python's cyclic garbage collector around bursts of allocation.

Registering thousands of entries or constructing a network allocates many small container objects; each
allocation burst triggers collections, and once torch is imported every full collection walks its millions
of objects. Measured here: building the registry 0.25 s -> 0.065 s, ``zoo.load("inception_v3")`` from a
warm cache 0.25 s -> 0.08 s. Collection resumes afterwards, so nothing is leaked.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with the cyclic collector paused (and restored as it was, even on an error)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper
