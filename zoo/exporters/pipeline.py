"""``zoo.export`` step by step: resolve the model and format, trace, write aside, check, then publish.

Nothing reaches the target path until the check passed: the exporter writes into a fresh directory next to
the target (same file system, so publishing is an ``os.replace``), and that directory is removed whatever
happens.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.atomic import check_parent
from zoo.errors import ArgumentError, OptionError, ZooError
from zoo.exporters import inputs as _inputs
from zoo.exporters.base import Exporter, Signature
from zoo.exporters.check import flat_outputs, verify
from zoo.exporters.diagnose import explain, reason
from zoo.exporters.errors import ExportError
from zoo.exporters.result import ExportResult
from zoo.plugins import get_registry
from zoo.registry import Entry
from zoo.training.arguments import check_bool, check_path


def _check_tolerances(**values: float | None) -> None:
    for label, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0
                                  or value == float("inf")):  # fmt: skip
            raise OptionError(f"{label} must be a finite number >= 0 (a tolerance), got {value!r}.")


def _check_batch_sizes(batch_sizes: Any, check: bool) -> tuple[int, ...]:
    """The check's batch sizes as a tuple: a bare number or a string would otherwise fail deep inside
    ``len()``/``tuple()``, and ``True`` would be read as a batch of 1."""
    if isinstance(batch_sizes, (str, bytes)) or not isinstance(batch_sizes, Sequence):
        raise ArgumentError(
            f"batch_sizes must be a list of positive integers such as (1, 3), got {batch_sizes!r} "
            f"({type(batch_sizes).__name__}); for one batch size write ({batch_sizes!r},)."
        )
    sizes = tuple(batch_sizes)
    if (check and not sizes) or not all(
        isinstance(b, numbers.Integral) and not isinstance(b, bool) and b > 0 for b in sizes
    ):
        raise OptionError(f"batch_sizes must be positive integers, got {list(sizes)!r}.")
    return tuple(int(b) for b in sizes)


def run_export(
    model: nn.Module | str,
    format: str,
    path: str | os.PathLike[str] | None,
    example_input: Any,
    *,
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None,
    load_kwargs: Mapping[str, Any] | None,
    input_names: Sequence[str] | None,
    output_names: Sequence[str] | None,
    dynamic_batch: bool,
    check: bool,
    batch_sizes: Sequence[int],
    atol: float | None,
    rtol: float | None,
    options: Mapping[str, Any],
) -> ExportResult:
    started = time.perf_counter()
    dynamic_batch = check_bool("zoo.export", "dynamic_batch", dynamic_batch)
    check = check_bool("zoo.export", "check", check)
    batch_sizes = _check_batch_sizes(batch_sizes, check)
    if path is not None:
        path = check_path("zoo.export", "path", path)
    if load_kwargs is not None and not isinstance(load_kwargs, Mapping):
        raise ArgumentError(
            f"load_kwargs must be a dict of zoo.load options such as {{'weights': None}}, got {load_kwargs!r} "
            f"({type(load_kwargs).__name__})."
        )
    entry = get_registry().lookup("exporters", format)
    fmt = entry.name
    try:
        exporter: Exporter = entry(**options)
    except TypeError as exc:
        if isinstance(exc, ValueError):  # an OptionError (a bad value): it names the option already
            raise
        raise ArgumentError(
            f"bad option for the {fmt} exporter ({', '.join(options) or 'none given'}): {exc}"
        ) from exc
    _check_tolerances(atol=atol, rtol=rtol)
    exporter.check_requirements()  # before the (slow) model build

    label, module, meta = _resolve_model(model, load_kwargs)
    target = _target_path(path, label, getattr(exporter, "suffix", ""))
    _check_suffix(target, fmt, getattr(exporter, "suffix", ""))
    if example_input is not None and input_shape is not None:
        raise ArgumentError("give example_input or input_shape, not both.")
    if example_input is not None:
        example = _inputs.as_tuple(example_input)
    else:
        made = (
            _inputs.from_shapes(input_shape)
            if input_shape is not None
            else _inputs.default_example(module, meta)
        )
        device = next(module.parameters(), torch.empty(0)).device
        example = tuple(t.to(device) for t in made)
    traced_with = _inputs.for_tracing(example, dynamic_batch)

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            try:
                outputs = flat_outputs(module(*traced_with))
            except Exception as exc:
                raise ExportError(
                    f"{label} fails on the example input (shapes {[tuple(t.shape) for t in traced_with]}) before "
                    f"any export: {reason(exc)}. Pass an example_input or input_shape the model accepts."
                ) from exc
        signature = Signature(
            input_names=_inputs.names(input_names, len(traced_with), "input", module),
            output_names=_inputs.names(output_names, len(outputs), "output"),
            dynamic_batch=dynamic_batch,
        )
        return _write_checked(
            exporter, fmt, label, module, traced_with, target, signature,
            check=check, batch_sizes=batch_sizes,
            atol=exporter.atol if atol is None else atol, rtol=exporter.rtol if rtol is None else rtol,
            started=started,
        )  # fmt: skip
    finally:
        module.train(was_training)


def _write_checked(
    exporter: Exporter,
    fmt: str,
    label: str,
    module: nn.Module,
    traced_with: tuple[torch.Tensor, ...],
    target: Path,
    signature: Signature,
    *,
    check: bool,
    batch_sizes: tuple[int, ...],
    atol: float,
    rtol: float,
    started: float,
) -> ExportResult:
    created = _make_parents(target.parent)
    workdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    published = False
    try:
        staged = workdir / target.name
        try:
            exporter.save(module, traced_with, staged, signature)
        except ZooError:
            raise
        except Exception as exc:
            raise explain(exc, what=label, format=fmt) from exc
        if not staged.is_file():
            raise ExportError(f"the {fmt} exporter reported success but wrote no file {target.name!r}.")
        result = None
        if check:
            result = verify(
                exporter,
                staged,
                signature,
                module,
                traced_with,
                batch_sizes=batch_sizes,
                atol=atol,
                rtol=rtol,
            )
        files = _publish(workdir, target)
        published = True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not published:
            for directory in reversed(created):
                with contextlib.suppress(OSError):  # only if still empty
                    directory.rmdir()
    return ExportResult(
        path=target,
        format=fmt,
        model=label,
        files=tuple(files),
        size_bytes=sum(f.stat().st_size for f in files),
        input_names=signature.input_names,
        output_names=signature.output_names,
        dynamic_batch=signature.dynamic_batch,
        batch_sizes=result.batch_sizes if result else (),
        max_abs_diff=result.max_abs_diff if result else None,
        tolerance=result.tolerance if result else None,
        seconds=time.perf_counter() - started,
    )


def _resolve_model(
    model: Any, load_kwargs: Mapping[str, Any] | None
) -> tuple[str, nn.Module, Any]:
    """(label for messages and default file name, the module, registry metadata).

    A module from ``zoo.load`` names its application in ``model.zoo``, so its registry metadata (lenet5's
    ``input_size``) tells the example input as it does for the same model given by name."""
    if isinstance(model, str):
        import zoo

        entry = get_registry().lookup("applications", model)
        built = zoo.load(model, **dict(load_kwargs or {}))
        if not isinstance(built, nn.Module):
            raise ExportError(
                f"zoo.load({model!r}) returned a {type(built).__name__}, not a torch.nn.Module."
            )
        return entry.name, built, entry.meta
    if isinstance(model, nn.Module):
        if load_kwargs:
            raise ArgumentError(
                "load_kwargs only apply when the model is given by name, e.g. zoo.export('resnet50', ...)."
            )
        name = getattr(getattr(model, "zoo", None), "name", None)  # attached by zoo.load
        if not isinstance(name, str):
            return type(model).__name__, model, None
        try:
            meta = get_registry().lookup("applications", name).meta
        except ZooError:  # a name no plugin registers now (a saved model's): go by the module alone
            meta = None
        return name, model, meta
    raise ArgumentError(
        f"model must be a torch.nn.Module or a registered model name, got {type(model).__name__}."
    )


def _target_path(path: str | os.PathLike[str] | None, label: str, suffix: str) -> Path:
    default_name = label.replace(":", "_").lower() + suffix
    if path is None:
        return Path.cwd() / default_name
    target = Path(path).expanduser()
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        target = target / default_name
    check_parent(target)
    return target.absolute()


def _check_suffix(target: Path, fmt: str, suffix: str) -> None:
    """``-f torchscript -o model.onnx`` would write a TorchScript file that onnxruntime then fails to read:
    a path with another format's suffix is an ``OptionError``; a suffix no format claims is the user's. The
    longest claimed suffix decides (``m.half.pt2`` is half_pt2's), and a format may write under the tail of its
    own suffix (half_pt2's ``.half.pt2`` file is a ``.pt2`` program too)."""
    name = target.name.lower()
    claimed = {_claimed_suffix(e): e.name for e in get_registry().entries("exporters")}
    matches = [s for s in claimed if s and name.endswith(s)]
    if not suffix or not matches:
        return
    given = max(matches, key=len)
    if suffix.endswith(given):
        return
    stem = target.name[: len(target.name) - len(given)]
    raise OptionError(
        f"{target.name} has the suffix of the {claimed[given]} format, but the format is {fmt}, which writes "
        f"{suffix} files: name it {stem}{suffix}, or choose the format {claimed[given]}."
    )


def _claimed_suffix(entry: Entry) -> str:
    """The suffix an exporter entry declares, or its class's when the class itself was registered (a lazy
    ``"module:Class"`` target says it in its metadata, so that checking a path imports no other format)."""
    declared = getattr(entry.meta, "suffix", None)
    if declared:
        return declared
    return "" if isinstance(entry.target, str) else getattr(entry.target, "suffix", "") or ""


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return those created (outermost first)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
    return list(reversed(missing))


def _publish(workdir: Path, target: Path) -> list[Path]:
    """Move every file the exporter wrote next to ``target``; the main file goes last, so whoever sees it
    also finds its side files (ONNX external data) complete."""
    staged = sorted(workdir.iterdir(), key=lambda p: (p.name == target.name, p.name))
    for item in staged:
        if not item.is_file():
            raise ExportError(
                f"the exporter wrote a directory {item.name!r}; exporters must write plain files."
            )
    moved = []
    for item in staged:
        final = target.parent / item.name
        os.replace(item, final)
        moved.append(final)
    return moved[-1:] + moved[:-1]
