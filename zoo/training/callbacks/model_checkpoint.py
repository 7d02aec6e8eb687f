"""ModelCheckpoint: weights, or the whole training state, written atomically on rank 0."""

from __future__ import annotations

import os
from typing import Any

from zoo.errors import MissingKeyError, OptionError
from zoo.training.callbacks.monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model at the end of each epoch (or every ``save_freq`` batches), Keras 3 semantics.

    ``filepath`` may hold ``str.format`` fields filled from the logs plus ``epoch`` (1-based) and
    ``batch``: ``"ckpt/{epoch:02d}-{val_loss:.2f}.pt"``. ``save_best_only`` keeps only improvements of
    ``monitor`` (``mode="auto"``: maximise when the name contains ``acc`` or starts with ``fmeasure``);
    ``initial_value_threshold`` is the value to beat first.

    ``save_weights_only=True`` writes ``model.state_dict()``. ``False`` (the default) writes the full
    training state -- model, optimizer, AMP scaler, epoch, step, every callback's state and the RNG
    states -- which ``zoo.fit(..., resume_from=path)`` continues from exactly. Either way the file is
    written to a temp file and renamed (never half-written), after all callbacks have seen the epoch,
    and only by rank 0; load it with ``torch.load(path, weights_only=True)``.
    """

    runs_on_all_ranks = False

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise OptionError(f"save_freq must be 'epoch' or a positive integer (batches), got {save_freq!r}.")
        self.save_freq = save_freq
        self._batches_since_save = 0
        self._last_batch = -1
        self._current_epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch else batch - self._last_batch
        self._last_batch = batch
        self._batches_since_save += added
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, dict(logs or {}))

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, dict(logs or {}))

    def _path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise MissingKeyError(
                f"ModelCheckpoint filepath {self.filepath!r} uses {error.args[0]!r}, which is not in the logs "
                f"(available: epoch, batch, {', '.join(logs)})."
            ) from None

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            current = self.monitored(logs, epoch if batch is None else None)
            if current is None:  # a val_ quantity in an epoch without validation: nothing to compare yet
                return
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                    f"saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        self.trainer.request_save(path, weights_only=self.save_weights_only)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
