"""Where a run computes and in what precision: the device choice and the autocast/GradScaler policy."""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from zoo.errors import OptionError
from zoo.training import distributed

_DTYPES = {
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


def pick_device(device: Any, model: nn.Module, ctx: distributed.Context) -> torch.device:
    """The device asked for; else this rank's GPU under ``torchrun``; else where the model already lives;
    else CUDA when there is one."""
    if device is not None:
        return torch.device(device)
    if ctx.active and torch.cuda.is_available():
        return torch.device("cuda", ctx.local_rank)
    param = next(model.parameters(), None)
    if param is not None and param.device.type not in ("cpu", "meta"):
        return param.device
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


class Precision:
    """The mixed-precision policy of one run: which autocast dtype (``None``: full float32) and, for fp16,
    the ``GradScaler`` that keeps small gradients from underflowing. Every backward and optimizer step
    goes through it, so the scaler cannot be forgotten on one path."""

    def __init__(self, precision: str | None, device: torch.device) -> None:
        if precision not in _DTYPES:
            raise OptionError(f"precision must be one of None, 'bf16' or 'fp16', got {precision!r}.")
        self.dtype: torch.dtype | None = _DTYPES[precision]
        if self.dtype is torch.float16 and device.type != "cuda":
            raise OptionError("precision='fp16' needs a CUDA device; use precision='bf16' on CPU.")
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype is torch.float16 else None

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        if self.scaler is None:
            loss.backward()
        else:
            self.scaler.scale(loss).backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Bring scaled gradients back to their true size (before clipping looks at them)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)
            self.scaler.update()
