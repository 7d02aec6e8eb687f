"""ModelCheckpoint: weights, or the whole training state, written atomically on rank 0."""

from __future__ import annotations

import numbers
import os
import string
from collections.abc import Iterable
from typing import Any

from zoo.errors import MissingKeyError, OptionError
from zoo.training.arguments import check_bool, check_path, check_verbose
from zoo.training.callbacks.monitor_callback import MonitorCallback

#: What ``fit`` itself logs for every epoch, always as floats (the compiled metrics are added when known).
_LOGGED_FLOATS = ("loss", "val_loss", "learning_rate")


class ModelCheckpoint(MonitorCallback):
    """Save the model at the end of each epoch (or every ``save_freq`` batches), Keras 3 semantics.

    ``filepath`` may hold ``str.format`` fields filled from the logs plus ``epoch`` (1-based) and
    ``batch``: ``"ckpt/{epoch:02d}-{val_loss:.2f}.pt"``. ``save_best_only`` keeps only improvements of
    ``monitor`` (``mode="auto"``: ``MonitorCallback``'s direction rule); ``initial_value_threshold`` is
    the value to beat first, and, as in Keras 3, the best is kept when the callback is reused for another
    ``fit``.

    The path is checked when the callback is made (and against the compiled metrics when ``fit`` starts),
    since a bad one would otherwise only fail after a whole epoch: a template that does not format with an
    int ``epoch``/``batch`` and float quantities, a folder, or a Keras name (``.keras``/``.h5``: zoo writes
    a torch file, which Keras could not read).

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
        # Keras 3 sets best (to initial_value_threshold) here and nowhere else: a ModelCheckpoint reused for
        # a second fit keeps the best of the first, so it never overwrites a better file with a worse one.
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = check_path(self, "filepath", filepath)
        self.verbose = check_verbose(self, verbose)
        self.save_best_only = check_bool(self, "save_best_only", save_best_only)
        self.save_weights_only = check_bool(self, "save_weights_only", save_weights_only)
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, numbers.Integral) or save_freq <= 0
        ):
            raise OptionError(
                f"ModelCheckpoint: save_freq must be 'epoch' or a positive whole number of batches, got "
                f"{save_freq!r} ({type(save_freq).__name__})."
            )
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self._check_filepath()
        self._batches_since_save = 0
        self._last_batch = -1
        self._current_epoch = 0

    def _check_filepath(self) -> None:
        """Refuse, before any epoch runs, a path that could never be written: a folder, a Keras file name
        (zoo writes a torch file there), or a format template that does not format."""
        from zoo.models.saving import refuse_keras_suffix

        refuse_keras_suffix(
            self.filepath,
            "ModelCheckpoint",
            "name it 'ckpt.pt' (a torch file: load it with torch.load, or resume with zoo.fit(resume_from=...))",
        )
        if self.filepath.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)) or os.path.isdir(self.filepath):
            raise OptionError(
                f"ModelCheckpoint: filepath {self.filepath!r} is a folder; give the path of a file in it, e.g. "
                f"{os.path.join(self.filepath, 'ckpt-{epoch:02d}.pt')!r}."
            )
        fields = _fields(self.filepath)
        if self.save_freq == "epoch" and "batch" in fields:
            raise OptionError(
                f"ModelCheckpoint: filepath {self.filepath!r} uses {{batch}}, which is only filled when saving "
                "every N batches; pass save_freq=N or drop {batch} from the path."
            )
        self._check_format(_LOGGED_FLOATS)

    def _check_format(self, floats: Iterable[str]) -> None:
        """Format the template with sample values: ``epoch``/``batch`` ints, the quantities in ``floats``
        floats (what the logs will hold), any other field a float or an int (a callback may log either)."""
        floats = set(floats)
        sample: dict[str, Any] = {name: 1 if name in ("epoch", "batch") else 0.5 for name in _fields(self.filepath)}
        while (bad := _bad_field(self.filepath, sample)) is not None:
            name, error = bad
            if isinstance(sample[name], float) and name not in floats:
                sample[name] = 1  # maybe an int a callback logs: checked again when the logs hold it
                continue
            kind = "an int" if isinstance(sample[name], int) else "a float"
            raise OptionError(
                f"ModelCheckpoint: filepath {self.filepath!r} cannot format field {name!r} with {kind} "
                f"({error}); epoch and batch are ints, the loss and metrics floats: write e.g. "
                "{epoch:02d}-{val_loss:.2f}."
            )

    def on_train_begin(self, logs=None) -> None:
        # The compiled metrics are known now: a template such as {val_accuracy:d} fails here, not after
        # an epoch. ``best`` is kept (see __init__).
        names = [getattr(metric, "name", None) for metric in getattr(self.trainer, "metrics", None) or ()]
        names = [name for name in names if isinstance(name, str)]
        self._check_format([*_LOGGED_FLOATS, *names, *("val_" + name for name in names)])

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
            path = self.filepath.format(**fields)
        except KeyError as error:
            raise MissingKeyError(
                f"ModelCheckpoint filepath {self.filepath!r} uses {error.args[0]!r}, which is not in the logs "
                f"(available: epoch, batch, {', '.join(logs)})."
            ) from None
        except (ValueError, TypeError, IndexError, AttributeError) as error:
            name, why = _bad_field(self.filepath, fields) or ("?", error)
            value = fields.get(name)
            raise OptionError(
                f"ModelCheckpoint: filepath {self.filepath!r} cannot format field {name!r} with the logged "
                f"{value!r} ({type(value).__name__}): {why}."
            ) from None
        if os.path.isdir(path):
            raise OptionError(
                f"ModelCheckpoint: the path {path!r} (from {self.filepath!r}) is an existing folder; give a file "
                "path, e.g. end the template with a file name such as 'ckpt-{epoch:02d}.pt'."
            )
        return path

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


def _fields(template: str) -> list[str]:
    """The names a ``str.format`` template fills (``{epoch:02d}`` -> ``epoch``), checked to be names."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise OptionError(
            f"ModelCheckpoint: filepath {template!r} is not a valid format template ({error}); fields are "
            "written {epoch:02d}, a literal brace {{ or }}."
        ) from None
    names = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        name = field.split(".")[0].split("[")[0]
        if not name or name.isdigit():
            raise OptionError(
                f"ModelCheckpoint: filepath {template!r} has a positional field {{{field}}}; fields are filled "
                "by name from the logs: {epoch}, {batch}, {val_loss} ..."
            )
        if name not in names:
            names.append(name)
    return names


def _bad_field(template: str, values: dict[str, Any]) -> tuple[str, Exception] | None:
    """The first field of ``template`` that ``values`` cannot fill, with the error, or None."""
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        one = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        try:
            one.format(**values)
        except KeyError:
            continue  # a missing key is MissingKeyError's to report
        except (ValueError, TypeError, IndexError, AttributeError) as error:
            return field.split(".")[0].split("[")[0], error
    return None
