"""The callback contract (Keras 3 hook names) and the list that dispatches to callbacks in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Callback:
    """Base class of training callbacks; override the hooks you need.

    Hooks and their arguments follow Keras 3 (``keras/src/callbacks/callback.py``). Attributes set by
    ``fit``/``evaluate``/``predict`` before the first hook runs:

    * ``self.model`` -- the ``nn.Module`` being trained (unwrapped, never the DDP wrapper);
    * ``self.params`` -- ``{"epochs": int, "steps": int | None, "verbose": int}``;
    * ``self.trainer`` -- the running loop: ``.model``, ``.optimizer``, ``.stop_training`` (set it to
      ``True`` to stop after the current batch/epoch), ``.global_step`` (optimizer steps so far),
      ``.epoch`` (the current 0-based epoch), ``.world_size``/``.rank`` and ``.is_main`` (rank 0).

    A callback that keeps state across a resumed run may define ``state_dict()`` and
    ``load_state_dict(state)``: a full-state ``ModelCheckpoint`` (the default, ``save_weights_only=False``)
    stores it, and ``fit(resume_from=...)`` loads it right after ``on_train_begin`` (together with the
    model, optimizer and RNG state), so ``on_train_begin`` may reset or rebuild what the state refills.
    The optimizer is built and the model moved to its device before ``on_train_begin``; under DDP the
    model is wrapped after it.
    """

    #: ``False`` for callbacks that only write files or print; such callbacks then run on rank 0 only.
    runs_on_all_ranks: bool = True

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}
        self.trainer: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_test_end(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_predict_begin(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_predict_end(self, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...

    # Keras 2 spellings, kept so ported callbacks work: ``on_batch_*`` run as ``on_train_batch_*``.
    def on_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None: ...


_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


_KERAS2_SPELLING = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (a subclass method or a function set on it)."""
    hooks = (hook, _KERAS2_SPELLING[hook]) if hook in _KERAS2_SPELLING else (hook,)
    for name in hooks:
        method = getattr(callback, name)
        if getattr(method, "__func__", method) is not getattr(Callback, name):
            return True
    return False


class CallbackList:
    """Callbacks called in order: the user's first, then History, then the progress bar (as Keras 3)."""

    def __init__(
        self,
        callbacks: Iterable[Callback] = (),
        *,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        trainer: Any = None,
        **params: Any,
    ) -> None:
        from zoo.training.callbacks.history import History
        from zoo.training.callbacks.progbar import ProgbarLogger

        self.callbacks: list[Callback] = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be zoo.training.Callback instances, got {type(callback).__name__}; "
                    "subclass zoo.Callback or use LambdaCallback(on_epoch_end=...)."
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self.progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if self.progbar is None and add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        if trainer is not None and not trainer.is_main:
            self.callbacks = [c for c in self.callbacks if c.runs_on_all_ranks]
        self.params = params
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
            callback.set_trainer(trainer)
        # Per-batch dispatch is the hot path: only visit callbacks that override a batch hook.
        self._batch = {hook: [c for c in self.callbacks if _overrides(c, hook)] for hook in _BATCH_HOOKS}

    def __iter__(self):
        return iter(self.callbacks)

    def wants(self, hook: str, *, all_ranks: bool = False) -> bool:
        """Whether any callback overrides a batch hook (so the loop may skip building its logs);
        ``all_ranks=True`` counts only callbacks that run on every rank."""
        return any(c.runs_on_all_ranks for c in self._batch[hook]) if all_ranks else bool(self._batch[hook])

    def _call(self, hook: str, *args: Any) -> None:
        *leading, logs = args  # every hook's last argument is its logs: a dict, never None (Keras 3)
        for callback in self.callbacks:
            getattr(callback, hook)(*leading, {} if logs is None else logs)

    def _call_batch(self, hook: str, batch: int, logs: Any) -> None:
        if logs is None:
            logs = {}
        for callback in self._batch[hook]:
            getattr(callback, hook)(batch, logs)

    def set_model(self, model: Any) -> None:
        for callback in self.callbacks:
            callback.set_model(model)

    def on_train_begin(self, logs=None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None) -> None:
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch: int, logs=None) -> None:
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None) -> None:
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch: int, logs=None) -> None:
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        self._call_batch("on_predict_batch_end", batch, logs)
