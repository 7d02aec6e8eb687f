"""Build a model without allocating or initialising its weights, because they are overwritten at once.

``torch.device("meta")`` is the fast path: every tensor the constructor makes lives on the meta device, so a
resnet50 builds in milliseconds and the pretrained tensors are then *assigned* (not copied) into it.
A few constructors compute their shape with tensor arithmetic (torchvision's RegNet derives its stage
widths with ``torch.round(...).tolist()``), which the meta device cannot run; for those, only the
parameters and buffers registered on modules are moved to meta (what accelerate's ``init_empty_weights``
does), so plain tensor arithmetic in ``__init__`` still sees real data.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch import nn

_patch_lock = threading.Lock()


@contextlib.contextmanager
def empty_weights(*, tensor_math_in_init: bool = False) -> Iterator[None]:
    """Within this block, new modules get meta-device parameters and buffers (no memory, no init cost)."""
    if not tensor_math_in_init:
        with torch.device("meta"):
            yield
        return
    register_parameter = nn.Module.register_parameter
    register_buffer = nn.Module.register_buffer

    def meta_parameter(self: nn.Module, name: str, param: nn.Parameter | None) -> None:
        if param is not None and param.device.type != "meta":
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def meta_buffer(self: nn.Module, name: str, tensor: torch.Tensor | None, persistent: bool = True) -> None:
        if tensor is not None and persistent:
            tensor = tensor.to("meta")
        register_buffer(self, name, tensor, persistent=persistent)

    # The patch is process-wide for the duration of the build; the lock keeps two builds from interleaving.
    with _patch_lock:
        nn.Module.register_parameter = meta_parameter  # type: ignore[method-assign]
        nn.Module.register_buffer = meta_buffer  # type: ignore[method-assign]
        try:
            yield
        finally:
            nn.Module.register_parameter = register_parameter  # type: ignore[method-assign]
            nn.Module.register_buffer = register_buffer  # type: ignore[method-assign]


def meta_tensors(model: nn.Module) -> list[str]:
    """Names of parameters and buffers still on the meta device (nothing loaded into them)."""
    return [name for name, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
