"""Checkpoint files: written atomically, read with ``weights_only=True`` (never unpickling code)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temp file in the same folder, fsync, then ``os.replace``: a reader (or a crash)
    never sees a half-written checkpoint."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_training_state(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """A full training state written by ``ModelCheckpoint(save_weights_only=False)`` / ``Trainer.save``."""
    from zoo.training.trainer import CHECKPOINT_FORMAT

    if not Path(path).is_file():
        raise FileNotFoundError(f"resume_from={str(path)!r}: no such checkpoint file.")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a zoo training-state checkpoint (it holds only weights, or another format). "
            "Write one with ModelCheckpoint(path, save_weights_only=False) to resume from it, or load "
            "plain weights with model.load_state_dict(torch.load(path, weights_only=True))."
        )
    return state
