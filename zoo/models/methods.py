"""Keras' model methods — ``compile``, ``fit``, ``evaluate``, ``predict``, ``summary``, ``save``, ``build`` —
on ``zoo.Sequential`` and ``zoo.Model``, as thin calls into ``zoo.fit`` / ``zoo.evaluate`` / ``zoo.predict``
(one training engine; these only keep the configuration ``compile`` was given).

``compile`` here is Keras' (it shadows ``nn.Module.compile``, which compiles the module in place with
``torch.compile``): to compile a zoo model with torch, call ``torch.compile(model)``, or
``model.compile(..., jit_compile=True)`` to train and predict through ``torch.compile``.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zoo.errors import ModelError
from zoo.models import endpoints
from zoo.models.endpoints import keras_attribute
from zoo.models.trainable import Trainable
from zoo.models.weights import WeightArrays
from zoo.training.metrics import Metric


@dataclass
class CompileConfig:
    """What ``model.compile`` was given, kept for the methods that train, evaluate and predict."""

    optimizer: Any = "rmsprop"
    loss: Any = None
    metrics: list[Any] = field(default_factory=list)
    loss_weights: Any = None
    jit_compile: bool = False
    weighted_metrics: list[Any] = field(default_factory=list)


class OutputLosses(nn.Module):
    """The loss of a model with several outputs: each output's loss on its target, weighted and summed
    (Keras' ``compile(loss=[...] or {...}, loss_weights=...)``). Outputs without a loss (a loss dict
    naming only some) are not trained and need no target. One ``sample_weight`` weighs every output's
    loss, as in Keras 3; so does Keras 3's per-output form, a dict by output name or a list in output
    order (``output_weights``)."""

    takes_sample_weight = True  # compute_loss passes sample_weight on instead of unreducing this module

    def __init__(self, losses: Mapping[Any, Any], weights: Mapping[Any, float], outputs: list[Any]) -> None:
        super().__init__()
        self.outputs = list(outputs)
        self.keys = list(losses)
        self.losses = list(losses.values())
        self.weights = [float(weights[k]) for k in self.keys]

    def forward(self, y_pred: Any, y: Any, sample_weight: Any = None) -> torch.Tensor:
        from zoo.training.loss_computation import compute_loss

        self._check_targets(y_pred, y)
        if isinstance(sample_weight, (Mapping, list, tuple)):
            check_output_weights(sample_weight, self.outputs, self.keys)
        total = 0.0
        for key, loss, weight in zip(self.keys, self.losses, self.weights, strict=True):
            total = total + weight * compute_loss(loss, y_pred[key], y[key], output_weights(sample_weight, key))
        return total  # type: ignore[return-value]

    def _check_targets(self, y_pred: Any, y: Any) -> None:
        outputs = ", ".join(map(str, self.outputs))
        if isinstance(y_pred, Mapping):
            if not isinstance(y, Mapping):
                raise ModelError(
                    f"the model's outputs are a dict ({outputs}); give y as a dict of targets by output name, "
                    f"got {type(y).__name__}."
                )
            unknown = [k for k in y if k not in y_pred]
            if unknown:
                close = difflib.get_close_matches(str(unknown[0]), [str(k) for k in self.outputs], n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ModelError(f"y names {unknown[0]!r}, which is no output of the model.{hint} Its outputs: {outputs}.")
            missing = [k for k in self.keys if k not in y]
            if missing:
                raise ModelError(f"y has no target for output {missing[0]!r}, which has a loss; y has {', '.join(map(str, y))}.")
        elif isinstance(y, Mapping) or not isinstance(y, (list, tuple)) or len(y) != len(self.outputs):
            got = f"{type(y).__name__} of {len(y)}" if isinstance(y, (list, tuple, Mapping)) else type(y).__name__
            raise ModelError(
                f"the model has {len(self.outputs)} outputs ({outputs}); give y as a list with one target per "
                f"output, in order, got {got}."
            )


def output_weights(sample_weight: Any, key: Any) -> Any:
    """One output's sample weights: its entry when ``sample_weight`` is given per output (a dict by output
    name, a list in output order: Keras 3), else the one array that weighs every output."""
    return sample_weight[key] if isinstance(sample_weight, (Mapping, list, tuple)) else sample_weight


def check_output_weights(sample_weight: Mapping[Any, Any] | Sequence[Any], outputs: list[Any], keys: list[Any]) -> None:
    """Per-output ``sample_weight``: a dict whose keys are outputs (the closest named for a typo) or a list
    with one entry per output, covering every output with a loss (``keys``); else a ``ModelError``, not a
    torch error on a dict or an output quietly unweighted."""
    names = ", ".join(map(str, outputs))
    if isinstance(sample_weight, Mapping):
        unknown = [k for k in sample_weight if k not in outputs]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), [str(k) for k in outputs], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ModelError(f"sample_weight names {unknown[0]!r}, which is no output of the model.{hint} Its outputs: {names}.")
        missing = [k for k in keys if k not in sample_weight]
        if missing:
            raise ModelError(
                f"sample_weight has no weights for output {missing[0]!r}, which has a loss; give weights for every "
                f"output with a loss ({', '.join(map(str, keys))}), or one array to weigh them all."
            )
    elif not all(isinstance(k, int) for k in outputs):
        raise ModelError(
            f"sample_weight is a {type(sample_weight).__name__}, but the model's outputs are named ({names}): give "
            "a dict of weights by output name, or one array to weigh them all."
        )
    elif len(sample_weight) != len(outputs):
        raise ModelError(
            f"sample_weight is a {type(sample_weight).__name__} of {len(sample_weight)}, but the model has "
            f"{len(outputs)} outputs: give one array per output, in order, or one array to weigh them all."
        )


class OutputMetric(Metric):
    """One output's metric in a model with several: reads ``y_pred[key]`` and ``y[key]``; logged under its
    own name (``output_0_accuracy``, ``answer_accuracy``). State, result and direction are the inner
    metric's (so DDP sums it and monitors know which way is better)."""

    def __init__(self, metric: Metric, key: Any, name: str) -> None:
        super().__init__(name)
        self.metric, self.key = metric, key
        self.direction = metric.direction

    def update(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> None:
        self.metric.update(y_pred[self.key], y_true[self.key], output_weights(sample_weight, self.key))

    def reset(self) -> None:
        self.metric.reset()

    def result(self) -> torch.Tensor:
        return self.metric.result()

    def state(self, device: torch.device) -> list[torch.Tensor]:
        return self.metric.state(device)

    def load_state(self, state: list[torch.Tensor]) -> None:
        self.metric.load_state(state)


_COMPILE_TORCH_KEYWORDS = {"fullgraph", "dynamic", "backend", "mode", "options", "disable"}


class KerasModel(Trainable, WeightArrays):
    """Mixin for ``nn.Module`` classes: Keras' model methods (see the module docstring)."""

    _zoo_compiled: CompileConfig | None = None
    _zoo_optimizer: torch.optim.Optimizer | None = None

    # -- what subclasses say about themselves --------------------------------------------------------
    def _zoo_input_specs(self) -> list[Any] | None:
        """The model's inputs (``InputSpec``s) when known, else None."""
        return None

    @property
    def input_names(self) -> list[str] | None:
        """The inputs' names (Keras' ``model.input_names``; ``zoo.Input(name=...)``), None when unknown."""
        specs = self._zoo_input_specs()
        return None if specs is None else [spec.name for spec in specs]

    def _zoo_output_keys(self) -> list[Any] | None:
        """Output keys (list indices or dict names) of a model with several outputs, else None."""
        return None

    def _zoo_output_names(self) -> dict[Any, str]:
        """Each output's name in the logs (``{name}_accuracy``): a dict output's key, else ``output_{i}``."""
        return {k: k if isinstance(k, str) else f"output_{k}" for k in self._zoo_output_keys() or []}

    def _by_output(self, given: Any) -> Any:
        """Keras names a list output by its layer (``loss={"cls": ..., "reg": ...}``, ``y={"cls": y1}``): a
        dict keyed by those names is keyed by output position here, the one rule for losses, their weights,
        metrics, targets and sample weights. Anything else is returned as it is (and checked where used)."""
        keys = self._zoo_output_keys()
        if not isinstance(given, Mapping) or not keys or not all(isinstance(k, int) for k in keys):
            return given
        position = {name: key for key, name in self._zoo_output_names().items()}
        if not given or not all(k in position for k in given):
            return given
        return {position[k]: v for k, v in given.items()}

    def _outputs_said(self) -> str:
        """The outputs as a message names them: ``the outputs are 0 ('cls'), 1 ('reg')`` (by position or name)."""
        names = self._zoo_output_names()
        keys = self._zoo_output_keys() or []
        return "the outputs are " + ", ".join(
            repr(k) if isinstance(k, str) else f"{k} ({names.get(k, f'output_{k}')!r})" for k in keys
        )

    def _targets_by_output(self, y: Any) -> Any:
        """``y`` given as a dict by output layer name, for a list-output model: the list in output order that
        the data pipeline and the loss take (None for an output not named: one without a loss needs no
        target), else ``y`` as given."""
        keyed = self._by_output(y)
        if keyed is y:
            return y
        return [keyed.get(k) for k in self._zoo_output_keys() or []]

    def _data_by_output(self, y: Any, kwargs: dict[str, Any]) -> Any:
        """Targets and sample weights of fit/evaluate (and their validation_data) by output position; sample
        weights stay a dict, so that an output with a loss and no weights is still refused by name."""
        kwargs = dict(kwargs)
        if "sample_weight" in kwargs:
            kwargs["sample_weight"] = self._by_output(kwargs["sample_weight"])
        validation = kwargs.get("validation_data")
        if isinstance(validation, tuple) and len(validation) in (2, 3):
            kwargs["validation_data"] = (
                validation[0], self._targets_by_output(validation[1]), *map(self._by_output, validation[2:])
            )  # fmt: skip
        return self._targets_by_output(y), kwargs

    # -- compile ---------------------------------------------------------------------------------------
    def compile(  # type: ignore[override]
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Iterable[Any] | None = None,
        loss_weights: Sequence[float] | Mapping[str, float] | None = None,
        jit_compile: bool = False,
        weighted_metrics: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Keep the optimizer, loss (one, or one per output as a list/dict), metrics, ``loss_weights``,
        ``jit_compile`` and ``weighted_metrics`` (Keras 3: only these see ``sample_weight``/``class_weight``)
        for ``fit``/``evaluate``/``predict``. Names, dicts and objects work as in ``zoo.fit``. This is
        Keras' compile; for torch's, use ``torch.compile(model)``."""
        if kwargs:
            torchy = sorted(set(kwargs) & _COMPILE_TORCH_KEYWORDS)
            hint = (
                " These are torch.compile's options: use torch.compile(model, ...) for that."
                if torchy
                else " It takes optimizer, loss, metrics, loss_weights, weighted_metrics and jit_compile."
            )
            raise ModelError(f"{type(self).__name__}.compile() got unexpected {sorted(kwargs)}.{hint}")
        if not isinstance(jit_compile, bool):
            raise ModelError(f"compile: jit_compile must be True or False, got {jit_compile!r}.")
        self._zoo_compiled = CompileConfig(
            optimizer, loss, _metric_specs(metrics), loss_weights, jit_compile, _metric_specs(weighted_metrics)
        )
        self._zoo_optimizer = None  # Keras: compile makes a fresh optimizer

    def _config(self, what: str) -> CompileConfig:
        config = self._zoo_compiled
        if config is None:
            raise ModelError(
                f"{what}() needs compile() first, e.g. model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy'])."
            )
        return config

    def _loss(self, config: CompileConfig) -> Any:
        keys = self._zoo_output_keys()
        loss, weights = config.loss, config.loss_weights
        if loss is None:
            return None
        if keys is None:
            if isinstance(loss, (list, tuple, Mapping)) and not _is_spec_dict(loss):
                raise ModelError(
                    f"compile: loss is a {type(loss).__name__} of losses but the model has one output; give one loss."
                )
            if weights is not None:
                raise ModelError("compile: loss_weights is for models with several outputs; this one has one.")
            return loss
        from zoo.training.resolve import resolve_loss

        if isinstance(loss, Mapping) and not _is_spec_dict(loss):
            loss = self._by_output(loss)
            unknown = set(loss) - set(keys)
            if unknown:
                raise ModelError(f"compile: loss names outputs {sorted(map(str, unknown))}; {self._outputs_said()}.")
            losses = {k: resolve_loss(loss[k]) for k in keys if k in loss}
        elif isinstance(loss, (list, tuple)):
            if len(loss) != len(keys):
                raise ModelError(f"compile: {len(loss)} losses for {len(keys)} outputs; give one per output.")
            losses = dict(zip(keys, (resolve_loss(v) for v in loss), strict=True))
        else:
            losses = {k: resolve_loss(loss) for k in keys}  # Keras: one loss for every output
        if weights is None:
            weight_of = dict.fromkeys(losses, 1.0)
        elif isinstance(weights, Mapping):
            weights = self._by_output(weights)
            unknown = [k for k in weights if k not in keys]
            if unknown:
                close = difflib.get_close_matches(str(unknown[0]), [str(k) for k in keys], n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ModelError(
                    f"compile: loss_weights names {unknown[0]!r}, which is no output of the model.{hint} "
                    f"Its outputs: {', '.join(map(str, keys))}."
                )
            weight_of = {k: float(weights.get(k, 1.0)) for k in losses}
        else:
            if len(weights) != len(keys):
                raise ModelError(f"compile: {len(weights)} loss_weights for {len(keys)} outputs.")
            weight_of = {k: float(w) for k, w in zip(keys, weights, strict=True) if k in losses}
        return OutputLosses(losses, weight_of, keys)

    def _metrics(self, config: CompileConfig, metrics: Any) -> list[Any]:
        """The compiled ``metrics`` (or ``weighted_metrics``); for several outputs, Keras 3's rule: a dict
        ``{output: metrics}`` or a list with one entry (a metric, a list of them, or None) per output, each
        logged as ``{output}_{metric}``."""
        keys = self._zoo_output_keys()
        if keys is None:
            if isinstance(metrics, Mapping):
                raise ModelError("compile: metrics given per output (a dict), but the model has one output.")
            return metrics
        if not metrics:
            return []
        if isinstance(metrics, Mapping):
            metrics = self._by_output(metrics)
            unknown = [k for k in metrics if k not in keys]
            if unknown:
                raise ModelError(f"compile: metrics name outputs {unknown}; {self._outputs_said()}.")
            per_output = {k: metrics[k] for k in keys if k in metrics}
        else:
            if len(metrics) != len(keys):
                raise ModelError(
                    f"compile: the model has {len(keys)} outputs, so metrics given as a list need one entry per "
                    f"output (a metric, a list of metrics, or None), as in Keras 3; got {len(metrics)}: {metrics!r}. "
                    f"E.g. metrics={[['accuracy']] + [[] for _ in keys[1:]]!r}, or a dict by output."
                )
            per_output = dict(zip(keys, metrics, strict=True))
        from zoo.training.resolve import resolve_metric

        names = self._zoo_output_names()
        resolved = []
        for key, specs in per_output.items():
            if specs is None:
                continue
            if isinstance(specs, (str, Mapping)) or not isinstance(specs, Iterable):
                specs = [specs]
            for spec in specs:
                metric = resolve_metric(spec, self._output_loss_spec(config, key))
                resolved.append(OutputMetric(metric, key, f"{names[key]}_{metric.name}"))
        return resolved

    def _output_loss_spec(self, config: CompileConfig, key: Any) -> Any:
        """The loss given for output ``key`` (what ``"accuracy"`` reads to pick its kind)."""
        loss = config.loss
        if isinstance(loss, Mapping) and not _is_spec_dict(loss):
            return self._by_output(loss).get(key)
        if isinstance(loss, (list, tuple)):
            keys = self._zoo_output_keys() or []
            return loss[keys.index(key)] if key in keys and len(loss) == len(keys) else None
        return loss

    # -- running ---------------------------------------------------------------------------------------
    def _prepare(self, config: CompileConfig, x: Any) -> None:
        self._build_from(x)
        if config.jit_compile and getattr(self, "_compiled_call_impl", None) is None:
            nn.Module.compile(self)  # type: ignore[arg-type]  # in place: state_dict keys stay as they are

    def _build_from(self, x: Any) -> None:
        """Materialise lazily sized layers before an optimizer is made (Keras builds at the first fit)."""
        if not any(isinstance(p, nn.parameter.UninitializedParameter) for p in self.parameters()):  # type: ignore[attr-defined]
            return
        sample = _first_samples(x)
        if sample is None:
            raise ModelError(
                f"{type(self).__name__} has layers of unknown input size and the data is not arrays; build "
                "it first: give the first layer input_shape=, start with zoo.Input(shape), or call "
                "model.build(input_shape)."
            )
        from zoo.training.step import call_model
        from zoo.utils.modes import in_mode

        with in_mode(self, False), torch.no_grad():  # type: ignore[arg-type]
            call_model(self, sample)  # type: ignore[arg-type]

    def __dir__(self) -> list[str]:
        return endpoints.visible(super().__dir__())

    @keras_attribute
    def inputs(self) -> list[Any]:
        """Keras' ``model.inputs``: symbolic tensors for the model's inputs (see zoo.models.endpoints)."""
        return list(endpoints.of_model(self).inputs)  # type: ignore[arg-type]

    @keras_attribute
    def outputs(self) -> list[Any]:
        """Keras' ``model.outputs``, computed from ``model.inputs`` by the model's layers."""
        return list(endpoints.of_model(self).outputs)  # type: ignore[arg-type]

    @keras_attribute
    def input(self) -> Any:
        """Keras' ``model.input``: the one input's tensor, or the list of them."""
        return endpoints.one_or_list(endpoints.of_model(self).inputs)  # type: ignore[arg-type]

    @keras_attribute
    def output(self) -> Any:
        return endpoints.one_or_list(endpoints.of_model(self).outputs)  # type: ignore[arg-type]

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """Keras' ``model.optimizer``: the optimizer ``compile`` was given, built (with this model's
        parameters) on first use; None before ``compile``."""
        config = self._zoo_compiled
        if self._zoo_optimizer is not None or config is None:
            return self._zoo_optimizer
        return self._optimizer(config)

    @optimizer.setter
    def optimizer(self, value: torch.optim.Optimizer | None) -> None:
        """``model.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)``: fit steps with it; a zoo one made
        without parameters (``zoo.optimizers.Adam(1e-3)``) is built on the model's."""
        from zoo.training.optimizers import DeferredOptimizer

        if isinstance(value, DeferredOptimizer):
            value = value(self.parameters())  # type: ignore[attr-defined]
        if value is not None and not isinstance(value, torch.optim.Optimizer):
            raise ModelError(
                f"model.optimizer takes a torch.optim.Optimizer (or None), got {type(value).__name__}; to give one "
                "by name, use model.compile(optimizer='adam')."
            )
        self._zoo_optimizer = value

    def _optimizer(self, config: CompileConfig) -> torch.optim.Optimizer:
        if self._zoo_optimizer is None:
            from zoo.training.resolve import resolve_optimizer

            self._zoo_optimizer = resolve_optimizer(config.optimizer, self)  # type: ignore[arg-type]
        return self._zoo_optimizer

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``zoo.fit`` with the compiled optimizer (kept across calls, as in Keras), loss and metrics.
        Keywords are ``zoo.fit``'s: ``epochs``, ``batch_size``, ``validation_data``, ``callbacks`` ...;
        after ``x, y`` they may come by position in Keras' order (``model.fit(x, y, 32, 10)``)."""
        from zoo.training import fit

        kwargs = _by_keras_position("fit", args, _FIT_ORDER, kwargs)
        y, kwargs = self._data_by_output(y, kwargs)
        config = self._config("fit")
        self._prepare(config, x)
        return fit(
            self, x, y, optimizer=self._optimizer(config), loss=self._loss(config),
            metrics=self._metrics(config, config.metrics),
            weighted_metrics=self._metrics(config, config.weighted_metrics), **kwargs,
        )  # fmt: skip

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """The loss and metrics on ``(x, y)``: one float when there are no metrics, else a list in the
        order loss, metrics... (Keras); ``return_dict=True`` gives ``{"loss": ..., "accuracy": ...}``.
        Keywords after ``x, y`` may come by position in Keras' order (``batch_size, verbose, ...``)."""
        from zoo.training import evaluate

        kwargs = _by_keras_position("evaluate", args, _EVALUATE_ORDER, kwargs)
        y, kwargs = self._data_by_output(y, kwargs)
        return_dict = kwargs.pop("return_dict", False)
        config = self._config("evaluate")
        self._prepare(config, x)
        logs = evaluate(
            self, x, y, loss=self._loss(config), metrics=self._metrics(config, config.metrics),
            weighted_metrics=self._metrics(config, config.weighted_metrics), **kwargs,
        )  # fmt: skip
        return _keras_result(logs, return_dict)

    def train_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Keras' one optimizer step on this batch (GAN and custom loops), with the compiled optimizer kept
        across calls; returns the loss (and metrics) as ``evaluate`` does, measured during the step."""
        history = self.fit(
            x, y, batch_size=_batch_length(x, "train_on_batch"), epochs=1, shuffle=False, verbose=0,
            sample_weight=sample_weight, class_weight=class_weight,
        )  # fmt: skip
        return _keras_result({k: v[-1] for k, v in history.history.items()}, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Keras' loss (and metrics) on this one batch, without training."""
        return self.evaluate(
            x, y, batch_size=_batch_length(x, "test_on_batch"), sample_weight=sample_weight, verbose=0,
            return_dict=return_dict,
        )  # fmt: skip

    def predict_on_batch(self, x: Any) -> Any:
        """Keras' outputs for this one batch (tensors on the CPU, as ``predict``)."""
        return self.predict(x, batch_size=_batch_length(x, "predict_on_batch"), verbose=0)

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The outputs for every batch of ``x`` (``zoo.predict``: tensors on the CPU). Needs no compile.
        Keywords after ``x`` may come by position in Keras' order (``batch_size, verbose, steps, ...``)."""
        from zoo.training import predict

        kwargs = _by_keras_position("predict", args, _PREDICT_ORDER, kwargs)
        if self._zoo_compiled is not None:
            self._prepare(self._zoo_compiled, x)
        else:
            self._build_from(x)
        return predict(self, x, **kwargs)

    def fit_generator(self, generator: Any, *args: Any, **kwargs: Any) -> Any:
        """Keras 2's name (and its positional order); deprecated there and here: use ``fit``, which takes
        generators and loaders."""
        _deprecated("fit_generator", "fit")
        return self.fit(generator, **_by_keras_position("fit_generator", args, _FIT_GENERATOR_ORDER, kwargs))

    def evaluate_generator(self, generator: Any, *args: Any, **kwargs: Any) -> Any:
        _deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, **_by_keras_position("evaluate_generator", args, _EVALUATE_GENERATOR_ORDER, kwargs))

    def predict_generator(self, generator: Any, *args: Any, **kwargs: Any) -> Any:
        _deprecated("predict_generator", "predict")
        return self.predict(generator, **_by_keras_position("predict_generator", args, _PREDICT_GENERATOR_ORDER, kwargs))

    # -- looking and keeping ---------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Build for inputs of ``input_shape`` (Keras: with the batch axis, ``(None, 16)``; a list of
        them for several inputs), without computing anything."""
        from zoo.models.symbolic import Input

        self(*[Input(s) for s in shapes_without_batch(type(self).__name__, input_shape)])  # type: ignore[operator]

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        """Random inputs of the model's input specs (``zoo.export`` and ``summary`` use them): floats from a
        normal distribution, integers as ones (a valid id for any Embedding); free sizes get 2. The rule is
        the one ``zoo.summary`` traces with (zoo.utils._trace.example_inputs); these are on the CPU."""
        from zoo.utils._trace import example_inputs

        if not self._zoo_input_specs():
            raise ModelError(f"{type(self).__name__} does not know its inputs yet; build it first (see build()).")
        return tuple(example_inputs(self, None, None, batch_size, "cpu"))  # type: ignore[arg-type]

    def summary(self, input_size: Any = None, **kwargs: Any) -> Any:
        """``zoo.summary`` of the model; the input sizes are known for models with inputs."""
        from zoo.utils import summary

        if input_size is None and "dtypes" not in kwargs and self._zoo_input_specs() is None:
            raise ModelError(
                f"{type(self).__name__} does not know its input shape yet: give summary(input_size=...), "
                "give the first layer input_shape=, or start with zoo.Input(shape)."
            )
        return summary(self, input_size, **kwargs)  # type: ignore[arg-type]

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> Any:
        """Save architecture and weights in zoo's saved-model format (a folder, or a zip when ``path``
        ends in ``.zip``); ``zoo.load_model(path)`` reads it back. Returns the path written. As in Keras,
        ``overwrite=False`` refuses to replace a saved model; a folder of other files is never replaced."""
        from zoo.models.saving import save_model

        return save_model(self, path, overwrite=overwrite)  # type: ignore[arg-type]

    def save_weights(self, path: str | os.PathLike, overwrite: bool = True) -> None:
        """The weights alone, as a ``.safetensors`` file (``load_weights`` reads it back); Keras'
        ``overwrite=False`` refuses to replace a file."""
        from safetensors.torch import save_model

        from zoo.models.saving import refuse_keras_suffix

        refuse_keras_suffix(path, "model.save_weights", "name it 'm.safetensors'")
        from zoo.training.arguments import check_bool

        if not check_bool("save_weights", "overwrite", overwrite) and os.path.exists(path):
            raise ModelError(f"{os.fspath(path)} exists; pass overwrite=True to replace it.")
        save_model(self, os.fspath(path))  # type: ignore[arg-type]

    def load_weights(self, path: str | os.PathLike) -> None:
        from zoo.models.saving import load_weights

        load_weights(self, path)  # type: ignore[arg-type]


def _is_spec_dict(value: Any) -> bool:
    """``{"name": "mse", ...}`` / ``{"class_name": ...}``: one loss given as a dict, not one per output."""
    return isinstance(value, Mapping) and ("name" in value or "class_name" in value)


#: Keras 3's positional order after ``x, y`` (``x`` for predict), so ``model.fit(x, y, 32, 10)`` means what
#: it means there; Keras 2's ``fit_generator`` order after the generator.
_FIT_ORDER = (
    "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
    "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
    "validation_batch_size", "validation_freq",
)  # fmt: skip
_EVALUATE_ORDER = ("batch_size", "verbose", "sample_weight", "steps", "callbacks", "return_dict")
_PREDICT_ORDER = ("batch_size", "verbose", "steps", "callbacks")
_FIT_GENERATOR_ORDER = (
    "steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data", "validation_steps",
    "validation_freq", "class_weight", "max_queue_size", "workers", "use_multiprocessing", "shuffle",
    "initial_epoch",
)  # fmt: skip
_EVALUATE_GENERATOR_ORDER = ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing", "verbose")
_PREDICT_GENERATOR_ORDER = _EVALUATE_GENERATOR_ORDER


def _by_keras_position(method: str, args: tuple, order: Sequence[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the positional ``args`` named by Keras' order; too many, or one also given by name,
    is a ``ModelError`` (Python's own message would name zoo's wrapper, not the argument)."""
    if len(args) > len(order):
        raise ModelError(
            f"model.{method}() takes at most {len(order)} arguments by position after the data "
            f"({', '.join(order)}), got {len(args)}; pass the rest by keyword."
        )
    named = dict(zip(order, args, strict=False))
    twice = sorted(set(named) & set(kwargs))
    if twice:
        raise ModelError(f"model.{method}() got {', '.join(twice)} both by position and by keyword.")
    return {**named, **kwargs}


def _metric_specs(metrics: Any) -> Any:
    """``compile``'s ``metrics``/``weighted_metrics`` as a list, or a dict by output (Keras); one metric
    given alone is a list of one."""
    if isinstance(metrics, Mapping) and not _is_spec_dict(metrics):
        return dict(metrics)  # one entry per output, by name (Keras)
    if isinstance(metrics, (str, Mapping)) or (metrics is not None and not isinstance(metrics, Iterable)):
        return [metrics]
    return list(metrics or [])


def _keras_result(logs: dict[str, float], return_dict: bool) -> Any:
    """Keras' return of ``evaluate``/``*_on_batch``: the loss alone, ``[loss, *metrics]``, or the dict. The
    list leaves out ``regularization_loss`` (already in ``loss``): ``evaluate(...)[1]`` is the first metric, as
    in Keras, with or without regularized layers."""
    from zoo.training.regularization import REGULARIZATION_LOSS

    if not isinstance(return_dict, bool):  # "no" is truthy: it would return the dict
        raise ModelError(f"return_dict must be True or False, got {return_dict!r}.")
    if return_dict:
        return logs
    values = [value for name, value in logs.items() if name != REGULARIZATION_LOSS]
    return values[0] if len(values) == 1 else values


def _batch_length(x: Any, method: str) -> int:
    """The number of samples in one batch of array data (a tensor, an array, or a list/tuple/dict of them)."""
    first = next(iter(x.values()), None) if isinstance(x, Mapping) else x[0] if isinstance(x, (list, tuple)) and x else x
    if not (isinstance(first, torch.Tensor) or hasattr(first, "__array__")) or not getattr(first, "shape", ()):
        raise ModelError(
            f"{method} takes one batch of arrays (a tensor, a numpy array, or a list/dict of them), got "
            f"{type(x).__name__}; for loaders and generators use fit/evaluate/predict."
        )
    return int(first.shape[0])


def _first_samples(x: Any) -> Any:
    """A couple of samples of array data (tensor, array, or a tuple/list/dict of them), else None."""
    if isinstance(x, torch.Tensor) or hasattr(x, "__array__"):
        return torch.as_tensor(x[:2])
    if isinstance(x, (tuple, list)) and x and all(isinstance(v, torch.Tensor) or hasattr(v, "__array__") for v in x):
        return type(x)(torch.as_tensor(v[:2]) for v in x)
    if isinstance(x, Mapping) and x:
        return {k: torch.as_tensor(v[:2]) for k, v in x.items()}
    return None


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"model.{old}() is deprecated (as in Keras 2.1+): use model.{new}(), which takes generators, "
        "DataLoaders and datasets as well as arrays.",
        DeprecationWarning,
        stacklevel=3,
    )


def shapes_without_batch(model: str, input_shape: Any) -> list[tuple]:
    """``build``'s shapes carry the batch axis (Keras' rule): ``(None, 16)``; ``(16,)`` would build for a
    batch of 16 scalars, which is what no one means, and a bare ``16`` is refused with the same advice."""
    from zoo.layers._base import is_int
    several = isinstance(input_shape, (tuple, list)) and input_shape and isinstance(input_shape[0], (tuple, list))
    shapes = input_shape if several else [input_shape]
    out = []
    for shape in shapes:
        if not isinstance(shape, (tuple, list)) or len(shape) < 2 and not (len(shape) == 1 and shape[0] is None):
            size = shape[0] if isinstance(shape, (tuple, list)) and len(shape) == 1 else shape
            fix = ""
            if not several and is_int(size) and size > 0:
                fix = f": for {int(size)} features, build((None, {int(size)}))"
            raise ModelError(
                f"{model}.build takes input shapes with the batch axis first, as Keras: build((None, 16)) for 16 "
                f"features (a list of them for several inputs); got {input_shape!r}{fix}."
            )
        out.append(tuple(shape)[1:])
    return out
