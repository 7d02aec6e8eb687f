"""The check every export goes through: load the artefact back and compare it with the eager model.

Random inputs of two batch sizes (by default 1 and 3; tracing used 2) catch both wrong numbers and a batch size
baked into the graph. The tolerance scales with the output: max |exported - eager| <= atol + rtol * max
|eager|, because random-weight and real models alike can have outputs in the millions, where a fixed
absolute tolerance means nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from zoo.exporters.base import Exporter, Signature
from zoo.exporters.diagnose import reason
from zoo.exporters.errors import ExportCheckError
from zoo.exporters.inputs import random_batch


@dataclass(frozen=True)
class CheckResult:
    batch_sizes: tuple[int, ...]
    max_abs_diff: float
    tolerance: float


def flat_outputs(outputs: Any) -> list[torch.Tensor]:
    """A model's (or a runtime's) outputs as a flat list of tensors, in torch.export's pytree order."""
    leaves = tree_leaves(outputs)
    return [leaf if isinstance(leaf, torch.Tensor) else torch.as_tensor(np.asarray(leaf)) for leaf in leaves]


def _random(model: nn.Module, x: tuple[torch.Tensor, ...]) -> bool:
    """Whether two eager calls on ``x`` differ: then a mismatch is the model's randomness, not the export's."""
    with torch.no_grad():
        first, second = flat_outputs(model(*x)), flat_outputs(model(*x))
    return any(not torch.equal(a, b) for a, b in zip(first, second, strict=False))


def verify(
    exporter: Exporter,
    path: Path,
    signature: Signature,
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    *,
    batch_sizes: Sequence[int],
    atol: float,
    rtol: float,
    seed: int = 0,
) -> CheckResult:
    """Raise :class:`ExportCheckError` unless the artefact at ``path`` computes what ``model`` does."""
    fmt = exporter.name
    try:
        runner: Callable[..., Any] = exporter.load(path, signature)
    except Exception as exc:
        raise ExportCheckError(
            f"the {fmt} file just written could not be loaded back: {reason(exc)}"
        ) from exc
    generator = torch.Generator().manual_seed(seed)
    worst = (0.0, atol)
    for batch in batch_sizes:
        x = random_batch(inputs, batch if signature.dynamic_batch else None, generator)
        where = f"a batch of {x[0].shape[0]}" if x and x[0].dim() else "the example input"
        with torch.no_grad():
            expected = flat_outputs(model(*x))
            try:
                got = flat_outputs(runner(*x))
            except Exception as exc:
                raise ExportCheckError(
                    f"the exported {fmt} model fails on {where}: {reason(exc)}{_batch_hint(runner, x, inputs)}"
                ) from exc
        if len(got) != len(expected):
            raise ExportCheckError(
                f"the exported {fmt} model returns {len(got)} outputs on {where}; PyTorch returns {len(expected)}."
            )
        for name, e, g in zip(signature.output_names, expected, got, strict=False):
            if tuple(g.shape) != tuple(e.shape):
                raise ExportCheckError(
                    f"output {name!r} of the exported {fmt} model has shape {tuple(g.shape)} on {where}; "
                    f"PyTorch gives {tuple(e.shape)}.{_batch_hint(runner, x, inputs)}"
                )
            diff, tol = _difference(e, g.to(e.device)), atol + rtol * _scale(e)
            if not diff <= tol and _random(model, x):
                raise ExportCheckError(
                    f"output {name!r} of the exported {fmt} model differs from PyTorch on {where}, but so do two "
                    "PyTorch calls on the same input: the model is random in eval mode (a Dropout called with "
                    "training=True, noise drawn in forward), so no file can match it. Export it with that "
                    "randomness off, or pass check=False.",
                    max_abs_diff=diff,
                )
            if not diff <= tol:
                raise ExportCheckError(
                    f"output {name!r} of the exported {fmt} model differs from PyTorch on {where}: max abs "
                    f"difference {diff:.3g} > tolerance {tol:.3g} (atol={atol:g}, rtol={rtol:g}). Pass larger "
                    "atol/rtol if that is acceptable for this model.",
                    max_abs_diff=diff,
                )
            if diff >= worst[0]:
                worst = (diff, tol)
    del runner
    if signature.dynamic_batch:
        sizes = tuple(batch_sizes)
    else:  # every check ran at the traced shape
        sizes = (int(inputs[0].shape[0]),) if inputs[0].dim() else ()
    return CheckResult(batch_sizes=sizes, max_abs_diff=worst[0], tolerance=worst[1])


def _batch_hint(
    runner: Callable[..., Any], x: tuple[torch.Tensor, ...], traced: tuple[torch.Tensor, ...]
) -> str:
    """Name the usual cause when the artefact works at the traced batch size but not at this one."""
    if not x or not x[0].dim() or x[0].shape[0] == traced[0].shape[0]:
        return ""
    try:
        runner(*traced)
    except Exception:
        return ""
    return (
        f" It works at the batch size it was traced with ({traced[0].shape[0]}): the model fixes its batch size "
        "(e.g. by turning x.shape[0] into a Python int); fix the model, or pass dynamic_batch=False."
    )


def _difference(expected: torch.Tensor, got: torch.Tensor) -> float:
    if expected.numel() == 0:
        return 0.0
    e, g = expected.double(), got.double()
    same_nan = torch.isnan(e) & torch.isnan(g)
    diff = torch.where(same_nan, torch.zeros_like(e), (e - g).abs())
    return float(torch.nan_to_num(diff, nan=float("inf")).max())


def _scale(expected: torch.Tensor) -> float:
    finite = expected.double()[torch.isfinite(expected.double())]
    return float(finite.abs().max()) if finite.numel() else 0.0
