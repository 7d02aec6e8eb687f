"""The mask update of dynamic network surgery, independent of any training loop.

It follows the authors' Caffe layers (yiwenguo/Dynamic-Network-Surgery, ``CInnerProduct``/``CConvolution``),
which are more precise than the paper:

* At the first update, per layer and once: ``mu`` and ``sigma`` are the mean and the (population) standard
  deviation of ``|w|`` over the layer's non-zero masked weights *and* biases; the threshold is
  ``theta = max(mu + c_rate * sigma, 0)``.
* Before the forward pass of iteration ``it`` (``it`` = optimizer steps taken so far, from 0), each layer
  draws ``r ~ U[0, 1)`` and, if ``(1 + gamma * it) ** -power > r`` and ``it < iter_stop``, updates its mask:
  a kept weight with ``|w| <= 0.9 theta`` is pruned, a pruned one with ``|w| > 1.1 theta`` is spliced back,
  anything in between keeps its state (the hysteresis stops masks from flickering).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import torch
from torch import nn

import zoo
from zoo_surgery._checks import flag, matches, no_unmatched, real, whole
from zoo_surgery.layers import MaskedMixin, masked_layers

__all__ = ["DynamicSurgery", "LayerSettings", "LayerState", "SurgeryOptions"]


@dataclass(frozen=True)
class LayerSettings:
    """Per-layer hyper-parameters; the defaults are the Caffe ``CInnerProductParameter`` defaults."""

    c_rate: float = 3.0
    gamma: float = 1e-3
    power: float = 1.0
    iter_stop: int = 8000

    def __post_init__(self) -> None:
        # Checked here, so the defaults and every per-layer override are held to the same rule.
        object.__setattr__(self, "c_rate", real(self.c_rate, "c_rate"))
        object.__setattr__(self, "gamma", real(self.gamma, "gamma", minimum=0))
        object.__setattr__(self, "power", real(self.power, "power", minimum=0))
        object.__setattr__(self, "iter_stop", whole(self.iter_stop, "iter_stop"))

    def probability(self, iteration: int) -> float:
        """Chance that the mask is updated at ``iteration`` (0 from ``iter_stop`` on)."""
        if iteration >= self.iter_stop:
            return 0.0
        return float((1.0 + self.gamma * iteration) ** (-self.power))


@dataclass
class LayerState:
    """What surgery knows about one layer: its settings, threshold and event counts."""

    name: str
    layer: MaskedMixin
    settings: LayerSettings
    mu: float | None = None
    sigma: float | None = None
    theta: float | None = None
    updates: int = 0
    _pruned: torch.Tensor | None = field(default=None, repr=False)
    _spliced: torch.Tensor | None = field(default=None, repr=False)

    @property
    def prune_events(self) -> int:
        """Connections cut (mask 1 -> 0), counted over all updates."""
        return 0 if self._pruned is None else int(self._pruned)

    @property
    def splice_events(self) -> int:
        """Connections restored (mask 0 -> 1), counted over all updates."""
        return 0 if self._spliced is None else int(self._spliced)

    def kept(self) -> tuple[int, int]:
        """(non-zero masked entries, all entries) over weight and bias."""
        nonzero = total = 0
        for _, param, mask in self.layer.masked_pairs():
            nonzero += int(torch.count_nonzero(param.detach() * mask))
            total += param.numel()
        return nonzero, total


def _settings_for(name: str, default: LayerSettings, overrides: Mapping[str, Mapping]) -> LayerSettings:
    settings = default
    for pattern, values in overrides.items():
        if matches(name, pattern):
            settings = replace(settings, **values)
    return settings


@dataclass(frozen=True)
class SurgeryOptions:
    """The checked constructor arguments of :class:`DynamicSurgery`, which the callback also checks when
    it is built: a wrong setting fails where it is written, not at the first training batch."""

    default: LayerSettings
    excluded: tuple[str, ...]
    overrides: dict[str, dict[str, Any]]
    splice: bool
    seed: int | None

    @classmethod
    def check(
        cls,
        *,
        c_rate: Any = 3.0,
        gamma: Any = 1e-3,
        power: Any = 1.0,
        iter_stop: Any = 8000,
        layers: Any = None,
        splice: Any = True,
        seed: Any = None,
    ) -> SurgeryOptions:
        default = LayerSettings(c_rate=c_rate, gamma=gamma, power=power, iter_stop=iter_stop)
        if layers is None:
            layers = {}
        if not isinstance(layers, Mapping):
            raise zoo.OptionError(
                f"layers must be a dict from layer names or fnmatch patterns to settings, e.g. "
                f"{{'fc1': {{'c_rate': 4}}, 'conv1': None}} (None leaves a layer out), got {type(layers).__name__}."
            )
        known = sorted(f.name for f in fields(LayerSettings))
        excluded: list[str] = []
        overrides: dict[str, dict[str, Any]] = {}
        for pattern, values in layers.items():
            if not isinstance(pattern, str):
                raise zoo.OptionError(
                    f"layers keys must be layer names or fnmatch patterns, got {pattern!r}."
                )
            if values is None:
                excluded.append(pattern)
                continue
            if not isinstance(values, Mapping):
                example = f"{{'c_rate': {values!r}}}" if isinstance(values, (int, float)) else "{'c_rate': 4}"
                raise zoo.OptionError(
                    f"layers[{pattern!r}] must be a dict of settings such as {example}, or None to leave the "
                    f"layer out, got {values!r} ({type(values).__name__})."
                )
            unknown = sorted(str(k) for k in values if k not in known)
            if unknown:
                raise zoo.OptionError(
                    f"unknown surgery setting(s) {unknown} for layer pattern {pattern!r}; valid keys are {known}"
                )
            try:
                replace(default, **values)
            except zoo.OptionError as exc:
                raise zoo.OptionError(f"layers[{pattern!r}]: {exc}") from None
            overrides[pattern] = dict(values)
        if seed is not None:
            seed = whole(seed, "seed", minimum=-(2**63), maximum=2**64 - 1, kind="None or a whole number")
        return cls(default, tuple(excluded), overrides, flag(splice, "splice"), seed)


class DynamicSurgery:
    """Prunes and splices the masked layers of ``model``; call :meth:`step` before each training forward.

    ``layers`` maps layer names or fnmatch patterns to overrides of the defaults, e.g.
    ``{"fc1": {"c_rate": 4, "gamma": 1e-4, "iter_stop": 14000}}`` (later patterns win). A layer whose
    override is ``None`` is left out of surgery. ``splice=False`` gives the prune-only ablation: same
    thresholds, but a pruned weight never comes back. ``seed`` seeds the per-iteration draws; without it
    the seed is taken from torch's global generator, so ``torch.manual_seed`` makes a run repeatable.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        c_rate: float = 3.0,
        gamma: float = 1e-3,
        power: float = 1.0,
        iter_stop: int = 8000,
        layers: Mapping[str, Mapping | None] | None = None,
        splice: bool = True,
        seed: int | None = None,
    ) -> None:
        options = SurgeryOptions.check(
            c_rate=c_rate,
            gamma=gamma,
            power=power,
            iter_stop=iter_stop,
            layers=layers,
            splice=splice,
            seed=seed,
        )
        if not isinstance(model, nn.Module):
            raise zoo.ArgumentError(f"DynamicSurgery expects a torch.nn.Module, got {type(model).__name__}")
        masked = list(masked_layers(model))
        if not masked:
            raise zoo.ModelError(
                "the model has no masked layers to operate on; convert it first with "
                "zoo_surgery.to_masked(model) or build it from MaskedLinear/MaskedConv2d"
            )
        names = [name for name, _ in masked]
        no_unmatched([*options.overrides, *options.excluded], names, option="layers", layers="masked layer")
        self.layers: list[LayerState] = [
            LayerState(name, layer, _settings_for(name, options.default, options.overrides))
            for name, layer in masked
            if not any(matches(name, p) for p in options.excluded)
        ]
        if not self.layers:
            raise zoo.OptionError(
                f"layers leaves every masked layer out ({', '.join(repr(n) for n, _ in masked)} all match a None "
                f"entry); drop some of the None entries"
            )
        self.splice = options.splice
        seed = options.seed
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        self.generator = torch.Generator().manual_seed(seed)

    # -- the algorithm --------------------------------------------------------------------------------
    @torch.no_grad()
    def compute_thresholds(self) -> None:
        """Fix ``mu``, ``sigma`` and ``theta`` of every layer from its current (trained) weights, once."""
        for state in self.layers:
            if state.theta is not None:
                continue
            values = torch.cat(
                [
                    (param.detach() * mask).abs().flatten().double()
                    for _, param, mask in state.layer.masked_pairs()
                ]
            )
            values = values[values != 0]
            if values.numel() == 0:
                raise zoo.ModelError(
                    f"layer {state.name!r} has no non-zero weights to compute a threshold from"
                )
            state.mu = float(values.mean())
            state.sigma = float(values.std(correction=0))
            state.theta = max(state.mu + state.settings.c_rate * state.sigma, 0.0)

    @torch.no_grad()
    def step(self, iteration: int) -> None:
        """Run the (randomly scheduled) mask update that precedes the forward pass of ``iteration``."""
        iteration = whole(iteration, "iteration")
        active = [s for s in self.layers if iteration < s.settings.iter_stop]
        if not active:
            return
        self.compute_thresholds()
        draws = torch.rand(len(self.layers), generator=self.generator, dtype=torch.float64).tolist()
        for state, r in zip(self.layers, draws, strict=True):
            if state.settings.probability(iteration) > r:
                self._update(state)

    def _update(self, state: LayerState) -> None:
        assert state.theta is not None
        low, high = 0.9 * state.theta, 1.1 * state.theta
        for _, param, mask in state.layer.masked_pairs():
            magnitude = param.detach().abs()
            kept = mask != 0
            prune = kept & (magnitude <= low)
            pruned = prune.sum()
            state._pruned = pruned if state._pruned is None else state._pruned + pruned
            if self.splice:
                splice = ~kept & (magnitude > high)
                spliced = splice.sum()
                state._spliced = spliced if state._spliced is None else state._spliced + spliced
                mask.masked_fill_(splice, 1)
            mask.masked_fill_(prune, 0)
        state.updates += 1

    # -- reading --------------------------------------------------------------------------------------
    @property
    def splice_events(self) -> int:
        return sum(s.splice_events for s in self.layers)

    @property
    def prune_events(self) -> int:
        return sum(s.prune_events for s in self.layers)

    def state_dict(self) -> dict:
        """Thresholds, event counts and the draw generator: what an exact resume needs besides the masks."""
        return {
            "generator": self.generator.get_state(),
            "layers": {
                s.name: {
                    "mu": s.mu,
                    "sigma": s.sigma,
                    "theta": s.theta,
                    "updates": s.updates,
                    "prune_events": s.prune_events,
                    "splice_events": s.splice_events,
                }
                for s in self.layers
            },
        }

    def load_state_dict(self, state: Mapping) -> None:
        self.generator.set_state(state["generator"])
        for s in self.layers:
            saved = state["layers"].get(s.name)
            if saved is None:
                raise zoo.ModelError(
                    f"surgery state has no entry for layer {s.name!r}; it was saved for another model"
                )
            s.mu, s.sigma, s.theta, s.updates = saved["mu"], saved["sigma"], saved["theta"], saved["updates"]
            s._pruned = torch.tensor(saved["prune_events"])
            s._spliced = torch.tensor(saved["splice_events"])

    def kept_fraction(self) -> float:
        """Share of the surgery layers' weights and biases that are still connected."""
        nonzero = total = 0
        for state in self.layers:
            n, t = state.kept()
            nonzero, total = nonzero + n, total + t
        return nonzero / total
