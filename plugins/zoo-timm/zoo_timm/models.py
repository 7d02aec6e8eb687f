"""Lazy registry targets: ``"zoo_timm.models:resnet50"`` resolves to the builder of timm's resnet50.

The same module ``__getattr__`` as zoo's own applications, over the catalogue, so registration needs no
per-model code and resolving one imports torch and timm only then.
"""

from __future__ import annotations

from zoo.plugin import architecture_builders
from zoo_timm import catalogue

__getattr__ = architecture_builders(__name__, catalogue.index, "zoo_timm.builder:build")
