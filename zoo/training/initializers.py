"""Keras' weight initializers as callables that fill a tensor in place: ``GlorotUniform(seed=0)(w)``.

Fans follow PyTorch's weight layouts, not Keras': ``Linear.weight`` is ``(out, in)`` and a convolution's
``(out, in, *kernel)``, so ``fan_in = shape[1] * prod(kernel)`` and ``fan_out = shape[0] * prod(kernel)``
(Keras' kernels are ``(in, out)`` / ``(*kernel, in, out)``: the same numbers for the same layer). A 1-D
tensor has ``fan_in = fan_out = len``. Truncated normals are cut at two standard deviations, and
``VarianceScaling`` divides the stddev by 0.87962566103423978 (the stddev of a unit normal truncated
to [-2, 2]) as Keras does. With ``seed`` set, every call draws the same values (Keras 3 behaviour), on
any device; without, the global torch RNG is used.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import Tensor

from zoo.errors import OptionError

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
]

TRUNCATION_STDDEV = 0.87962566103423978


def _number(owner: str, name: str, value: Any) -> float:
    """``value`` if it is a real number; a ``zoo.OptionError`` otherwise (``stddev="0.1"`` would fail deep
    inside torch, a bool would pass as 0/1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise OptionError(f"{owner}: {name} must be a number, got {value!r} ({type(value).__name__}).")
    return float(value)


def compute_fans(shape: tuple[int, ...] | torch.Size) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight in PyTorch layout ``(out, in, *kernel)``."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


class Initializer:
    """Base class: ``init(tensor)`` fills ``tensor`` in place (without recording autograd) and returns it."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise OptionError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}.")
        self.seed = seed

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        raise NotImplementedError

    def __call__(self, tensor: Tensor) -> Tensor:
        with torch.no_grad():
            if self.seed is None:
                self.fill(tensor, None)
            else:
                # Draw on the CPU from a fresh generator: the same values on every call and every device.
                generator = torch.Generator().manual_seed(self.seed)
                scratch = torch.empty(tensor.shape, dtype=torch.float32)
                self.fill(scratch, generator)
                tensor.copy_(scratch)
        return tensor

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        tensor.zero_()


class Ones(Initializer):
    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        tensor.fill_(1.0)


class Constant(Initializer):
    def __init__(self, value: float = 0.0) -> None:
        super().__init__()
        self.value = _number("Constant", "value", value)

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        tensor.fill_(self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = _number("RandomNormal", "mean", mean), _number("RandomNormal", "stddev", stddev)
        if self.stddev < 0:
            raise OptionError(f"RandomNormal: stddev must be >= 0, got {stddev!r}.")

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        tensor.normal_(self.mean, self.stddev, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval = _number("RandomUniform", "minval", minval)
        self.maxval = _number("RandomUniform", "maxval", maxval)
        if self.minval > self.maxval:  # torch would raise "from <= to" from deep inside uniform_
            raise OptionError(f"RandomUniform: minval ({minval!r}) must be <= maxval ({maxval!r}).")

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        tensor.uniform_(self.minval, self.maxval, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(tensor: Tensor, mean: float, stddev: float, generator: torch.Generator | None) -> None:
    torch.nn.init.trunc_normal_(
        tensor, mean, stddev, mean - 2 * stddev, mean + 2 * stddev, generator=generator
    )


class TruncatedNormal(Initializer):
    """Normal values more than two ``stddev`` from ``mean`` redrawn (Keras semantics)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = _number("TruncatedNormal", "mean", mean), _number("TruncatedNormal", "stddev", stddev)
        if self.stddev < 0:
            raise OptionError(f"TruncatedNormal: stddev must be >= 0, got {stddev!r}.")

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        _truncated_normal(tensor, self.mean, self.stddev, generator)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras' ``VarianceScaling``: variance ``scale / n`` with ``n`` the fan in, fan out or their mean."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if _number("VarianceScaling", "scale", scale) <= 0.0:
            raise OptionError(f"VarianceScaling: scale must be positive, got {scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise OptionError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}.")
        if distribution == "normal":
            distribution = "truncated_normal"  # Keras' legacy spelling
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise OptionError(
                f"distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform', got {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        fan_in, fan_out = compute_fans(tensor.shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            _truncated_normal(tensor, 0.0, math.sqrt(variance) / TRUNCATION_STDDEV, generator)
        elif self.distribution == "untruncated_normal":
            tensor.normal_(0.0, math.sqrt(variance), generator=generator)
        else:
            limit = math.sqrt(3.0 * variance)
            tensor.uniform_(-limit, limit, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling(
    name: str, scale: float, mode: str, distribution: str, doc: str
) -> type[VarianceScaling]:
    def __init__(self, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform", "Uniform in ±sqrt(3 / fan_in).")
LecunNormal = _variance_scaling(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated, stddev sqrt(1/fan_in)."
)
GlorotUniform = _variance_scaling(
    "GlorotUniform", 1.0, "fan_avg", "uniform", "Uniform in ±sqrt(6 / (fan_in + fan_out)) (Xavier)."
)
GlorotNormal = _variance_scaling(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Truncated, stddev sqrt(2 / (fan_in + fan_out))."
)
HeUniform = _variance_scaling(
    "HeUniform", 2.0, "fan_in", "uniform", "Uniform in ±sqrt(6 / fan_in) (Kaiming)."
)
HeNormal = _variance_scaling(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated, stddev sqrt(2 / fan_in)."
)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``; a weight of more than 2 axes is flattened to
    ``(shape[0], prod(shape[1:]))`` (rows = output units, PyTorch's convention)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = _number("Orthogonal", "gain", gain)

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        if tensor.ndim < 2:
            raise OptionError(
                f"Orthogonal needs a tensor of at least 2 axes, got shape {tuple(tensor.shape)}."
            )
        torch.nn.init.orthogonal_(tensor, gain=self.gain, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D weights only, as Keras)."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.gain = _number("Identity", "gain", gain)

    def fill(self, tensor: Tensor, generator: torch.Generator | None) -> None:
        if tensor.ndim != 2:
            raise OptionError(
                f"Identity works on 2-D weights only, got shape {tuple(tensor.shape)}; for convolutions "
                "use torch.nn.init.dirac_."
            )
        torch.nn.init.eye_(tensor)
        tensor.mul_(self.gain)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}
