"""One optimisation step: forward, loss, backward, gradient clipping, update (and LBFGS's closure).

Regularization (``zoo.training.regularization.LayerTerms``) plugs in at two places:

* **penalties** -- ``objective`` is the one function that turns a batch into the loss that is
  differentiated; it adds the layers' penalty terms (Keras ``model.losses``), so every optimizer (LBFGS
  re-evaluates it inside its closure), the reported ``loss`` and ``evaluate`` see them.
* **constraints** -- ``take_step`` projects the constrained parameters after the update (LBFGS's and the
  others'), as Keras does.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from zoo.errors import DataError
from zoo.training.data import batch_size_of
from zoo.training.loss_computation import compute_loss
from zoo.training.precision import Precision
from zoo.training.regularization import LayerTerms

#: ``() -> (y_pred, loss)``: the forward pass and loss of the current batch.
Objective = Callable[[], "tuple[Any, torch.Tensor]"]


def call_model(module: nn.Module, x: Any) -> Any:
    """A tuple/list ``x`` is several positional inputs (``model(video, question)``), a dict keywords."""
    args: tuple = (x,)
    kwargs: dict = {}
    if isinstance(x, (tuple, list)):
        args = tuple(x)
    elif isinstance(x, dict):
        args, kwargs = (), x
    try:
        return module(*args, **kwargs)
    except TypeError as exc:
        _check_arity(module, args, kwargs, exc)
        raise


def _check_arity(module: nn.Module, args: tuple, kwargs: dict, exc: TypeError) -> None:
    """After a ``TypeError``, only: when the batch does not bind to ``forward``'s parameters (a list of two
    arrays given to a one-input model), say so in the data's terms instead of ``forward() takes 2
    positional arguments but 3 were given``. Binding costs nothing on the path that works."""
    try:
        inspect.signature(module.forward).bind(*args, **kwargs)
    except TypeError as why:
        given = f"{len(args)} inputs by position" if args else f"inputs named {sorted(kwargs)}"
        raise DataError(
            f"the batch gives {type(module).__name__} {given}, which its forward does not take ({why}). "
            "x is one input (an array or tensor); a list or tuple of arrays is one per positional input, a dict "
            "one per named input: give x in the form the model's forward takes."
        ) from exc
    except ValueError:  # no signature to bind against (a builtin): leave the original error
        return


def objective(
    module: nn.Module,
    loss: Any,
    precision: Precision,
    x: Any,
    y: Any,
    sample_weight: Any,
    terms: LayerTerms | None = None,
    class_weights: Callable[[Any, Any, Any], Any] | None = None,
) -> tuple[Any, torch.Tensor]:
    """The model's outputs on ``x`` and the loss that training minimises (with the layers' penalties);
    ``class_weights(y_pred, y, sample_weight)`` turns ``class_weight`` into per-sample weights."""
    with precision.autocast():
        with terms.forward_pass() if terms is not None else contextlib.nullcontext():
            y_pred = call_model(module, x)
        if class_weights is not None:
            sample_weight = class_weights(y_pred, y, sample_weight)
        value = compute_loss(loss, y_pred, y, sample_weight)
        if terms is not None:
            value = terms.add_penalties(value, batch_size_of(x))
    return y_pred, value


def take_step(
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    evaluate: Objective,
    terms: LayerTerms | None = None,
) -> tuple[Any, torch.Tensor]:
    """Minimise ``evaluate()`` by one optimizer update; returns its ``(y_pred, loss)``."""
    if isinstance(optimizer, torch.optim.LBFGS):
        result = _lbfgs_step(optimizer, evaluate)
    else:
        result = evaluate()
        optimizer.zero_grad(set_to_none=True)
        precision.backward(result[1])
        clip_gradients(optimizer, precision)
        precision.step(optimizer)
    if terms is not None:
        terms.constrain()  # Keras applies constraints right after the update
    return result


def _lbfgs_step(optimizer: torch.optim.LBFGS, evaluate: Objective) -> tuple[Any, torch.Tensor]:
    """LBFGS calls its closure several times per step; the last evaluation is the step's result."""
    last: list[tuple[Any, torch.Tensor]] = []

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        last[:] = [evaluate()]
        last[0][1].backward()
        return last[0][1]

    optimizer.step(closure)
    return last[0]


def clip_gradients(optimizer: torch.optim.Optimizer, precision: Precision) -> None:
    """Keras' ``clipvalue``, ``clipnorm`` (each weight's gradient on its own) or ``global_clipnorm`` (all
    gradients as one vector), read from the optimizer (the optimizer builder sets at most one)."""
    clipnorm = getattr(optimizer, "clipnorm", None)
    global_clipnorm = getattr(optimizer, "global_clipnorm", None)
    clipvalue = getattr(optimizer, "clipvalue", None)
    if clipnorm is None and clipvalue is None and global_clipnorm is None:
        return
    precision.unscale(optimizer)
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if clipvalue is not None:
        torch.nn.utils.clip_grad_value_(params, clipvalue)
    if clipnorm is not None:
        for p in params:
            torch.nn.utils.clip_grad_norm_(p, clipnorm)
    if global_clipnorm is not None:
        torch.nn.utils.clip_grad_norm_(params, global_clipnorm)
