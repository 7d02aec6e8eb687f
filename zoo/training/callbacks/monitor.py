"""Callbacks that watch a logged quantity: EarlyStopping, ReduceLROnPlateau, TerminateOnNaN."""

from __future__ import annotations

import math
from typing import Any

from zoo.errors import NonFiniteLossError, OptionError
from zoo.training.arguments import check_bool, check_number, check_verbose
from zoo.training.callbacks.base import Callback
from zoo.training.callbacks.monitor_callback import MonitorCallback


def get_lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


class EarlyStopping(MonitorCallback):
    """Stop when ``monitor`` stops improving (Keras 3 semantics, ``keras/src/callbacks/early_stopping.py``).

    ``mode="auto"`` follows ``MonitorCallback``'s rule (``loss`` down, a metric its declared
    ``direction``, anything else needs ``mode="min"`` or ``"max"``). ``min_delta`` is the smallest
    change counted as an improvement; ``baseline``: training also stops unless the quantity beats it
    within ``patience`` epochs; ``start_from_epoch`` skips the first epochs. With
    ``restore_best_weights=True`` the best epoch's weights are restored at the end of training whoever
    stopped it (this callback, another one, or the last epoch).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        check_number(self, "patience", patience, integer=True)
        check_number(self, "start_from_epoch", start_from_epoch, integer=True)
        if baseline is not None:
            check_number(self, "baseline", baseline, minimum=None)
        self.patience, self.verbose, self.baseline = patience, check_verbose(self, verbose), baseline
        self.restore_best_weights = check_bool(self, "restore_best_weights", restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: dict[str, Any] | None = None

    def _snapshot(self) -> dict[str, Any]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def on_train_begin(self, logs=None) -> None:
        # Keras 3 resets all of this (best too) here, so one instance can be reused across fit calls: a
        # second fit starts from its own first epoch, not from the best of the previous one. The direction
        # stays, as Keras keeps monitor_op. A resumed run loads its state right after this.
        self.best = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = self.monitored(logs, epoch)
        if current is None:  # a val_ quantity in an epoch without validation
            return
        if self.direction is None:
            self._set_direction()
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._snapshot()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0 and self.trainer.is_main:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0 and self.trainer.is_main:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "best": self.best,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.direction = state["direction"]
        self.best, self.wait = state["best"], state["wait"]
        self.stopped_epoch, self.best_epoch = state["stopped_epoch"], state["best_epoch"]
        self.best_weights = state["best_weights"]


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Keras 3 semantics: ``mode="auto"`` follows ``MonitorCallback``'s rule (``loss`` down, a metric
    its declared ``direction``, else ``mode`` is required); an improvement must beat the best by
    ``min_delta``; after a reduction, ``cooldown``
    epochs pass before counting again; the rate never goes below ``min_lr``. Every parameter group is
    scaled. The epoch logs gain ``learning_rate`` (the rate used in that epoch).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 <= factor < 1.0:
            raise OptionError(f"ReduceLROnPlateau: factor must be a number in [0, 1), got factor={factor!r}.")
        super().__init__(monitor, mode, min_delta=min_delta)
        check_number(self, "patience", patience, integer=True)
        check_number(self, "cooldown", cooldown, integer=True)
        check_number(self, "min_lr", min_lr)
        self.factor, self.patience, self.verbose = factor, patience, check_verbose(self, verbose)
        self.cooldown, self.min_lr = cooldown, min_lr
        self._reset()

    def _reset(self) -> None:
        # Keras 3 runs this at every on_train_begin: best, wait and cooldown start afresh in each fit.
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs if logs is not None else {}
        optimizer = self.trainer.optimizer
        logs["learning_rate"] = get_lr(optimizer)
        current = self.monitored(logs, epoch)
        if current is None:  # a val_ quantity in an epoch without validation
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                reduced = False
                for group in optimizer.param_groups:
                    old = float(group["lr"])
                    if old > self.min_lr:
                        group["lr"] = max(old * self.factor, self.min_lr)
                        reduced = True
                if reduced:
                    if self.verbose > 0 and self.trainer.is_main:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {get_lr(optimizer)}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = state["best"], state["wait"], state["cooldown_counter"]


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (checked every batch; reading the loss costs
    one device sync per step while this callback is in use). Under DDP all ranks stop together.
    ``raise_error=True`` raises ``zoo.NonFiniteLossError`` (a ``RuntimeError``) at once instead (skipping
    ``on_train_end``); under DDP on the rank whose loss it was, while the others raise a
    ``DistributedError`` that is also a ``NonFiniteLossError``, so one ``except`` serves every rank."""

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = check_bool(self, "raise_error", raise_error)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise NonFiniteLossError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Lower the learning rate, "
                "clip gradients (the optimizer's clipnorm=) or look for NaN/Inf values in the data."
            )
        if self.trainer.is_main:
            print(f"Batch {batch}: Invalid loss, terminating training")
        self.trainer.stop_training = True
