"""Keras' ``model.inputs`` / ``model.outputs`` / ``layer.output``: symbolic tensors standing for a built
model's inputs and for what each of its layers gives, so the feature-extraction recipe works as in Keras:

    features = zoo.Model(model.input, model.get_layer("hidden").output)

A model does not keep the symbolic tensors it was described with (alive, they keep the recording hook on,
which slows every module call of the process). They are made again, once per model, when first asked for:
the model's graph is run on fresh ``zoo.Input`` tensors (layer by layer for a ``Sequential``), recording
every layer's output. They live as long as the model does, so a new model built from them shares its
layers, as in Keras; while they live, module calls outside zoo's models take the recording hook's ~2 us.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from zoo.errors import ModelError


@dataclass(eq=False)
class Endpoints:
    """A model's inputs and outputs as symbolic tensors, and each layer's outputs among them (one per call)."""

    inputs: list[Any]
    outputs: list[Any]
    by_layer: dict[nn.Module, list[Any]] = field(default_factory=dict)
    children: tuple[nn.Module, ...] = ()  # the model's, when made: a Sequential changed since is made again


_ENDPOINTS: weakref.WeakKeyDictionary[nn.Module, Endpoints] = weakref.WeakKeyDictionary()
#: layer -> the model it was last read from (``model.layers``, ``get_layer``): whose endpoints its
#: ``.output`` makes when none hold it yet, only then (a fake-tensor run of the model's graph).
_READ_FROM: weakref.WeakKeyDictionary[nn.Module, weakref.ref[nn.Module]] = weakref.WeakKeyDictionary()
#: layer -> the endpoints (of every model it is in) that hold its outputs
_HOLDERS: weakref.WeakKeyDictionary[nn.Module, list[weakref.ref[Endpoints]]] = weakref.WeakKeyDictionary()


def of_model(model: nn.Module) -> Endpoints:
    """The model's endpoints, made on first use (see the module docstring)."""
    found = _ENDPOINTS.get(model)
    if found is not None and found.children == tuple(model.children()):
        return found
    specs = getattr(model, "_zoo_input_specs", lambda: None)()
    if not specs:
        raise ModelError(
            f"{type(model).__name__} has no symbolic inputs: only a functional zoo.Model or a Sequential that "
            "knows its input has them (start it with zoo.Input(shape), give its first layer input_shape=, or "
            "call model.build((None, *shape)): calling it on data does not keep a shape); a subclassed model's "
            "are its call's."
        )
    from zoo.models.symbolic import Input

    inputs = [Input(spec.shape, dtype=spec.dtype, name=spec.name) for spec in specs]
    found = _run_graph(model, inputs) if isinstance(model, fx.GraphModule) else _run_layers(model, inputs)
    found.children = tuple(model.children())
    _ENDPOINTS[model] = found
    for layer in found.by_layer:
        _HOLDERS.setdefault(layer, []).append(weakref.ref(found))
    return found


def _run_graph(model: fx.GraphModule, inputs: list[Any]) -> Endpoints:
    by_layer: dict[nn.Module, list[Any]] = {}

    class Recorder(fx.Interpreter):
        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            layer = self.fetch_attr(target)
            output = layer(*args, **kwargs)
            by_layer.setdefault(layer, []).append(output)
            return output

    result = Recorder(model).run(*inputs)
    outputs = list(result.values()) if isinstance(result, dict) else list(result) if isinstance(result, (list, tuple)) else [result]
    return Endpoints(inputs, outputs, by_layer)


def _run_layers(model: nn.Module, inputs: list[Any]) -> Endpoints:
    by_layer: dict[nn.Module, list[Any]] = {}
    x = inputs[0]
    for layer in model.children():
        x = layer(x)
        by_layer.setdefault(layer, []).append(x)
    return Endpoints(inputs, [x], by_layer)


def read_from(model: nn.Module, layers: list[nn.Module]) -> list[nn.Module]:
    """Note that ``layers`` were read from ``model`` (cheap); returns them."""
    for layer in layers:
        _READ_FROM[layer] = weakref.ref(model)
    return layers


def _held_outputs(layer: nn.Module) -> list[Any]:
    return [out for ref in _HOLDERS.get(layer, ()) if (held := ref()) is not None for out in held.by_layer[layer]]


def output_of(layer: nn.Module) -> Any:
    """Keras' ``layer.output``: what the layer's one call in a model gave."""
    outputs = _held_outputs(layer)
    model = _READ_FROM[layer]() if not outputs and layer in _READ_FROM else None
    if model is not None:  # its endpoints, or the error saying why it has none (no input shape yet)
        of_model(model)
        outputs = _held_outputs(layer)
    name = getattr(layer, "name", type(layer).__name__)
    if not outputs:
        raise ModelError(
            f"layer {name!r} has no output yet: it is the symbolic tensor the layer gave in a model; read it "
            "through a model that knows its inputs: model.get_layer(...).output, model.layers[i].output."
        )
    if len(outputs) > 1:
        raise ModelError(
            f"layer {name!r} is called {len(outputs)} times (a shared layer, or in several models), so it has no "
            "one output; build the model from the tensors those calls gave instead."
        )
    return outputs[0]


class keras_attribute:  # noqa: N801 - used as a decorator, like property
    """A read-only Keras attribute (``model.inputs``, ``layer.output``) that yields to the module's own: a
    submodule, parameter or buffer of that name (``self.output = Dense(10)`` in a subclass), or a plain value
    a subclass assigns (a non-data descriptor: the instance's ``__dict__`` wins)."""

    def __init__(self, compute: Any) -> None:
        self.compute, self.__doc__ = compute, compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, module: Any, owner: type | None = None) -> Any:
        if module is None:
            return self
        for store in ("_modules", "_parameters", "_buffers"):
            own = module.__dict__.get(store)
            if own and self.name in own:
                return own[self.name]
        return self.compute(module)


#: The Keras attributes that compute on access: left out of ``dir()``, which tools walk calling ``getattr``
#: on every name (``torch.jit.trace`` does, and would make a model's endpoints, or fail on a layer's).
KERAS_ATTRIBUTES = frozenset({"input", "inputs", "output", "outputs"})


def visible(names: Any) -> list[str]:
    return [n for n in names if n not in KERAS_ATTRIBUTES]


def one_or_list(tensors: list[Any]) -> Any:
    """Keras' ``model.input``: the tensor of a one-input model, the list otherwise."""
    return tensors[0] if len(tensors) == 1 else list(tensors)
