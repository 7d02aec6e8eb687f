"""The one rule for which way a monitored quantity should go (Keras 3's ``MonitorCallback``), shared by
``EarlyStopping``, ``ModelCheckpoint`` and ``ReduceLROnPlateau``."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from zoo.errors import OptionError, ZooError
from zoo.training.arguments import check_number
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
            close = difflib.get_close_matches(str(mode), ["auto", "min", "max"], n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise OptionError(
                f"{type(self).__name__}: mode must be 'min', 'max' or 'auto', got {mode!r}.{hint} (Keras falls back "
                "to 'auto' with a warning; zoo refuses, since 'auto' may pick the opposite direction.)"
            )
        if not isinstance(monitor, str) or not monitor:
            raise OptionError(f"{type(self).__name__}: monitor must be the name of a logged quantity, got {monitor!r}.")
        check_number(self, "min_delta", min_delta)
        if baseline is not None:
            check_number(self, "baseline", baseline, minimum=None)
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

    def monitored(self, logs: Mapping[str, Any] | None, epoch: int | None = None) -> float | None:
        """The monitored value in ``logs``. Absent, it is an ``OptionError`` listing the logged keys and the
        closest one (Keras only warns, every epoch, and the callback silently does nothing) -- except for a
        ``val_`` quantity in an epoch that ran no validation (``validation_freq``), which is ``None``.
        ``epoch=None``: batch logs (``ModelCheckpoint(save_freq=N)``)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is not None:
            return value
        keys = list(logs)
        validated = any(k.startswith("val_") for k in keys)
        if (self.monitor.startswith("val_") and epoch is not None and self.params.get("validation")
                and not validated):  # fmt: skip
            return None  # validation is due in a later epoch
        close = [alias] if (alias := spelled_as(self.monitor, keys)) else []
        close = close or difflib.get_close_matches(self.monitor, keys, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        if alias:
            hint += (
                f" Keras 3 logs a metric under the name it was compiled with, so {self.monitor!r} and "
                f"{alias!r} are different keys."
            )
        where = f"the logs at the end of epoch {epoch + 1}" if epoch is not None else "the batch logs"
        why = ""
        if self.monitor.startswith("val_") and not validated:
            why = (
                " val_ quantities need validation data: pass validation_data= or validation_split= to fit, or "
                f"monitor a training quantity ({self.monitor.removeprefix('val_')!r})."
            )
            if epoch is None:
                why = " Batch logs hold training quantities only: monitor one of them, or save_freq='epoch'."
        raise OptionError(
            f"{type(self).__name__}(monitor={self.monitor!r}): there is no {self.monitor!r} in {where}, which "
            f"hold: {', '.join(keys) or 'nothing'}.{hint}{why} (Keras only warns and the callback never acts.)"
        )

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


def spelled_as(monitor: str, keys: Iterable[str]) -> str | None:
    """The key in ``keys`` that is ``monitor`` under another of Keras' spellings of the same metric
    (``acc``/``accuracy``, ``mse``/``mean_squared_error`` ..., with the same ``val_`` prefix), or None.
    Keras 2 accepted ``monitor="acc"`` for a metric compiled as ``"accuracy"``; Keras 3 does not, and the
    two names are too far apart for a spelling match to suggest one for the other."""
    from zoo.training.plugin import METRICS  # the registered aliases: one table of Keras' short names

    prefix = "val_" if monitor.startswith("val_") else ""
    name = monitor.removeprefix(prefix)
    keys = set(keys)
    for canonical, (_, aliases) in METRICS.items():
        spellings = (canonical, *aliases)
        if name in spellings:
            return next((prefix + other for other in spellings if prefix + other in keys), None)
    return None
