"""Lazy registry targets: ``"zoo.applications.models:resnet50"`` resolves to the builder of resnet50.

One module-level ``__getattr__`` serves every architecture in the weights table, so registering 80 models
needs no per-model code and resolving one imports torch only then. Plugins with a catalogue of their own
(zoo-timm) get the same from ``architecture_builders``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Collection
from typing import Any

from zoo.applications import table


def architecture_builders(
    module: str, architectures: Callable[[], Collection[str]], build: str
) -> Callable[[str], Callable[..., Any]]:
    """A module ``__getattr__`` that turns ``module:ARCH`` into ``build`` (a ``"module:attr"`` string,
    imported on first use) bound to ``ARCH``, for every name ``architectures()`` lists."""

    def __getattr__(arch: str) -> Callable[..., Any]:
        if arch.startswith("__") or arch not in architectures():
            raise AttributeError(f"module {module!r} has no attribute {arch!r}")
        module_name, _, attr = build.partition(":")
        builder = getattr(importlib.import_module(module_name), attr)
        target = functools.partial(builder, arch)
        functools.update_wrapper(target, builder)
        return target

    return __getattr__


__getattr__ = architecture_builders(__name__, table.architectures, "zoo.applications.builder:build")
