"""``zoo.Model``: Keras' functional API and subclassing, as real ``nn.Module``s.

``zoo.Model(inputs, outputs)`` turns the calls recorded on ``zoo.Input`` tensors into a ``Functional``
model: a ``torch.fx.GraphModule`` (so it prints as Python code, traces, exports and ``torch.compile``s)
that also has Keras' methods (``compile``, ``fit``, ``summary``, ``save`` ...). ``class M(zoo.Model)``
with ``__init__`` and ``call()`` (Keras) or ``forward()`` (torch) is an ordinary module with the same
methods.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

import torch
from torch import fx, nn

from zoo.errors import ArgumentError, DataError, ModelError
from zoo.models import endpoints
from zoo.models.graph import InputSpec, build_graph
from zoo.models.methods import KerasModel
from zoo.models.symbolic import has_symbolic, paused, recording_hook_active
from zoo.naming import snake_case
from zoo.utils.modes import call_with_training


class Model(KerasModel, nn.Module):
    """A model: ``zoo.Model(inputs, outputs, name=None)`` (functional) or a subclass with ``call()``.

    Functional: ``inputs`` are ``zoo.Input`` tensors (one, a list, or a dict by name), ``outputs`` the
    symbolic tensors computed from them (one, a list or a dict). The result runs that graph: it takes
    the inputs positionally in that order (or by name), returns outputs in the same structure, and shares
    the weights of every layer it calls with any other model calling that layer.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super(Model, Functional).__new__(Functional)  # through GraphModule.__new__
        return super().__new__(cls)

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        if args or kwargs:
            raise ModelError(
                f"{type(self).__name__}.__init__ got unexpected arguments; a functional model is "
                "zoo.Model(inputs, outputs, name=None), a subclass calls super().__init__(name=...)."
            )
        super().__init__()
        self.name = check_name(type(self).__name__, name) or snake_case(type(self).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "training" in kwargs:  # Keras' model(x, training=True): the mode for this call
            return call_with_training(super().__call__, self, args, kwargs)
        return super().__call__(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        call = getattr(type(self), "call", None)
        if call is None:
            raise ModelError(
                f"{type(self).__name__} defines neither call() (Keras) nor forward() (torch): write one of them."
            )
        return call(self, *args, **kwargs)

    @property
    def layers(self) -> list[nn.Module]:
        """The model's direct sublayers, in order (Keras' ``model.layers``; each one's ``.output`` is its
        output in this model)."""
        return endpoints.read_from(self, list(self.children()))

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A sublayer by name (its attribute name, or the ``name=`` a zoo layer was given: a Sequential's
        layers are attributes ``0``, ``1`` ... as in ``nn.Sequential``) or by index into ``layers``
        (negative counts from the end). Exactly one of the two, as in Keras, so a call cannot quietly
        ignore one of them. The layer's ``.output`` is then its output in this model (Keras'
        ``Model(model.input, model.get_layer("x").output)``)."""
        return endpoints.read_from(self, [self._find_layer(name, index)])[0]

    def _find_layer(self, name: str | None, index: int | None) -> nn.Module:
        kind = type(self).__name__
        if (name is None) == (index is None):
            raise ModelError(
                f"{kind}.get_layer() takes a layer name or a layer index, "
                + ("not both." if name is not None else "and got neither: get_layer('dense') or get_layer(index=0).")
            )
        if index is not None:
            import operator

            try:
                position = None if isinstance(index, bool) else operator.index(index)
            except TypeError:
                position = None
            if position is None:
                hint = f" A layer by name is get_layer({index!r})." if isinstance(index, str) else ""
                raise ModelError(f"{kind}.get_layer(index=...) takes an int, got {index!r} ({type(index).__name__}).{hint}")
            layers = self.layers
            if not -len(layers) <= position < len(layers):
                valid = f": use 0..{len(layers) - 1} (or -{len(layers)}..-1)" if layers else ""
                raise ModelError(
                    f"Was asked to retrieve layer at index {position} but model only has {len(layers)} "
                    f"layer{'' if len(layers) == 1 else 's'}{valid}."
                )
            return layers[position]
        if not isinstance(name, str):
            by_position = isinstance(name, int) and not isinstance(name, bool)
            hint = f" A layer by position is get_layer(index={name!r})." if by_position else ""
            raise ModelError(f"{kind}.get_layer() takes a layer name as a string, got {name!r} ({type(name).__name__}).{hint}")
        modules = dict(self.named_children())
        given = {m.name: m for m in modules.values() if isinstance(getattr(m, "name", None), str)}
        found = modules.get(name, given.get(name))  # type: ignore[arg-type]
        if found is None:
            known = list(dict.fromkeys([*modules, *given]))
            close = difflib.get_close_matches(str(name), known, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ModelError(f"{kind} has no layer {name!r}.{hint} Its layers: {', '.join(known)}.")
        return found


def check_name(kind: str, name: Any) -> str | None:
    """``name=`` of a model: a string (or None for the default). It names the model in messages, logs,
    summaries and saved configs, and a functional model's class is made from it, so another type would
    fail far from the call (or be saved as something else); Keras takes strings only."""
    if name is None or isinstance(name, str):
        return name
    raise ModelError(
        f"{kind}(name=...) takes a string, got {name!r} ({type(name).__name__}); e.g. name={str(name)!r}."
    )


_RESERVED = set(dir(fx.GraphModule)) | {
    "name", "fit", "evaluate", "predict", "summary", "save", "compile", "build", "layers", "trainable",
    "get_layer", "inputs", "outputs", "input_specs", "optimizer", "get_weights", "set_weights", "count_params",
}  # fmt: skip


class Functional(Model, fx.GraphModule):
    """A ``zoo.Model`` built from inputs and outputs: an fx ``GraphModule`` with Keras' methods."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        if isinstance(inputs, nn.Module) and isinstance(outputs, fx.Graph):  # GraphModule's own copies
            fx.GraphModule.__init__(self, inputs, outputs, class_name=_class_name(name))
            return
        check_name("Model", name)
        recorded = build_graph(inputs, outputs, reserved=_RESERVED)
        root = nn.Module()
        for key, module in recorded.modules.items():
            root.add_module(key, module)
        for key, tensor in recorded.constants.items():
            root.register_buffer(key, tensor)
        fx.GraphModule.__init__(self, root, recorded.graph, class_name=_class_name(name))
        self.name = name or "model"
        self.input_specs: list[InputSpec] = recorded.inputs
        self._zoo_outputs = _output_keys(outputs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "training" in kwargs:  # Keras' model(x, training=True): the mode for this call, not an input
            return call_with_training(self, self, args, kwargs)
        specs = self.__dict__.get("input_specs")
        if specs is not None and (  # the common call (one tensor per input, in order) passes at once
            kwargs or len(args) != len(specs) or (len(args) == 1 and isinstance(args[0], Mapping))
        ):
            args, kwargs = _bind_inputs(self, specs, args, kwargs)
        if specs is not None:
            check_input_shapes(self, specs, args, kwargs)
        # The recording hook (alive while symbolic tensors are) would slow every layer call: pause it,
        # unless this call is itself being recorded or compiled.
        if torch.compiler.is_compiling() or not recording_hook_active() or has_symbolic(args):
            return super().__call__(*args, **kwargs)
        with paused():
            return super().__call__(*args, **kwargs)

    def _zoo_input_specs(self) -> list[InputSpec]:
        return self.input_specs

    def _zoo_output_keys(self) -> list[Any] | None:
        return self._zoo_outputs

    def _zoo_output_names(self) -> dict[Any, str]:
        """A dict output's key; a list output's producing layer name (Keras' ``dense_1_accuracy``)."""
        names = super()._zoo_output_names()
        output = next((n for n in self.graph.nodes if n.op == "output"), None)
        if output is None or not isinstance(output.args[0], (list, tuple)):
            return names
        for key, node in enumerate(output.args[0]):
            if key in names and isinstance(node, fx.Node) and node.op == "call_module":
                names[key] = getattr(self.get_submodule(str(node.target)), "name", None) or names[key]
        return names

    def __deepcopy__(self, memo: dict) -> Functional:
        copied = fx.GraphModule.__deepcopy__(self, memo)
        for key in ("name", "input_specs", "_zoo_outputs", "_zoo_compiled"):
            if key in self.__dict__:
                setattr(copied, key, copy.deepcopy(self.__dict__[key], memo))
        return copied


def _bind_inputs(model: Functional, specs: list[InputSpec], args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The model's inputs as its graph takes them (positionally in order, or by name), from Keras' forms too
    (one list of all the inputs, one dict by name); anything else is a ``zoo.ArgumentError`` naming the
    inputs the model takes and what it was given."""
    names = [s.name for s in specs]
    if len(args) == 1 and not kwargs:
        if isinstance(args[0], Mapping):  # Keras: model({"a": x, "b": y})
            args, kwargs = (), {str(k): v for k, v in args[0].items()}
        elif isinstance(args[0], (list, tuple)) and len(specs) > 1 and len(args[0]) == len(specs):
            return tuple(args[0]), {}  # Keras: model([x, y])
    rest = names[len(args) :]
    if len(args) <= len(names) and set(kwargs) == set(rest):
        return args, kwargs
    problems = []
    if len(args) > len(names):
        problems.append(f"{len(args)} positional inputs for {len(names)}")
    doubled = [k for k in kwargs if k in names[: len(args)]]
    if doubled:
        problems.append(f"{', '.join(map(repr, doubled))} both positionally and by name")
    unknown = [k for k in kwargs if k not in names]
    for key in unknown:
        close = difflib.get_close_matches(key, names, n=1)
        problems.append(f"no input named {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    missing = [n for n in rest if n not in kwargs]
    if missing and len(args) <= len(names):
        problems.append(f"{', '.join(map(repr, missing))} missing")
    takes = ", ".join(f"{s.name} {_shape(s.shape)} {str(s.dtype).replace('torch.', '')}" for s in specs)
    given = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
    forms = [f"model({', '.join(names)})", f"model({', '.join(f'{n}=...' for n in names)})"]
    if len(names) > 1:
        forms += [f"model([{', '.join(names)}])", f"model({{{', '.join(f'{n!r}: ...' for n in names)}}})"]
    raise ArgumentError(
        f"Model {getattr(model, 'name', 'model')!r} takes {len(specs)} input{'s' if len(specs) > 1 else ''}: "
        f"{takes} (one sample's shape); got {', '.join(given) or 'none'}: {'; '.join(problems)}. Call it as "
        f"{', '.join(forms[:-1])} or {forms[-1]}."
    )


def check_input_shapes(model: nn.Module, specs: list[InputSpec], args: tuple, kwargs: dict) -> None:
    """Keras' input check: each tensor must have its ``Input``'s rank and fixed sizes, so that swapped
    inputs or a wrong feature count fail here, by name, instead of training on whatever the layers
    accept (a lazy layer, a concatenation, a broadcast: a ``Dense`` takes ``(N, 5, 4)`` as readily as
    ``(N, 4)``). Free sizes (``None``) and the batch axis pass; not while tracing or compiling, where the
    example was checked before and the sizes are symbolic. Functional models and a ``Sequential`` that
    knows its input run it on every call."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        return
    if not kwargs and len(args) == len(specs):  # the common call: a plain tensor per input, in order (~1 us)
        for spec, value in zip(specs, args, strict=True):
            rank, sizes = spec.batched_rank_and_sizes
            if type(value) is not torch.Tensor or value.dim() != rank or sizes is None or value.shape[1:] != sizes:
                break  # the full check below: a free size, another type, or a mismatch to explain
        else:
            return
    values = dict(zip((s.name for s in specs), args, strict=False)) | kwargs
    for index, spec in enumerate(specs):
        value = values.get(spec.name)
        if not isinstance(value, torch.Tensor) or has_symbolic((value,)):
            continue
        sample = tuple(value.shape[1:])
        if len(sample) == len(spec.shape) and all(d is None or d == g for d, g in zip(spec.shape, sample, strict=True)):
            continue
        others = [s.name for s in specs if s.name != spec.name and len(s.shape) == len(sample)
                  and all(d is None or d == g for d, g in zip(s.shape, sample, strict=True))]  # fmt: skip
        hint = f" It fits input {others[0]!r}: were the inputs swapped?" if others else ""
        raise DataError(
            f"Model {getattr(model, 'name', 'model')!r}: input {index} ({spec.name!r}) takes samples of shape "
            f"{_shape(spec.shape)} (batch axis first, then that), got a tensor of shape {tuple(value.shape)}, "
            f"samples {_shape(sample)}.{hint} Give each input data of the shape its zoo.Input declares."
        )


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    shape = getattr(value, "shape", None)
    return type(value).__name__ + (f" {tuple(shape)}" if shape is not None else "")


def _output_keys(outputs: Any) -> list[Any] | None:
    if isinstance(outputs, dict):
        return list(outputs)
    if isinstance(outputs, (list, tuple)):
        return list(range(len(outputs)))
    return None


def _class_name(name: str | None) -> str:
    if not name:
        return "Model"
    text = "".join(part[:1].upper() + part[1:] for part in __import__("re").split(r"\W+|_", name) if part)
    return text if text.isidentifier() else "Model"


