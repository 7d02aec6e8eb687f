"""Data-parallel plumbing: detect ``torchrun``, start the process group, reduce values across ranks."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device | None) -> Context:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1), else a 1-process context.

    An already initialised group is used as is; otherwise ``nccl`` is chosen on CUDA, ``gloo`` on CPU.
    """
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return Context()
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = (device is None or device.type == "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Context(rank, world, local_rank)


def all_reduce_sum(tensors: list[torch.Tensor]) -> None:
    """Sum tensors in place across ranks (one collective for all of them)."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1).to(torch.float64) for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset : offset + n].reshape(t.shape).to(t.dtype))
        offset += n


def any_rank(flag: bool, device: torch.device) -> bool:
    """``True`` on every rank when it is ``True`` on any rank (a stop decision everyone must share)."""
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
