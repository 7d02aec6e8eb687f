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


def check_device(device: Any) -> torch.device | None:
    """``device=`` as a ``torch.device`` (None stays None), or an ``OptionError`` saying what is wrong: not a
    device name (``"gpu"``), a CUDA/MPS device this machine lacks, a CUDA index beyond its GPUs (``"cuda:7"``).
    The rule is ``zoo benchmark --device``'s (``zoo.applications.benchmark``)."""
    if device is None or isinstance(device, torch.device) and device.type == "meta":
        return device
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise OptionError(
            f"device must be a name such as 'cpu', 'cuda', 'cuda:1' or 'mps' (or a torch.device), got "
            f"{type(device).__name__} {device!r}."
        )
    from zoo.applications.benchmark import _device
    from zoo.errors import ZooError

    try:
        dev = _device(device if isinstance(device, str) else str(torch.device(device)), cpu="device='cpu'")
    except ZooError as error:
        hint = " For the GPU write 'cuda' (or 'cuda:0')." if str(device).strip().lower() == "gpu" else ""
        raise OptionError(f"fit/evaluate/predict: {error}{hint}") from None
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise OptionError(
            f"device {device!r}: this machine has {count} CUDA device(s) (cuda:0 to cuda:{count - 1}); pick one "
            "of them, or 'cuda' for the current one."
        )
    return dev


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
