"""``zoo.Sequential``: Keras' ``Sequential`` as an ``nn.Sequential`` (indexing, slicing, ``append`` work).

``Sequential([...])`` or ``Sequential()`` then ``.add(layer)``; ``.pop()`` removes the last layer (Keras),
``.pop(i)`` the i-th (torch). When the model knows its input — the first layer was given
``input_shape=`` or the first thing added is ``zoo.Input(shape)`` — it is built at once, with no real
compute (shapes run on fake tensors), so ``summary()`` and ``parameters()`` work before any data.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from zoo.errors import ModelError
from zoo.models.graph import InputSpec
from zoo.models.methods import shapes_without_batch
from zoo.models.model import Model, check_input_shapes, check_name
from zoo.models.symbolic import Input, SymbolicTensor, check_sequence_layout


class Sequential(Model, nn.Sequential):
    """A linear stack of layers (see the module docstring). ``Sequential(layers=None, name=None)``;
    torch's ``Sequential(m1, m2, ...)`` and ``Sequential(OrderedDict(...))`` work too."""

    def __init__(self, layers: Any = None, *more: nn.Module, name: str | None = None) -> None:
        nn.Sequential.__init__(self)
        self.name = check_name("Sequential", name) or "sequential"
        self._zoo_input: InputSpec | None = None
        if isinstance(layers, OrderedDict):
            for key, layer in layers.items():
                self.add_module(key, self._next(layer, key))
            self._build()
            return
        items = [] if layers is None else [layers] if not isinstance(layers, (list, tuple)) else list(layers)
        for layer in [*items, *more]:
            self._add(layer)
        self._build()

    def forward(self, input: Any) -> Any:
        """``nn.Sequential``'s forward, after the functional model's input check when the model knows its
        input (``zoo.Input``, a first layer's ``input_shape=``, ``build``): a wrong rank or fixed size is a
        ``DataError`` naming both shapes, as in Keras, not a ``Dense`` quietly applied to the last axis."""
        specs = self._zoo_input_specs()
        if specs is not None:
            check_input_shapes(self, specs, (input,), {})
        return nn.Sequential.forward(self, input)

    def add(self, layer: nn.Module | SymbolicTensor) -> None:
        """Add a layer on top (or, first, a ``zoo.Input`` to fix the input shape)."""
        self._add(layer)
        self._build()

    def _add(self, layer: Any) -> None:
        if isinstance(layer, SymbolicTensor):
            if layer.call is not None:
                raise ModelError("Sequential.add: only a zoo.Input(...) tensor can be added, not a computed one.")
            if len(self) or self._zoo_input is not None:
                raise ModelError(
                    "Sequential.add: an Input must come first (it fixes the input shape); this model already has "
                    f"{'an input' if self._zoo_input else f'{len(self)} layers'}."
                )
            self._zoo_input = InputSpec(layer.name or "input_1", layer.shape[1:], layer.dtype)
            return
        self.append(self._next(layer, str(len(self))))

    def _next(self, layer: Any, where: str) -> nn.Module:
        """``layer``, checked to follow the layers there are (before it is added: a refused layer is not kept)."""
        layer = _checked(layer, where)
        check_sequence_layout(layer, lambda: reversed(self))
        return layer

    def pop(self, index: int = -1) -> nn.Module:  # type: ignore[override]
        """Remove and return a layer: the last one (Keras' ``pop()``), or the one at ``index`` (torch)."""
        if not len(self):
            raise ModelError("Sequential.pop: the model has no layers.")
        if not isinstance(index, int) or isinstance(index, bool):
            raise ModelError(f"Sequential.pop takes a layer index, got {index!r}.")
        if not -len(self) <= index < len(self):
            raise ModelError(
                f"Sequential.pop: index {index} is out of range; the model has {len(self)} layer"
                f"{'s' if len(self) > 1 else ''} (indices {-len(self)}..{len(self) - 1})."
            )
        layer = self[index]
        del self[index]
        return layer

    def _zoo_input_specs(self) -> list[InputSpec] | None:
        if self._zoo_input is not None:
            return [self._zoo_input]
        first = next(iter(self), None)
        shape = getattr(first, "input_shape", None)
        if first is None or shape is None:
            return None
        known = self.__dict__.get("_zoo_derived_input")  # forward checks it on every call: made once
        if known is None or known[0] is not first or known[1] != shape:
            known = (first, shape, [InputSpec("input_1", tuple(shape), self._input_dtype())])
            self.__dict__["_zoo_derived_input"] = known
        return known[2]

    def _input_dtype(self) -> torch.dtype:
        first = next(iter(self), None)
        return torch.long if isinstance(first, nn.Embedding) or type(first).__name__ == "Embedding" else torch.float32

    def _build(self) -> None:
        specs = self._zoo_input_specs()
        if specs is None or not len(self):
            return
        spec = specs[0]
        self(Input(spec.shape, dtype=spec.dtype))  # recorded on fake tensors: checks shapes, builds lazy layers

    def build(self, input_shape: Any) -> None:
        """Keras' ``build((None, 16))``: the layers are built for it and the model keeps it as its input
        (``summary()``, ``export`` and ``save`` know it from then on)."""
        (shape,) = shapes_without_batch(type(self).__name__, input_shape)
        spec = InputSpec("input_1", shape, self._input_dtype())
        self(Input(spec.shape, dtype=spec.dtype))
        if self._zoo_input is None:
            self._zoo_input = spec


def _checked(layer: Any, where: str) -> nn.Module:
    if not isinstance(layer, nn.Module):
        hint = " (a layer class? call it: Dense(10), not Dense)" if isinstance(layer, type) else ""
        raise ModelError(
            f"Sequential: layer {where} is a {type(layer).__name__}, not an nn.Module{hint}."
        )
    return layer



