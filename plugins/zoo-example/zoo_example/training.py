"""Entries for zoo.fit: a loss, a metric, a callback, an optimizer, an initializer, a regularizer and a
constraint, each as zoo calls it (see plugin.py for how they are registered)."""

from __future__ import annotations

import math

import torch
from torch import nn

import zoo


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., 2017) on logits and class indices: ``loss(input, target)``, torch's order."""

    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(input, dim=-1).gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
        return (-((1 - logp.exp()) ** self.gamma) * logp).mean()


class TopKHit:
    """Whether the true class is among the ``k`` best: per-sample values, zoo.fit averages them."""

    direction = "up"  # EarlyStopping/ModelCheckpoint in mode="auto" read which way is better

    def __init__(self, k: int = 2) -> None:
        self.k = k

    def __call__(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        best = y_pred.topk(min(self.k, y_pred.shape[-1]), dim=-1).indices
        return (best == y_true.long().unsqueeze(-1)).any(-1).float()


class EpochTimer(zoo.Callback):
    """Adds ``epoch_seconds`` to each epoch's logs (so History and CSVLogger record it)."""

    def on_epoch_begin(self, epoch, logs=None):
        import time

        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        logs["epoch_seconds"] = time.perf_counter() - self._start


class SignSGD(torch.optim.Optimizer):
    """SGD on the sign of the gradient: ``zoo.get("optimizers", "sign_sgd", model.parameters(), lr=...)``."""

    def __init__(self, params, lr: float = 1e-3) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad.sign(), alpha=-group["lr"])
        return loss


class ScaledUniform:
    """Initializer: ``init(tensor)`` fills it in place with U(-a, a), a = scale / sqrt(fan_in)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        fan_in = tensor.shape[1] * math.prod(tensor.shape[2:]) if tensor.ndim > 1 else tensor.shape[0]
        bound = self.scale / math.sqrt(max(fan_in, 1))
        with torch.no_grad():
            return tensor.uniform_(-bound, bound)


class L1Half:
    """Regularizer: ``penalty = strength * sum(sqrt(|w| + eps))`` (sparser than L1), added to the loss."""

    def __init__(self, strength: float = 1e-4) -> None:
        self.strength = strength

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return self.strength * torch.sqrt(w.abs() + 1e-8).sum()


class ClipValue:
    """Constraint: after each step ``w = constraint(w)``; here every weight clipped to [-limit, limit]."""

    def __init__(self, limit: float = 1.0) -> None:
        self.limit = limit

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w.clamp(-self.limit, self.limit)
