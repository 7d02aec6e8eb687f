"""Masked Linear and Conv2d layers whose pruned weights keep learning.

Forward uses ``W * T`` (``T`` the binary mask); backward hands the gradient with respect to ``W * T`` to
all of ``W``, pruned entries included. That straight-through gradient is what lets dynamic network
surgery splice a pruned connection back when it grows important again; ``torch.nn.utils.prune`` (which
multiplies the gradient by the mask) cannot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

import zoo
from zoo_surgery._checks import matches, no_unmatched, patterns

__all__ = [
    "MaskedConv2d",
    "MaskedLinear",
    "MaskedMixin",
    "empty_like",
    "masked_layers",
    "replace_modules",
    "straight_through_mask",
    "to_masked",
]


class _StraightThroughMask(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return tensor * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def straight_through_mask(tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``tensor * mask`` whose gradient reaches every entry of ``tensor`` unmasked."""
    return _StraightThroughMask.apply(tensor, mask)


class MaskedMixin:
    """Shared by the masked layers: the mask buffers and the masked parameters."""

    weight: nn.Parameter
    bias: nn.Parameter | None
    weight_mask: torch.Tensor
    bias_mask: torch.Tensor | None

    def _init_masks(self) -> None:
        module: nn.Module = self  # type: ignore[assignment]
        module.register_buffer("weight_mask", torch.ones_like(self.weight, requires_grad=False))
        bias_mask = None if self.bias is None else torch.ones_like(self.bias, requires_grad=False)
        module.register_buffer("bias_mask", bias_mask)

    def masked_weight(self) -> torch.Tensor:
        return straight_through_mask(self.weight, self.weight_mask)

    def masked_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return straight_through_mask(self.bias, self.bias_mask)

    def masked_pairs(self) -> list[tuple[str, nn.Parameter, torch.Tensor]]:
        """``(name, parameter, mask)`` for the weight and, if present, the bias."""
        pairs = [("weight", self.weight, self.weight_mask)]
        if self.bias is not None:
            pairs.append(("bias", self.bias, self.bias_mask))
        return pairs


class MaskedLinear(MaskedMixin, nn.Linear):
    """``nn.Linear`` with ``weight_mask``/``bias_mask`` buffers (all ones: nothing pruned yet)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self._init_masks()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.masked_weight(), self.masked_bias())


class MaskedConv2d(MaskedMixin, nn.Conv2d):
    """``nn.Conv2d`` with ``weight_mask``/``bias_mask`` buffers (all ones: nothing pruned yet)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_masks()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(input, self.masked_weight(), self.masked_bias())


_DENSE_TO_MASKED: dict[type[nn.Module], type[nn.Module]] = {nn.Linear: MaskedLinear, nn.Conv2d: MaskedConv2d}


def empty_like(layer: nn.Linear | nn.Conv2d, linear: type[nn.Linear], conv: type[nn.Conv2d]) -> nn.Module:
    """A ``linear``/``conv`` layer of ``layer``'s geometry, built on the meta device: the caller assigns its
    tensors, so no random initialisation is wasted."""
    with torch.device("meta"):
        if isinstance(layer, nn.Linear):
            return linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
        if isinstance(layer, nn.Conv2d):
            return conv(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                dilation=layer.dilation,
                groups=layer.groups,
                bias=layer.bias is not None,
                padding_mode=layer.padding_mode,
            )
    raise zoo.ArgumentError(f"expected an nn.Linear or nn.Conv2d, got {type(layer).__name__}")


def _masked_copy(layer: nn.Module) -> nn.Module:
    """A masked layer sharing ``layer``'s parameter objects, so an optimizer built on them stays valid."""
    weight = layer.weight
    new = empty_like(layer, MaskedLinear, MaskedConv2d)
    new.weight = weight
    new.bias = layer.bias
    new.weight_mask = torch.ones_like(weight, requires_grad=False)
    new.bias_mask = None if layer.bias is None else torch.ones_like(layer.bias, requires_grad=False)
    new.train(layer.training)
    return new


def to_masked(
    model: nn.Module, *, include: str | Sequence[str] | None = None, exclude: str | Sequence[str] = ()
) -> nn.Module:
    """Replace ``model``'s ``nn.Linear`` and ``nn.Conv2d`` layers by masked ones, in place; returns ``model``.

    ``include``/``exclude`` are fnmatch patterns on module names (``"features.*"``, ``"fc1"``, or a list of
    them); by default every plain Linear/Conv2d is converted. A pattern that names none of the model's
    Linear/Conv2d layers is an error, so a typo cannot convert or spare nothing in silence. Subclasses (e.g.
    the output projection inside ``nn.MultiheadAttention``, whose weight is read directly and never through
    ``forward``) are left alone, as are layers already masked. Parameters are kept, not copied, so an
    optimizer created before the conversion keeps working. Forward hooks on a replaced layer are not
    carried over.
    """
    if not isinstance(model, nn.Module):
        raise zoo.ArgumentError(f"to_masked expects a torch.nn.Module, got {type(model).__name__}")
    if type(model) in _DENSE_TO_MASKED:
        raise zoo.OptionError(
            "to_masked converts the layers inside a model in place; to convert a lone layer use "
            "MaskedLinear/MaskedConv2d or wrap it: to_masked(nn.Sequential(layer))."
        )
    include = None if include is None else patterns(include, "include")
    exclude = patterns(exclude, "exclude")
    candidates: dict[str, nn.Module] = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
            raise zoo.ModelError(
                f"layer {name!r} is lazy and not initialised yet; run one forward pass first"
            )
        if type(module) in _DENSE_TO_MASKED or isinstance(module, MaskedMixin):
            candidates[name] = module
    names = list(candidates)
    no_unmatched(
        [*(include or ()), *exclude],
        names,
        option="to_masked include/exclude",
        layers="nn.Linear/nn.Conv2d layer",
    )
    targets: dict[int, nn.Module] = {}
    for name, module in candidates.items():
        if type(module) not in _DENSE_TO_MASKED:
            continue  # already masked
        picked = include is None or any(matches(name, p) for p in include)
        if picked and not any(matches(name, p) for p in exclude):
            targets[id(module)] = _masked_copy(module)
    replace_modules(model, targets)
    return model


def replace_modules(model: nn.Module, replacements: dict[int, nn.Module]) -> None:
    """Swap children by identity (``id(old) -> new``), so a layer used in two places stays shared."""
    for parent in list(model.modules()):
        for child_name, child in parent._modules.items():
            if child is not None and id(child) in replacements:
                parent._modules[child_name] = replacements[id(child)]


def masked_layers(model: nn.Module) -> Iterator[tuple[str, MaskedMixin]]:
    """``(name, layer)`` for every masked layer of ``model``, in module order."""
    for name, module in model.named_modules():
        if isinstance(module, MaskedMixin):
            yield name, module
