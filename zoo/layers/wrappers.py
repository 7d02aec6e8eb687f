"""``TimeDistributed``: apply one module to every timestep by folding time into the batch."""

from __future__ import annotations

import contextlib
import time

import torch
from torch import nn

from zoo.errors import ArgumentError, OptionError
from zoo.layers._base import check_rank, resolve_mask, with_mask
from zoo.layers._keras import Layer
from zoo.layers._tracing import is_tracing
from zoo.utils.modes import in_mode

_AUTO = "auto"


def _frozen(module: nn.Module) -> bool:
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


class TimeDistributed(Layer):
    """Applies ``layer`` to each step of ``(N, T, ...)``, giving ``(N, T, ...)``.

    The ``N*T`` frames go through ``layer`` in one call (or in calls of at most ``chunk_size`` frames, to
    bound memory for a big backbone), never one call per frame. With a mask (``mask=``, ``lengths=`` or
    one attached by a masking layer), padded frames are not computed: their outputs are zeros and the mask
    is passed on. When every parameter of ``layer`` is frozen (e.g. ``zoo.load(..., trainable=False)``) and
    the input needs no gradient, ``layer`` runs under ``torch.no_grad()``, so no activations are kept for
    backward; the layer's train/eval mode is left as it is (a frozen ``zoo.load`` backbone keeps its
    BatchNorm in eval mode by itself).

    ``chunk_size="auto"`` picks the chunking by measuring: one call on all frames is not always fastest (on
    a CPU, a small CNN on 128 frames of 32x32 ran 1.9x slower in one call than in calls of 8, its
    activations no longer fitting the cache). On the first eager call for a frame shape, device and dtype it
    times every power-of-two chunk from 8 frames up to all of them, without gradients and with the layer
    switched to eval mode for the measurement (BatchNorm statistics are not touched), and keeps the fastest
    in ``chosen_chunks``. While traced, exported or compiled it never measures: it uses the size chosen for
    that shape eagerly, or one call. Note that in training mode a BatchNorm in ``layer`` sees each chunk as
    a batch, with any ``chunk_size``.
    """

    def __init__(self, layer: nn.Module, chunk_size: int | str | None = None) -> None:
        super().__init__()
        if not isinstance(layer, nn.Module):
            raise ArgumentError(f"TimeDistributed wraps an nn.Module, got {type(layer).__name__}.")
        if chunk_size != _AUTO and chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
            raise OptionError(
                f"TimeDistributed: chunk_size must be a positive int, None (one call) or 'auto' (measured), "
                f"got {chunk_size!r}."
            )
        self.layer = layer
        self.chunk_size = chunk_size
        self.chosen_chunks: dict[tuple, int] = {}

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_rank(self, x, range(3, 9), "(batch, time, ...)")
        mask = resolve_mask(self, x, mask, lengths)
        n, t = x.shape[:2]
        frames = x.reshape(n * t, *x.shape[2:])
        if mask is not None:
            keep = mask.reshape(-1)
            frames = frames[keep]
        no_grad = _frozen(self.layer) and not x.requires_grad and torch.is_grad_enabled()
        with torch.no_grad() if no_grad else contextlib.nullcontext():
            out = self._apply_layer(frames)
        if mask is not None:
            full = out.new_zeros((n * t, *out.shape[1:]))
            full[keep] = out
            out = full
        return with_mask(out.reshape(n, t, *out.shape[1:]), mask)

    def _apply_layer(self, frames: torch.Tensor) -> torch.Tensor:
        size = self._auto_chunk(frames) if self.chunk_size == _AUTO else self.chunk_size
        if size is None or frames.shape[0] <= size:
            return self._checked(self.layer(frames))
        return torch.cat([self._checked(self.layer(c)) for c in frames.split(size)])

    def _auto_chunk(self, frames: torch.Tensor) -> int | None:
        key = (tuple(frames.shape), frames.device, frames.dtype)
        if key not in self.chosen_chunks:
            if is_tracing():
                return None
            self.chosen_chunks[key] = self._measure(frames)
        return self.chosen_chunks[key]

    def _measure(self, frames: torch.Tensor) -> int:
        """The fastest chunk size for ``frames``: each candidate timed twice, interleaved, best time kept."""
        total = frames.shape[0]
        candidates = [total]
        while candidates[-1] > 8:
            candidates.append((candidates[-1] + 1) // 2)
        best = dict.fromkeys(candidates, float("inf"))
        sync = torch.cuda.synchronize if frames.is_cuda else (lambda: None)
        with in_mode(self.layer, False), torch.no_grad():
            self.layer(frames[: candidates[-1]])  # warm-up (first-call allocations, lazy modules)
            for _ in range(2):
                for size in candidates:
                    sync()
                    start = time.perf_counter()
                    for chunk in frames.split(size):
                        self.layer(chunk)
                    sync()
                    best[size] = min(best[size], time.perf_counter() - start)
        return min(best, key=best.__getitem__)

    def _checked(self, out: object) -> torch.Tensor:
        if not isinstance(out, torch.Tensor):
            raise ArgumentError(
                f"TimeDistributed({type(self.layer).__name__}): the wrapped layer must return one tensor, "
                f"got {type(out).__name__}."
            )
        return out

    def extra_repr(self) -> str:
        return "" if self.chunk_size is None else f"chunk_size={self.chunk_size}"
