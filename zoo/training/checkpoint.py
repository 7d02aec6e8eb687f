"""Training state and its files: what a full checkpoint holds, writing it atomically, reading it back with
``weights_only=True`` (never unpickling code), and putting it back into a run.

A full state holds the model, optimizer and AMP scaler, the epoch and step counters, every callback's
``state_dict()`` and the torch (CPU and CUDA), numpy and Python RNG states, so a resumed run continues
exactly where the saved one was.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.atomic import atomic_open
from zoo.errors import DataError, MissingFileError, OptionError

CHECKPOINT_FORMAT = "zoo.training/1"


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` through :func:`zoo.atomic.atomic_open` with fsync: a reader (or a crash) never sees a
    half-written checkpoint, and a finished one survives a power cut."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", fsync=True) as f:
        torch.save(obj, f)


def training_state(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scaler: Any,
    *,
    epoch: int,
    global_step: int,
    callbacks: list[Any],
) -> dict[str, Any]:
    """Everything ``restore`` needs to continue a run, as a ``weights_only``-loadable dict."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "epoch": epoch,
        "global_step": global_step,
        "callbacks": {
            key: callback.state_dict()
            for key, callback in _keyed(callbacks)
            if hasattr(callback, "state_dict")
        },
        "rng": _rng_state(),
    }


def restore(
    state: Mapping[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scaler: Any,
    callbacks: list[Any],
) -> int:
    """Load a ``training_state`` into the run's objects and the RNGs; returns the global step to go on from."""
    from zoo.applications.local_weights import fit_weights

    fit_weights(model, state["model"], name=type(model).__name__, source=state.get("path", "the checkpoint"))
    if state.get("optimizer") is not None:
        _check_same_optimizer(state, optimizer)
        optimizer.load_state_dict(state["optimizer"])
    if scaler is not None and state.get("scaler") is not None:
        scaler.load_state_dict(state["scaler"])
    states = state.get("callbacks", {})
    for key, callback in _keyed(callbacks):
        if key in states and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(states[key])
    _set_rng_state(state["rng"])
    return int(state["global_step"])


def _check_same_optimizer(state: Mapping[str, Any], optimizer: torch.optim.Optimizer | None) -> None:
    """Resuming continues the saved run, its optimizer state included: another optimizer class cannot take
    that state (``KeyError: 'betas'`` deep in torch), and settings of this fit's optimizer that differ from
    the saved ones are replaced by them, which is said in a warning rather than done silently."""
    import warnings

    saved = state["optimizer"]
    source = state.get("path", "the checkpoint")
    saved_class = state.get("optimizer_class")
    saved_groups = saved.get("param_groups", []) if isinstance(saved, Mapping) else []
    if optimizer is None:
        raise OptionError(
            f"resume_from={source!r} holds an optimizer state, but this run has no optimizer yet to take it: "
            "compile the model (or give optimizer=) before restoring."
        )
    own_groups = optimizer.param_groups
    keys = [set(g) - {"params"} for g in saved_groups]
    other_class = saved_class is not None and saved_class != type(optimizer).__name__
    if other_class or len(saved_groups) != len(own_groups) or any(
        k != set(g) - {"params"} for k, g in zip(keys, own_groups, strict=False)
    ):
        was = saved_class or "another optimizer (its parameter groups hold other settings)"
        raise OptionError(
            f"resume_from={source!r} continues a run whose optimizer was {was}, but this fit's is "
            f"{type(optimizer).__name__}, which cannot take its state. Resume with the same optimizer, or start "
            "a new run from the saved weights only: model.load_state_dict(zoo.training.load_training_state(path)"
            "['model'])."
        )
    changed = [
        f"{key} {mine[key]!r} -> {theirs[key]!r}"
        for mine, theirs in zip(own_groups, saved_groups, strict=True)
        for key in sorted(set(theirs) - {"params"})
        if key in mine and _differs(mine[key], theirs[key])
    ]
    if changed:
        warnings.warn(
            f"resume_from={source!r}: the saved optimizer state replaces this fit's settings ({', '.join(changed[:6])}"
            f"{', ...' if len(changed) > 6 else ''}), so the run continues as saved; to change them, set "
            "trainer.optimizer.param_groups[i][key] in a callback's on_epoch_begin (a LearningRateScheduler for "
            "the learning rate), which runs after the restore.",
            UserWarning,
            stacklevel=5,
        )


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except (RuntimeError, ValueError):  # tensors (a capturable lr): compared by value
        return not torch.equal(torch.as_tensor(a), torch.as_tensor(b))


def load_training_state(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """A full training state written by ``ModelCheckpoint(save_weights_only=False)`` / ``Trainer.save``."""
    from zoo.applications import weights_file

    if not isinstance(path, (str, os.PathLike)):
        raise OptionError(
            f"resume_from must be the path of a checkpoint file (str or os.PathLike), got {path!r} "
            f"({type(path).__name__})."
        )
    file = Path(path)
    if not file.is_file():
        raise MissingFileError(f"resume_from={str(path)!r}: no such checkpoint file.")
    try:
        state = torch.load(file, map_location=map_location, weights_only=True)
    except Exception:  # noqa: BLE001 - torch.load raises a dozen types for bad bytes; the file is described
        raise DataError(
            f"resume_from={str(path)!r} is not a checkpoint: it is {weights_file.describe(file)}. Resume from a "
            "file that ModelCheckpoint(path, save_weights_only=False) wrote."
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise DataError(
            f"{str(path)!r} is not a zoo training-state checkpoint (it holds only weights, or another format). "
            "Write one with ModelCheckpoint(path, save_weights_only=False) to resume from it, or load "
            "plain weights with model.load_state_dict(torch.load(path, weights_only=True))."
        )
    if not isinstance(state.get("model"), Mapping):
        raise DataError(f"{str(path)!r} is a zoo training-state checkpoint without model weights; it is damaged.")
    state = {**state, "path": str(path)}  # for restore's messages
    return state


def _keyed(callbacks: list[Any]) -> list[tuple[str, Any]]:
    """Stable keys for callback state: class name plus its index among callbacks of that class."""
    seen: dict[str, int] = {}
    out = []
    for callback in callbacks:
        name = type(callback).__name__
        out.append((f"{name}.{seen.get(name, 0)}", callback))
        seen[name] = seen.get(name, 0) + 1
    return out


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
