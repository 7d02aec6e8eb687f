"""Dynamic network surgery as a ``zoo.fit`` callback, for any model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import zoo
from zoo.plugin import Callback
from zoo_surgery._checks import flag, patterns
from zoo_surgery.layers import masked_layers, to_masked
from zoo_surgery.surgery import DynamicSurgery, SurgeryOptions

__all__ = ["DynamicNetworkSurgery"]


class DynamicNetworkSurgery(Callback):
    """Prune and splice connections while ``zoo.fit`` fine-tunes a trained model.

    Start from trained dense weights: thresholds are computed once, at the first mask update, from the
    weights as they are then. Before each training batch the masks may be updated (see
    :class:`zoo_surgery.DynamicSurgery`); after ``iter_stop`` batches they stay fixed and training goes on
    with the mask frozen. The iteration counter is the number of training batches this callback has
    seen, across epochs and across ``fit`` calls.

    If the model has no masked layers, its ``nn.Linear``/``nn.Conv2d`` layers are converted in place at
    ``on_train_begin`` (``include``/``exclude`` are fnmatch patterns on module names); parameters are
    kept, so the optimizer ``fit`` already built keeps training them. ``layers`` gives per-layer settings,
    e.g. ``{"fc1": {"c_rate": 4, "gamma": 1e-4, "iter_stop": 14000}}``, or ``None`` to leave a layer
    out. ``splice=False`` is the prune-only ablation.

    Each epoch's logs get ``surgery_kept``, the share of the surgery layers' parameters still connected.
    Every argument is checked here, when the callback is built, not at the first batch of a long fit;
    layer patterns can only be matched once the model is known, at ``on_train_begin``.
    """

    def __init__(
        self,
        c_rate: float = 3.0,
        gamma: float = 1e-3,
        power: float = 1.0,
        iter_stop: int = 8000,
        *,
        layers: Mapping[str, Mapping | None] | None = None,
        splice: bool = True,
        seed: int | None = None,
        convert: bool = True,
        include: str | Sequence[str] | None = None,
        exclude: str | Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = dict(
            c_rate=c_rate, gamma=gamma, power=power, iter_stop=iter_stop, layers=layers, splice=splice, seed=seed
        )
        SurgeryOptions.check(**self.config)
        self.convert = flag(convert, "convert")
        self.include = None if include is None else patterns(include, "include")
        self.exclude = patterns(exclude, "exclude")
        self.surgery: DynamicSurgery | None = None
        self.iteration = 0
        self._surgery_model: Any = None
        self._pending_state: Mapping[str, Any] | None = None

    def on_train_begin(self, logs=None) -> None:
        if self.surgery is not None and self._surgery_model is self.model:
            return  # a later fit() on the same model: carry on where the last one stopped
        if next(masked_layers(self.model), None) is None:
            if not self.convert:
                raise zoo.ModelError(
                    "the model has no MaskedLinear/MaskedConv2d layers and convert=False; build it with "
                    "masked layers, call zoo_surgery.to_masked(model), or pass convert=True"
                )
            to_masked(self.model, include=self.include, exclude=self.exclude)
        config = dict(self.config)
        if config["seed"] is None:
            config["seed"] = self._shared_seed()
        self.surgery = DynamicSurgery(self.model, **config)
        self._surgery_model = self.model
        if self._pending_state is not None:
            self.surgery.load_state_dict(self._pending_state)
            self._pending_state = None

    def _shared_seed(self) -> int | None:
        """Under torch.distributed every rank must draw the same schedule: take rank 0's seed."""
        import torch
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return None
        device = getattr(self.trainer, "device", None) or torch.device("cpu")
        seed = torch.randint(0, 2**62, (1,), dtype=torch.int64).to(device)
        dist.broadcast(seed, src=0)
        return int(seed.item())

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.surgery.step(self.iteration)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.iteration += 1

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if isinstance(logs, dict) and self.surgery is not None:
            logs["surgery_kept"] = self.surgery.kept_fraction()

    # -- resuming (a full-state ModelCheckpoint stores this; zoo.fit(resume_from=...) restores it) ------
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"iteration": self.iteration}
        if self.surgery is not None:
            state["surgery"] = self.surgery.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        if "surgery" in state:
            if self.surgery is None:
                self._pending_state = state["surgery"]  # applied once on_train_begin has the model
            else:
                self.surgery.load_state_dict(state["surgery"])
