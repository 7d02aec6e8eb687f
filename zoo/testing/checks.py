"""``check_plugin(name)``: every entry of a plugin checked as zoo's users will use it (see :mod:`zoo.testing`)."""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import inspect
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import ZooError

_SHA256 = re.compile(r"^[0-9a-f]+\Z")
_SCHEMES = ("http://", "https://", "file://", "hf://")
#: A value to try for each option the core knows; None: exercised another way, or not without weights.
_TRIALS: dict[str, list[dict[str, Any]]] = {
    "include_top": [{"include_top": False}],
    "pooling": [{"include_top": False, "pooling": "avg"}, {"include_top": False, "pooling": "max"}],
    "num_classes": [{"num_classes": 3}],
    "trainable": [{"trainable": False}],
    "features_only": [{"features_only": True}],
}
#: Options that only make sense with weights, which the kit does not download.
_WEIGHTS_ONLY = {"weights", "progress", "sha256", "preprocessing", "out_indices"}


class PluginCheckError(ZooError, AssertionError):
    """Some of a plugin's entries do not work as zoo promises; the message lists every problem."""


@dataclass
class PluginReport:
    """What :func:`check_plugin` checked: entry names by kind, the application options built, and the
    declared options it had no trial value for (left to the plugin's own tests), files it cannot verify."""

    plugin: str
    checked: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    not_exercised: dict[str, list[str]] = field(default_factory=dict)
    #: Applications whose builder cannot run on the meta device (it computes with its tensors): built on CPU.
    built_on_cpu: list[str] = field(default_factory=list)
    #: Files given by URL with no sha256 (or md5): well-formed, but zoo's cache cannot verify them.
    unverified: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        kinds = ", ".join(f"{len(v)} {k}" for k, v in self.checked.items())
        return f"plugin {self.plugin!r}: {kinds or 'nothing'} checked, {len(self.problems)} problems"


def check_plugin(
    name: str,
    *,
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    fit_model: Callable[[], Any] | None = None,
    fit_data: tuple[Any, Any] | None = None,
) -> PluginReport:
    """Check every entry plugin ``name`` registers; raise :class:`PluginCheckError` listing all problems.

    ``only``/``skip``: fnmatch patterns on entry names (a catalogue plugin checks a sample). ``configs``:
    keyword arguments per entry name, for entries that need some (a callback's settings, an
    application's own builder options). ``fit_model``/``fit_data``: the model factory and ``(x, y)`` of the
    tiny fit every callback survives (default: a 4 -> 2 linear model on 8 random samples, loss ``mse``).
    """
    from zoo.plugins import get_plugin_manager, get_registry

    report = PluginReport(plugin=name)
    with _offline():
        pm = get_plugin_manager()
        registry = get_registry()
        info = pm.info.get(name)
        if info is None:
            known = ", ".join(sorted(pm.info)) or "none"
            raise PluginCheckError(f"no plugin {name!r} is loaded (loaded: {known}); is its package installed?")
        if info.status != "ok":
            raise PluginCheckError(f"plugin {name!r} is {info.status.upper()}: {info.error or 'disabled by the environment'}")
        report.problems += [f"plugin {name!r}: {warning}" for warning in info.warnings]  # a typo'd hook ...
        entries = _entries(registry, name, only, skip, configs)
        if not entries:
            raise PluginCheckError(f"plugin {name!r} registers no entries{' matching only=' + repr(only) if only else ''}.")
        for entry in entries:
            where = f"{entry.kind} {entry.qualified_name!r}"
            config = next((v for k, v in (configs or {}).items() if k.lower() == entry.name.lower()), {})
            problems = _check_entry(entry, dict(config), report, fit_model, fit_data)
            report.checked.setdefault(entry.kind, []).append(entry.name)
            report.problems += [f"{where}: {p}" for p in problems]
    if report.problems:
        raise PluginCheckError(f"{report}:\n  - " + "\n  - ".join(report.problems))
    return report


def _entries(
    registry: Any, plugin: str, only: Iterable[str] | None, skip: Iterable[str], configs: Mapping[str, Any] | None
) -> list[Any]:
    """The plugin's entries that ``only``/``skip`` pick. A pattern or a ``configs`` key that names none of the
    plugin's entries is a typo (an entry meant to be skipped would be checked, a config never used): an
    error. Names compare ignoring case, as every lookup of zoo does; a bare string is one pattern."""
    from zoo.hookspecs import KINDS

    ours = [e for kind in KINDS for e in registry.entries(kind) if e.plugin == plugin]
    names = sorted({n for e in ours for n in (e.name, e.qualified_name)})

    def patterns(value: Any, option: str) -> list[str] | None:
        if value is None:
            return None
        given = [value] if isinstance(value, str) else list(value)
        for pattern in given:
            if not isinstance(pattern, str) or not any(fnmatch.fnmatch(n.lower(), pattern.lower()) for n in names):
                close = difflib.get_close_matches(str(pattern), names, n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise PluginCheckError(f"{option}={value!r}: {pattern!r} names no entry of plugin {plugin!r}.{hint}")
        return [p.lower() for p in given]

    only_, skip_ = patterns(only, "only"), patterns(skip, "skip") or []
    for key in configs or {}:
        if not any(key.lower() == n.lower() for n in names):
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise PluginCheckError(f"configs key {key!r} names no entry of plugin {plugin!r}, so it would go unused.{hint}")

    def wanted(entry: Any) -> bool:
        names = (entry.name.lower(), entry.qualified_name.lower())
        if only_ is not None and not any(fnmatch.fnmatch(n, p) for n in names for p in only_):
            return False
        return not any(fnmatch.fnmatch(n, p) for n in names for p in skip_)

    return [e for e in ours if wanted(e)]


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    old = os.environ.get("ZOO_OFFLINE")
    os.environ["ZOO_OFFLINE"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["ZOO_OFFLINE"]
        else:
            os.environ["ZOO_OFFLINE"] = old


def _check_entry(entry: Any, config: dict[str, Any], report: PluginReport, fit_model: Any, fit_data: Any) -> list[str]:
    try:
        target = entry.resolve()
    except Exception as exc:  # noqa: BLE001 - the report names what failed
        return [f"target {entry.target!r} does not import: {type(exc).__name__}: {exc}"]
    try:
        entry.describe()  # reads a lazy weights table too
    except Exception as exc:  # noqa: BLE001
        return [f"metadata does not read: {type(exc).__name__}: {exc}"]
    check = _BY_KIND.get(entry.kind)
    if check is None:
        return []
    try:
        return check(entry, target, config, report, fit_model, fit_data)
    except Exception as exc:  # noqa: BLE001 - a check that crashes is a problem too
        return [f"{type(exc).__name__}: {exc}"]


# -- files -------------------------------------------------------------------------------------------------
def check_file_spec(spec: Any, where: str, *, packaged: bool = False) -> list[str]:
    """Problems of one file spec (a :class:`zoo.plugin.FileSpec`): how zoo's cache would fetch and verify it.
    ``packaged``: a file that may ship inside the plugin (no URL)."""
    problems = []
    if not spec.url:
        if not packaged:
            problems.append(f"{where} has no url")
        elif not spec.filename:
            problems.append(f"{where} has neither a url nor the filename of a packaged file")
    elif not spec.url.startswith(_SCHEMES):
        problems.append(f"{where} url {spec.url!r} is not http(s)://, file:// or hf://")
    for mirror in spec.mirrors:
        if not mirror.startswith(_SCHEMES):
            problems.append(f"{where} mirror {mirror!r} is not http(s)://, file:// or hf://")
    digest = (spec.sha256 or "").lower()
    if digest and (not _SHA256.match(digest) or (len(digest) != 64 and not spec.sha256_is_prefix)):
        problems.append(f"{where} sha256 {spec.sha256!r} is not 64 hex digits (sha256_is_prefix=True for a prefix)")
    if spec.filename and ("/" in spec.filename or "\\" in spec.filename or spec.filename in (".", "..")):
        problems.append(f"{where} filename {spec.filename!r} must be a plain file name")
    for n, alternate in enumerate(spec.alternates):
        problems += check_file_spec(alternate, f"{where} alternate {n}")
    return problems


def _unverified(spec: Any) -> bool:
    """A URL with no hash to check it by (the Hub's hf:// files are verified by the sha256 it states)."""
    return bool(spec.url) and not spec.sha256 and not spec.md5 and not spec.url.startswith("hf://")


def _check_dataset(entry: Any, target: Any, config: Any, report: PluginReport, *_: Any) -> list[str]:
    problems = []
    for n, spec in enumerate(entry.meta.files):
        problems += check_file_spec(spec, f"file {n} ({spec.label})")
        if _unverified(spec):
            report.unverified.append(f"{entry.name} file {spec.label}")
    return problems


# -- applications ----------------------------------------------------------------------------------------
def _check_application(entry: Any, target: Any, config: dict[str, Any], report: PluginReport, *_: Any) -> list[str]:
    from zoo.applications.contract import OPTIONS

    meta = entry.meta
    problems = []
    for tag in meta.weights:
        problems += check_file_spec(meta.weights[tag], f"weights {tag!r}", packaged=True)
        if _unverified(meta.weights[tag]):
            report.unverified.append(f"{entry.name} weights {tag}")
    declared = meta.options
    takes = _parameters(target)
    for option in declared or ():
        if option not in OPTIONS and takes is not None and option not in takes:
            problems.append(f"declares option {option!r}, which zoo does not know and its builder does not take")
    base = dict(config)
    if meta.weights or (declared is not None and "weights" in declared) or (takes is None or "weights" in takes):
        base.setdefault("weights", None)  # never download: random weights on the meta device
    trials: list[dict[str, Any]] = [{}]
    exercised, skipped = [], []
    for option in dict.fromkeys((*(declared or ()), "trainable")):  # trainable: every application has it
        if option in _TRIALS:
            trials += _TRIALS[option]
            exercised.append(option)
        elif option == "input_shape" and _input_shape(meta) is not None:
            trials.append({"input_shape": _input_shape(meta)})
            exercised.append(option)
        elif option not in _WEIGHTS_ONLY:
            skipped.append(option)
    report.options[entry.name] = exercised
    if skipped:
        report.not_exercised[entry.name] = skipped
    default_shape = None
    for trial in trials:
        options = {**base, **trial}
        label = ", ".join(f"{k}={v!r}" for k, v in trial.items()) or "defaults"
        try:
            found, shape = _build_and_run(entry, options, trial, report)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"does not build with {label}: {type(exc).__name__}: {exc}")
            continue
        if not trial:
            default_shape = shape
        elif trial.get("include_top") is False and shape is not None and shape == default_shape:
            found.append(
                f"outputs {shape}, as with the defaults: the builder ignores include_top=False (a builder that "
                "takes **kwargs must still honour every option its metadata declares)"
            )
        problems += [f"with {label}: {p}" for p in found]
    return problems


def _build_and_run(
    entry: Any, options: dict[str, Any], trial: dict[str, Any], report: PluginReport
) -> tuple[list[str], tuple[int, ...] | None]:
    """The problems of one build and forward pass, and the output's shape (None: no single tensor)."""
    import torch
    from torch import nn

    import zoo
    from zoo.applications.info import ModelInfo
    from zoo.plugin import empty_weights

    try:
        with empty_weights(tensor_math_in_init=True):
            model = zoo.load(entry.qualified_name, **options)
        device = "meta"
    except ZooError:
        raise
    except Exception:  # noqa: BLE001 - a builder that computes with its tensors (a probe forward): build it for real
        model = zoo.load(entry.qualified_name, **options)
        device = "cpu"
        if entry.name not in report.built_on_cpu:
            report.built_on_cpu.append(entry.name)
    problems = []
    if not isinstance(model, nn.Module):
        return [f"built a {type(model).__name__}, not an nn.Module"], None
    if not isinstance(getattr(model, "zoo", None), ModelInfo):
        problems.append("has no model.zoo")
    if model.training:
        problems.append("is in training mode; zoo.load returns models in eval mode")
    if trial.get("trainable") is False and any(p.requires_grad for p in model.parameters()):
        problems.append("trainable=False left parameters trainable")
    shape = trial.get("input_shape") or _input_shape(entry.meta)
    if shape is None:
        return problems, None
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *shape, device=device))
    except Exception as exc:  # noqa: BLE001
        return [*problems, f"forward pass on a (2, {', '.join(map(str, shape))}) {device} batch fails: {type(exc).__name__}: {exc}"], None
    if trial.get("features_only"):
        if not isinstance(out, (list, tuple)) or not all(isinstance(t, torch.Tensor) for t in out):
            problems.append(f"features_only=True returns a {type(out).__name__}, not a list of feature maps")
        return problems, None
    if not isinstance(out, torch.Tensor):
        return problems, None  # several outputs: the plugin's own tests say what they are
    wanted = trial.get("num_classes") or (entry.meta.num_classes if options.get("include_top", True) else None)
    if wanted and options.get("include_top", True) and out.shape[-1] != wanted:
        problems.append(f"outputs {tuple(out.shape)}, expected {wanted} classes")
    if trial.get("pooling") and out.ndim != 2:
        problems.append(f"pooling={trial['pooling']!r} outputs {tuple(out.shape)}, expected (batch, channels)")
    return problems, tuple(out.shape)


def _input_shape(meta: Any) -> tuple[int, ...] | None:
    size = meta.input_size
    if isinstance(size, int):
        return (3, size, size)
    if isinstance(size, tuple) and len(size) == 3:
        return size
    return None


def _parameters(target: Any) -> set[str] | None:
    """Keyword names ``target`` takes; None when it takes any (``**kwargs``) or has no signature."""
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}


# -- losses and metrics ----------------------------------------------------------------------------------
def _batches() -> list[tuple[str, Any, Any]]:
    import torch

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, generator=g)
    labels = torch.tensor([0, 2, 1, 2])
    return [
        ("regression (4, 3) vs (4, 3)", logits, torch.randn(4, 3, generator=g)),
        ("logits (4, 3) vs class indices (4,)", logits, labels),
        ("probabilities (4, 3) vs class indices (4,)", logits.softmax(1), labels),
        ("probabilities (4, 3) vs one-hot (4, 3)", logits.softmax(1), torch.nn.functional.one_hot(labels, 3).float()),
        ("probabilities (4, 1) vs binary labels (4, 1)", torch.rand(4, 1, generator=g), torch.tensor([[0.0], [1.0], [1.0], [0.0]])),
    ]


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value.detach() if hasattr(value, "detach") else value))
    except (TypeError, ValueError, RuntimeError):
        return False


def _check_loss(entry: Any, target: Any, config: dict[str, Any], *_: Any) -> list[str]:
    import zoo

    tried = []
    for label, pred, true in _batches():
        pred = pred.clone().requires_grad_(True)
        loss = zoo.get("losses", entry.qualified_name, **config)  # afresh: a loss may check its first batch only
        try:
            value = loss(pred, true)
            value.backward()
        except Exception as exc:  # noqa: BLE001 - try the next batch shape
            tried.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        if value.ndim != 0 or not _finite(value):
            tried.append(f"{label}: gives {value!r}, not a finite scalar")
        elif pred.grad is None or not bool(pred.grad.isfinite().all()):
            tried.append(f"{label}: no finite gradient reaches the predictions")
        else:
            return []
    return ["runs on none of the small batches: " + "; ".join(tried)]


def _check_metric(entry: Any, target: Any, config: dict[str, Any], *_: Any) -> list[str]:
    from zoo.training.resolve import resolve_metric

    tried = []
    for label, pred, true in _batches():
        metric = resolve_metric({"name": entry.qualified_name, **config})  # as zoo.fit takes it
        try:
            value = metric(pred, true)  # update with the batch, then the running result
        except Exception as exc:  # noqa: BLE001
            tried.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        if _finite(value):
            return []
        tried.append(f"{label}: gives {value!r}, not a finite number")
    return ["runs on none of the small batches: " + "; ".join(tried)]


# -- callbacks -------------------------------------------------------------------------------------------
def _check_callback(entry: Any, target: Any, config: dict[str, Any], report: Any, fit_model: Any, fit_data: Any) -> list[str]:
    import torch

    import zoo

    try:
        callback = zoo.get("callbacks", entry.qualified_name, **config)
    except TypeError as exc:
        if isinstance(exc, ZooError):
            return [str(exc)]
        return [f"cannot be built without arguments ({exc}); pass configs={{{entry.name!r}: {{...}}}} to check_plugin"]
    torch.manual_seed(0)
    model = fit_model() if fit_model is not None else torch.nn.Sequential(torch.nn.Linear(4, 2))
    x, y = fit_data if fit_data is not None else (torch.randn(8, 4), torch.randn(8, 2))
    with tempfile.TemporaryDirectory() as folder, _cwd(folder):  # a callback writing files writes them here
        try:
            zoo.fit(model, x, y, loss="mse", optimizer="sgd", epochs=1, batch_size=4, callbacks=[callback], verbose=0)
        except Exception as exc:  # noqa: BLE001
            return [f"one tiny zoo.fit (1 epoch, 2 batches) fails: {type(exc).__name__}: {exc}"]
    return []


@contextlib.contextmanager
def _cwd(path: str) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


_BY_KIND: dict[str, Callable[..., list[str]]] = {
    "applications": _check_application,
    "datasets": _check_dataset,
    "losses": _check_loss,
    "metrics": _check_metric,
    "callbacks": _check_callback,
}
