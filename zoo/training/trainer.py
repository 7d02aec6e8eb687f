"""The loop behind ``zoo.fit``, ``zoo.evaluate`` and ``zoo.predict`` (after Keras 3's torch trainer).

One ``Trainer`` holds what a run needs: the model (and its DDP wrapper under ``torchrun``), optimizer,
loss, metrics, callbacks, the device and the precision policy. Hot-path rules: metric sums stay tensors
on the device, batch logs are lazy (``LazyLogs``), and per-batch callback dispatch skips callbacks that
do not override the hook, so an unobserved step never calls ``.item()``.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.training import distributed
from zoo.training.callbacks.base import Callback, CallbackList
from zoo.training.data import (
    EpochIterator,
    batch_size_of,
    is_arrays,
    make_source,
    map_structure,
    to_device,
    to_tensor,
    unpack,
)
from zoo.training.logs import LazyLogs
from zoo.training.metrics import Mean, Metric
from zoo.training.resolve import resolve_callbacks, resolve_loss, resolve_metrics, resolve_optimizer

CHECKPOINT_FORMAT = "zoo.training/1"

_PRECISIONS = {
    None: None,
    "32": None,
    "fp32": None,
    "float32": None,
    "bf16": torch.bfloat16,
    "bf16-mixed": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "16": torch.float16,
    "16-mixed": torch.float16,
    "float16": torch.float16,
}


def call_model(module: nn.Module, x: Any) -> Any:
    """A tuple/list ``x`` is several positional inputs (``model(video, question)``), a dict keywords."""
    if isinstance(x, (tuple, list)):
        return module(*x)
    if isinstance(x, dict):
        return module(**x)
    return module(x)


def _pick_device(device: Any, model: nn.Module, ctx: distributed.Context) -> torch.device:
    if device is not None:
        return torch.device(device)
    if ctx.active and torch.cuda.is_available():
        return torch.device("cuda", ctx.local_rank)
    param = next(model.parameters(), None)
    if param is not None and param.device.type not in ("cpu", "meta"):
        return param.device
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


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
        device: Any = None,
        precision: str | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of None, 'bf16' or 'fp16', got {precision!r}.")
        self.ctx = distributed.setup(torch.device(device) if device is not None else None)
        self.device = _pick_device(device, model, self.ctx)
        self.model = model.to(self.device)
        self.module: nn.Module = self.model
        self.amp_dtype = _PRECISIONS[precision]
        if self.amp_dtype is torch.float16 and self.device.type != "cuda":
            raise ValueError("precision='fp16' needs a CUDA device; use precision='bf16' on CPU.")
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype is torch.float16 else None
        self._optimizer_spec = optimizer
        self.optimizer: torch.optim.Optimizer | None = None
        self.loss = resolve_loss(loss) if loss is not None else None
        self.metrics: list[Metric] = resolve_metrics(metrics, loss)
        self.loss_tracker = Mean("loss")
        self.stop_training = False
        self.global_step = 0
        self.epoch = 0
        self.history: Any = None
        self.callbacks: CallbackList | None = None
        self._pending_saves: list[tuple[str, bool]] = []
        self._class_weight_table: torch.Tensor | None = None

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

    # -- pieces ---------------------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def compute_loss(self, y_pred: Any, y: Any, sample_weight: Any = None) -> torch.Tensor:
        if self.loss is None:
            raise ValueError(
                "no loss given: pass loss='mse' (a registered name), a loss module or a function."
            )
        if y is None:
            raise ValueError(
                "the data gave no targets (y); fit and evaluate need (x, y) batches or y= with array x."
            )
        if sample_weight is None:
            return self.loss(y_pred, y)
        if _accepts_sample_weight(self.loss):
            return self.loss(y_pred, y, sample_weight=sample_weight)
        reduction = getattr(self.loss, "reduction", None)
        if reduction is None:
            raise ValueError(
                f"sample_weight/class_weight need a loss that takes sample_weight= or has a 'reduction' "
                f"attribute; {type(self.loss).__name__} has neither."
            )
        self.loss.reduction = "none"
        try:
            values = self.loss(y_pred, y)
        finally:
            self.loss.reduction = reduction
        weight = torch.as_tensor(sample_weight, device=values.device, dtype=values.dtype)
        weight = weight.reshape(weight.shape + (1,) * (values.ndim - weight.ndim))
        weighted = values * weight
        return weighted.sum() if reduction == "sum" else weighted.mean()

    def _apply_class_weight(self, y: Any, sample_weight: Any) -> Any:
        table = self._class_weight_table
        if table is None or y is None:
            return sample_weight
        y = torch.as_tensor(y)
        if y.ndim >= 2 and y.shape[-1] > 1:
            index = y.argmax(-1)
        else:
            index = (y.squeeze(-1) if y.ndim >= 2 else y).round().long()
        weight = table[index]
        return (
            weight if sample_weight is None else weight * torch.as_tensor(sample_weight, device=weight.device)
        )

    def _clip(self) -> None:
        clipnorm = getattr(self.optimizer, "clipnorm", None)
        clipvalue = getattr(self.optimizer, "clipvalue", None)
        if clipnorm is None and clipvalue is None:
            return
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        if clipvalue is not None:
            torch.nn.utils.clip_grad_value_(params, clipvalue)
        if clipnorm is not None:
            torch.nn.utils.clip_grad_norm_(params, clipnorm)

    def train_step(self, batch: Any) -> torch.Tensor:
        """One optimizer step on one batch; updates the loss tracker and metrics without syncing."""
        x, y, sw = unpack(batch)
        x, y, sw = to_device(x, self.device), to_device(y, self.device), to_device(sw, self.device)
        sw = self._apply_class_weight(y, sw)
        optimizer = self.optimizer
        if isinstance(optimizer, torch.optim.LBFGS):
            outputs: dict[str, Any] = {}

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                with self._autocast():
                    outputs["y_pred"] = call_model(self.module, x)
                    outputs["loss"] = self.compute_loss(outputs["y_pred"], y, sw)
                outputs["loss"].backward()
                return outputs["loss"]

            optimizer.step(closure)
            y_pred, loss = outputs["y_pred"], outputs["loss"]
        else:
            with self._autocast():
                y_pred = call_model(self.module, x)
                loss = self.compute_loss(y_pred, y, sw)
            optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self._clip()
                self.scaler.step(optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self._clip()
                optimizer.step()
        self.global_step += 1
        self._update_metrics(loss, y_pred, y, sw, batch_size_of(x))
        return loss

    def _update_metrics(self, loss: torch.Tensor, y_pred: Any, y: Any, sw: Any, n: int) -> None:
        self.loss_tracker.add_scalar(loss.detach().float(), n)
        if self.metrics:
            with torch.no_grad():
                y_pred = map_structure(lambda t: t.detach().float() if t.is_floating_point() else t, y_pred)
                for metric in self.metrics:
                    metric.update(y_pred, y, sw)

    def test_step(self, batch: Any) -> None:
        x, y, sw = unpack(batch)
        x, y, sw = to_device(x, self.device), to_device(y, self.device), to_device(sw, self.device)
        with self._autocast():
            y_pred = call_model(self.model, x)
            loss = self.compute_loss(y_pred, y, sw)
        self._update_metrics(loss, y_pred, y, sw, batch_size_of(x))

    def _should_stop(self) -> bool:
        # Keras code sets ``self.model.stop_training = True``; honour it as well as ``trainer.stop_training``.
        return bool(self.stop_training or vars(self.model).get("stop_training", False))

    def _all_metrics(self) -> list[Metric]:
        return [self.loss_tracker, *self.metrics]

    def reset_metrics(self) -> None:
        for metric in self._all_metrics():
            metric.reset()

    def running_logs(self) -> dict[str, Any]:
        """This process's running means (no cross-rank reduction): what batch hooks see."""
        return {m.name: m.result() for m in self._all_metrics()}

    def results(self) -> dict[str, float]:
        """Epoch means as floats, summed across ranks under DDP first; one device sync in all."""
        metrics = self._all_metrics()
        if self.ctx.active:
            states = [metric.state(self.device) for metric in metrics]
            flat = [t for state in states for t in state]
            distributed.all_reduce_sum(flat)
            for metric, state in zip(metrics, states, strict=True):
                metric.load_state(state)
        values = torch.stack([m.result().to(self.device).float().reshape(()) for m in metrics]).tolist()
        return dict(zip((m.name for m in metrics), values, strict=True))

    # -- checkpoints ----------------------------------------------------------------------------------
    def request_save(self, path: str, weights_only: bool = False) -> None:
        """Save after every callback has seen this batch/epoch, so the file holds all their state."""
        self._pending_saves.append((path, weights_only))

    def _flush_saves(self) -> None:
        while self._pending_saves:
            path, weights_only = self._pending_saves.pop(0)
            self.save(path, weights_only=weights_only)

    def state_dict(self) -> dict[str, Any]:
        callbacks: dict[str, Any] = {}
        if self.callbacks is not None:
            for key, callback in _keyed(self.callbacks.callbacks):
                if hasattr(callback, "state_dict"):
                    callbacks[key] = callback.state_dict()
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "callbacks": callbacks,
            "rng": _rng_state(),
        }

    def save(self, path: str | os.PathLike, *, weights_only: bool = False) -> None:
        from zoo.training.checkpoint import atomic_save

        atomic_save(self.model.state_dict() if weights_only else self.state_dict(), path)

    # -- the loops ------------------------------------------------------------------------------------
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
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}.")
        if self.loss is None:
            raise ValueError(
                "fit needs a loss: loss='mse', loss='sparse_categorical_crossentropy', a module ..."
            )
        if validation_data is None and validation_split:
            x, y, sample_weight, validation_data = _split(x, y, sample_weight, validation_split)
        rank, world = self.ctx.rank, self.ctx.world_size
        source = make_source(
            x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, rank=rank, world=world
        )
        if source.num_batches == 0:
            raise ValueError("the training data is empty (0 samples); fit needs at least one batch.")
        train_iter = EpochIterator(source, steps_per_epoch)
        val_iter = None
        if validation_data is not None:
            vx, vy, vsw = _unpack_validation(validation_data)
            val_source = make_source(
                vx,
                vy,
                vsw,
                batch_size=validation_batch_size or batch_size,
                rank=rank,
                world=world,
                what="validation_data",
            )
            val_iter = EpochIterator(val_source, validation_steps)
        self._class_weight_table = (
            None if class_weight is None else _class_weight_table(class_weight).to(self.device)
        )

        if self.optimizer is None:
            self.optimizer = resolve_optimizer(
                self._optimizer_spec if self._optimizer_spec is not None else "rmsprop", self.model
            )
        resume_state = None
        if resume_from is not None:
            from zoo.training.checkpoint import load_training_state

            resume_state = load_training_state(resume_from, map_location=self.device)
            initial_epoch = int(resume_state["epoch"]) + 1
        try:
            return self._fit_loop(
                train_iter,
                val_iter,
                epochs,
                initial_epoch,
                verbose,
                resolve_callbacks(callbacks),
                validation_freq,
                resume_state,
            )
        finally:
            self.module = self.model

    def _restore(self, state: Mapping[str, Any], callbacks: list[Callback]) -> None:
        """Put a full training state back. Runs after ``on_train_begin``, so that a callback that changes
        the model there (adds masks, swaps layers) sees its own checkpointed shape restored."""
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.global_step = int(state["global_step"])
        _load_callback_states(callbacks, state.get("callbacks", {}))
        _set_rng_state(state["rng"])

    def _fit_loop(
        self, train_iter, val_iter, epochs, initial_epoch, verbose, callbacks, validation_freq, resume
    ):
        cbs = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self.model,
            trainer=self,
            epochs=epochs,
            steps=train_iter.num_steps,
            verbose=verbose,
            validation=val_iter is not None,
        )
        self.callbacks = cbs
        self.history = cbs.history
        self.stop_training = False
        if "stop_training" in vars(self.model):
            self.model.stop_training = False
        want_begin = cbs.wants("on_train_batch_begin")
        want_end = cbs.wants("on_train_batch_end")
        # Callbacks on every rank that look at batches may stop training mid-epoch: agree on it per step.
        # Not with uneven shards (join): a rank that ran out would miss the collective; the epoch-end
        # agreement below still stops everyone.
        sync_batch_stop = (
            self.ctx.active
            and not train_iter.source.needs_join
            and any(
                c.runs_on_all_ranks
                and c in cbs._batch["on_train_batch_end"] + cbs._batch["on_train_batch_begin"]
                for c in cbs
            )
        )
        cbs.on_train_begin()
        if resume is not None:
            self._restore(resume, cbs.callbacks)
        if self.ctx.active:
            # Wrapped after on_train_begin, so DDP sees the model as callbacks left it.
            from torch.nn.parallel import DistributedDataParallel

            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.module = DistributedDataParallel(self.model, device_ids=device_ids)
        training_logs: dict[str, Any] = {}
        join = (
            self.module.join if (self.ctx.active and train_iter.source.needs_join) else contextlib.nullcontext
        )
        for epoch in range(initial_epoch, epochs):
            self.epoch = epoch
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            self.module.train()
            steps = 0
            with join():
                for step, batch in enumerate(train_iter.epoch(epoch)):
                    if want_begin:
                        cbs.on_train_batch_begin(step)
                    self.train_step(batch)
                    steps += 1
                    if want_end:
                        cbs.on_train_batch_end(step, LazyLogs(self.running_logs))
                    if self._pending_saves:
                        self._flush_saves()
                    if sync_batch_stop:
                        self.stop_training = distributed.any_rank(self._should_stop(), self.device)
                    if self._should_stop():
                        break
            if steps == 0 and epoch == initial_epoch and not self.ctx.active:
                raise ValueError(
                    "the training data gave no batches in the first epoch; check that the dataset or generator "
                    "is not empty (a one-shot generator is used up after one pass: pass a callable returning "
                    "a fresh one instead)."
                )
            epoch_logs = self.results()
            self.model.eval()
            if val_iter is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._test_loop(val_iter, cbs, epoch)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            self._flush_saves()
            training_logs = epoch_logs
            if self.ctx.active:
                self.stop_training = distributed.any_rank(self._should_stop(), self.device)
            if train_iter.exhausted and epoch + 1 < epochs:
                warnings.warn(
                    f"the training generator ran out of data after epoch {epoch + 1}; training stops. Pass "
                    "steps_per_epoch with an endless generator, or a callable returning a fresh iterator.",
                    stacklevel=3,
                )
                break
            if self._should_stop():
                break
        cbs.on_train_end(training_logs)
        return cbs.history

    def _test_loop(self, iterator: EpochIterator, cbs: CallbackList, epoch: int = 0) -> dict[str, float]:
        self.model.eval()
        self.reset_metrics()
        cbs.on_test_begin()
        want_begin, want_end = cbs.wants("on_test_batch_begin"), cbs.wants("on_test_batch_end")
        steps = 0
        with torch.no_grad():
            for step, batch in enumerate(iterator.epoch(epoch)):
                if want_begin:
                    cbs.on_test_batch_begin(step)
                self.test_step(batch)
                steps += 1
                if want_end:
                    cbs.on_test_batch_end(step, LazyLogs(self.running_logs))
        if steps == 0 and not self.ctx.active:
            raise ValueError(
                "the evaluation data gave no batches; check it is not empty (a one-shot generator is used up "
                "after one pass: give validation_steps with an endless one, or a callable)."
            )
        logs = self.results()
        cbs.on_test_end(logs)
        return logs

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
            raise ValueError("evaluate needs a loss: loss='mse', a loss module or a function.")
        source = make_source(
            x, y, sample_weight, batch_size=batch_size, rank=self.ctx.rank, world=self.ctx.world_size
        )
        if source.num_batches == 0:
            raise ValueError("the evaluation data is empty (0 samples).")
        iterator = EpochIterator(source, steps)
        return self._test_loop(iterator, self._one_pass_callbacks(callbacks, iterator, verbose))

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
        cbs = self._one_pass_callbacks(callbacks, iterator, verbose)
        self.model.eval()
        outputs: list[Any] = []
        cbs.on_predict_begin()
        with torch.no_grad():
            for step, batch in enumerate(iterator.epoch(0)):
                cbs.on_predict_batch_begin(step)
                bx, _, _ = unpack(batch)
                with self._autocast():
                    out = call_model(self.model, to_device(bx, self.device))
                outputs.append(map_structure(lambda t: t.detach().cpu() if torch.is_tensor(t) else t, out))
                cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict got no batches; check that the data is not empty.")
        return _concat(outputs)


def _concat(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_concat([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs]) for k in first}
    return torch.cat(outputs) if torch.is_tensor(first) else outputs


def _accepts_sample_weight(loss: Any) -> bool:
    from zoo.training.losses import Loss

    return isinstance(loss, Loss)


def _class_weight_table(class_weight: Mapping[int, float]) -> torch.Tensor:
    if not class_weight:
        raise ValueError("class_weight must map class indices to weights, got an empty mapping.")
    keys = [int(k) for k in class_weight]
    if min(keys) < 0:
        raise ValueError(f"class_weight keys must be class indices >= 0, got {sorted(keys)}.")
    table = torch.ones(max(keys) + 1)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table


def _unpack_validation(data: Any) -> tuple[Any, Any, Any]:
    if isinstance(data, tuple) and len(data) in (2, 3) and is_arrays(data[0]):
        return data[0], data[1], data[2] if len(data) == 3 else None
    return data, None, None


def _split(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple[Any, Any, Any, tuple[Any, Any, Any]]:
    """Keras' ``train_validation_split``: the *last* ``fraction`` of the samples, taken before shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction!r}.")
    from zoo.training.data import first_leaf

    if not is_arrays(x):
        raise ValueError(
            "validation_split works only with array/tensor data; for a Dataset, DataLoader or generator pass "
            "validation_data instead."
        )
    n = int(first_leaf(x).shape[0])
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={fraction} leaves an empty training or validation set with {n} samples; "
            "use more data or another fraction."
        )

    def head(t: Any) -> Any:
        return to_tensor(t)[:split_at]

    def tail(t: Any) -> Any:
        return to_tensor(t)[split_at:]

    return (
        map_structure(head, x),
        map_structure(head, y),
        map_structure(head, sample_weight),
        (map_structure(tail, x), map_structure(tail, y), map_structure(tail, sample_weight)),
    )


def _keyed(callbacks: list[Callback]) -> list[tuple[str, Callback]]:
    """Stable keys for callback state: class name plus its index among callbacks of that class."""
    seen: dict[str, int] = {}
    out = []
    for callback in callbacks:
        name = type(callback).__name__
        out.append((f"{name}.{seen.get(name, 0)}", callback))
        seen[name] = seen.get(name, 0) + 1
    return out


def _load_callback_states(callbacks: list[Callback], states: Mapping[str, Any]) -> None:
    for key, callback in _keyed(callbacks):
        if key in states and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(states[key])


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": random.getstate(),
    }


def _set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


# -- the functional API -------------------------------------------------------------------------------
def fit(
    model: nn.Module,
    x: Any = None,
    y: Any = None,
    *,
    optimizer: Any = "rmsprop",
    loss: Any = None,
    metrics: Iterable[Any] = (),
    device: Any = None,
    precision: str | None = None,
    **kwargs: Any,
) -> Any:
    """Train ``model`` Keras-style; returns a ``History`` (``.history``: name -> one value per epoch).

    ``optimizer``, ``loss``, ``metrics`` and ``callbacks`` may be registered names, ``{"name": ...,
    **config}`` dicts or objects. Other keywords: ``epochs``, ``batch_size``, ``validation_data``,
    ``validation_split``, ``validation_steps``, ``validation_batch_size``, ``validation_freq``,
    ``shuffle``, ``steps_per_epoch``, ``callbacks``, ``initial_epoch``, ``verbose``, ``sample_weight``,
    ``class_weight``, ``resume_from``. See the README's training section.
    """
    trainer = Trainer(
        model, optimizer=optimizer, loss=loss, metrics=metrics, device=device, precision=precision
    )
    return trainer.fit(x, y, **kwargs)


def evaluate(
    model: nn.Module,
    x: Any = None,
    y: Any = None,
    *,
    loss: Any = None,
    metrics: Iterable[Any] = (),
    device: Any = None,
    precision: str | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Loss and metrics of ``model`` on data, as ``{"loss": ..., "accuracy": ...}`` floats."""
    trainer = Trainer(model, loss=loss, metrics=metrics, device=device, precision=precision)
    return trainer.evaluate(x, y, **kwargs)


def predict(
    model: nn.Module, x: Any, *, device: Any = None, precision: str | None = None, **kwargs: Any
) -> Any:
    """Outputs of ``model`` for every batch of ``x``, concatenated on the CPU (a tensor, or a tuple/dict)."""
    trainer = Trainer(model, device=device, precision=precision)
    return trainer.predict(x, **kwargs)
