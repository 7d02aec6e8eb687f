"""History (what ``fit`` returns) and BaseLogger."""

from __future__ import annotations

from typing import Any

from zoo.training.callbacks.base import Callback


class History(Callback):
    """Records each epoch's logs: ``history.history["val_loss"]`` is one value per epoch.

    ``fit`` adds one after the user's callbacks, so it records whatever they added to the logs.
    Its record survives a resumed run (it is part of the training state).
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = list(state["epoch"])

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class BaseLogger(Callback):
    """Keras 2's epoch averager: copies into the epoch logs the epoch mean of every batch-level value
    the epoch logs lack (e.g. values other callbacks put in the batch logs).

    zoo's loop already puts the sample-weighted epoch mean of the loss and every metric in the epoch logs
    (what Keras 2 needed BaseLogger for); batch logs hold running means, so the last batch's value is
    the epoch mean. Reading it costs one device sync per epoch, not per batch.
    """

    def __init__(self, stateful_metrics: Any = None) -> None:
        super().__init__()
        # One name is a name, not its letters (set("acc") would be {"a", "c"}).
        names = [stateful_metrics] if isinstance(stateful_metrics, str) else stateful_metrics
        self.stateful_metrics = set(names or ())
        self._last: Any = None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._last = None

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._last = logs

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self._last is None or logs is None:
            return
        for key, value in dict(self._last).items():
            logs.setdefault(key, value)
