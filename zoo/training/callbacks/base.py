"""The callback contract (Keras 3 hook names) and the list that dispatches to callbacks in order."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from zoo.errors import ArgumentError


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Constructors called directly (``EarlyStopping(patiance=3)``, Keras' habit) check their keywords
        as ``zoo.get("callbacks", ...)`` does: an ``ArgumentError`` with the closest name, not a raw
        ``TypeError``."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not hasattr(init, "__zoo_checked__"):
            cls.__init__ = _keyword_checked(init)  # type: ignore[method-assign]


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
#: Every hook a callback may define, with the positional arguments the loop passes (before ``logs``).
HOOKS: dict[str, int] = {
    name: 1 if ("batch" in name or "epoch" in name) else 0
    for name in vars(Callback)
    if name.startswith("on_")
}

_KERAS2_SPELLING = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def check_callback(callback: Any) -> None:
    """Refuse an object that cannot work as a callback, saying why. As in Keras 3, any object with ``on_*``
    hook methods is a callback (``set_model``/``set_params``/``set_trainer`` are called when it has them);
    a hook it lacks does nothing. Refused: no hook at all, a hook that is not callable or does not take
    the loop's arguments (``on_epoch_end(epoch, logs)``), a misspelled hook name."""
    what = type(callback).__name__
    if isinstance(callback, type):
        raise ArgumentError(f"{callback.__name__} is a class, not a callback: pass an instance, {callback.__name__}().")
    own = [name for name in dir(callback) if name.startswith("on_") and not name.startswith("on__")]
    unknown = [name for name in own if name not in HOOKS]
    for name in unknown:
        close = difflib.get_close_matches(name, list(HOOKS), n=1, cutoff=0.8)
        if close:
            raise ArgumentError(f"callback {what} has a method {name!r}, which no loop calls; did you mean {close[0]!r}?")
    hooks = [name for name in own if name in HOOKS]
    if not hooks:
        raise ArgumentError(
            f"callbacks must have Keras hook methods (on_epoch_end(epoch, logs), on_train_batch_end(batch, logs) "
            f"...), got a {what} with none; subclass zoo.Callback or use LambdaCallback(on_epoch_end=...)."
        )
    for name in hooks:
        method = getattr(callback, name)
        if not callable(method):
            raise ArgumentError(f"callback {what}.{name} is a {type(method).__name__}, not a method.")
        try:
            inspect.signature(method).bind(*([0] * HOOKS[name]), {})
        except TypeError:
            args = "(batch, logs)" if "batch" in name else "(epoch, logs)" if "epoch" in name else "(logs)"
            raise ArgumentError(
                f"callback {what}.{name}{inspect.signature(method)} cannot take the loop's arguments {args}; "
                f"define it as def {name}{args[:-1]}=None)."
            ) from None
        except ValueError:
            continue  # a builtin without a signature: trust it


def _hook(callback: Any, hook: str) -> Any:
    """The method to call for ``hook`` (a batch hook), or None when ``callback`` does nothing there."""
    if isinstance(callback, Callback):
        return getattr(callback, hook) if _overrides(callback, hook) else None
    method = getattr(callback, hook, None)
    if method is None and hook in _KERAS2_SPELLING:
        method = getattr(callback, _KERAS2_SPELLING[hook], None)
    return method


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (a subclass method or a function set on it)."""
    hooks = (hook, _KERAS2_SPELLING[hook]) if hook in _KERAS2_SPELLING else (hook,)
    for name in hooks:
        method = getattr(callback, name)
        if getattr(method, "__func__", method) is not getattr(Callback, name):
            return True
    return False


def _runs_on_all_ranks(callback: Any) -> bool:
    return getattr(callback, "runs_on_all_ranks", True)


class CallbackList:
    """Callbacks called in order: the user's first, then History, then the progress bar (as Keras 3).

    A callback is any object with ``on_*`` hooks (:func:`check_callback`); ``zoo.Callback`` subclasses and
    duck-typed objects are dispatched alike."""

    def __init__(
        self,
        callbacks: Iterable[Any] = (),
        *,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        trainer: Any = None,
        **params: Any,
    ) -> None:
        from zoo.training.callbacks.history import History
        from zoo.training.callbacks.progbar import ProgbarLogger

        self.callbacks: list[Any] = list(callbacks)
        for callback in self.callbacks:
            check_callback(callback)
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self.progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if self.progbar is None and add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        if trainer is not None and not trainer.is_main:
            self.callbacks = [c for c in self.callbacks if _runs_on_all_ranks(c)]
        self.params = params
        for callback in self.callbacks:
            for setter, value in (("set_model", model), ("set_params", params), ("set_trainer", trainer)):
                method = getattr(callback, setter, None)
                if method is not None:
                    method(value)
        # Per-batch dispatch is the hot path: only visit callbacks that do something in a batch hook.
        self._batch = {
            hook: [(c, m) for c in self.callbacks if (m := _hook(c, hook)) is not None] for hook in _BATCH_HOOKS
        }

    def __iter__(self):
        return iter(self.callbacks)

    def wants(self, hook: str, *, all_ranks: bool = False) -> bool:
        """Whether any callback overrides a batch hook (so the loop may skip building its logs);
        ``all_ranks=True`` counts only callbacks that run on every rank."""
        if all_ranks:
            return any(_runs_on_all_ranks(c) for c, _ in self._batch[hook])
        return bool(self._batch[hook])

    def _call(self, hook: str, *args: Any) -> None:
        *leading, logs = args  # every hook's last argument is its logs: a dict, never None (Keras 3)
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(*leading, {} if logs is None else logs)

    def _call_batch(self, hook: str, batch: int, logs: Any) -> None:
        if logs is None:
            logs = {}
        for _, method in self._batch[hook]:
            method(batch, logs)

    def set_model(self, model: Any) -> None:
        for callback in self.callbacks:
            method = getattr(callback, "set_model", None)
            if method is not None:
                method(model)

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


def _keyword_checked(init: Any) -> Any:
    import functools

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            from zoo.registry import check_keywords, keywords_of

            check_keywords(type(self).__name__, kwargs, keywords_of(init, skip=1))
        init(self, *args, **kwargs)

    checked.__zoo_checked__ = True  # type: ignore[attr-defined]
    return checked
