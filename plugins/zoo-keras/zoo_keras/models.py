"""Lazy registry targets: ``"zoo_keras.models:NASNetMobile"`` resolves to the builder bound to that name."""

from __future__ import annotations

from zoo.plugin import architecture_builders
from zoo_keras import table

__getattr__ = architecture_builders(__name__, table.applications, "zoo_keras.builder:build")
