"""Symbolic tensors: what ``zoo.Input`` returns, and what calling a module or a torch function on one returns.

A symbolic tensor stands for the data a model will get; it remembers which call made it (``Call``), so
``zoo.Model(inputs, outputs)`` can walk back from the outputs and write the calls down as a ``torch.fx``
graph. Nothing is computed for real: each call runs once on fake tensors (``FakeTensorMode``: shapes and
dtypes, no data, no compute), which gives the output shapes, checks the layers' own input rules, and
materialises lazily sized layers (``Dense(20)``) with real, initialised parameters.

How a call on a symbolic tensor is seen. ``layer(x)`` goes through ``nn.Module.__call__``, which zoo cannot
change for every module class; instead a *global* forward pre-hook (``torch.nn.modules.module.
register_module_forward_pre_hook``) swaps the symbolic arguments for their fake tensors and a one-shot
forward hook on that module wraps the fake result into new symbolic tensors. A global hook puts every
module call of the process on torch's slow path (~2 us a call), so it is registered only while some
symbolic tensor is alive, and a functional model pauses it while it runs. Torch functions (``torch.cat``),
operators (``x + y``, ``x[:, 0]``) and tensor methods (``x.mean(1)``) are recorded through the
``__torch_function__`` protocol and plain Python methods.

What fake tensors cannot do. They have shapes but no values, so code that reads values (``.item()``,
``.numpy()``, a Python ``if`` on a tensor) cannot be recorded, and a step whose *output* shape depends on
values (``t[t > 0]``) leaves the next layers without a shape: both are ``ModelError``s that say to keep
the shape or to move the code into a subclassed model. A size that depends on values only *inside* a
step is fine: the fake mode carries it as an unknown symbol (a ``ShapeEnv``), so ``TimeDistributed``
skipping masked steps, whose output has the input's steps again, builds as it runs. Any other error a
step raises on fake tensors becomes a ``ModelError`` naming the layer and its input shapes, without the
pages torch's fake-tensor logger would print for it (see ``_Step``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import operator
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map

from zoo.errors import ModelError, RecordingError, ZooError

#: Size given to the batch axis (and to any ``None`` axis) while shapes are inferred; shown as ``None``.
STAND_IN = 2


@dataclass(eq=False)
class Call:
    """One recorded call: a module, a torch function or a tensor method applied to these arguments (which
    hold ``SymbolicTensor``s where the data goes)."""

    kind: str  # "module", "function" or "method"
    target: Any  # the nn.Module, the function, or the method's name
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class AxisSize:
    """The size of axis ``axis`` of ``of`` when the model runs (the graph reads it as ``x.size(axis)``).

    ``x.shape[0]`` is ``None`` (Keras' batch axis), so torch's ``x.view(x.shape[0], -1)`` passes a None
    where the batch size goes; this is what it stands for there, as the user meant."""

    of: SymbolicTensor
    axis: int


class SymbolicTensor:
    """A placeholder for a model's data while the model is being described (Keras' ``KerasTensor``).

    ``shape`` is Keras-style: ``None`` for the batch axis and for sizes left free in ``zoo.Input``.
    Calling a layer, any ``nn.Module``, a merge function or a torch function on it gives another one.
    """

    __slots__ = ("__weakref__", "call", "fake", "free_axes", "name", "path")

    def __init__(
        self,
        fake: torch.Tensor,
        call: Call | None = None,
        path: tuple = (),
        name: str | None = None,
        free_axes: frozenset[int] = frozenset(),
    ) -> None:
        self.fake = fake
        self.call = call
        self.path = path
        self.name = name
        self.free_axes = free_axes
        _session.track(self)

    # -- what it looks like -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int | None, ...]:
        return tuple(None if i == 0 or i in self.free_axes else int(d) for i, d in enumerate(self.fake.shape))

    @property
    def dtype(self) -> torch.dtype:
        return self.fake.dtype

    @property
    def ndim(self) -> int:
        return self.fake.ndim

    def dim(self) -> int:
        return self.fake.ndim

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self) -> str:
        what = f"name={self.name!r}, " if self.name else ""
        return f"<SymbolicTensor {what}shape={self.shape}, dtype={self.dtype}>"

    # -- recording torch functions, operators and methods -----------------------------------------------
    @classmethod
    def __torch_function__(cls, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return record("function", func, args, kwargs or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not callable(getattr(torch.Tensor, name, None)):
            raise AttributeError(f"SymbolicTensor has no attribute {name!r}")

        def method(*args: Any, **kwargs: Any) -> Any:
            return record("method", name, (self, *args), kwargs)

        return method

    def __getitem__(self, index: Any) -> Any:
        return record("function", operator.getitem, (self, index), {})

    def __bool__(self) -> bool:
        raise ModelError(
            f"{self!r} has no value yet: it stands for the data a model will get, so Python's if/while "
            "cannot test it. Branch inside a module's forward (or a Lambda layer) instead."
        )

    def __len__(self) -> int:
        raise ModelError(f"{self!r} has no length yet (its batch axis is free); use .shape[1:] instead.")

    def __iter__(self) -> Iterator:
        raise ModelError(f"{self!r} cannot be iterated: it has no values yet. Index it (x[:, 0]) instead.")

    def numpy(self) -> Any:
        raise ModelError(f"{self!r} has no values yet; build a zoo.Model and call model.predict(data).")


def _binary(op: Callable, reflected: bool = False) -> Callable:
    if reflected:
        return lambda self, other: record("function", op, (other, self), {})
    return lambda self, other: record("function", op, (self, other), {})


for _name, _op in {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
}.items():  # fmt: skip
    setattr(SymbolicTensor, f"__{_name}__", _binary(_op))
    setattr(SymbolicTensor, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}.items():
    setattr(SymbolicTensor, f"__{_name}__", _binary(_op))
SymbolicTensor.__neg__ = lambda self: record("function", operator.neg, (self,), {})  # type: ignore[attr-defined]
SymbolicTensor.__abs__ = lambda self: record("function", operator.abs, (self,), {})  # type: ignore[attr-defined]
# ``==`` stays identity (``x in inputs`` must work); use torch.eq(x, y) for the elementwise comparison.


def is_symbolic(obj: Any) -> bool:
    return isinstance(obj, SymbolicTensor)


def has_symbolic(obj: Any) -> bool:
    """Whether ``obj`` (an argument tuple, possibly holding lists and dicts) holds a symbolic tensor."""
    if type(obj) is SymbolicTensor:
        return True
    if isinstance(obj, (tuple, list)):
        return any(has_symbolic(o) for o in obj)
    if isinstance(obj, dict):
        return any(has_symbolic(o) for o in obj.values())
    return False


def pin_training(output: Any, module: nn.Module, training: bool) -> None:
    """Record ``training=`` on the call of ``module`` that made ``output``: the forward pre-hook that
    records a module call sees its positional arguments only, and the mode must hold when the model runs."""
    for tensor in symbols(output):
        if tensor.call is not None and tensor.call.kind == "module" and tensor.call.target is module:
            tensor.call.kwargs["training"] = training


def symbols(obj: Any) -> list[SymbolicTensor]:
    """The symbolic tensors in ``obj`` (arguments, outputs) that a call depends on, in order."""
    return [t.of if type(t) is AxisSize else t for t in tree_flatten(obj)[0] if type(t) in (SymbolicTensor, AxisSize)]


_input_names = itertools.count()


def Input(  # noqa: N802 - Keras' name
    shape: Sequence[int | None] | int | None = None,
    batch_size: int | None = None,
    dtype: torch.dtype | str | None = None,
    sparse: bool | None = None,
    batch_shape: Sequence[int | None] | None = None,
    name: str | None = None,
    tensor: Any = None,
    optional: bool = False,
    ragged: bool | None = None,
) -> SymbolicTensor:
    """A model input: ``zoo.Input((3, 224, 224))``, ``zoo.Input((None,), dtype=torch.long, name="question")``.

    ``shape`` is one sample's shape without the batch axis, channels-first as everywhere in zoo; ``None``
    leaves a size free (frames of a video, words of a question). ``dtype`` defaults to float32 (a name such
    as ``"int64"`` works too). Call layers on the result, then ``zoo.Model(inputs, outputs)``. Keras'
    ``batch_shape=(None, 3, 224, 224)`` is ``batch_size`` and ``shape`` in one. The parameters are Keras 3's,
    in its order (``Input((784,), 32)`` is a batch size of 32); what zoo has no counterpart for, a sparse,
    ragged, optional or wrapped input, is refused saying what to do instead.
    """
    _refuse_unsupported(sparse, ragged, tensor, optional)
    if batch_shape is not None:
        if shape is not None or batch_size is not None:
            raise ModelError("Input: give batch_shape=(batch, *shape) or shape= (and batch_size=), not both.")
        if not isinstance(batch_shape, (tuple, list)) or len(batch_shape) < 1:
            raise ModelError(f"Input: batch_shape is (batch, *shape), e.g. (None, 3, 224, 224); got {batch_shape!r}.")
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ModelError("Input needs shape= (one sample's shape, e.g. Input((3, 224, 224))) or batch_shape=.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ModelError(f"Input: batch_size must be a positive int or None, got {batch_size!r}.")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    ):
        raise ModelError(
            f"Input: shape is one sample's shape without the batch axis, a tuple of positive ints or None "
            f"(a free size), e.g. Input((3, 224, 224)) or Input((None,)); got {shape!r}."
        )
    resolved = _dtype(dtype)
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        raise ModelError(f"Input: name must be a Python identifier such as 'question', got {name!r}.")
    batch = STAND_IN if batch_size is None else int(batch_size)
    full = (batch, *(STAND_IN if d is None else d for d in shape))
    with _session.fake_mode():
        fake = torch.empty(full, dtype=resolved)
    free = frozenset(i + 1 for i, d in enumerate(shape) if d is None)
    return SymbolicTensor(fake, name=name or f"input_{next(_input_names) + 1}", free_axes=free)


def _refuse_unsupported(sparse: Any, ragged: Any, tensor: Any, optional: Any) -> None:
    if sparse not in (None, False):
        raise ModelError("Input(sparse=True): zoo's inputs are dense tensors; pass x.to_dense() (or a dense array).")
    if ragged not in (None, False):
        raise ModelError(
            "Input(ragged=True): zoo has no ragged tensors (nor has Keras 3); pad the sequences to one length, "
            "Input((None,)) with mask_zero=True on the Embedding (or a Masking layer) skips the padding."
        )
    if tensor is not None:
        raise ModelError(
            "Input(tensor=...): zoo does not wrap an existing tensor as an input; give shape= (and dtype=), and pass "
            "the tensor when calling the model."
        )
    if optional not in (None, False):
        raise ModelError("Input(optional=True): zoo's inputs are all required; pass zeros and a mask instead of None.")


def _dtype(dtype: torch.dtype | str | None) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None) if isinstance(dtype, str) else None
    if not isinstance(resolved, torch.dtype):
        raise ModelError(f"Input: dtype must be a torch.dtype or its name ('float32', 'int64'), got {dtype!r}.")
    return resolved


# -- running calls on fake tensors ------------------------------------------------------------------------
def _to_fake(obj: Any) -> Any:
    if type(obj) is SymbolicTensor:
        return obj.fake
    if type(obj) is AxisSize:
        return obj.of.fake.shape[obj.axis]
    return obj


def _free_axes(args: Any) -> frozenset[int]:
    """Free axes carried over: those of the inputs, where the output has that many axes (a heuristic for
    display only; the graph itself never depends on it)."""
    axes: set[int] = set()
    tree_map(lambda t: axes.update(t.free_axes) if type(t) is SymbolicTensor else None, args)
    return frozenset(axes)


def wrap(output: Any, call: Call, free: frozenset[int], path: tuple = ()) -> Any:
    """Fake outputs of ``call`` -> symbolic tensors that remember where in the output they sit."""
    if isinstance(output, torch.Tensor):
        if not all(isinstance(d, int) for d in output.shape):  # a size left as a symbol: it needs the data
            raise ModelError(
                f"{_describe(call)} (input {_shapes(call.args)}) returns a tensor whose shape depends on the "
                "data (boolean indexing t[t > 0], nonzero, unique, masked_select), but the functional API "
                "needs every step's output shape without data. Keep the shape (torch.where(t > 0, t, 0), "
                "masked_fill), or move the code into a subclassed model's call() (class M(zoo.Model))."
            )
        return SymbolicTensor(output, call, path, free_axes=frozenset(a for a in free if a < output.ndim))
    if isinstance(output, (tuple, list)) and not hasattr(output, "_fields"):
        return type(output)(wrap(o, call, free, (*path, i)) for i, o in enumerate(output))
    if isinstance(output, dict):
        return {k: wrap(v, call, free, (*path, k)) for k, v in output.items()}
    if output is None or isinstance(output, (int, float, bool, str)):
        return output
    raise ModelError(
        f"{_describe(call)} returned a {type(output).__name__}; a model step must return tensors (or "
        "tuples, lists and dicts of them)."
    )


def record(kind: str, target: Any, args: tuple, kwargs: dict) -> Any:
    """Record a torch function or tensor method applied to symbolic tensors, and run it on fake ones."""
    if _session.step is not None:
        raise ModelError(
            f"a symbolic tensor reached {getattr(target, '__name__', target)!r} inside a module's forward: "
            "it was probably passed as a keyword (layer(x, mask=m)). Pass symbolic tensors positionally."
        )
    call = Call(kind, target, *_keep_axes(kind, target, tuple(args), dict(kwargs)))
    fake_args, fake_kwargs = tree_map(_to_fake, (call.args, call.kwargs))
    step = _Step(call)
    try:
        with step:
            if kind == "method":
                out = getattr(fake_args[0], target)(*fake_args[1:], **fake_kwargs)
            else:
                out = target(*fake_args, **fake_kwargs)
    except ZooError:
        raise
    except Exception as error:  # the call's own arguments are wrong: say so with the shapes
        raise step.failure(error) from error
    return wrap(out, call, _free_axes(call.args))


_RESHAPES = ("view", "reshape")


def _keep_axes(kind: str, target: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``x.view``/``x.reshape`` sizes with each ``None`` (``x.shape[0]``, ``x.size(0)``: the batch axis or
    a free size) replaced by the size of that axis of ``x`` when the model runs, in both of torch's forms
    (``x.view(n, -1)``, ``x.view((n, -1))``). ``torch.reshape(x, (None, -1))`` never gets here: torch's
    argument parser refuses the None before any override is asked."""
    if kind != "method" or target not in _RESHAPES:
        return args, kwargs
    x, sizes = args[0], args[1:]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if type(x) is not SymbolicTensor or None not in sizes:
        return args, kwargs
    name = getattr(target, "__name__", target)
    for axis, size in enumerate(sizes):
        if size is None and axis >= x.ndim:
            raise ModelError(
                f"{name}{tuple(sizes)} on {x!r}: a None keeps that axis of the tensor (x.shape[0] is the batch "
                f"axis), but position {axis} is past its {x.ndim} axes; give a size there (or -1 for the rest)."
            )
    return (x, tuple(AxisSize(x, axis) if size is None else size for axis, size in enumerate(sizes))), kwargs


def _describe(call: Call) -> str:
    if call.kind == "module":
        return _layer_name(call.target)
    name = getattr(call.target, "__name__", str(call.target))
    return f".{name}()" if call.kind == "method" else f"{name}()"


def _layer_name(module: nn.Module) -> str:
    name = getattr(module, "name", None)
    return f"{type(module).__name__} {name!r}" if isinstance(name, str) and name else type(module).__name__


def _shapes(args: Any, fake: bool = False) -> str:
    """``shape (None, 5)`` / ``shapes (None, 5), (4, 2)`` of the tensors among ``args``; ``fake``: they are
    the fake inputs of a layer inside a step, whose first axis is the batch stand-in."""
    shapes = []
    for t in tree_flatten(args)[0]:
        if type(t) is SymbolicTensor:
            shapes.append(t.shape)
        elif isinstance(t, torch.Tensor):
            shapes.append(tuple(None if fake and i == 0 else d for i, d in enumerate(t.shape)))
    text = ", ".join("(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")" for s in shapes)
    return f"shape{'s' if len(shapes) > 1 else ''} {text or 'none'}"


_LAMBDA_CODE = ("function", "mask")  # the attributes of zoo's Lambda that hold user code


class _Step(TorchFunctionMode):
    """What is in force while one recorded call runs on fake tensors.

    An error there should say which layer failed on which input shapes, but a module's call cannot be
    wrapped (``nn.Module.__call__`` is torch's, and torch swallows an error a forward hook raises while the
    forward's own error propagates), so this torch-function mode sees each torch call the layers make and
    turns the ``RuntimeError`` one raises into a ``ModelError`` at once. A ``Lambda``'s function, user code
    that may also fail outside torch calls (``.numpy()``, a data-dependent ``int()``), is wrapped while it
    runs. The modules entered are kept, innermost last, to name the one that failed inside a
    ``Sequential`` or ``TimeDistributed``.
    """

    def __init__(self, call: Call) -> None:
        super().__init__()
        self.call = call
        self.frames: list[tuple[nn.Module, Any, Callable[[], None] | None]] = []
        self.handle: Any = None

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        try:
            return func(*args, **(kwargs or {}))
        except RuntimeError as error:
            if isinstance(error, ZooError):
                raise
            raise self.failure(error) from error

    def __enter__(self) -> _Step:
        _session.fake_mode().__enter__()
        super().__enter__()
        _session.step = self
        self.handle = torch.nn.modules.module.register_module_forward_hook(self._left, always_call=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.handle.remove()
        while self.frames:
            self._left(self.frames[-1][0])
        _session.step = None
        super().__exit__(*exc)
        _session.fake_mode().__exit__(None, None, None)

    def entered(self, module: nn.Module, args: Any) -> None:
        restore = None
        lambda_class = _loaded("zoo.layers.core", "Lambda")
        if lambda_class and isinstance(module, lambda_class):
            restore = self._guard(module)
        self.frames.append((module, args, restore))

    def _left(self, module: nn.Module, *_: Any) -> None:
        if self.frames and self.frames[-1][0] is module:
            restore = self.frames.pop()[2]
            if restore is not None:
                restore()

    def _guard(self, layer: nn.Module) -> Callable[[], None]:
        """Wrap the ``Lambda``'s user code (its function and a callable mask) until it leaves the step."""
        own = {name: layer.__dict__[name] for name in _LAMBDA_CODE if name in layer.__dict__}
        for name in _LAMBDA_CODE:
            code = getattr(layer, name, None)
            if callable(code) and not isinstance(code, torch.Tensor):
                layer.__dict__[name] = functools.wraps(code)(functools.partial(self._run_user_code, code))

        def restore() -> None:
            for name in _LAMBDA_CODE:
                layer.__dict__.pop(name, None)
            layer.__dict__.update(own)

        return restore

    def _run_user_code(self, code: Callable, *args: Any, **kwargs: Any) -> Any:
        try:
            return code(*args, **kwargs)
        except ZooError:
            raise
        except Exception as error:
            raise self.failure(error) from error

    def failure(self, error: BaseException) -> ModelError:
        """The ModelError for ``error``, raised by the innermost layer running (or the recorded call)."""
        from torch._subclasses.fake_tensor import DataDependentOutputException, DynamicOutputShapeException
        from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

        where, given = _describe(self.call), _shapes(self.call.args)
        if self.frames:
            module, args, _ = self.frames[-1]
            where = _layer_name(module)
            if module is not self.call.target:
                where += f" (in {_describe(self.call)})"
                given = _shapes(args, fake=True)
        if isinstance(error, DynamicOutputShapeException):
            return RecordingError(
                f"{where} (input {given}) makes a tensor whose shape depends on the data ({error}), which the "
                "functional API cannot infer without data. Keep the shape (torch.where, masked_fill), or move "
                "the code into a subclassed model's call() (class M(zoo.Model))."
            )
        if isinstance(error, (DataDependentOutputException, GuardOnDataDependentSymNode)) or ".numpy()" in str(error):
            return RecordingError(
                f"{where} (input {given}) reads tensor values (.item(), .numpy(), .tolist(), bool() or int() of "
                "a tensor), but the functional API traces shapes without data: zoo.Model runs each layer once "
                "on fake tensors, which have no values. Move the data-dependent code into a subclassed model's "
                "call() (class M(zoo.Model)), or keep the values in tensors (t / t.amax(), torch.where) "
                "instead of .item()/.numpy()."
            )
        hint = ""
        if isinstance(error, TypeError) and None in tree_flatten((self.call.args, self.call.kwargs))[0]:
            hint = (
                " A None there is x.shape[0] or x.size(0), the batch axis (or a free size), unknown until the "
                "model runs: view/reshape take it (keeping that axis); elsewhere give -1 or use zoo.layers.Reshape."
            )
        said = str(error).strip().rstrip(".") or type(error).__name__
        return RecordingError(
            f"{where} failed on input {given}: {said}.{hint} zoo.Model runs each layer once on shape-only "
            f"fake tensors to infer its output (the batch axis and free sizes stand in as {STAND_IN} there): "
            "fix the layer or what it is given so that the shapes fit."
        )


# -- the hooks ------------------------------------------------------------------------------------------
def _materialise_lazy(module: nn.Module, args: tuple) -> None:
    """Give a lazily sized module real, initialised parameters for these (fake) inputs.

    Under FakeTensorMode torch's own lazy hook would create *fake* parameters; here the sizes are read
    from meta copies of the inputs with fake mode off, so the parameters are real (allocated and
    initialised, nothing computed on data)."""
    from torch._subclasses.fake_tensor import unset_fake_temporarily

    with unset_fake_temporarily():
        meta = tree_map(
            lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta") if isinstance(t, torch.Tensor) else t,
            args,
        )
        module.initialize_parameters(*meta)


def _module_device(module: nn.Module) -> torch.device | None:
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        if not isinstance(tensor, nn.parameter.UninitializedTensorMixin):
            return tensor.device
    return None


def _pre_hook(module: nn.Module, args: tuple) -> tuple | None:
    step = _session.step
    if step is not None:  # inside a recorded call: inputs are fake; lazy modules need care
        if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
            _materialise_lazy(module, args)
        step.entered(module, args)
        return None
    if not has_symbolic(args):
        return None
    call = Call("module", module, tuple(args))
    check_sequence_layout(module, lambda: _made(next(iter(symbols(call.args)), None)))
    fake_args = tree_map(_to_fake, call.args)
    device = _module_device(module)
    if device is not None:
        fake_args = tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, fake_args)
    step = _Step(call).__enter__()
    step.entered(module, call.args)
    handle: Any = None

    def post(module: nn.Module, args: tuple, output: Any) -> Any:
        handle.remove()
        step.__exit__(None, None, None)
        if output is None:  # forward raised (always_call): the error propagates
            return None
        return wrap(output, call, _free_axes(call.args))

    handle = module.register_forward_hook(post, always_call=True)
    if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
        _materialise_lazy(module, fake_args)  # after the hook: should it fail, post still ends the step
    return fake_args


# -- (batch, steps, features) into a channels-first 1-D layer --------------------------------------------
def _loaded(module: str, *names: str) -> tuple[type, ...]:
    """Those of the named zoo classes already imported: a class whose module is not loaded has no
    instances, so nothing is imported (zoo.layers is lazy) to check a model that does not use it."""
    found = sys.modules.get(module)
    return tuple(getattr(found, n) for n in names if found is not None and hasattr(found, n))


def _layers_1d() -> tuple[type, ...]:
    return (
        *_loaded("zoo.layers.convolutional", "Conv1D"),
        *_loaded("zoo.layers.pooling", "MaxPooling1D", "AveragePooling1D"),
        *_loaded("zoo.layers.pooling", "GlobalMaxPooling1D", "GlobalAveragePooling1D"),
        *_loaded("zoo.layers.local", "LocallyConnected1D"),
    )


def _channels_last(layer: nn.Module) -> bool:
    return getattr(layer, "data_format", "channels_first") == "channels_last"


def _channels_first_1d(layer: nn.Module) -> bool:
    """Whether ``layer`` is a 1-D layer that takes (batch, channels, steps) by default, not by choice."""
    if not isinstance(layer, _layers_1d()) or _channels_last(layer):
        return False
    return "data_format" not in (layer.get_config() if hasattr(layer, "get_config") else {})


def _time_major(layer: nn.Module) -> bool:
    """Whether ``layer`` gives (batch, steps, features): an embedding, a recurrent layer's sequence,
    ``TimeDistributed``, a channels-last 1-D layer that keeps its steps."""
    sources = (nn.Embedding, *_loaded("zoo.layers.core", "Embedding"), *_loaded("zoo.layers.wrappers", "TimeDistributed"))
    if isinstance(layer, sources):
        return True
    if isinstance(layer, _layers_1d()):
        return _channels_last(layer) and not type(layer).__name__.startswith("Global")
    recurrent = _loaded("zoo.layers.recurrent", "SimpleRNN", "GRU", "LSTM", "Bidirectional")
    return bool(recurrent) and isinstance(layer, recurrent) and bool(getattr(layer, "return_sequences", False))


_KEEP_TORCH = (nn.Dropout, nn.Identity, nn.Linear, nn.LayerNorm, nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU,
               nn.LeakyReLU, nn.ELU)  # fmt: skip


def _keeps_layout(layer: nn.Module) -> bool:
    """Whether ``layer`` gives its input's axes back in their order (elementwise, or over the last axis)."""
    return isinstance(layer, (
        *_KEEP_TORCH,
        *_loaded("zoo.layers.core", "Dense", "Activation", "Dropout", "Masking"),
        *_loaded("zoo.layers.advanced_activations", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"),
        *_loaded("zoo.layers.normalization", "BatchNormalization", "LayerNormalization"),
        *_loaded("zoo.layers.noise", "GaussianNoise", "GaussianDropout", "AlphaDropout"),
    ))  # fmt: skip


def _leaves(module: nn.Module) -> list[nn.Module]:
    """The layers a (nested) ``nn.Sequential`` runs, in order; any other module is one layer."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _leaves(child)]
    return [module]


def _made(t: SymbolicTensor | None) -> list[nn.Module]:
    """The layers that made the 3-D tensor ``t``, nearest first, back through those that keep its layout."""
    found: list[nn.Module] = []
    while t is not None and t.ndim == 3 and t.call is not None and t.call.kind == "module":
        for layer in reversed(_leaves(t.call.target)):
            found.append(layer)
            if not _keeps_layout(layer):
                return found
        t = next(iter(symbols(t.call.args)), None)
    return found


def check_sequence_layout(module: nn.Module, before: Callable[[], Iterable[nn.Module]]) -> None:
    """Refuse a channels-first 1-D layer (``Conv1D``, 1-D pooling) fed, directly or through layers that
    keep the layout, by one that gives (batch, steps, features): it would run over the features as steps.

    Keras' text models (``Embedding -> Conv1D -> GlobalMaxPooling1D``) are written for channels-last 1-D
    layers; on zoo's channels-first ones they build and train, on the wrong axis, without a word. The
    layers in ``module`` are checked; ``before`` gives the modules that run before it, nearest first
    (called only when ``module`` holds such a layer). A layer given ``data_format=`` explicitly passes."""
    layers = _leaves(module)
    if not any(_channels_first_1d(layer) for layer in layers):
        return
    earlier = [leaf for earlier_module in before() for leaf in reversed(_leaves(earlier_module))]
    for index, layer in enumerate(layers):
        if not _channels_first_1d(layer):
            continue
        between: list[nn.Module] = []
        for previous in itertools.chain(reversed(layers[:index]), earlier):
            if _time_major(previous):
                raise ModelError(_layout_message(layer, previous, between))
            if not _keeps_layout(previous):
                break
            between.append(previous)


def _layout_message(layer: nn.Module, source: nn.Module, between: list[nn.Module]) -> str:
    via = f" (through {', '.join(_layer_name(m) for m in reversed(between))})" if between else ""
    kind = type(layer).__name__
    if isinstance(layer, _loaded("zoo.layers.local", "LocallyConnected1D")):
        fix = "Put zoo.layers.Permute((2, 1)) before it (and another after it to get (batch, steps, features) back)."
    else:
        back = "" if kind.startswith("Global") else ", and gives that layout back"
        fix = (
            f"Give it data_format='channels_last' ({kind}(..., data_format='channels_last') takes (batch, steps, "
            f"features){back}), or put zoo.layers.Permute((2, 1)) before it. To run it over the feature axis on "
            "purpose, give data_format='channels_first'."
        )
    return (
        f"{_layer_name(layer)} would run over the wrong axis: zoo's 1-D convolution and pooling layers are "
        f"channels-first, taking (batch, channels, steps), but {_layer_name(source)}{via} gives (batch, steps, "
        f"features), as Embedding, recurrent layers with return_sequences=True, TimeDistributed and channels-last "
        f"1-D layers do. {fix}"
    )


def _quiet(record: logging.LogRecord) -> bool:
    """Drop torch's fake-tensor log records while a step runs: its failures are raised as a ModelError
    (with torch's message) instead of printed as a page of traceback first."""
    return _session.step is None


class _Session:
    """The process-wide recording state: one FakeTensorMode (fakes of two modes cannot meet), the hook
    (registered while symbolic tensors live), and the recorded call running now (``_Step``), if any."""

    def __init__(self) -> None:
        self.mode: Any = None
        self.handle: Any = None
        self.live = 0
        self.step: _Step | None = None

    def fake_mode(self) -> Any:
        """The fake mode, with a ``ShapeEnv`` so that a size depending on values (``nonzero``) is a symbol
        instead of an error; reading a value (``.item()``) is still one, raised where it can be reworded
        (scalar outputs as symbols would fail later, in Python, where nothing can)."""
        if self.mode is None:
            from torch._subclasses.fake_tensor import FakeTensorMode
            from torch.fx.experimental.symbolic_shapes import ShapeEnv

            shape_env = ShapeEnv(allow_scalar_outputs=False, allow_dynamic_output_shape_ops=True)
            self.mode = FakeTensorMode(allow_non_fake_inputs=True, shape_env=shape_env, static_shapes=True)
            logging.getLogger("torch._subclasses.fake_tensor").addFilter(_quiet)
        return self.mode

    def track(self, tensor: SymbolicTensor) -> None:
        self.live += 1
        if self.handle is None:
            self.handle = torch.nn.modules.module.register_module_forward_pre_hook(_pre_hook)
        weakref.finalize(tensor, self._released)

    def _released(self) -> None:
        self.live -= 1
        if self.live == 0 and self.handle is not None:
            self.handle.remove()
            self.handle = None

    @property
    def hooked(self) -> bool:
        return self.handle is not None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Run a built model without the recording hook (it only matters for symbolic inputs)."""
        hooks = torch.nn.modules.module._global_forward_pre_hooks
        handle = self.handle
        hook = hooks.pop(handle.id, None) if handle is not None else None
        try:
            yield
        finally:
            if hook is not None and self.handle is handle:
                hooks[handle.id] = hook


_session = _Session()


def recording_hook_active() -> bool:
    """Whether the global recording hook is registered (some symbolic tensor is alive)."""
    return _session.hooked


def paused() -> contextlib.AbstractContextManager:
    return _session.paused()
