"""ProgbarLogger: a tqdm bar per epoch on a terminal, one line per epoch otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any

from zoo.training.arguments import check_number
from zoo.training.callbacks.base import Callback
from zoo.utils.progress import progress, wants_bar


def format_logs(logs: Any) -> str:
    parts = []
    for key, value in (logs or {}).items():
        if isinstance(value, float):
            parts.append(f"{key}: {value:.4f}")
        elif isinstance(value, int):
            parts.append(f"{key}: {value}")
    return " - ".join(parts)


class ProgbarLogger(Callback):
    """Progress output, rank 0 only. ``verbose`` (from ``fit``): 1 = bar on a TTY (a line per epoch when
    stdout is not a terminal), 2 = a line per epoch. The bar's metric values refresh at most twice a
    second, so the bar costs no device sync per step."""

    runs_on_all_ranks = False

    def __init__(self, stream: Any = None, refresh_seconds: float = 0.5) -> None:
        super().__init__()
        check_number(self, "refresh_seconds", refresh_seconds)
        self.stream = stream
        self.refresh_seconds = refresh_seconds
        self._bar: Any = None
        self._in_fit = False
        self._epoch_start = 0.0
        self._last_refresh = 0.0
        self._epochs = 1
        self._seen = 0

    @property
    def _out(self) -> Any:
        return self.stream if self.stream is not None else sys.stdout

    def _open(self, desc: str) -> None:
        self._seen = 0  # the steps run: fewer than planned when training stopped mid-epoch
        self._epoch_start = time.monotonic()
        self._last_refresh = self._epoch_start
        if self.params.get("verbose", 1) == 1 and wants_bar(None, self._out):
            self._bar = progress(
                total=self.params.get("steps"), desc=desc, file=self._out, leave=True, unit="step", show=True
            )

    def _advance(self, logs: Any) -> None:
        self._seen += 1
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.monotonic()
        if logs is not None and now - self._last_refresh >= self.refresh_seconds:
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(logs), refresh=False)

    def _close(self, logs: Any, prefix: str) -> None:
        elapsed = time.monotonic() - self._epoch_start
        summary = format_logs(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(summary, refresh=False)
            self._bar.close()
            self._bar = None
        else:
            planned, seen = self.params.get("steps"), self._seen
            head = f"{prefix} - " if prefix else ""
            if seen and planned and seen < planned:
                done = f"{seen}/{planned} steps - "
            else:
                done = f"{seen or planned} steps - " if seen or planned else ""
            print(f"{head}{done}{elapsed:.1f}s - {summary}".rstrip(" -"), file=self._out, flush=True)

    def on_train_begin(self, logs=None) -> None:
        self._epochs = self.params.get("epochs", 1)
        self._in_fit = True

    def on_train_end(self, logs=None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._open(f"Epoch {epoch + 1}/{self._epochs}")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._advance(logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._close(logs, f"Epoch {epoch + 1}/{self._epochs}")

    # Validation inside fit is reported in the epoch's line; a bare evaluate() gets its own.
    def on_test_begin(self, logs=None) -> None:
        if not self._in_fit:
            self._open("Evaluate")

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        if not self._in_fit:
            self._advance(logs)

    def on_test_end(self, logs=None) -> None:
        if not self._in_fit:
            self._close(logs, "Evaluate")

    def on_predict_begin(self, logs=None) -> None:
        self._open("Predict")

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        self._advance(None)

    def on_predict_end(self, logs=None) -> None:
        self._close(None, "Predict")
