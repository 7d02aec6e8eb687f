"""The running loss and metrics of a run, and their reduction across ranks under DDP.

Sums stay tensors on the device while batches run; a value becomes a Python float only when the epoch
ends (``results``, one device sync for all metrics) or a callback reads a batch log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.training import distributed
from zoo.training.data import map_structure
from zoo.training.metrics import Mean, Metric


class Tracker:
    """The ``loss`` mean (then ``regularization_loss`` where layers add penalties) followed by the
    compiled metrics, then the weighted ones, in the order logs list them.

    As in Keras 3, only ``weighted`` metrics (``weighted_metrics=``) see ``sample_weight`` (and, in
    training, ``class_weight``); the others are plain means over the samples. The loss is always weighted.
    """

    def __init__(
        self, metrics: list[Metric], penalty: Mean | None = None, weighted: Sequence[Metric] = ()
    ) -> None:
        self.loss = Mean("loss")
        self.penalty = penalty  # updated by objective, as the penalties are added
        self.metrics = [*metrics, *weighted]
        self.weighted = {id(metric) for metric in weighted}

    def all(self) -> list[Metric]:
        return [self.loss, *([self.penalty] if self.penalty is not None else []), *self.metrics]

    def reset(self) -> None:
        for metric in self.all():
            metric.reset()

    def update(self, loss: torch.Tensor, y_pred: Any, y: Any, sample_weight: Any, n: int) -> None:
        """``sample_weight``: what the weighted metrics weigh by (the loss is already weighted)."""
        self.loss.add_scalar(loss.detach().float(), n)
        if self.metrics:
            with torch.no_grad():
                y_pred = map_structure(lambda t: t.detach().float() if t.is_floating_point() else t, y_pred)
                for metric in self.metrics:
                    metric.update(y_pred, y, sample_weight if id(metric) in self.weighted else None)

    def running(self) -> dict[str, Any]:
        """This process's running means (no cross-rank reduction): what batch hooks see."""
        return {m.name: m.result() for m in self.all()}

    def results(self, ctx: distributed.Context, device: torch.device) -> dict[str, float]:
        """Epoch means as floats, summed across ranks under DDP first; one device sync in all."""
        metrics = self.all()
        if ctx.active:
            states = [metric.state(device) for metric in metrics]
            distributed.all_reduce_sum([t for state in states for t in state])
            for metric, state in zip(metrics, states, strict=True):
                metric.load_state(state)
        values = torch.stack([m.result().to(device).float().reshape(()) for m in metrics]).tolist()
        return dict(zip((m.name for m in metrics), values, strict=True))
