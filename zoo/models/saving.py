"""``model.save(path)`` / ``zoo.load_model(path)``: Sequential and functional models in zoo's one saved-model
format (``zoo.saving``: config.json + model.safetensors + README.md, a folder or a zip), kinds
``"sequential"`` and ``"functional"``.

The architecture is data, never code: each layer is its registered name (``zoo list layers``) and its
constructor arguments (``layer.get_config()``); a functional model's graph is its fx nodes, with
functions named from a fixed table (``torch.*``, ``operator.*``). A model that cannot be written that way
(a subclassed model, a layer without ``get_config``) saves its weights only, as kind ``"weights"``, and
says so: rebuild it in code and call ``model.load_weights(path / "model.safetensors")``.
"""

from __future__ import annotations

import operator
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from zoo import saving
from zoo.errors import OptionError, SavedModelError

_FUNCTIONS: dict[str, Any] = {
    **{f"operator.{n}": getattr(operator, n) for n in (
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "abs", "getitem",
        "lt", "le", "gt", "ge")},
    **{f"torch.{n}": getattr(torch, n) for n in (
        "cat", "stack", "flatten", "reshape", "mean", "sum", "amax", "amin", "relu", "sigmoid", "tanh",
        "softmax", "add", "mul", "sub", "matmul", "squeeze", "unsqueeze", "transpose", "permute", "exp",
        "log", "sqrt", "maximum", "minimum", "where", "eq")},
}  # fmt: skip
_NAME_OF = {id(f): n for n, f in _FUNCTIONS.items()}


class _Unsavable(Exception):
    """Inside this module: the architecture cannot be written as data (the reason is the message)."""


def layer_config(module: nn.Module) -> dict[str, Any]:
    """``{"class_name": registered name, "config": constructor arguments}`` for a zoo layer."""
    get_config = getattr(module, "get_config", None)
    name = type(module).__name__
    if get_config is None:
        raise _Unsavable(f"{name} has no get_config() (only zoo's registered layers can be saved by architecture)")
    from zoo.plugins import get_registry

    try:
        get_registry().lookup("layers", name)
    except Exception:
        raise _Unsavable(f"{name} is not a registered layer (zoo list layers)") from None
    return {"class_name": name, "config": _encode(get_config())}


def _build_layer(spec: dict[str, Any]) -> nn.Module:
    from zoo.api import get

    return get("layers", spec["class_name"], **_decode(spec["config"]))


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, fx.Node):
        return {"node": value.name}
    if isinstance(value, (list, tuple)):
        items = [_encode(v) for v in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    raise _Unsavable(f"a {type(value).__name__} argument ({value!r}) cannot be written as data")


def _decode(value: Any, nodes: dict[str, fx.Node] | None = None) -> Any:
    if isinstance(value, list):
        return [_decode(v, nodes) for v in value]
    if not isinstance(value, dict):
        return value
    if "node" in value:
        return nodes[value["node"]]  # type: ignore[index]
    if "tuple" in value:
        return tuple(_decode(v, nodes) for v in value["tuple"])
    if "dict" in value:
        return {k: _decode(v, nodes) for k, v in value["dict"].items()}
    if "slice" in value:
        return slice(*(_decode(v, nodes) for v in value["slice"]))
    if "ellipsis" in value:
        return Ellipsis
    if "dtype" in value:
        return getattr(torch, value["dtype"])
    raise SavedModelError(f"config.json holds a value zoo cannot read: {value!r}.")


def _architecture(model: nn.Module) -> tuple[str, dict[str, Any]]:
    from zoo.models.model import Functional
    from zoo.models.sequential import Sequential

    specs = [{"name": s.name, "shape": list(s.shape), "dtype": str(s.dtype).removeprefix("torch.")}
             for s in (model._zoo_input_specs() or [])]  # type: ignore[attr-defined]  # fmt: skip
    if isinstance(model, Sequential):
        layers = [layer_config(m) for m in model]
        return "sequential", {"name": model.name, "inputs": specs, "layers": layers}
    if isinstance(model, Functional):
        modules = {name: layer_config(m) for name, m in model.named_children()}
        nodes = []
        for node in model.graph.nodes:
            target = node.target
            if node.op == "call_function":
                if id(target) not in _NAME_OF:
                    raise _Unsavable(f"the function {getattr(target, '__name__', target)} is not in the saved-model table")
                target = _NAME_OF[id(target)]
            elif node.op == "get_attr":
                raise _Unsavable("a tensor constant in the graph")
            nodes.append({"op": node.op, "name": node.name, "target": target,
                          "args": _encode(node.args), "kwargs": _encode(node.kwargs)})  # fmt: skip
        return "functional", {"name": model.name, "inputs": specs, "outputs": model._zoo_outputs,
                              "modules": modules, "nodes": nodes}  # fmt: skip
    raise _Unsavable(f"{type(model).__name__} is a subclassed model (its architecture is Python code)")


#: Keras' file names: zoo writing its own format under them would give files Keras and h5py cannot read.
_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def refuse_keras_suffix(path: str | os.PathLike[str], what: str, instead: str) -> None:
    """``model.save("m.keras")``, ``save_weights("m.weights.h5")``: a ``zoo.OptionError`` naming zoo's own."""
    if os.fspath(path).lower().endswith(_KERAS_SUFFIXES):
        raise OptionError(
            f"{what}({os.fspath(path)!r}): zoo does not write Keras' .keras/.h5 files (Keras and h5py could not "
            f"read what it wrote under that name); {instead}."
        )


def save_model(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` (see the module docstring); returns the path written."""
    refuse_keras_suffix(path, "model.save", "save to a folder ('m') or a zip ('m.zip'), read back by zoo.load_model")
    title = getattr(model, "name", type(model).__name__)
    try:
        kind, architecture = _architecture(model)
        how = f"```python\nimport zoo\nmodel = zoo.load_model({os.fspath(path)!r})\n```\n"
    except _Unsavable as why:
        kind, architecture = "weights", {"name": title, "class": type(model).__name__, "why": str(why)}
        warnings.warn(
            f"model.save: only the weights of {title!r} are saved ({why}); rebuild the model in code and call "
            f"model.load_weights('{os.fspath(path)}/model.safetensors').",
            UserWarning,
            stacklevel=3,
        )
        how = (f"Weights only ({why}): rebuild the model in code, then\n\n```python\n"
               f"model.load_weights({os.fspath(path)!r} + '/model.safetensors')\n```\n")  # fmt: skip
    params = sum(p.numel() for p in model.parameters())
    card = f"# {title}\n\nA zoo {kind} model ({params:,} parameters), saved by `model.save`.\n\n{how}"
    return saving.save_folder(path, config={"kind": kind, "model": architecture},
                              state_dict=model.state_dict(), card=card)  # fmt: skip


def load_model(path: str | os.PathLike[str]) -> nn.Module:
    """A model ``model.save(path)`` wrote, with its weights; outputs are identical to the saved model's."""
    saved = saving.read_folder(path)
    return _rebuild(saved, {})


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """``model.load_weights(path)``: the tensors of ``path`` (a ``.safetensors`` file as ``save_weights``
    writes, or a torch state dict) read by zoo's one weights reader and loaded after the one fit check, so
    a text file, a truncated file, or weights of another model is a zoo error naming the file and what
    is wrong (missing/unexpected keys, a tensor of another shape)."""
    from zoo.applications.local_weights import fit_weights, read_weights

    state = read_weights(path)
    fit_weights(model, state, name=getattr(model, "name", None) or type(model).__name__, source=os.fspath(path))


def _rebuild(saved: Any, overrides: dict[str, Any]) -> nn.Module:
    from zoo.models.model import Functional
    from zoo.models.sequential import Sequential
    from zoo.models.symbolic import Input

    if overrides:
        raise SavedModelError(f"a saved {saved.kind} model takes no load options, got {sorted(overrides)}.")
    arch = saved.config["model"]
    if saved.kind == "weights":
        raise SavedModelError(
            f"{saved.folder} holds only the weights of {arch.get('class')} ({arch.get('why')}); rebuild the "
            f"model in code and call model.load_weights('{saved.weights}')."
        )
    inputs = [Input(tuple(s["shape"]), getattr(torch, s["dtype"]), name=s["name"]) for s in arch["inputs"]]
    if saved.kind == "sequential":
        model: nn.Module = Sequential([*inputs[:1], *(_build_layer(spec) for spec in arch["layers"])], name=arch["name"])
    else:
        graph = fx.Graph()
        nodes: dict[str, fx.Node] = {}
        root = nn.Module()
        for name, spec in arch["modules"].items():
            root.add_module(name, _build_layer(spec))
        for spec in arch["nodes"]:
            args, kwargs = _decode(spec["args"], nodes), _decode(spec["kwargs"], nodes)
            if spec["op"] == "call_function":
                if spec["target"] not in _FUNCTIONS:
                    raise SavedModelError(f"config.json names an unknown function {spec['target']!r}.")
                target = _FUNCTIONS[spec["target"]]
            else:
                target = spec["target"]
            node = graph.create_node(spec["op"], target, tuple(args), kwargs, name=spec["name"])
            nodes[spec["name"]] = node
        # Lazy layers get their sizes from a run on the inputs (symbolic: nothing computed).
        model = Functional.__new__(Functional)
        fx.GraphModule.__init__(model, root, graph, class_name="Model")
        model.name = arch["name"]
        from zoo.models.graph import InputSpec

        model.input_specs = [InputSpec(t.name, t.shape[1:], t.dtype) for t in inputs]
        model._zoo_outputs = arch.get("outputs")
        model(*inputs)
    load_weights(model, saved.weights)
    return model.eval()

