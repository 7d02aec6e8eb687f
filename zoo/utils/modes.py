"""Running a module in train or eval mode for a while and putting every submodule's own flag back.

``module.train(was)`` afterwards would not do: it sets every submodule to ``was``, so a backbone a user
had put in eval mode inside a training model (frozen batch norms) would silently train again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

from zoo.errors import ArgumentError


@contextmanager
def in_mode(module: nn.Module, training: bool) -> Iterator[nn.Module]:
    """``module.train(training)`` inside the block; each submodule's flag as it was after it."""
    modes = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield module
    finally:
        for m, mode in modes:
            m.training = mode


def _training_flag(module: nn.Module, training: Any) -> bool | None:
    """Keras' ``training=`` of one call: True, False or None (the module's own mode); anything else would
    read as a truthy mode, so it is refused."""
    if training is None or isinstance(training, bool):
        return training
    raise ArgumentError(
        f"{type(module).__name__}(..., training=...) takes True (dropout and batch statistics on, as in fit), "
        f"False or None (the module's own mode), got {training!r} ({type(training).__name__})."
    )


_takes_training_cache: dict[type, bool] = {}


def _takes_training(cls: type) -> bool:
    """Whether a class's ``call()``/``forward()`` takes ``training`` itself (Keras' ``call(self, x,
    training=None)``): it is passed on; zoo still sets the mode, as Keras sets its layers' call context."""
    found = _takes_training_cache.get(cls)
    if found is None:
        method = getattr(cls, "call", None) or cls.forward
        try:
            parameters = inspect.signature(method).parameters
        except (TypeError, ValueError):
            parameters = {}
        found = "training" in parameters
        _takes_training_cache[cls] = found
    return found


def call_with_training(call: Callable[..., Any], module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> Any:
    """``module(*args, training=..., **kwargs)`` as Keras means it: the module (and what it holds) runs in
    that mode for this call, and each submodule's own flag is put back after. On ``zoo.Input`` data the
    flag is recorded in the model's graph, so ``base_model(inputs, training=False)`` keeps the base's
    batch norms in inference mode whenever the model runs, also in ``fit`` (Keras' transfer-learning
    recipe), and ``Dropout(0.5)(x, training=True)`` stays on in ``predict`` (Monte Carlo dropout)."""
    given = kwargs.pop("training")
    if _takes_training(type(module)):
        kwargs["training"] = given
    training = _training_flag(module, given)
    if training is None:
        return call(*args, **kwargs)
    with in_mode(module, training):
        output = call(*args, **kwargs)
    from zoo.models.symbolic import has_symbolic, pin_training

    if has_symbolic(args):
        pin_training(output, module, training)
    return output
