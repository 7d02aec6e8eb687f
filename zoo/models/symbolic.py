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
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.utils._pytree import tree_map

from zoo.errors import ModelError

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


_input_names = itertools.count()


def Input(  # noqa: N802 - Keras' name
    shape: Sequence[int | None] | int | None = None,
    dtype: torch.dtype | str | None = None,
    name: str | None = None,
    batch_size: int | None = None,
    batch_shape: Sequence[int | None] | None = None,
) -> SymbolicTensor:
    """A model input: ``zoo.Input((3, 224, 224))``, ``zoo.Input((None,), dtype=torch.long, name="question")``.

    ``shape`` is one sample's shape without the batch axis, channels-first as everywhere in zoo; ``None``
    leaves a size free (frames of a video, words of a question). ``dtype`` defaults to float32 (a name such
    as ``"int64"`` works too). Call layers on the result, then ``zoo.Model(inputs, outputs)``. Keras'
    ``batch_shape=(None, 3, 224, 224)`` is ``batch_size`` and ``shape`` in one.
    """
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
    return obj.fake if type(obj) is SymbolicTensor else obj


def _free_axes(args: Any) -> frozenset[int]:
    """Free axes carried over: those of the inputs, where the output has that many axes (a heuristic for
    display only; the graph itself never depends on it)."""
    axes: set[int] = set()
    tree_map(lambda t: axes.update(t.free_axes) if type(t) is SymbolicTensor else None, args)
    return frozenset(axes)


def wrap(output: Any, call: Call, free: frozenset[int], path: tuple = ()) -> Any:
    """Fake outputs of ``call`` -> symbolic tensors that remember where in the output they sit."""
    if isinstance(output, torch.Tensor):
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
    if _session.depth:
        raise ModelError(
            f"a symbolic tensor reached {getattr(target, '__name__', target)!r} inside a module's forward: "
            "it was probably passed as a keyword (layer(x, mask=m)). Pass symbolic tensors positionally."
        )
    call = Call(kind, target, tuple(args), dict(kwargs))
    fake_args, fake_kwargs = tree_map(_to_fake, (call.args, call.kwargs))
    with _session.fake_mode():
        if kind == "method":
            out = getattr(fake_args[0], target)(*fake_args[1:], **fake_kwargs)
        else:
            out = target(*fake_args, **fake_kwargs)
    return wrap(out, call, _free_axes(call.args))


def _describe(call: Call) -> str:
    if call.kind == "module":
        return type(call.target).__name__
    return getattr(call.target, "__name__", str(call.target))


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
    if _session.depth:  # inside a recorded call: inputs are fake; only lazy modules need care
        if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
            _materialise_lazy(module, args)
        return None
    if not has_symbolic(args):
        return None
    call = Call("module", module, tuple(args))
    fake_args = tree_map(_to_fake, call.args)
    device = _module_device(module)
    if device is not None:
        fake_args = tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, fake_args)
    if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
        _materialise_lazy(module, fake_args)
    mode = _session.fake_mode()
    mode.__enter__()
    _session.depth += 1
    handle: Any = None

    def post(module: nn.Module, args: tuple, output: Any) -> Any:
        handle.remove()
        _session.depth -= 1
        mode.__exit__(None, None, None)
        if output is None:  # forward raised (always_call): the error propagates
            return None
        return wrap(output, call, _free_axes(call.args))

    handle = module.register_forward_hook(post, always_call=True)
    return fake_args


class _Session:
    """The process-wide recording state: one FakeTensorMode (fakes of two modes cannot meet), the hook
    (registered while symbolic tensors live), and how deep inside a recorded call we are."""

    def __init__(self) -> None:
        self.mode: Any = None
        self.handle: Any = None
        self.live = 0
        self.depth = 0

    def fake_mode(self) -> Any:
        if self.mode is None:
            from torch._subclasses.fake_tensor import FakeTensorMode

            self.mode = FakeTensorMode(allow_non_fake_inputs=True)
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
