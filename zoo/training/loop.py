"""The loops: epochs of training batches (with validation), one evaluation pass, one prediction pass.

They drive a ``Trainer`` through its public surface only (``train_step``, ``test_step``, ``tracker``,
``should_stop`` ...). Hot-path rules: batch logs are lazy (``LazyLogs``) and a batch hook nobody overrides
is not dispatched, so an unobserved step never calls ``.item()``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from zoo.errors import DataError
from zoo.training import distributed
from zoo.training.callbacks.base import CallbackList
from zoo.training.data import EpochIterator, concat_outputs, map_structure, to_device, unpack
from zoo.training.logs import LazyLogs
from zoo.training.step import call_model

if TYPE_CHECKING:
    from zoo.training.trainer import Trainer


def fit_loop(
    trainer: Trainer,
    cbs: CallbackList,
    train_iter: EpochIterator,
    val_iter: EpochIterator | None,
    *,
    epochs: int,
    initial_epoch: int,
    validation_freq: int,
    resume: dict[str, Any] | None,
) -> Any:
    """Train from ``initial_epoch`` up to ``epochs``; returns the ``History``. (``Trainer.fit`` runs it
    inside ``distributed.failures``.)"""
    _begin(trainer, cbs, resume)
    sync_batch_stop = _syncs_batch_stop(trainer, cbs, train_iter)
    uneven = trainer.ctx.active and train_iter.source.needs_join
    join = trainer.module.join if uneven else contextlib.nullcontext
    logs: dict[str, Any] = {}
    for epoch in range(initial_epoch, epochs):
        steps = _train_epoch(trainer, cbs, train_iter, epoch, sync_batch_stop, join)
        if steps == 0 and epoch == initial_epoch and not trainer.ctx.active:
            raise DataError(
                "the training data gave no batches in the first epoch; check that the dataset or "
                "generator is not empty (a one-shot generator is used up after one pass: pass a "
                "callable returning a fresh one instead)."
            )
        logs = _end_epoch(trainer, cbs, val_iter, epoch, validation_freq)
        if _ran_dry(train_iter, epoch, epochs) or trainer.should_stop:
            break
    cbs.on_train_end(logs)
    return cbs.history


def _begin(trainer: Trainer, cbs: CallbackList, resume: dict[str, Any] | None) -> None:
    trainer.stop_training = False
    if "stop_training" in vars(trainer.model):
        trainer.model.stop_training = False
    cbs.on_train_begin()
    if resume is not None:
        trainer.restore(resume)
    if trainer.ctx.active:
        # Wrapped after on_train_begin, so DDP sees the model as callbacks left it.
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [trainer.device.index] if trainer.device.type == "cuda" else None
        trainer.module = DistributedDataParallel(trainer.model, device_ids=device_ids)


def _syncs_batch_stop(trainer: Trainer, cbs: CallbackList, train_iter: EpochIterator) -> bool:
    """Callbacks on every rank that look at batches may stop training mid-epoch: agree on it per step.
    Not with uneven shards (join): a rank that ran out would miss the collective; the epoch-end
    agreement still stops everyone."""
    if not trainer.ctx.active or train_iter.source.needs_join:
        return False
    return cbs.wants("on_train_batch_begin", all_ranks=True) or cbs.wants(
        "on_train_batch_end", all_ranks=True
    )


def _train_epoch(
    trainer: Trainer,
    cbs: CallbackList,
    train_iter: EpochIterator,
    epoch: int,
    sync_batch_stop: bool,
    join: Callable[[], contextlib.AbstractContextManager],
) -> int:
    """One epoch of training batches (until ``steps_per_epoch``, the data's end or a stop); their count."""
    trainer.epoch = epoch
    trainer.tracker.reset()
    cbs.on_epoch_begin(epoch)
    trainer.module.train()

    def stop_after_batch(step: int, error: Exception | None) -> bool:
        if error is None:
            error = _attempt(trainer.flush_saves, sync_batch_stop)
        if sync_batch_stop:
            where = f"batch {step} of epoch {epoch + 1}"
            trainer.stop_training = distributed.agree(trainer.should_stop, error, trainer.device, where)
        elif error is not None:
            raise error
        return trainer.should_stop

    with join():
        return _batches(trainer, cbs, "train", train_iter.epoch(epoch), trainer.train_step, stop_after_batch)


def _batches(
    trainer: Trainer,
    cbs: CallbackList,
    phase: str,
    batches: Any,
    step_fn: Callable[[Any], Any],
    stop: Callable[[int, Exception | None], bool] | None = None,
) -> int:
    """``step_fn`` on each batch between the ``on_<phase>_batch_begin/end`` hooks (only dispatched when a
    callback overrides them), until the batches end or ``stop(step, error)`` says so; the number of batches
    run. An error in ``on_<phase>_batch_end`` goes to ``stop``, which may share it with the other ranks
    before it is raised (no collective lies between the two)."""
    begin, end = getattr(cbs, f"on_{phase}_batch_begin"), getattr(cbs, f"on_{phase}_batch_end")
    want_begin, want_end = cbs.wants(f"on_{phase}_batch_begin"), cbs.wants(f"on_{phase}_batch_end")
    steps = 0
    for step, batch in enumerate(batches):
        if want_begin:
            begin(step)
        try:
            step_fn(batch)
        except DataError as error:  # which batch held the bad data (free until something raises)
            data = "training" if phase == "train" else "validation/evaluation"
            message = error.args[0] if error.args else str(error)
            error.args = (f"{message} (in {data} batch {step}, counting from 0)", *error.args[1:])
            raise
        steps += 1
        error = None
        if want_end:
            try:
                end(step, LazyLogs(trainer.tracker.running))
            except Exception as raised:
                if stop is None:
                    raise
                error = raised
        if stop is not None and stop(step, error):
            break
    return steps


def _end_epoch(
    trainer: Trainer, cbs: CallbackList, val_iter: EpochIterator | None, epoch: int, validation_freq: int
) -> dict[str, float]:
    logs = trainer.tracker.results(trainer.ctx, trainer.device)
    trainer.model.eval()
    if val_iter is not None and (epoch + 1) % validation_freq == 0:
        val_logs = _test_pass(trainer, cbs, val_iter, epoch)
        logs.update({"val_" + k: v for k, v in val_logs.items()})

    def end() -> None:
        cbs.on_epoch_end(epoch, logs)
        trainer.flush_saves()

    error = _attempt(end, trainer.ctx.active)
    if trainer.ctx.active:
        where = f"the end of epoch {epoch + 1}"
        trainer.stop_training = distributed.agree(trainer.should_stop, error, trainer.device, where)
    return logs


def _attempt(fn: Callable[[], Any], hold: bool) -> Exception | None:
    """``fn()``; with ``hold``, an error it raises is returned instead, for the next ``distributed.agree``
    to share with the other ranks (raising it here would leave them waiting in that collective)."""
    if not hold:
        fn()
        return None
    try:
        fn()
    except Exception as error:
        return error
    return None


def _ran_dry(train_iter: EpochIterator, epoch: int, epochs: int) -> bool:
    if train_iter.exhausted and epoch + 1 < epochs:
        warnings.warn(
            f"the training generator ran out of data after epoch {epoch + 1}; training stops. Pass "
            "steps_per_epoch with an endless generator, or a callable returning a fresh iterator.",
            stacklevel=4,
        )
        return True
    return False


def test_loop(trainer: Trainer, cbs: CallbackList, iterator: EpochIterator) -> dict[str, float]:
    """``evaluate``: one pass over ``iterator`` without gradients; the loss and metrics as floats."""
    return _test_pass(trainer, cbs, iterator, 0)


def _test_pass(trainer: Trainer, cbs: CallbackList, iterator: EpochIterator, epoch: int) -> dict[str, float]:
    trainer.model.eval()
    trainer.tracker.reset()
    cbs.on_test_begin()
    with torch.no_grad():
        steps = _batches(trainer, cbs, "test", iterator.epoch(epoch), trainer.test_step)
    if steps == 0 and not trainer.ctx.active:
        raise DataError(
            "the evaluation data gave no batches; check it is not empty (a one-shot generator is used up "
            "after one pass: give validation_steps with an endless one, or a callable)."
        )
    logs = trainer.tracker.results(trainer.ctx, trainer.device)
    cbs.on_test_end(logs)
    return logs


def predict_loop(trainer: Trainer, cbs: CallbackList, iterator: EpochIterator) -> Any:
    """The model's outputs for every batch, concatenated on the CPU."""
    trainer.model.eval()
    outputs: list[Any] = []
    cbs.on_predict_begin()
    with torch.no_grad():
        for step, batch in enumerate(iterator.epoch(0)):
            cbs.on_predict_batch_begin(step)
            bx, _, _ = unpack(batch)
            with trainer.precision.autocast():
                out = call_model(trainer.model, to_device(bx, trainer.device, trainer.input_dtype))
            outputs.append(map_structure(lambda t: t.detach().cpu() if torch.is_tensor(t) else t, out))
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
    cbs.on_predict_end()
    if not outputs:
        raise DataError("predict got no batches; check that the data is not empty.")
    return concat_outputs(outputs)
