"""Keras' weights-as-arrays API — ``count_params``, ``get_weights``, ``set_weights`` — on zoo's models and
layers alike, so code written against ``keras.layers.Layer`` and ``keras.Model`` runs on either.

Arrays are in torch's layout and ``state_dict()`` order (parameters, then buffers such as batch norm's
running statistics): a Dense kernel is ``(units, inputs)``, Keras' transposed, so a square one taken from
Keras must be transposed by hand; any other is refused by shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from zoo.errors import ModelError
from zoo.models.endpoints import keras_attribute


class WeightArrays:
    """Mixin for ``nn.Module`` classes (see the module docstring)."""

    @keras_attribute
    def trainable_weights(self) -> list[torch.Tensor]:
        """Keras' ``trainable_weights``: the parameters that train (``requires_grad``)."""
        self._zoo_check_built("trainable_weights")
        return [p for p in self.parameters() if p.requires_grad]  # type: ignore[attr-defined]

    @keras_attribute
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Keras' ``non_trainable_weights``: frozen parameters, then buffers (batch norm's moving statistics,
        which Keras counts here too)."""
        self._zoo_check_built("non_trainable_weights")
        frozen = [p for p in self.parameters() if not p.requires_grad]  # type: ignore[attr-defined]
        return [*frozen, *self.buffers()]  # type: ignore[attr-defined]

    def count_params(self) -> int:
        """Keras' ``count_params()``: every parameter, trainable or not (a shared one once)."""
        self._zoo_check_built("count_params")
        return sum(p.numel() for p in self.parameters())  # type: ignore[attr-defined]

    def get_weights(self) -> list[Any]:
        """Keras' ``get_weights()``: the state dict's tensors as numpy arrays."""
        self._zoo_check_built("get_weights")
        return [t.detach().cpu().numpy().copy() for t in self.state_dict().values()]  # type: ignore[attr-defined]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Keras' ``set_weights(arrays)``, in ``get_weights`` order; the count and every shape must match
        (a ``zoo.ModelError`` naming the first that does not), nothing is changed otherwise."""
        self._zoo_check_built("set_weights")
        kind = type(self).__name__
        state = self.state_dict()  # type: ignore[attr-defined]
        if isinstance(weights, (str, bytes, torch.Tensor)) or not isinstance(weights, Sequence):
            raise ModelError(f"set_weights: {kind} takes a list of arrays (get_weights order), got {type(weights).__name__}.")
        if len(weights) != len(state):
            raise ModelError(f"set_weights: {kind} has {len(state)} weights (get_weights order), got {len(weights)}.")
        new = {}
        for (key, tensor), value in zip(state.items(), weights, strict=True):
            value = torch.as_tensor(value)
            if tuple(value.shape) != tuple(tensor.shape):
                raise ModelError(
                    f"set_weights: weight {key!r} has shape {tuple(tensor.shape)}, got {tuple(value.shape)}."
                )
            new[key] = value.to(dtype=tensor.dtype)
        self.load_state_dict(new)  # type: ignore[attr-defined]

    def _zoo_check_built(self, method: str) -> None:
        if any(isinstance(p, nn.parameter.UninitializedParameter) for p in self.parameters()):  # type: ignore[attr-defined]
            raise ModelError(
                f"{method}: {type(self).__name__} has weights of unknown input size; build it first (call it on "
                "data, give the first layer input_shape=, start with zoo.Input(shape) or call model.build())."
            )
