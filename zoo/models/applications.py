"""What ``zoo.load`` adds to every module it returns, for Keras habits: the ``trainable`` property, and
``input_tensor=`` (a ``zoo.Input``: the application is called on it and the symbolic result returned, as
``keras.applications`` does)."""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.errors import ModelError
from zoo.models.symbolic import SymbolicTensor
from zoo.models.trainable import with_trainable


def finish_load(model: Any, input_tensor: Any = None) -> Any:
    if isinstance(model, nn.Module):
        with_trainable(model)
    if input_tensor is None:
        return model
    if not isinstance(input_tensor, SymbolicTensor):
        raise ModelError(
            f"zoo.load: input_tensor must be a zoo.Input(...) tensor (or one computed from it), got "
            f"{type(input_tensor).__name__}; to run the model on data, call model(x) instead."
        )
    return model(input_tensor)
