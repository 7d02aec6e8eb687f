"""From recorded calls (``zoo.models.symbolic``) to a ``torch.fx`` graph: the body of a functional model.

The walk starts at the outputs and goes back through each symbolic tensor's ``Call`` until it reaches the
given inputs, so only what the outputs need is kept, and a model may start from intermediate tensors
(Keras' ``Model(processed, conv)`` backbone trick). A module called twice becomes one submodule used by two
``call_module`` nodes: its weights are shared.
"""

from __future__ import annotations

import functools
import keyword
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn
from torch.utils._pytree import tree_flatten, tree_map

from zoo.errors import ModelError
from zoo.models.symbolic import AxisSize, Call, SymbolicTensor, symbols
from zoo.naming import snake_case


@dataclass(frozen=True)
class InputSpec:
    """One model input: its name (the forward's argument), one sample's shape (``None``: free) and dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: torch.dtype

    @functools.cached_property
    def batched_rank_and_sizes(self) -> tuple[int, torch.Size | None]:
        """What the per-call input check compares first: the batched rank, and the sample shape when every
        size is fixed (None when one is free: then the full check runs)."""
        return len(self.shape) + 1, None if None in self.shape else torch.Size(self.shape)


@dataclass
class Recorded:
    """What ``build_graph`` makes: the graph, the modules its nodes call (by name), the inputs."""

    graph: fx.Graph
    modules: dict[str, nn.Module]
    constants: dict[str, torch.Tensor]
    inputs: list[InputSpec]


def _key(t: SymbolicTensor) -> Any:
    return (id(t.call), t.path) if t.call is not None else id(t)


def flat_inputs(inputs: Any) -> list[tuple[str, SymbolicTensor]]:
    """``Model``'s ``inputs`` (one symbolic tensor, a list, or a dict by name) -> ``[(name, tensor)]``."""
    if isinstance(inputs, SymbolicTensor):
        items = [(inputs.name, inputs)]
    elif isinstance(inputs, Mapping):
        items = [(str(k), v) for k, v in inputs.items()]
    elif isinstance(inputs, (list, tuple)):
        items = [(getattr(v, "name", None), v) for v in inputs]
    else:
        raise ModelError(
            f"Model: inputs must be zoo.Input(...) tensors (one, a list or a dict), got {type(inputs).__name__}."
        )
    if not items:
        raise ModelError("Model: inputs is empty; give the zoo.Input(...) tensors the outputs were computed from.")
    seen: set[str] = set()
    first_at: dict[Any, int] = {}
    named = []
    for i, (name, t) in enumerate(items):
        if not isinstance(t, SymbolicTensor):
            raise ModelError(
                f"Model: input {i} is a {type(t).__name__}, not a symbolic tensor; make inputs with zoo.Input(shape)."
            )
        if _key(t) in first_at:  # one tensor, two placeholders: the graph would read only one of them
            raise ModelError(
                f"Model: inputs {first_at[_key(t)]} and {i} are the same tensor ({t.name or 'unnamed'!r}); each input "
                "must appear once (Keras refuses it too). To feed one tensor to several layers, list its Input once "
                "and call the layers on it; for two inputs of the same shape, make two zoo.Input(...) tensors."
            )
        first_at[_key(t)] = i
        name = _identifier(name or f"input_{i + 1}", seen)
        seen.add(name)
        named.append((name, t))
    return named


def _identifier(name: str, taken: Iterable[str], reserved: Iterable[str] = ()) -> str:
    base = re.sub(r"\W", "_", name) or "layer"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"_{base}"
    taken, reserved = set(taken), set(reserved)
    candidate, n = base, 0
    while candidate in taken or candidate in reserved:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _calls_in_order(outputs: list[SymbolicTensor], stop: set[Any], input_names: list[str]) -> list[Call]:
    """The calls the outputs depend on, each after the calls it needs (an iterative depth-first walk)."""
    order: list[Call] = []
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[SymbolicTensor, bool]] = [(out, False)]
        while stack:
            t, expanded = stack.pop()
            if _key(t) in stop:
                continue
            if t.call is None:
                raise ModelError(
                    f"Model: the outputs depend on the input {t.name!r}, which is not among inputs "
                    f"({', '.join(input_names)}). Add it to inputs=."
                )
            if id(t.call) in done:
                continue
            if expanded:
                done.add(id(t.call))
                order.append(t.call)
                continue
            stack.append((t, True))
            for arg in reversed(symbols((t.call.args, t.call.kwargs))):
                stack.append((arg, False))
    return order


def build_graph(inputs: Any, outputs: Any, reserved: Iterable[str] = ()) -> Recorded:
    """Write the calls between ``inputs`` and ``outputs`` as an fx graph; ``reserved`` are attribute names
    a submodule must not take (the model class's own methods)."""
    named = flat_inputs(inputs)
    outs = symbols(outputs)
    if not outs or not all(isinstance(o, SymbolicTensor) for o in tree_flatten(outputs)[0]):
        raise ModelError(
            "Model: outputs must be symbolic tensors computed from the inputs (one, a list or a dict), got "
            f"{type(outputs).__name__}."
        )
    graph = fx.Graph()
    values: dict[Any, fx.Node] = {}
    specs = []
    for name, t in named:
        node = graph.placeholder(name)
        values[_key(t)] = node
        specs.append(InputSpec(name, t.shape[1:], t.dtype))
    calls = _calls_in_order(outs, set(values), [n for n, _ in named])

    modules: dict[str, nn.Module] = {}
    module_names: dict[int, str] = {}
    constants: dict[str, torch.Tensor] = {}
    call_nodes: dict[int, fx.Node] = {}

    def value_of(t: SymbolicTensor) -> fx.Node:
        key = _key(t)
        if key in values:
            return values[key]
        node = call_nodes[id(t.call)]
        for i, step in enumerate(t.path):
            prefix = (id(t.call), t.path[: i + 1])
            if prefix not in values:
                values[prefix] = graph.call_function(operator.getitem, (node, step))
            node = values[prefix]
        return node

    def argument(obj: Any) -> Any:
        if isinstance(obj, SymbolicTensor):
            return value_of(obj)
        if isinstance(obj, AxisSize):  # read when the model runs: x.view(x.size(0), -1)
            return graph.call_method("size", (value_of(obj.of), obj.axis))
        if isinstance(obj, torch.Tensor):
            name = f"_constant_{len(constants)}"
            constants[name] = obj.detach()
            return graph.get_attr(name)
        return obj

    for call in calls:
        args, kwargs = tree_map(argument, (call.args, call.kwargs))
        if call.kind == "module":
            name = module_names.get(id(call.target))
            if name is None:
                hint = getattr(call.target, "name", None)
                if not isinstance(hint, str) or not hint:
                    hint = snake_case(type(call.target).__name__)
                name = _identifier(hint, modules, reserved)
                module_names[id(call.target)] = name
                modules[name] = call.target
            node = graph.call_module(name, args, kwargs)
        elif call.kind == "method":
            node = graph.call_method(call.target, args, kwargs)
        else:
            node = graph.call_function(call.target, args, kwargs)
        call_nodes[id(call)] = node
    graph.output(tree_map(lambda o: value_of(o) if isinstance(o, SymbolicTensor) else o, outputs))
    graph.lint()
    return Recorded(graph, modules, constants, specs)
