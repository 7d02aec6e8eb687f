"""Callbacks that report elsewhere: CSVLogger, RemoteMonitor, TensorBoard; and LambdaCallback,
LearningRateScheduler."""

from __future__ import annotations

import collections
import csv
import inspect
import json
import math
import numbers
import os
import urllib.parse
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zoo.errors import ArgumentError, OptionError
from zoo.training.arguments import check_bool, check_number, check_path, check_verbose
from zoo.training.callbacks.base import Callback
from zoo.training.callbacks.monitor import get_lr


class CSVLogger(Callback):
    """Stream epoch logs to a CSV file (rank 0 only), Keras 3 semantics.

    Columns are ``epoch`` (0-based) then the sorted log keys of the *first* epoch, plus the ``val_`` keys
    validation will add; later new keys are ignored and missing ones written as ``NA``. ``append=True``
    continues an existing file, writing the header only if the file is empty (what a resumed run wants).
    """

    runs_on_all_ranks = False

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise OptionError(
                f"CSVLogger: separator must be one character (',', ';', '\\t'), got {separator!r}."
            )
        self.filename, self.sep = check_path(self, "filename", filename), separator
        self.append = check_bool(self, "append", append)
        self.keys: list[str] | None = None
        self.writer: csv.DictWriter | None = None
        self.csv_file: Any = None
        self.append_header = True

    def on_train_begin(self, logs=None) -> None:
        folder = os.path.dirname(os.path.abspath(self.filename))
        if not os.path.isdir(folder):
            raise OptionError(
                f"CSVLogger: the folder of {self.filename!r} ({folder}) does not exist; create it first "
                "(os.makedirs(folder, exist_ok=True)) or log to a file in an existing folder."
            )
        if os.path.isdir(self.filename):
            raise OptionError(f"CSVLogger: {self.filename!r} is a folder; give the path of a .csv file.")
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not bool(len(f.readline()))
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer, self.keys = None, None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            validating = self.params.get("validation", False)
            if validating and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in sorted(logs)]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None) -> None:
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class RemoteMonitor(Callback):
    """POST each epoch's logs to a server (rank 0 only), as Keras: to ``root + path``, either as a form
    field ``field`` holding JSON (default) or as a JSON body (``send_as_json=True``). An unreachable
    server gives a warning, never a crash."""

    runs_on_all_ranks = False

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
        timeout: float | None = 10.0,
    ) -> None:
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise ArgumentError(f"RemoteMonitor: {name} must be a str, got {value!r} ({type(value).__name__}).")
        if headers is not None and not isinstance(headers, Mapping):
            raise ArgumentError(
                f"RemoteMonitor: headers must be a dict of HTTP headers or None, got {type(headers).__name__}."
            )
        send_as_json = check_bool(self, "send_as_json", send_as_json)
        if timeout is not None:
            check_number(self, "timeout", timeout)
            if timeout == 0:
                raise OptionError("RemoteMonitor: timeout is in seconds and must be > 0 (or None to wait forever).")
        parsed = urllib.parse.urlparse(root)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise OptionError(f"RemoteMonitor root must be an http(s) URL with a host, got {root!r}.")
        if urllib.parse.urlparse(root + path).hostname != parsed.hostname:
            raise OptionError(f"RemoteMonitor path {path!r} changes the host of {root!r}; give a plain path.")
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json, self.timeout = headers, send_as_json, timeout

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        import requests

        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if hasattr(value, "item") else value
        url = self.root + self.path
        try:
            if self.send_as_json:
                requests.post(url, json=send, headers=self.headers, timeout=self.timeout)
            else:
                requests.post(
                    url, data={self.field: json.dumps(send)}, headers=self.headers, timeout=self.timeout
                )
        except requests.exceptions.RequestException:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)


class TensorBoard(Callback):
    """Write logs for TensorBoard with ``torch.utils.tensorboard`` (rank 0 only).

    As Keras 3: training values go to ``log_dir/train`` and validation values to
    ``log_dir/validation``, both as ``epoch_<name>`` (``val_`` dropped), so the two curves share a chart.
    ``update_freq="batch"`` or an integer N also writes ``batch_<name>`` every N batches (one device sync
    each time); ``histogram_freq=N`` writes weight histograms every N epochs.
    """

    runs_on_all_ranks = False

    def __init__(
        self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, update_freq: str | int = "epoch"
    ) -> None:
        super().__init__()
        self.log_dir = check_path(self, "log_dir", log_dir)
        check_number(self, "histogram_freq", histogram_freq, integer=True)
        self.histogram_freq = int(histogram_freq)
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, numbers.Integral) or update_freq <= 0
        ):
            raise OptionError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive whole number of batches, got "
                f"{update_freq!r} ({type(update_freq).__name__})."
            )
        self.update_freq = update_freq if update_freq == "epoch" else int(update_freq)
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            from torch.utils.tensorboard import SummaryWriter

            self._writers[name] = SummaryWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.update_freq == "epoch":
            return
        step = self.trainer.global_step
        if step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                if isinstance(value, (int, float)):
                    self._writer("train").add_scalar(f"batch_{key}", value, step)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            if not isinstance(value, (int, float)):
                continue
            if key.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{key[4:]}", value, epoch)
            else:
                self._writer("train").add_scalar(f"epoch_{key}", value, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, param in self.model.named_parameters():
                writer.add_histogram(name, param.detach().cpu(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class LearningRateScheduler(Callback):
    """At each epoch start set the learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``), for
    every parameter group; the epoch logs gain ``learning_rate``. Keras 3 semantics, except that a schedule
    that is not a function of one of those forms is refused when the callback is made."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, check_verbose(self, verbose)
        self._takes_lr = _schedule_takes_lr(schedule)

    def _lr(self, epoch: int, lr: float) -> Any:
        if self._takes_lr is None:  # no signature to read: Keras' way, (epoch, lr) then (epoch)
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        optimizer = self.trainer.optimizer
        for group in optimizer.param_groups:
            lr = self._lr(epoch, float(group["lr"]))
            if hasattr(lr, "item"):
                lr = lr.item()
            if isinstance(lr, bool) or not isinstance(lr, (float, int)) or not math.isfinite(lr) or lr < 0:
                raise OptionError(
                    f"LearningRateScheduler: the schedule returned {lr!r} for epoch {epoch}; a learning rate must "
                    "be a finite number >= 0 (a float, e.g. return lr * 0.9)."
                )
            group["lr"] = float(lr)
        if self.verbose > 0 and self.trainer.is_main:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {get_lr(optimizer)}.")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None:
            logs["learning_rate"] = get_lr(self.trainer.optimizer)


def _schedule_takes_lr(schedule: Any) -> bool | None:
    """Whether ``schedule`` is called as ``(epoch, lr)`` (Keras 3 tries that first) or ``(epoch)``; None when
    it has no readable signature. Read once, so a TypeError raised inside the schedule is not mistaken for
    a call with the wrong arguments (and retried as ``schedule(epoch)``)."""
    if not callable(schedule):
        raise OptionError(
            f"LearningRateScheduler: schedule must be a function of (epoch, lr) or (epoch) returning the "
            f"learning rate, got {schedule!r} ({type(schedule).__name__}); for a fixed rate set the optimizer's "
            "learning_rate instead."
        )
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return None
    for args, takes_lr in (((0, 0.1), True), ((0,), False)):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return takes_lr
    raise OptionError(
        f"LearningRateScheduler: schedule{signature} cannot be called as schedule(epoch, lr) or schedule(epoch); "
        "define it as def schedule(epoch, lr): return ... (or def schedule(epoch))."
    )


_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)
_ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Any hook name is accepted (``on_batch_end`` means ``on_train_batch_end``); functions take the same
    arguments as the hook. Runs on every rank; check ``trainer.is_main`` to act once.
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, fn in hooks.items():
            hook = _ALIASES.get(name, name)
            if hook not in _HOOKS:
                raise ArgumentError(f"LambdaCallback got unknown hook {name!r}; hooks are: {', '.join(_HOOKS)}.")
            if not callable(fn):
                raise ArgumentError(f"LambdaCallback {name}= must be callable, got {type(fn).__name__}.")
            setattr(self, hook, fn)
