"""What every zoo layer shares: mask passing, activation lookup, lazy parameters and input checks.

Masks. Keras hides a boolean ``(N, T)`` mask inside its tensors; zoo keeps it explicit and small instead
of subclassing ``torch.Tensor``. A layer that *makes* a mask (``Embedding(mask_zero=True)``, ``Masking``)
attaches it to its output as the attribute ``_zoo_mask`` and offers ``compute_mask``. A layer that *uses*
one (recurrent layers, ``Bidirectional``, ``TimeDistributed``, global 1-D pooling) takes ``mask=`` (or
``lengths=``) explicitly and otherwise reads the attribute, so ``nn.Sequential(Embedding(..., mask_zero=
True), LSTM(32))`` works as in Keras. Shape-keeping layers (``Dense``, ``Dropout``, ``Activation``, noise,
advanced activations, ``return_sequences=True``) pass the mask on. Any other torch operation returns a new
tensor without it; pass ``mask=`` explicitly there.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._keras import Layer
from zoo.layers._tracing import is_tracing

MASK_ATTR = "_zoo_mask"


def get_mask(x: Any) -> torch.Tensor | None:
    """The boolean ``(N, T)`` mask a mask-making layer attached to ``x`` (``None`` if there is none)."""
    return getattr(x, MASK_ATTR, None)


def with_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Attach ``mask`` to ``x`` (in place, returns ``x``); ``None`` leaves ``x`` as it is."""
    if mask is not None and isinstance(x, torch.Tensor):
        setattr(x, MASK_ATTR, mask)
    return x


def resolve_mask(
    layer: nn.Module,
    x: torch.Tensor,
    mask: torch.Tensor | None = None,
    lengths: torch.Tensor | Sequence[int] | None = None,
) -> torch.Tensor | None:
    """The ``(N, T)`` bool mask for a batch-first ``x``: from ``mask=``, ``lengths=`` or ``x``'s attribute."""
    if mask is not None and lengths is not None:
        raise DataError(f"{_name(layer)}: give either mask= or lengths=, not both.")
    if (mask is not None or lengths is not None) and not isinstance(x, torch.Tensor):
        raise ArgumentError(f"{_name(layer)} expects a tensor, got {type(x).__name__}.")
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=x.device)
        if lengths.ndim != 1 or lengths.shape[0] != x.shape[0]:
            raise DataError(
                f"{_name(layer)}: lengths must hold one length per sample ({x.shape[0]}), "
                f"got shape {tuple(lengths.shape)}."
            )
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise DataError(f"{_name(layer)}: lengths must be whole numbers of steps, got dtype {lengths.dtype}.")
        if not is_tracing() and lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > x.shape[1]):
            raise DataError(
                f"{_name(layer)}: lengths must lie in 0..{x.shape[1]} (the input's time steps), got "
                f"{lengths[(lengths < 0) | (lengths > x.shape[1])][:5].tolist()} among them."
            )
        steps = torch.arange(x.shape[1], device=x.device)
        return steps[None, :] < lengths[:, None]
    if mask is None:
        mask = get_mask(x)
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):  # a list or numpy array of 0/1 or bools
        try:
            mask = torch.as_tensor(mask, device=x.device)
        except (TypeError, ValueError, RuntimeError):
            raise ArgumentError(
                f"{_name(layer)}: mask must be a (batch, time) tensor or array of booleans, got "
                f"{type(mask).__name__}."
            ) from None
    if mask.shape != x.shape[:2]:
        raise DataError(
            f"{_name(layer)}: mask shape {tuple(mask.shape)} does not match the input's (batch, time) "
            f"{tuple(x.shape[:2])} (input shape {tuple(x.shape)})."
        )
    return mask.to(device=x.device, dtype=torch.bool)


def is_int(value: object) -> bool:
    """A whole number (numpy's too) that is not a bool: ``int()`` would truncate 2.5 and take True as 1."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _name(layer: nn.Module | str) -> str:
    return layer if isinstance(layer, str) else type(layer).__name__


def check_rank(layer: nn.Module | str, x: Any, ranks: int | Sequence[int], what: str = "") -> None:
    """Raise a ``zoo.DataError`` (a ValueError) naming the layer, the ranks it takes and the shape it got;
    a non-tensor is a ``zoo.ArgumentError`` (a TypeError)."""
    if not isinstance(x, torch.Tensor):
        raise ArgumentError(f"{_name(layer)} expects a tensor, got {type(x).__name__}.")
    ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    if x.ndim not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        hint = f" {what}" if what else ""
        raise DataError(
            f"{_name(layer)} expects a {wanted}-D input{hint}, got shape {tuple(x.shape)} ({x.ndim}-D)."
        )


def float_input(x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``x`` in the dtype of the layer's parameters (``dtype``), as Keras casts a layer's inputs to its
    compute dtype: an integer or boolean input (an ``int64`` feature array in ``Dense``) and a floating one
    of another precision (float64 from numpy, float16) alike, where torch would fail on mixed dtypes.
    Under autocast an input already in autocast's dtype passes as it is (autocast picks each operation's
    precision; it leaves float64 alone, so that is cast still). Without ``dtype`` only non-floating inputs
    are cast (to torch's default dtype). Complex inputs pass."""
    if x.is_floating_point():
        if dtype is None or x.dtype == dtype:
            return x
        device = x.device.type
        if torch.is_autocast_enabled(device) and x.dtype == torch.get_autocast_dtype(device):
            return x
        return x.to(dtype)
    if x.is_complex():
        return x
    return x.to(dtype if dtype is not None and dtype.is_floating_point else torch.get_default_dtype())


def tuple_n(value: int | Sequence[int], n: int, what: str, minimum: int = 1) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; a sequence must already have ``n`` items, each a whole number >= ``minimum``."""
    items: Any = value
    if is_int(value):
        items = (value,) * n
    elif hasattr(value, "__iter__") and not isinstance(value, str):
        items = tuple(value)  # a list from a saved config, a numpy array
    if (
        not isinstance(items, tuple) or len(items) != n
        or not all(is_int(v) and v >= minimum for v in items)
    ):  # fmt: skip
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise OptionError(f"{what} must be an int or {n} ints, each {bound}, got {value!r}.")
    return tuple(int(v) for v in items)


def get_activation(activation: str | Callable[[torch.Tensor], torch.Tensor] | None) -> Callable | None:
    """An activation by registered name (``"relu"``, ``"softmax"``), a callable, or ``None``/"linear".

    Names are looked up in the ``activations`` registry when the layer is built, so a plugin's
    activation works anywhere a built-in one does; the rest is zoo.training.activations.get's one rule
    (an ``nn.Module`` class is instantiated, a function used as it is). Linear is ``None``: no call.
    """
    if activation is None:
        return None
    if isinstance(activation, str) and activation.strip().lower() in ("linear", "identity", "none"):
        return None
    from zoo.training import activations

    return activations.get(activation)


def activation_repr(fn: Callable | None) -> str:
    if fn is None:
        return "linear"
    if isinstance(fn, nn.Module):
        return type(fn).__name__
    return getattr(fn, "__name__", type(fn).__name__)


class LazyLayer(LazyModuleMixin, Layer):
    """A layer whose parameter shapes depend on the input, materialised on the first call.

    Subclasses create ``UninitializedParameter``s for unknown shapes and implement ``build(x)`` to
    materialise them; ``reset_parameters`` initialises real parameters. Until the first forward (or
    ``zoo.summary``, or ``load_state_dict``), such parameters have no shape: create optimizers after it.
    """

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:  # called by LazyModuleMixin
        if self.has_uninitialized_params() and args:
            with torch.no_grad():
                self.build(args[0])
                self.reset_parameters()

    def build(self, x: torch.Tensor) -> None:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        raise NotImplementedError


def maybe_lazy(shape: Sequence[int] | None, **factory: Any) -> nn.Parameter:
    """A real parameter of ``shape``, or an uninitialised one when the shape is not known yet."""
    if shape is None:
        return UninitializedParameter(**factory)
    return nn.Parameter(torch.empty(tuple(shape), **factory))
