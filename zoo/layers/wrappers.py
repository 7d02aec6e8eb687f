"""``TimeDistributed``: apply one module to every timestep by folding time into the batch."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from zoo.layers._base import check_rank, resolve_mask, with_mask


def _frozen(module: nn.Module) -> bool:
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


class TimeDistributed(nn.Module):
    """Applies ``layer`` to each step of ``(N, T, ...)``, giving ``(N, T, ...)``.

    The ``N*T`` frames go through ``layer`` in one call (or in calls of at most ``chunk_size`` frames, to
    bound memory for a big backbone), never one call per frame. With a mask (``mask=``, ``lengths=`` or
    one attached by a masking layer), padded frames are not computed: their outputs are zeros and the mask
    is passed on. When every parameter of ``layer`` is frozen (e.g. ``zoo.load(..., trainable=False)``) and
    the input needs no gradient, ``layer`` runs under ``torch.no_grad()``, so no activations are kept for
    backward; the layer's train/eval mode is left as it is (a frozen ``zoo.load`` backbone keeps its
    BatchNorm in eval mode by itself).
    """

    def __init__(self, layer: nn.Module, chunk_size: int | None = None) -> None:
        super().__init__()
        if not isinstance(layer, nn.Module):
            raise TypeError(f"TimeDistributed wraps an nn.Module, got {type(layer).__name__}.")
        if chunk_size is not None and chunk_size <= 0:
            raise ValueError(f"TimeDistributed: chunk_size must be positive, got {chunk_size!r}.")
        self.layer = layer
        self.chunk_size = chunk_size

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
        if self.chunk_size is None or frames.shape[0] <= self.chunk_size:
            return self._checked(self.layer(frames))
        return torch.cat([self._checked(self.layer(c)) for c in frames.split(self.chunk_size)])

    def _checked(self, out: object) -> torch.Tensor:
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"TimeDistributed({type(self.layer).__name__}): the wrapped layer must return one tensor, "
                f"got {type(out).__name__}."
            )
        return out

    def extra_repr(self) -> str:
        return "" if self.chunk_size is None else f"chunk_size={self.chunk_size}"
