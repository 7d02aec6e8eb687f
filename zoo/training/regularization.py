"""The Keras layer keywords that reach training: regularizer penalties and weight constraints.

Layers given ``kernel_regularizer=`` / ``activity_regularizer=`` / ``kernel_constraint=`` (see
``zoo.layers._keras``) are found once per run; ``objective`` adds their penalties to the loss (and they
are logged as ``regularization_loss``), ``take_step`` projects the constrained weights after each update.
A model without them costs nothing per step.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from zoo.layers._keras import (
    activity_pass,
    apply_constraints,
    constrained_layers,
    regularization_loss,
    regularized_layers,
)
from zoo.training.metrics import Mean

#: The log of the penalties' mean: a part of ``loss`` (which includes them, as in Keras), shown on its own.
REGULARIZATION_LOSS = "regularization_loss"


class LayerTerms:
    """The regularized and constrained layers of one model, and the mean of the penalties added."""

    def __init__(self, model: nn.Module) -> None:
        self.regularized = regularized_layers(model)
        self.constrained = constrained_layers(model)
        self.tracker = Mean(REGULARIZATION_LOSS) if self.regularized else None

    def forward_pass(self) -> contextlib.AbstractContextManager[None]:
        """Around the model's forward pass: which activity penalties ``add_penalties`` then adds."""
        return activity_pass(self.regularized) if self.regularized else contextlib.nullcontext()

    def add_penalties(self, loss: torch.Tensor, n: int) -> torch.Tensor:
        if not self.regularized:
            return loss
        penalty = regularization_loss(self.regularized)
        if penalty is None:
            return loss
        self.tracker.add_scalar(penalty.detach().float(), n)  # type: ignore[union-attr]
        return loss + penalty

    def constrain(self) -> None:
        if self.constrained:
            apply_constraints(self.constrained)
