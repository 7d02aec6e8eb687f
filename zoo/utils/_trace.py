"""Run a model once and record its graph of layers, for ``summary`` and ``plot_model``.

Forward hooks record each *layer* call (a module without children, a zoo layer, or a torch built-in
module; containers like ``nn.Sequential`` and user modules are looked through), and a
``TorchFunctionMode`` records the tensor operations a ``forward`` does between layers (``torch.cat``,
``+``, indexing), so that branches and merges written as plain torch code still show as a graph. Unlike
``torch.fx`` this needs no symbolic tracing, so data-dependent Python in ``forward`` is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from zoo.errors import OptionError
from zoo.utils.modes import in_mode

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)
# Tensor methods that read metadata or compare, never a step of the model's computation.
_IGNORED_OPS = {
    "size", "dim", "numel", "item", "tolist", "__len__", "__bool__", "__index__", "__int__", "__float__",
    "__format__", "__repr__", "__hash__", "__get__", "__set__", "__iter__", "stride", "is_floating_point",
    "is_contiguous", "data_ptr", "element_size", "__array__", "numpy", "requires_grad_", "__setitem__",
    "__eq__", "__ne__", "eq", "ne", "__setattr__", "__getattribute__",
}  # fmt: skip
# Conversions: the result stands for the same graph value as the input (no node, the edge carries on).
_PASSTHROUGH_OPS = {
    "to", "cpu", "cuda", "detach", "contiguous", "clone", "type", "float", "double", "half", "bfloat16",
    "long", "int", "bool",
}  # fmt: skip


@dataclass
class Node:
    """One step of the graph: a model input, a layer call or a tensor operation."""

    index: int
    name: str  # module path, ``input_1`` or the op name
    kind: str  # "input", "layer" or "op"
    type_name: str
    inputs: list[int] = field(default_factory=list)
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)
    module: nn.Module | None = None
    output_dtypes: list[torch.dtype] = field(default_factory=list)
    call: int = 1  # which call of ``module`` this is: a shared layer has one node per call


def is_layer(module: nn.Module) -> bool:
    """Whether a module is shown as one node: leaves, zoo layers and torch's own (non-container) modules."""
    if isinstance(module, _CONTAINERS):
        return False
    if not any(True for _ in module.children()):
        return True
    mod = type(module).__module__
    return mod.startswith("zoo.layers") or mod.startswith("torch.nn.modules")


def _tensors(obj: Any) -> list[torch.Tensor]:
    return [t for t in tree_flatten(obj)[0] if isinstance(t, torch.Tensor)]


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[Node] = []
        self.producer: dict[int, int] = {}
        self.keep: list[torch.Tensor] = []  # hold tensors so their ids are not reused while tracing
        self.depth = 0

    def add(self, name: str, kind: str, type_name: str, inputs: list[torch.Tensor], outputs: Any,
            module: nn.Module | None = None) -> None:  # fmt: skip
        sources = list(dict.fromkeys(self.producer[id(t)] for t in inputs if id(t) in self.producer))
        outs = _tensors(outputs)
        call = 1 + sum(n.module is module for n in self.nodes) if module is not None else 1
        node = Node(
            len(self.nodes), name, kind, type_name, sources, [tuple(t.shape) for t in outs], module,
            [t.dtype for t in outs], call,
        )  # fmt: skip
        self.nodes.append(node)
        for t in outs:
            self.producer[id(t)] = node.index
            self.keep.append(t)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.depth:
            return result
        name = getattr(func, "__name__", str(func))
        if name in _IGNORED_OPS or not _tensors(result):
            return result
        inputs = [t for t in _tensors((args, kwargs)) if id(t) in self.producer]
        if inputs and name in _PASSTHROUGH_OPS:
            for t in _tensors(result):
                self.producer[id(t)] = self.producer[id(inputs[0])]
                self.keep.append(t)
        elif inputs:  # in-place ops (``out += identity``) too: the tensor's producer becomes the op
            self.add(name.strip("_"), "op", name.strip("_"), inputs, result)
        return result


def trace(
    model: nn.Module,
    inputs: Sequence[torch.Tensor],
    kwargs: dict | None = None,
    as_node: Callable[[str, nn.Module], bool] | None = None,
) -> tuple[list[Node], Any]:
    """Run ``model(*inputs, **kwargs)`` once (no grad) and return its nodes and output.

    ``as_node(path, module)`` picks the modules recorded as one node each (default: :func:`is_layer`);
    whatever runs inside such a module is not recorded.
    """
    rec = _Recorder()
    names = {m: n for n, m in model.named_modules()}
    pick = as_node or (lambda _path, module: is_layer(module))
    layers = [m for m, path in names.items() if (pick(path, m) if m is not model else is_layer(m))]
    handles = []

    def pre(module, args, kw):
        if rec.depth == 0:
            module._zoo_trace_inputs = _tensors((args, kw))
        rec.depth += 1

    def post(module, args, kw, output):
        rec.depth -= 1
        if rec.depth == 0:
            name = names[module] or type(module).__name__.lower()
            rec.add(
                name, "layer", type(module).__name__, module.__dict__.pop("_zoo_trace_inputs"), output, module
            )

    for m in layers:
        handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(m.register_forward_hook(post, with_kwargs=True))
    input_names = getattr(model, "input_names", None) or []  # a zoo Model's zoo.Input names, as Keras draws
    for i, t in enumerate(inputs, start=1):
        name = input_names[i - 1] if i <= len(input_names) else f"input_{i}"
        rec.add(name, "input", "InputLayer", [], t)
    try:
        with torch.no_grad(), rec:
            output = model(*inputs, **(kwargs or {}))
    finally:
        for h in handles:
            h.remove()
        for m in layers:
            m.__dict__.pop("_zoo_trace_inputs", None)
    return rec.nodes, output


def trace_eval(
    model: nn.Module,
    inputs: Sequence[torch.Tensor],
    kwargs: dict | None = None,
    as_node: Callable[[str, nn.Module], bool] | None = None,
) -> tuple[list[Node], Any]:
    """``trace`` in eval mode, restoring each submodule's own train/eval flag afterwards."""
    with in_mode(model, False):
        return trace(model, inputs, kwargs, as_node)


def example_inputs(
    model: nn.Module,
    input_size: Any,
    dtypes: Sequence[torch.dtype] | torch.dtype | None,
    batch_size: int,
    device: torch.device | str | None,
) -> list[torch.Tensor]:
    """Tensors to trace with: given ones as they are, or ones of ``(batch_size, *size)`` per input size.

    Integer dtypes get ones (a valid id for any ``Embedding``), floats get standard normal noise. Without
    ``input_size``, a zoo model that knows its inputs (``zoo.Input``) gives their shapes and dtypes.
    """
    specs = getattr(model, "_zoo_input_specs", lambda: None)() if input_size is None else None
    if specs:
        from zoo.models.symbolic import STAND_IN

        input_size = [tuple(STAND_IN if d is None else d for d in s.shape) for s in specs]
        dtypes = [s.dtype for s in specs] if dtypes is None else dtypes
    if input_size is None:
        raise OptionError(
            "give input_size (a shape without the batch axis, or a list of them) or example tensors."
        )
    if isinstance(input_size, torch.Tensor):
        return [input_size]
    items = list(input_size) if isinstance(input_size, (list, tuple)) else [input_size]
    if items and all(isinstance(i, int) for i in items):
        items = [tuple(items)]
    if dtypes is None or isinstance(dtypes, torch.dtype):
        dtypes = [dtypes or torch.float32] * len(items)
    if len(dtypes) != len(items):
        raise OptionError(f"got {len(items)} input sizes but {len(dtypes)} dtypes.")
    if device is None:
        device = next(
            (p.device for p in model.parameters() if not isinstance(p, nn.UninitializedParameter)), "cpu"
        )
    tensors = []
    generator = torch.Generator().manual_seed(0)
    for item, dtype in zip(items, dtypes, strict=True):
        if isinstance(item, torch.Tensor):
            tensors.append(item)
            continue
        if not isinstance(item, (tuple, list)) or not all(isinstance(d, int) and d > 0 for d in item):
            raise OptionError(
                f"each input size must be a tuple of positive ints without the batch axis, got {item!r}."
            )
        shape = (batch_size, *item)
        if dtype.is_floating_point:
            t = torch.randn(shape, generator=generator).to(dtype)
        else:
            t = torch.ones(shape, dtype=dtype)
        tensors.append(t.to(device))
    return tensors
