"""``zoo.fit``, ``zoo.evaluate`` and ``zoo.predict`` and the ``Trainer`` behind them (after Keras 3's torch
trainer): it checks the arguments, builds the data sources and callbacks, and hands the run to the loops.

Each job lives in its own module: ``precision`` (device and mixed precision), ``loss_computation``
(weighted losses), ``step`` (one optimisation step: clipping, LBFGS, the regularization hooks),
``tracking`` (metrics and their DDP reduction), ``checkpoint`` (training state), ``loop`` (the loops).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import torch
from torch import nn

from zoo.errors import ArgumentError, DataError, ModelError, OptionError
from zoo.models.trainable import apply_trainable_attributes
from zoo.training import checkpoint, distributed, loop
from zoo.training.arguments import check_bool
from zoo.training.callbacks.base import CallbackList
from zoo.training.data import (
    EpochIterator,
    batch_size_of,
    input_dtype,
    make_source,
    split_validation,
    to_device,
    unpack,
    unpack_validation,
)
from zoo.training.loss_computation import ClassWeights
from zoo.training.metrics import Metric
from zoo.training.precision import Precision, check_device, pick_device
from zoo.training.regularization import LayerTerms
from zoo.training.resolve import (
    resolve_callbacks,
    resolve_loss,
    resolve_metrics,
    resolve_optimizer,
    resolve_weighted_metrics,
)
from zoo.training.step import objective, take_step
from zoo.training.tracking import Tracker


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise OptionError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


def check_optimizer_params(optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
    """An optimizer that updates none of the model's trainable parameters trains nothing: refuse it, and a
    model with no trainable parameter at all (every one frozen), which torch's backward would fail on.
    Partial overlap is fine (an optimizer over the head only)."""
    held = [p for group in optimizer.param_groups for p in group["params"]]
    params = list(model.parameters())
    trainable = {id(p) for p in params if p.requires_grad}
    if params and not trainable:
        raise OptionError(
            f"every parameter of the model ({type(model).__name__}) is frozen (trainable=False / zoo.freeze), so "
            "fit has nothing to train. Unfreeze what should train (model.head.trainable = True, zoo.unfreeze), or "
            "use zoo.evaluate / zoo.predict."
        )
    if not held or {id(p) for p in held} & trainable:
        return
    raise OptionError(
        f"the optimizer ({type(optimizer).__name__}) holds {len(held)} parameter tensor(s), none of which is a "
        f"trainable parameter of the model ({type(model).__name__}), so fit would train nothing. Build it on "
        "this model's parameters (torch.optim.SGD(model.parameters(), lr=...)), or pass a name or dict "
        "(optimizer='adam', {'name': 'sgd', 'lr': 0.1}) and fit builds it on the model. (A model rebuilt or "
        "copied after the optimizer was made has new parameter tensors.)"
    )


def check_keywords(what: str, method: Any, kwargs: Mapping[str, Any]) -> None:
    """Keywords ``zoo.fit``/``evaluate``/``predict`` pass on to the ``Trainer`` method: unknown ones are an
    ``ArgumentError`` with the closest match (``epoch=3`` -> ``epochs``), not a TypeError about Trainer."""
    accepted = [
        p.name for p in inspect.signature(method).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("self", "x", "y")
    ]  # fmt: skip
    for key in kwargs:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            own = {
                "fit": "optimizer, loss, metrics, weighted_metrics, ",
                "evaluate": "loss, metrics, weighted_metrics, ",
            }.get(what, "")
            raise ArgumentError(
                f"zoo.{what}() takes no keyword {key!r}.{hint} Its keywords: {own}device, precision, "
                f"{', '.join(accepted)}."
            )


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _as_one_run_on_every_rank(method: _Method) -> _Method:
    """``fit``/``evaluate`` under ``torchrun``, whole: an error on one rank anywhere in them (an argument
    or a data set-up that fails on that rank only, as well as a batch or a callback) is left for its peers,
    which name it instead of "another rank stopped without reporting an error" (``distributed.failures``)."""

    @functools.wraps(method)
    def run(self: Trainer, *args: Any, **kwargs: Any) -> Any:
        with distributed.failures(self.ctx, self.device):
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


class Trainer:
    """The running loop; callbacks see it as ``self.trainer``.

    Public attributes: ``model`` (the plain module), ``optimizer``, ``loss``, ``metrics``,
    ``stop_training`` (settable), ``global_step`` (optimizer steps taken), ``epoch`` (0-based),
    ``device``, ``rank``, ``world_size``, ``is_main``, ``history`` (after ``fit``).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Iterable[Any] = (),
        weighted_metrics: Iterable[Any] | None = None,
        device: Any = None,
        precision: str | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ArgumentError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
        device = check_device(device)
        apply_trainable_attributes(model)  # `sub.trainable = False` on plain torch modules (fit applies it again)
        self.ctx = distributed.setup(device)
        self.device = pick_device(device, model, self.ctx)
        self.precision = Precision(precision, self.device)
        if self.device.type == "meta" or any(p.is_meta for p in model.parameters()):
            raise ModelError(
                f"the model ({type(model).__name__}) would train on the meta device, where tensors have shapes but "
                "no values: give it real weights first (model.to_empty(device='cpu') then load_state_dict, or "
                "zoo.load with weights), and device='cpu' or 'cuda'."
            )
        self.model = model.to(self.device)
        #: What batches run through: ``model``, or its DDP wrapper during a distributed ``fit``.
        self.module: nn.Module = self.model
        self._optimizer_spec = optimizer
        self.optimizer: torch.optim.Optimizer | None = None
        self.loss = resolve_loss(loss) if loss is not None else None
        self.terms = LayerTerms(self.model)  # Keras layer keywords: penalties and constraints
        unweighted = resolve_metrics(metrics, loss)
        weighted = resolve_weighted_metrics(weighted_metrics, loss, unweighted)
        self.tracker = Tracker(unweighted, penalty=self.terms.tracker, weighted=weighted)
        self.stop_training = False
        #: the dtype floating inputs are cast to (``data.input_dtype``), set when fit/evaluate/predict start
        self.input_dtype: torch.dtype | None = None
        self.global_step = 0
        self.epoch = 0
        self.history: Any = None
        self.callbacks: CallbackList | None = None
        self._pending_saves: list[tuple[str, bool]] = []
        self._class_weights: ClassWeights | None = None

    # -- who am I -------------------------------------------------------------------------------------
    @property
    def rank(self) -> int:
        return self.ctx.rank

    @property
    def world_size(self) -> int:
        return self.ctx.world_size

    @property
    def is_main(self) -> bool:
        return self.ctx.is_main

    @property
    def metrics(self) -> list[Metric]:
        return self.tracker.metrics

    @property
    def scaler(self) -> torch.amp.GradScaler | None:
        return self.precision.scaler

    @property
    def should_stop(self) -> bool:
        """``stop_training`` set on the trainer, or (as Keras code does) on the model."""
        return bool(self.stop_training or vars(self.model).get("stop_training", False))

    # -- one batch ------------------------------------------------------------------------------------
    def train_step(self, batch: Any) -> torch.Tensor:
        """One optimizer step on one batch; updates the loss tracker and metrics without syncing."""
        x, y, sw = unpack(batch)
        x, y, sw = to_device(x, self.device, self.input_dtype), to_device(y, self.device), to_device(sw, self.device)
        y_pred, loss = take_step(
            self.optimizer,
            self.precision,
            lambda: objective(self.module, self.loss, self.precision, x, y, sw, self.terms, self._class_weights),
            self.terms,
        )
        self.global_step += 1
        if self._class_weights is not None and self.tracker.weighted:  # Keras: weighted metrics see class_weight
            sw = self._class_weights(y_pred, y, sw)
        self.tracker.update(loss, y_pred, y, sw, batch_size_of(x))
        return loss

    def test_step(self, batch: Any) -> None:
        x, y, sw = unpack(batch)
        x, y, sw = to_device(x, self.device, self.input_dtype), to_device(y, self.device), to_device(sw, self.device)
        y_pred, loss = objective(self.model, self.loss, self.precision, x, y, sw, self.terms)
        self.tracker.update(loss, y_pred, y, sw, batch_size_of(x))

    def reset_metrics(self) -> None:
        self.tracker.reset()

    # -- checkpoints ----------------------------------------------------------------------------------
    def request_save(self, path: str, weights_only: bool = False) -> None:
        """Save after every callback has seen this batch/epoch, so the file holds all their state."""
        self._pending_saves.append((path, weights_only))

    def flush_saves(self) -> None:
        """Write the saves callbacks requested (the loop calls this after each batch and epoch)."""
        while self._pending_saves:
            path, weights_only = self._pending_saves.pop(0)
            self.save(path, weights_only=weights_only)

    def state_dict(self) -> dict[str, Any]:
        return checkpoint.training_state(
            self.model,
            self.optimizer,
            self.scaler,
            epoch=self.epoch,
            global_step=self.global_step,
            callbacks=self.callbacks.callbacks if self.callbacks is not None else [],
        )

    def save(self, path: str | os.PathLike, *, weights_only: bool = False) -> None:
        checkpoint.atomic_save(self.model.state_dict() if weights_only else self.state_dict(), path)

    def restore(self, state: Mapping[str, Any]) -> None:
        """Put a full training state back. ``fit`` runs this after ``on_train_begin``, so that a callback
        that changes the model there (adds masks, swaps layers) sees its own checkpointed shape restored."""
        callbacks = self.callbacks.callbacks if self.callbacks is not None else []
        self.global_step = checkpoint.restore(state, self.model, self.optimizer, self.scaler, callbacks)

    # -- the runs -------------------------------------------------------------------------------------
    @_as_one_run_on_every_rank
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        *,
        epochs: int = 1,
        batch_size: int | None = 32,
        validation_data: Any = None,
        validation_split: float = 0.0,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        shuffle: bool = True,
        steps_per_epoch: int | None = None,
        callbacks: Iterable[Any] = (),
        initial_epoch: int = 0,
        verbose: Any = "auto",
        sample_weight: Any = None,
        class_weight: Mapping[int, float] | None = None,
        resume_from: str | os.PathLike | None = None,
    ) -> Any:
        verbose = _resolve_verbose(verbose)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise OptionError(f"epochs must be a non-negative integer, got {epochs!r}.")
        shuffle = check_bool("fit", "shuffle", shuffle)  # "False" is truthy: it would shuffle
        if isinstance(validation_freq, bool) or not isinstance(validation_freq, int) or validation_freq < 1:
            raise OptionError(
                f"validation_freq must be a whole number >= 1 (validate every N epochs; 1 = every epoch), got "
                f"{validation_freq!r}."
            )
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
            raise OptionError(
                f"validation_split must be a number: the fraction of the data held out, e.g. 0.2 (0 = none), got "
                f"{validation_split!r}."
            )
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, int) or initial_epoch < 0:
            raise OptionError(
                f"initial_epoch must be a whole number >= 0 (the epoch to resume at; fit runs epochs "
                f"initial_epoch .. epochs-1), got {initial_epoch!r}."
            )
        if self.loss is None:
            raise OptionError(
                "fit needs a loss: loss='mse', loss='sparse_categorical_crossentropy', a module ..."
            )
        if validation_data is None and validation_split:
            x, y, sample_weight, validation_data = split_validation(x, y, sample_weight, validation_split)
        train_iter = self._train_iterator(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
        val_iter = self._validation_iterator(
            validation_data, validation_batch_size or batch_size, validation_steps
        )
        self._class_weights = None if class_weight is None else ClassWeights(class_weight)
        apply_trainable_attributes(self.model)  # again: `m[0].trainable = False` may follow Trainer(m) or a fit
        self.input_dtype = input_dtype(self.model)
        if self.optimizer is None:
            spec = self._optimizer_spec if self._optimizer_spec is not None else "rmsprop"
            self.optimizer = resolve_optimizer(spec, self.model)
        check_optimizer_params(self.optimizer, self.model)
        resume_state = None
        if resume_from is not None:
            if initial_epoch != 0:
                raise OptionError(
                    f"give resume_from= or initial_epoch={initial_epoch}, not both: resuming goes on from the "
                    "epoch after the checkpoint's."
                )
            resume_state = checkpoint.load_training_state(resume_from, map_location=self.device)
            initial_epoch = int(resume_state["epoch"]) + 1
        self.callbacks = CallbackList(
            resolve_callbacks(callbacks),
            add_history=True,
            add_progbar=verbose != 0,
            model=self.model,
            trainer=self,
            epochs=epochs,
            steps=train_iter.num_steps,
            verbose=verbose,
            validation=val_iter is not None,
        )
        self.history = self.callbacks.history
        try:
            return loop.fit_loop(
                self,
                self.callbacks,
                train_iter,
                val_iter,
                epochs=epochs,
                initial_epoch=initial_epoch,
                validation_freq=validation_freq,
                resume=resume_state,
            )
        finally:
            self.module = self.model

    def _train_iterator(
        self, x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: bool, steps: int | None
    ) -> EpochIterator:
        source = make_source(
            x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, rank=self.rank, world=self.world_size
        )
        if source.num_batches == 0:
            raise DataError("the training data is empty (0 samples); fit needs at least one batch.")
        return EpochIterator(source, steps)

    def _validation_iterator(
        self, data: Any, batch_size: int | None, steps: int | None
    ) -> EpochIterator | None:
        if data is None:
            return None
        vx, vy, vsw = unpack_validation(data)
        source = make_source(
            vx, vy, vsw, batch_size=batch_size, rank=self.rank, world=self.world_size, what="validation_data"
        )
        return EpochIterator(source, steps)

    def _one_pass_callbacks(
        self, callbacks: Iterable[Any], iterator: EpochIterator, verbose: int
    ) -> CallbackList:
        """The callbacks of ``evaluate``/``predict``: one pass, no History."""
        return CallbackList(
            resolve_callbacks(callbacks),
            add_progbar=verbose != 0,
            model=self.model,
            trainer=self,
            epochs=1,
            steps=iterator.num_steps,
            verbose=verbose,
        )

    @_as_one_run_on_every_rank
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        *,
        batch_size: int | None = 32,
        steps: int | None = None,
        sample_weight: Any = None,
        callbacks: Iterable[Any] = (),
        verbose: Any = "auto",
    ) -> dict[str, float]:
        verbose = _resolve_verbose(verbose)
        if self.loss is None:
            raise OptionError("evaluate needs a loss: loss='mse', a loss module or a function.")
        source = make_source(
            x, y, sample_weight, batch_size=batch_size, rank=self.rank, world=self.world_size
        )
        if source.num_batches == 0:
            raise DataError("the evaluation data is empty (0 samples).")
        self.input_dtype = input_dtype(self.model)
        iterator = EpochIterator(source, steps)
        return loop.test_loop(self, self._one_pass_callbacks(callbacks, iterator, verbose), iterator)

    def predict(
        self,
        x: Any,
        *,
        batch_size: int | None = 32,
        steps: int | None = None,
        callbacks: Iterable[Any] = (),
        verbose: Any = "auto",
    ) -> Any:
        verbose = _resolve_verbose(verbose)
        iterator = EpochIterator(make_source(x, batch_size=batch_size), steps)
        self.input_dtype = input_dtype(self.model)
        return loop.predict_loop(self, self._one_pass_callbacks(callbacks, iterator, verbose), iterator)


# -- the functional API -------------------------------------------------------------------------------
def fit(
    model: nn.Module,
    x: Any = None,
    y: Any = None,
    *,
    optimizer: Any = "rmsprop",
    loss: Any = None,
    metrics: Iterable[Any] = (),
    weighted_metrics: Iterable[Any] | None = None,
    device: Any = None,
    precision: str | None = None,
    **kwargs: Any,
) -> Any:
    """Train ``model`` Keras-style; returns a ``History`` (``.history``: name -> one value per epoch).

    ``optimizer``, ``loss``, ``metrics``, ``weighted_metrics`` and ``callbacks`` may be registered names,
    ``{"name": ..., **config}`` dicts or objects; as in Keras 3, only ``weighted_metrics`` are weighted by
    ``sample_weight``/``class_weight``. Other keywords: ``epochs``, ``batch_size``, ``validation_data``,
    ``validation_split``, ``validation_steps``, ``validation_batch_size``, ``validation_freq``,
    ``shuffle``, ``steps_per_epoch``, ``callbacks``, ``initial_epoch``, ``verbose``, ``sample_weight``,
    ``class_weight``, ``resume_from``. See the README's training section.
    """
    check_keywords("fit", Trainer.fit, kwargs)
    trainer = Trainer(
        model, optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics, device=device,
        precision=precision,
    )  # fmt: skip
    return trainer.fit(x, y, **kwargs)


def evaluate(
    model: nn.Module,
    x: Any = None,
    y: Any = None,
    *,
    loss: Any = None,
    metrics: Iterable[Any] = (),
    weighted_metrics: Iterable[Any] | None = None,
    device: Any = None,
    precision: str | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Loss and metrics of ``model`` on data, as ``{"loss": ..., "accuracy": ...}`` floats."""
    check_keywords("evaluate", Trainer.evaluate, kwargs)
    trainer = Trainer(
        model, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics, device=device, precision=precision
    )
    return trainer.evaluate(x, y, **kwargs)


def predict(
    model: nn.Module, x: Any, *, device: Any = None, precision: str | None = None, **kwargs: Any
) -> Any:
    """Outputs of ``model`` for every batch of ``x``, concatenated on the CPU (a tensor, or a tuple/dict)."""
    check_keywords("predict", Trainer.predict, kwargs)
    trainer = Trainer(model, device=device, precision=precision)
    return trainer.predict(x, **kwargs)
