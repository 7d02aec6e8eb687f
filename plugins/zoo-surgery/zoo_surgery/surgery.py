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

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import torch
from torch import nn

import zoo
from zoo_surgery.layers import MaskedMixin, masked_layers

__all__ = ["DynamicSurgery", "LayerSettings", "LayerState"]


@dataclass(frozen=True)
class LayerSettings:
    """Per-layer hyper-parameters; the defaults are the Caffe ``CInnerProductParameter`` defaults."""

    c_rate: float = 3.0
    gamma: float = 1e-3
    power: float = 1.0
    iter_stop: int = 8000

    def __post_init__(self) -> None:
        if self.gamma < 0 or self.power < 0:
            raise zoo.OptionError(f"gamma and power must be >= 0, got gamma={self.gamma}, power={self.power}")
        if self.iter_stop < 0:
            raise zoo.OptionError(f"iter_stop must be >= 0, got {self.iter_stop}")

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


def _settings_for(name: str, default: LayerSettings, layers: Mapping[str, Mapping] | None) -> LayerSettings:
    if not layers:
        return default
    known = {f.name for f in fields(LayerSettings)}
    settings = default
    for pattern, overrides in layers.items():
        if name == pattern or fnmatch.fnmatchcase(name, pattern):
            unknown = set(overrides) - known
            if unknown:
                raise zoo.OptionError(
                    f"unknown surgery setting(s) {sorted(unknown)} for layer pattern {pattern!r}; "
                    f"valid keys are {sorted(known)}"
                )
            settings = replace(settings, **overrides)
    return settings


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
        default = LayerSettings(c_rate=c_rate, gamma=gamma, power=power, iter_stop=int(iter_stop))
        excluded = {p for p, v in (layers or {}).items() if v is None}
        overrides = {p: v for p, v in (layers or {}).items() if v is not None}
        self.layers: list[LayerState] = []
        for name, layer in masked_layers(model):
            if any(name == p or fnmatch.fnmatchcase(name, p) for p in excluded):
                continue
            self.layers.append(LayerState(name, layer, _settings_for(name, default, overrides)))
        if not self.layers:
            raise zoo.ModelError(
                "the model has no masked layers to operate on; convert it first with "
                "zoo_surgery.to_masked(model) or build it from MaskedLinear/MaskedConv2d"
            )
        names = {state.name for state in self.layers} | excluded
        unmatched = [p for p in (layers or {}) if not any(fnmatch.fnmatchcase(n, p) for n in names)]
        if unmatched:
            raise zoo.OptionError(
                f"layer pattern(s) {unmatched} match no masked layer; masked layers are "
                f"{[s.name for s in self.layers]}"
            )
        self.splice = splice
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
                raise zoo.ModelError(f"layer {state.name!r} has no non-zero weights to compute a threshold from")
            state.mu = float(values.mean())
            state.sigma = float(values.std(correction=0))
            state.theta = max(state.mu + state.settings.c_rate * state.sigma, 0.0)

    @torch.no_grad()
    def step(self, iteration: int) -> None:
        """Run the (randomly scheduled) mask update that precedes the forward pass of ``iteration``."""
        if iteration < 0:
            raise zoo.OptionError(f"iteration must be >= 0, got {iteration}")
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
