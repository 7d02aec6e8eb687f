"""Lazy registry targets: ``"zoo_timm.models:resnet50"`` resolves to the builder of timm's resnet50.

A module-level ``__getattr__`` serves every architecture of the catalogue, so registration needs no
per-model code and resolving one imports torch and timm only then.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from zoo_timm import catalogue


def __getattr__(arch: str) -> Callable[..., Any]:
    if arch.startswith("__") or arch not in catalogue.architectures():
        raise AttributeError(f"module {__name__!r} has no attribute {arch!r}")
    from zoo_timm.builder import build

    target = functools.partial(build, arch)
    functools.update_wrapper(target, build)
    return target
