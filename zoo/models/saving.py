"""``model.save(path)`` / ``zoo.load_model(path)``: Sequential and functional models in zoo's one saved-model
format (``zoo.saving``: config.json + model.safetensors + README.md, a folder or a zip), kinds
``"sequential"`` and ``"functional"``.

The architecture is data, never code: each layer is its class name and its constructor arguments
(``layer.get_config()``, its ``name`` included, so names and what is keyed on them survive); a functional
model's graph is its fx nodes, with functions named from a fixed table (``torch.*``, ``operator.*``). A
layer whose class *is* the registered one (``zoo list layers``; identity, not name: a subclass of yours
called ``Dense`` is not zoo's ``Dense``) is rebuilt from the registry; any other class with ``get_config``
is marked ``"custom"`` and rebuilt only from ``load_model(path, custom_objects={name: cls})``, as in Keras,
so nothing comes back as a different class than was saved. A model that cannot be written that way (a
subclassed model, a module without ``get_config``) saves its weights only, as kind ``"weights"``, and says
so: rebuild it in code and call ``model.load_weights(path / "model.safetensors")``.

Which modules are frozen is model state, not a constructor argument: ``trainable`` set after construction
(``zoo.freeze``, ``layer.trainable = False``) would be lost from ``get_config``, and a constructor's
``trainable=False`` undone later would wrongly come back. So each layer's config leaves ``trainable`` out
and the model records the modules ``zoo.freeze`` pinned and the parameters without gradients, which load
restores exactly.
"""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn
from torch.nn.parameter import UninitializedParameter

from zoo import saving
from zoo.errors import ArgumentError, ModelError, OptionError, SavedModelError, UnknownNameError, ZooError

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
    """``{"class_name": name, "config": constructor arguments}`` for a layer with ``get_config()``, plus
    ``"custom": "module.Class"`` when its class is not the registered one (see the module docstring)."""
    from zoo.layers._keras import Layer

    cls = type(module)
    get_config = getattr(module, "get_config", None)
    if not callable(get_config):
        raise _Unsavable(
            f"{cls.__name__} has no get_config() (a zoo layer has one; for a module of your own, subclass "
            "zoo.layers.Layer or add get_config() returning its constructor arguments, then load with "
            "custom_objects)"
        )
    config = get_config()
    if not isinstance(config, dict):
        raise _Unsavable(f"{cls.__name__}.get_config() returned a {type(config).__name__}, not a dict")
    config = {k: v for k, v in config.items() if k != "trainable"}  # the model records it (module docstring)
    if isinstance(module, Layer):
        config.setdefault("name", module.name)
    spec: dict[str, Any] = {"class_name": cls.__name__, "config": _encode(config)}
    if not _is_registered(cls):
        spec["custom"] = f"{cls.__module__}.{cls.__qualname__}"
    return spec


def _is_registered(cls: type) -> bool:
    """Identity, not name: a class of yours that shares a zoo layer's name (``class Dense(zoo.layers.Dense)``
    with another ``forward``) must not come back as zoo's layer."""
    from zoo.plugins import get_registry

    try:
        return get_registry().lookup("layers", cls.__name__).resolve() is cls
    except ZooError:  # no such layer, two plugins claim the name, or its target does not import
        return False


def _build_layer(spec: dict[str, Any], custom_objects: dict[str, type], folder: Path) -> nn.Module:
    """``custom_objects`` first, as in Keras (so a file can be read with a class of the user's choosing); the
    registry only for layers saved as registered ones, so a custom layer never becomes zoo's namesake."""
    from zoo.plugins import get_registry

    name, config = spec["class_name"], _decode(spec["config"])
    cls = custom_objects.get(name)
    if cls is None and "custom" in spec:
        raise SavedModelError(
            f"{folder} holds a layer of class {name!r} ({spec['custom']}), a class of your own, not a registered "
            f"zoo layer; zoo rebuilds it only from the class you give: zoo.load_model(path, "
            f"custom_objects={{{name!r}: {name}}})."
        )
    if cls is None:
        try:
            entry = get_registry().lookup("layers", name)
        except UnknownNameError:
            raise SavedModelError(
                f"{folder} holds a layer {name!r} that no installed plugin registers (zoo list layers): install "
                f"the plugin that provides it, or give its class: zoo.load_model(path, custom_objects="
                f"{{{name!r}: {name}}})."
            ) from None
        return entry(**config)
    try:
        return cls(**config)
    except ZooError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's class: say which config it could not take
        raise SavedModelError(
            f"custom_objects[{name!r}] ({cls.__qualname__}) could not be rebuilt from its saved config {config}: "
            f"{type(exc).__name__}: {exc}. Its get_config() must return its constructor arguments, so that "
            f"{cls.__qualname__}(**layer.get_config()) builds the same layer."
        ) from exc


def _checked_custom_objects(custom_objects: Any) -> dict[str, type]:
    """Keras' ``custom_objects``, checked before anything is built: only layer classes can be used, and a
    Keras user's custom loss or metric in it would otherwise be dropped without a word."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping):
        raise ArgumentError(
            f"custom_objects must be a dict of layer classes by class name ({{'MyLayer': MyLayer}}), got "
            f"{type(custom_objects).__name__}."
        )
    for key, value in custom_objects.items():
        if not isinstance(key, str):
            raise ArgumentError(f"custom_objects keys are class names (strings), got {key!r}.")
        if not (isinstance(value, type) and issubclass(value, nn.Module)):
            raise ArgumentError(
                f"custom_objects[{key!r}] is {value!r}, not a layer class (an nn.Module subclass): zoo.load_model "
                "rebuilds only layers from it; losses, metrics and optimizers are not saved with a model "
                "(call model.compile(...) again after loading)."
            )
    return dict(custom_objects)


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
        return "sequential", {"name": model.name, "inputs": specs, "layers": layers,
                              "trainable": _trainable_record(model)}  # fmt: skip
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
                              "modules": modules, "nodes": nodes, "trainable": _trainable_record(model)}  # fmt: skip
    raise _Unsavable(f"{type(model).__name__} is a subclassed model (its architecture is Python code)")


def _trainable_record(model: nn.Module) -> dict[str, list[str]]:
    """The modules ``zoo.freeze`` pinned (BatchNorm/Dropout kept in eval) and the parameters without
    gradients: together what ``trainable`` reads and sets, per module (see the module docstring)."""
    from zoo.applications.freezing import is_frozen

    return {"frozen": [name for name, m in model.named_modules() if is_frozen(m)],
            "no_grad": [name for name, p in model.named_parameters() if not p.requires_grad]}  # fmt: skip


def _restore_trainable(model: nn.Module, record: dict[str, list[str]], folder: Path) -> None:
    from zoo.applications.freezing import freeze

    modules, params = dict(model.named_modules()), dict(model.named_parameters())
    unknown = [n for n in record["frozen"] if n not in modules]
    unknown += [n for n in record["no_grad"] if n not in params]
    if unknown:
        raise SavedModelError(
            f"{folder}/config.json records the trainable state of {unknown[:3]}, which the rebuilt model does not "
            "have: the file is damaged or was edited; save the model again."
        )
    for name in record["frozen"]:  # parents before children, as named_modules() listed them
        freeze(modules[name])
    no_grad = set(record["no_grad"])
    for name, param in params.items():
        param.requires_grad = name not in no_grad


def _check_built(model: nn.Module, title: str) -> None:
    """A lazy layer's weights do not exist before its first call: there is nothing to save yet (torch's own
    error would come from deep inside ``state_dict``, after nothing useful)."""
    lazy = [f"{getattr(m, 'name', name)} ({type(m).__name__})" for name, m in model.named_children()
            if any(isinstance(p, UninitializedParameter) for p in m.parameters())]  # fmt: skip
    if any(isinstance(p, UninitializedParameter) for p in model.parameters(recurse=False)):
        lazy.insert(0, title)
    if lazy:
        raise ModelError(
            f"model.save: {title!r} has lazy layers not built yet ({', '.join(lazy[:3])}"
            f"{', ...' if len(lazy) > 3 else ''}: their input size, hence their weights, is not known). Build it "
            "first: call it on data once (model(x)), or model.build((None, 4)) for inputs of 4 features, or "
            "give the first layer input_shape= (or start the model with zoo.Input(shape))."
        )


#: Keras' file names: zoo writing its own format under them would give files Keras and h5py cannot read.
_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def refuse_keras_suffix(path: str | os.PathLike[str], what: str, instead: str) -> None:
    """``model.save("m.keras")``, ``save_weights("m.weights.h5")``: a ``zoo.OptionError`` naming zoo's own."""
    if os.fspath(path).lower().endswith(_KERAS_SUFFIXES):
        raise OptionError(
            f"{what}({os.fspath(path)!r}): zoo does not write Keras' .keras/.h5 files (Keras and h5py could not "
            f"read what it wrote under that name); {instead}."
        )


def save_model(model: nn.Module, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write ``model`` to ``path`` (see the module docstring); returns the path written."""
    refuse_keras_suffix(path, "model.save", "save to a folder ('m') or a zip ('m.zip'), read back by zoo.load_model")
    title = getattr(model, "name", type(model).__name__)
    _check_built(model, title)
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
                              state_dict=model.state_dict(), card=card, overwrite=overwrite)  # fmt: skip


def load_model(
    path: str | os.PathLike[str],
    custom_objects: Mapping[str, type] | None = None,
    compile: bool = False,  # noqa: A002 - Keras' name
    safe_mode: bool = True,
) -> nn.Module:
    """A model ``model.save(path)`` (or ``zoo.save_pretrained``) wrote, with its weights and trainable state;
    outputs are identical to the saved model's. ``custom_objects`` (Keras'): your layer classes by class name, for the layers saved as
    ``"custom"`` (or to rebuild a saved layer name as another class). Keras' ``compile=True`` would restore
    the compile settings, which zoo does not save, and ``safe_mode=False`` would allow code in the file,
    which zoo never runs: both are refused rather than silently not done."""

    if compile is not False:
        raise ArgumentError(
            f"load_model(compile={compile!r}): zoo saves no compile settings (optimizer, loss, metrics), so "
            "there is nothing to restore: call model.compile(...) after loading (compile=False is accepted)."
        )
    if safe_mode is not True:
        raise ArgumentError(
            f"load_model(safe_mode={safe_mode!r}): zoo's saved models hold no code to allow (configs and "
            "safetensors only, never a pickle); pass custom layer classes with custom_objects= instead."
        )
    saved = saving.read_folder(path)
    if saved.kind in ("sequential", "functional", "weights"):
        return _rebuild(saved, {} if custom_objects is None else {"custom_objects": custom_objects})
    if custom_objects is not None:
        raise ArgumentError(
            f"{saved.folder} holds a saved {saved.kind} (zoo.save_pretrained), built by its plugin: custom_objects "
            "rebuild the layers of a model.save'd Sequential or functional model; drop it."
        )
    return saving.load(saved.folder)  # as Keras' load_model, whatever wrote it: zoo.load(DIR)'s loader


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

    overrides = dict(overrides)
    custom_objects = _checked_custom_objects(overrides.pop("custom_objects", None))
    if overrides:
        raise SavedModelError(
            f"a saved {saved.kind} model takes no load options but custom_objects, got {sorted(overrides)}."
        )
    arch = saved.config["model"]
    if saved.kind == "weights":
        raise SavedModelError(
            f"{saved.folder} holds only the weights of {arch.get('class')} ({arch.get('why')}); rebuild the "
            f"model in code and call model.load_weights('{saved.weights}')."
        )
    inputs = [Input(tuple(s["shape"]), dtype=getattr(torch, s["dtype"]), name=s["name"]) for s in arch["inputs"]]
    if saved.kind == "sequential":
        layers = [_build_layer(spec, custom_objects, saved.folder) for spec in arch["layers"]]
        model: nn.Module = Sequential([*inputs[:1], *layers], name=arch["name"])
    else:
        graph = fx.Graph()
        nodes: dict[str, fx.Node] = {}
        root = nn.Module()
        for name, spec in arch["modules"].items():
            root.add_module(name, _build_layer(spec, custom_objects, saved.folder))
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
    if "trainable" in arch:  # files of before it was recorded: the constructors' trainable= only
        _restore_trainable(model, arch["trainable"], saved.folder)
    return model.eval()

