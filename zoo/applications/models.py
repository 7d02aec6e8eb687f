"""Lazy registry targets: ``"zoo.applications.models:resnet50"`` resolves to the builder of resnet50.

One module-level ``__getattr__`` serves every architecture in the weights table, so registering 80 models
needs no per-model code and resolving one imports torch only then.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from zoo.applications import table


def __getattr__(arch: str) -> Callable[..., Any]:
    if arch.startswith("__") or arch not in table.architectures():
        raise AttributeError(f"module {__name__!r} has no attribute {arch!r}")
    from zoo.applications.builder import build

    target = functools.partial(build, arch)
    functools.update_wrapper(target, build)
    return target
