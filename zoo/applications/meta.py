"""Build a model without allocating or initialising its weights, because they are overwritten at once.

``torch.device("meta")`` is the fast path: every tensor the constructor makes lives on the meta device, so a
resnet50 builds in milliseconds and the pretrained tensors are then *assigned* (not copied) into it.
A few constructors compute their shape with tensor arithmetic (torchvision's RegNet derives its stage
widths with ``torch.round(...).tolist()``), which the meta device cannot run; for those, only the
parameters and buffers registered on modules are moved to meta (what accelerate's ``init_empty_weights``
does), so plain tensor arithmetic in ``__init__`` still sees real data.

Initialising a meta tensor does nothing, yet ``torch.nn.init`` still dispatches it through torch's Python
decompositions: three quarters of a resnet50's meta build (30 ms of 40). Inside :func:`empty_weights` the
``torch.nn.init`` functions return a meta tensor at once and initialise any other tensor as before.

Both changes patch torch process-wide while at least one build runs, but act only on meta tensors and on
the building thread's registrations: a model another thread builds meanwhile is initialised as usual.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

_INIT_FUNCTIONS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)  # fmt: skip

_thread = threading.local()  # .registering_on_meta: this thread is inside empty_weights(tensor_math_in_init=True)


def _registering_on_meta() -> bool:
    return getattr(_thread, "registering_on_meta", False)


def _skipping_meta(init: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    @functools.wraps(init)
    def wrapper(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return tensor if tensor.is_meta else init(tensor, *args, **kwargs)

    return wrapper


def _moving_parameters(register: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(register)
    def wrapper(self: nn.Module, name: str, param: nn.Parameter | None) -> None:
        if param is not None and not param.is_meta and _registering_on_meta():
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register(self, name, param)

    return wrapper


def _moving_buffers(register: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(register)
    def wrapper(self: nn.Module, name: str, tensor: torch.Tensor | None, persistent: bool = True) -> None:
        if tensor is not None and persistent and not tensor.is_meta and _registering_on_meta():
            tensor = tensor.to("meta")
        register(self, name, tensor, persistent=persistent)

    return wrapper


class _Patches:
    """torch's functions swapped for the wrappers above while at least one build runs (counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._installed: list[tuple[object, str, Any, Any]] = []  # owner, name, original, wrapper

    def _targets(self) -> list[tuple[object, str, Callable[[Any], Any]]]:
        return [
            *((nn.init, name, _skipping_meta) for name in _INIT_FUNCTIONS),
            (nn.Module, "register_parameter", _moving_parameters),
            (nn.Module, "register_buffer", _moving_buffers),
        ]

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                for owner, name, wrap in self._targets():
                    original = getattr(owner, name)
                    wrapper = wrap(original)
                    self._installed.append((owner, name, original, wrapper))
                    setattr(owner, name, wrapper)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for owner, name, original, wrapper in self._installed:
                        if getattr(owner, name) is wrapper:  # not if another library patched it since
                            setattr(owner, name, original)
                    self._installed.clear()


_patches = _Patches()


@contextlib.contextmanager
def empty_weights(*, tensor_math_in_init: bool = False) -> Iterator[None]:
    """Within this block, new modules get meta-device parameters and buffers (no memory, no init cost)."""
    with _patches.active():
        if not tensor_math_in_init:
            with torch.device("meta"):  # a torch function mode: this thread only
                yield
            return
        outer = _registering_on_meta()
        _thread.registering_on_meta = True
        try:
            yield
        finally:
            _thread.registering_on_meta = outer


def meta_tensors(model: nn.Module) -> list[str]:
    """Names of parameters and buffers still on the meta device (nothing loaded into them)."""
    return [name for name, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
