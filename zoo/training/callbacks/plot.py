"""PlotCallback: the training curves redrawn to one PNG after every epoch, to watch a long ``fit``."""

from __future__ import annotations

import os
from typing import Any

from zoo.training.arguments import check_path
from zoo.training.callbacks.base import Callback


class PlotCallback(Callback):
    """Redraws ``zoo.plot_history`` of the epochs so far to ``to_file`` every ``every`` epochs and at the
    end of training (rank 0 only); open the PNG in a viewer that reloads it. ``metrics`` as for
    ``plot_history``. The file is replaced atomically, so a viewer never reads half a picture."""

    runs_on_all_ranks = False

    def __init__(self, to_file: str | os.PathLike = "curves.png", metrics: Any = None, every: int = 1) -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            from zoo.utils.plot import PlotError

            raise PlotError(f"PlotCallback(every=...) is a number of epochs, 1 or more; got {every!r}.")
        self.to_file, self.metrics, self.every = check_path(self, "to_file", to_file), metrics, every
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None) -> None:
        self.history = {}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                self.history.setdefault(key, []).append(float(value))
        if (epoch + 1) % self.every == 0:
            self._draw()

    def on_train_end(self, logs=None) -> None:
        if self.history:
            self._draw()

    def _draw(self) -> None:
        from zoo.utils.curves import plot_history

        plot_history(self, self.to_file, self.metrics)  # reads .history, and .trainer for metric directions
