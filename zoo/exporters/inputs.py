"""Example inputs: what a model is traced with, and the random batches the check feeds both sides.

Inputs are always a tuple of tensors, one per positional ``forward`` argument, batch axis first. Tracing
uses a batch of at least 2: torch.export specialises a dimension of size 1, which would silently fix the
batch size of the exported model.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.metadata import ApplicationMeta

#: Per-sample shape assumed for an image model that says nothing about its input.
IMAGE_SHAPE = (3, 224, 224)


def as_tuple(example: Any) -> tuple[torch.Tensor, ...]:
    """``example_input`` as a tuple of tensors, or a ``zoo.ArgumentError`` (a TypeError) saying what is accepted."""
    if isinstance(example, torch.Tensor):
        return (example,)
    if isinstance(example, (tuple, list)) and example and all(isinstance(t, torch.Tensor) for t in example):
        return tuple(example)
    raise ArgumentError(
        "example_input must be a tensor or a tuple of tensors (one per forward argument, batch axis first), "
        f"got {_describe(example)}. To give only a shape, use input_shape=(3, 224, 224)."
    )


def from_shapes(shapes: Sequence[int] | Sequence[Sequence[int]], batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Random float inputs from per-sample shapes (no batch axis): ``(3, 64, 64)`` or ``[(3, 64, 64), (8,)]``."""
    if shapes and all(isinstance(s, int) for s in shapes):
        shapes = [shapes]  # type: ignore[list-item]
    if not shapes or not all(
        isinstance(s, (tuple, list)) and all(isinstance(d, int) and d > 0 for d in s) for s in shapes
    ):
        raise OptionError(
            f"input_shape must be a per-sample shape such as (3, 224, 224), or a list of them for a model "
            f"with several inputs; got {shapes!r}."
        )
    return tuple(torch.randn(batch, *shape) for shape in shapes)  # type: ignore[misc]


def default_example(model: nn.Module, meta: ApplicationMeta | None) -> tuple[torch.Tensor, ...]:
    """What to trace a model with when the caller gave nothing.

    In order: the model's own ``example_inputs(batch_size)`` (how a multi-input model says what it
    takes); the ``input_shape`` it was built for (``zoo.load(..., input_shape=...)``, kept in
    ``model.zoo.load_options``: lenet_300_100 built for 8x8 digits takes nothing else); the crop size its
    weights were trained at (``model.zoo.preprocessing``, attached by ``zoo.load``); the ``input_size`` of
    its registry metadata; for a model whose first layer is a 2-D convolution, a 224x224 image with that
    layer's channels.

    The channels of an image side come from the metadata first: one per ``mean`` of the preprocessing
    (a ``zoo.load`` model takes images of those channels, whatever its first convolution sees after
    layers of its own, such as toy_cnn's two coordinate channels); without one they are the first
    convolution's (lenet5's single grayscale channel).
    """
    own = getattr(model, "example_inputs", None)
    if callable(own):
        return as_tuple(own(batch_size=2))
    info = getattr(model, "zoo", None)
    load_options = getattr(info, "load_options", None)
    built_for = load_options.get("input_shape") if isinstance(load_options, Mapping) else None
    if built_for is not None:  # zoo.load checked it: one sample's (channels, height, width)
        return from_shapes(tuple(built_for))
    first = next((m for m in model.modules() if list(m.parameters(recurse=False))), None)
    preprocessing = getattr(info, "preprocessing", None)
    preprocessing = preprocessing if isinstance(preprocessing, Mapping) else {}
    mean = preprocessing.get("mean")
    if isinstance(mean, (list, tuple)) and mean:
        channels = len(mean)
    else:  # no per-channel mean (lenet5's grayscale digits): the first convolution's channels
        channels = first.in_channels if isinstance(first, nn.Conv2d) else IMAGE_SHAPE[0]
    crop = preprocessing.get("crop")
    if isinstance(crop, (list, tuple)) and len(crop) == 2:  # [h, w]
        crop = (channels, *crop)
    for shape in (crop, meta.input_size if meta is not None else None):
        if isinstance(shape, int):  # an image side, as in the applications' weight tables
            return from_shapes((channels, shape, shape))
        if shape:
            return from_shapes(tuple(shape))
    if isinstance(first, nn.Conv2d):
        return from_shapes((channels, *IMAGE_SHAPE[1:]))
    raise ArgumentError(
        f"cannot tell what input {type(model).__name__} takes: pass example_input=torch.randn(1, ...) (a tuple "
        "of tensors for several inputs), input_shape=(...) (one sample, without the batch axis), or give the "
        "model an example_inputs(batch_size) method."
    )


def for_tracing(inputs: tuple[torch.Tensor, ...], dynamic_batch: bool) -> tuple[torch.Tensor, ...]:
    """The inputs to trace with: with a dynamic batch, every input has one common batch size >= 2."""
    if not dynamic_batch:
        return inputs
    if any(t.dim() == 0 for t in inputs):
        raise DataError(
            "a dynamic batch axis needs every input to have a batch axis (dimension 0), but an example input "
            "is a 0-dim tensor; pass dynamic_batch=False to export with fixed shapes."
        )
    sizes = {t.shape[0] for t in inputs}
    if len(sizes) > 1:
        raise DataError(
            f"the example inputs have different batch sizes {sorted(sizes)}; give every input the same batch "
            "size, or pass dynamic_batch=False."
        )
    if sizes == {1}:
        return tuple(torch.cat([t, t]) for t in inputs)
    return inputs


def dynamic_shapes(inputs: tuple[torch.Tensor, ...], dynamic_batch: bool) -> tuple[Any, ...] | None:
    """torch.export's ``dynamic_shapes``: one shared batch dimension on axis 0 of every input."""
    if not dynamic_batch:
        return None
    batch = torch.export.Dim("batch", min=1)
    return tuple({0: batch} for _ in inputs)


def random_batch(
    inputs: tuple[torch.Tensor, ...], batch: int | None, generator: torch.Generator
) -> tuple[torch.Tensor, ...]:
    """Fresh random inputs shaped like ``inputs`` (with ``batch`` rows unless None).

    Integer inputs stay within the example's range, so token ids remain valid embedding indices; float
    inputs are uniform in [0, 1] when the example's are (images and video frames), else standard normal.
    """
    out = []
    for t in inputs:
        shape = t.shape if batch is None else (batch, *t.shape[1:])
        if t.dtype == torch.bool:
            x = torch.randint(0, 2, shape, generator=generator).bool()
        elif t.dtype.is_floating_point:
            unit = t.numel() > 0 and bool(t.min() >= 0) and bool(t.max() <= 1)
            # an example in [0, 1] (images, video frames) is answered in kind: a model may refuse other values
            x = (torch.rand if unit else torch.randn)(shape, generator=generator).to(t.dtype)
        elif not t.dtype.is_complex:
            low, high = (int(t.min()), int(t.max())) if t.numel() else (0, 0)
            x = torch.randint(low, high + 1, shape, generator=generator, dtype=t.dtype)
        else:
            raise ArgumentError(f"cannot make random check inputs of dtype {t.dtype}; pass check=False.")
        out.append(x.to(t.device))
    return tuple(out)


def names(
    given: Sequence[str] | None, count: int, kind: str, model: nn.Module | None = None
) -> tuple[str, ...]:
    """Input or output names: the caller's, else ``input``/``output`` for one, else forward's parameter
    names (inputs) or ``output_0, output_1, ...``."""
    if given is not None:
        given = (given,) if isinstance(given, str) else tuple(given)
        if len(given) != count or len(set(given)) != count:
            raise OptionError(
                f"{kind}_names must be {count} distinct names, one per {kind}; got {list(given)}."
            )
        return given
    if count == 1:
        return (kind,)
    if model is not None:
        params = [
            p.name
            for p in inspect.signature(model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(params) >= count:
            return tuple(params[:count])
    return tuple(f"{kind}_{i}" for i in range(count))


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {', '.join(type(v).__name__ for v in value) or 'nothing'}"
    return type(value).__name__
