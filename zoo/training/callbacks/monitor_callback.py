"""The one rule for which way a monitored quantity should go (Keras 3's ``MonitorCallback``), shared by
``EarlyStopping``, ``ModelCheckpoint`` and ``ReduceLROnPlateau``."""

from __future__ import annotations

import math
import warnings
from typing import Any

from zoo.errors import ZooError
from zoo.training.callbacks.base import Callback


class UnknownDirectionError(ZooError, ValueError):
    """``mode="auto"`` on a quantity that declares no direction: the callback needs ``mode``."""


def monitor_direction(monitor: str, metrics: Any) -> str | None:
    """``"down"`` for ``loss``/``val_loss``; else the ``direction`` declared by the compiled metric of
    that name (``val_`` prefix removed); else ``None``."""
    name = monitor.removeprefix("val_")
    if name == "loss":
        return "down"
    for metric in metrics or ():
        if getattr(metric, "name", None) == name and getattr(metric, "direction", None) in ("up", "down"):
            return metric.direction
    return None


class MonitorCallback(Callback):
    """Base of callbacks that watch ``monitor`` in the epoch logs and act on improvements.

    ``mode="min"``/``"max"`` fixes the direction; ``"auto"`` decides it once, at the first check:
    ``loss`` goes down, a metric goes its declared ``direction`` (accuracies up, errors down), and any
    other quantity raises ``UnknownDirectionError`` asking for ``mode``. An improvement must beat the
    best value by more than ``min_delta``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0.0,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode {mode!r} is unknown, fallback to auto mode.", stacklevel=3
            )
            mode = "auto"
        self.monitor, self.mode = monitor, mode
        self.best: float | None = baseline
        self.min_delta = abs(min_delta)
        self.direction: str | None = None

    def _set_direction(self) -> None:
        direction = {"min": "down", "max": "up"}.get(self.mode) or monitor_direction(
            self.monitor, getattr(self.trainer, "metrics", None)
        )
        if direction is None:
            raise UnknownDirectionError(
                f"{type(self).__name__}(monitor={self.monitor!r}) cannot tell whether that quantity should go "
                "up or down (it is not the loss, and no compiled metric of that name declares a direction); "
                "pass mode='max' to aim for the highest value or mode='min' for the lowest."
            )
        self.direction = direction
        if self.best is None:
            self.best = self.worst

    @property
    def worst(self) -> float:
        """The starting best value: anything is an improvement on it."""
        return math.inf if self.direction == "down" else -math.inf

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if self.direction is None:
            self._set_direction()
        if reference is None:
            return True
        if self.direction == "down":
            return value + self.min_delta < reference
        return value - self.min_delta > reference
