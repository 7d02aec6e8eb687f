"""Turn what the user wrote (a registered name, a ``{"name": ..., **config}`` dict, or an object) into
the optimizer, loss, metrics and callbacks of a run."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from zoo.errors import ArgumentError, OptionError
from zoo.naming import snake_case
from zoo.training.callbacks.base import Callback
from zoo.training.metrics import Accuracy, MeanMetricWrapper, Metric


def name_and_config(spec: Mapping[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """``{"name": "adam", "lr": 1e-3}`` or Keras' ``{"class_name": "Adam", "config": {...}}``."""
    spec = dict(spec)
    if "class_name" in spec:
        return spec["class_name"], dict(spec.get("config") or {})
    name = spec.pop("name", None)
    if not isinstance(name, str):
        raise OptionError(
            f"the {kind} given as a dict needs a 'name' key (e.g. {{'name': ..., **options}}), got {spec}."
        )
    return name, spec


def _get(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    from zoo.api import get

    return get(kind, name, *args, **kwargs)


def resolve_optimizer(spec: Any, model: nn.Module) -> torch.optim.Optimizer:
    if isinstance(spec, torch.optim.Optimizer):
        return spec
    if isinstance(spec, str):
        return _get("optimizers", spec, model.parameters())
    if isinstance(spec, Mapping):
        name, config = name_and_config(spec, "optimizer")
        return _get("optimizers", name, model.parameters(), **config)
    if callable(spec):
        return spec(model.parameters())
    raise ArgumentError(
        f"optimizer must be a name ('adam'), a dict ({{'name': 'adam', 'lr': 1e-3}}), a torch.optim.Optimizer "
        f"or a callable taking the parameters, got {type(spec).__name__}."
    )


def resolve_loss(spec: Any) -> Any:
    if isinstance(spec, str):
        return _get("losses", spec)
    if isinstance(spec, Mapping):
        name, config = name_and_config(spec, "loss")
        return _get("losses", name, **config)
    return torch_order(
        module_class_or_callable(
            spec, "loss must be a name ('mse'), a dict, an nn.Module or a function (input, target) -> tensor"
        )
    )


#: The first two parameter names of a function written the Keras way, ``fn(y_true, y_pred)``.
KERAS_ORDER = ("y_true", "y_pred")


def torch_order(fn: Any) -> Any:
    """The one rule for the argument order of a user's plain function (a loss or a metric): zoo calls
    ``fn(prediction, target)`` (torch's order), except that a function whose first two parameters are named
    ``y_true, y_pred`` (Keras' order and names) is called ``fn(y_true, y_pred)``. Any other names, ``(y_pred,
    y_true)`` included, keep torch's order. Modules and other callables are returned as they are."""
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):
        return fn
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    names = tuple(p.name for p in params[:2])
    if names != KERAS_ORDER:
        return fn

    @functools.wraps(fn)
    def keras_order(y_pred: Any, y_true: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(y_true, y_pred, *args, **kwargs)

    del keras_order.__wrapped__  # its signature is (y_pred, y_true, ...): resolving it again changes nothing
    return keras_order


def module_class_or_callable(spec: Any, expected: str) -> Any:
    """The end every resolver shares: an ``nn.Module`` class is instantiated, a callable (a module or a
    function) is used as is, anything else is a ``zoo.ArgumentError`` (a TypeError) saying what was ``expected``."""
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return spec()
    if callable(spec):
        return spec
    raise ArgumentError(f"{expected}, got {type(spec).__name__}.")


def _loss_from_logits(loss: Any) -> bool:
    if isinstance(loss, Mapping):
        return bool(loss.get("from_logits", False))
    if isinstance(loss, nn.BCEWithLogitsLoss):
        return True
    return bool(getattr(loss, "kwargs", {}).get("from_logits", False))


def resolve_metric(spec: Any, loss: Any = None) -> Metric:
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        if spec.strip().lower() in ("accuracy", "acc"):
            return Accuracy(name=spec, loss=loss, threshold=0.0 if _loss_from_logits(loss) else None)
        metric = _get("metrics", spec)
        if isinstance(metric, Metric):
            metric.name = spec  # Keras names the log entry after the user's string ("mse", "acc")
            return metric
        return MeanMetricWrapper(metric, name=spec)
    if isinstance(spec, Mapping):
        name, config = name_and_config(spec, "metric")
        metric = _get("metrics", name, **config)
        return metric if isinstance(metric, Metric) else MeanMetricWrapper(metric, name=name)
    if isinstance(spec, type) and issubclass(spec, (Metric, nn.Module)):
        spec = spec()  # metrics=[nn.CrossEntropyLoss]: the class, as loss= takes it
        if isinstance(spec, Metric):
            return spec
    if callable(spec):
        name = getattr(spec, "name", None) or getattr(spec, "__name__", None) or snake_case(type(spec).__name__)
        return MeanMetricWrapper(torch_order(spec), name=name)
    raise ArgumentError(
        f"a metric must be a name ('accuracy'), a dict, a zoo.training.Metric or a function "
        f"(y_pred, y_true) -> tensor, got {type(spec).__name__}."
    )



def resolve_metrics(specs: Iterable[Any] | None, loss: Any = None) -> list[Metric]:
    if specs is None:
        return []
    if isinstance(specs, (str, Mapping, Metric)) or callable(specs):
        specs = [specs]
    metrics = [resolve_metric(spec, loss) for spec in specs]
    names = [m.name for m in metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates or "loss" in names:
        raise OptionError(
            f"metric names must be unique and differ from 'loss'; got {names}. Give clashing metrics a name "
            "(e.g. {'name': 'mse', ...} is logged as 'mse'; a Metric's name= sets its log key)."
        )
    return metrics


def resolve_weighted_metrics(
    specs: Iterable[Any] | None, loss: Any, unweighted: list[Metric]
) -> list[Metric]:
    """Keras 3's ``weighted_metrics=``, resolved as ``metrics=`` are. A name the unweighted metrics already
    log is logged as ``weighted_{name}`` (``metrics=["accuracy"], weighted_metrics=["accuracy"]`` logs
    ``accuracy`` and ``weighted_accuracy``, as Keras' ``CompileMetrics.result`` names them); the metric's
    ``name`` changes with it, so monitors find its direction. One metric object in both lists would count
    every batch twice and is refused."""
    metrics = resolve_metrics(specs, loss)
    shared = [m.name for m in metrics if any(m is other for other in unweighted)]
    if shared:
        raise OptionError(
            f"the metric object {shared[0]!r} is in both metrics and weighted_metrics, so each batch would "
            "update it twice; give each list its own metric (a name such as 'accuracy' makes a fresh one)."
        )
    taken = {m.name for m in unweighted}
    for metric in metrics:
        if metric.name in taken:
            metric.name = f"weighted_{metric.name}"
    names = [m.name for m in (*unweighted, *metrics)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise OptionError(
            f"metric names must be unique; metrics and weighted_metrics log {names}. Give clashing metrics a "
            "name (a Metric's name= sets its log key)."
        )
    return metrics


def resolve_callbacks(specs: Iterable[Any] | None) -> list[Callback]:
    """A list (or tuple) of callbacks; one callback given alone (an object, a name or a dict) is taken as a
    list of one, as Keras 3 flattens ``callbacks=EarlyStopping()`` (the callback list then checks that it
    is one)."""
    if isinstance(specs, (Callback, str, Mapping)) or (specs is not None and not isinstance(specs, Iterable)):
        specs = [specs]
    callbacks: list[Callback] = []
    for spec in specs or ():
        if isinstance(spec, str):
            spec = _get("callbacks", spec)
        elif isinstance(spec, Mapping):
            name, config = name_and_config(spec, "callback")
            spec = _get("callbacks", name, **config)
        callbacks.append(spec)
    return callbacks
