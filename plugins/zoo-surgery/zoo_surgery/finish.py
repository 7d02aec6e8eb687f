"""After surgery: bake the masks into plain layers and measure what the pruned model really costs."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

import zoo
from zoo_surgery._checks import flag
from zoo_surgery.layers import MaskedMixin, empty_like, replace_modules
from zoo_surgery.sparse import encode

__all__ = ["LayerReport", "SurgeryReport", "bake", "report"]


def _plain_copy(layer: MaskedMixin) -> nn.Module:
    plain = empty_like(layer, nn.Linear, nn.Conv2d)
    with torch.no_grad():
        plain.weight = nn.Parameter(
            layer.weight * layer.weight_mask, requires_grad=layer.weight.requires_grad
        )
        if layer.bias is not None:
            plain.bias = nn.Parameter(layer.bias * layer.bias_mask, requires_grad=layer.bias.requires_grad)
    plain.train(layer.training)
    return plain


def bake(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """``model`` with every masked layer replaced by a plain ``nn.Linear``/``nn.Conv2d`` holding ``W * T``.

    The result's ``state_dict()`` has exactly the keys of the original dense model (no ``*_mask``
    entries), so it loads into an unmodified architecture; pruned entries are exact zeros.
    """
    _check_model(model, "bake")
    if isinstance(model, MaskedMixin):
        return _plain_copy(model)
    target = model if flag(inplace, "inplace") else copy.deepcopy(model)
    plain = {id(m): _plain_copy(m) for m in target.modules() if isinstance(m, MaskedMixin)}
    replace_modules(target, plain)
    return target


def _check_model(model: object, function: str) -> None:
    if not isinstance(model, nn.Module):
        raise zoo.ArgumentError(f"{function} expects a torch.nn.Module, got {type(model).__name__}")


@dataclass(frozen=True)
class LayerReport:
    name: str
    params: int
    nonzero: int

    @property
    def kept(self) -> float:
        """Share of the layer's weights and biases that are non-zero."""
        return self.nonzero / self.params


@dataclass(frozen=True)
class SurgeryReport:
    """Sizes of a pruned model: per masked layer and in total (all parameters, biases included)."""

    layers: tuple[LayerReport, ...]
    params: int
    nonzero: int
    dense_bytes: int
    sparse_bytes: int

    @property
    def compression(self) -> float:
        """Parameters / non-zero parameters, the paper's compression rate."""
        return self.params / max(self.nonzero, 1)

    @property
    def byte_compression(self) -> float:
        """Dense bytes / bytes of the sparse encoding (index overhead included)."""
        return self.dense_bytes / max(self.sparse_bytes, 1)

    def table(self) -> str:
        """A plain-text table, one row per masked layer and a total."""
        rows = [f"{'layer':<24}{'params':>10}{'non-zero':>10}{'kept':>9}"]
        for layer in self.layers:
            rows.append(f"{layer.name:<24}{layer.params:>10}{layer.nonzero:>10}{layer.kept:>9.2%}")
        rows.append(
            f"{'total':<24}{self.params:>10}{self.nonzero:>10}{self.nonzero / max(self.params, 1):>9.2%}"
        )
        rows.append(
            f"compression {self.compression:.1f}x (parameters); bytes {self.dense_bytes} dense -> "
            f"{self.sparse_bytes} sparse ({self.byte_compression:.1f}x)"
        )
        return "\n".join(rows)


@torch.no_grad()
def report(model: nn.Module) -> SurgeryReport:
    """Count the parameters a pruned ``model`` really keeps and the bytes of its sparse encoding.

    Masked layers count ``W * T``; every other parameter counts its non-zero entries. ``sparse_bytes`` is
    ``len(zoo_surgery.sparse.encode(bake(model).state_dict()))`` over parameters only (buffers such as
    BatchNorm statistics are a deployment detail both sides would carry); ``dense_bytes`` is the same
    parameters stored densely.
    """
    _check_model(model, "report")
    plain = bake(model)
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, MaskedMixin):
            params = sum(p.numel() for _, p, _ in module.masked_pairs())
            nonzero = sum(int(torch.count_nonzero(p * m)) for _, p, m in module.masked_pairs())
            layers.append(LayerReport(name or type(module).__name__, params, nonzero))
    named = dict(plain.named_parameters())
    params = sum(p.numel() for p in named.values())
    nonzero = sum(int(torch.count_nonzero(p)) for p in named.values())
    dense_bytes = sum(p.numel() * p.element_size() for p in named.values())
    sparse_bytes = len(encode({k: v.detach() for k, v in named.items()}))
    return SurgeryReport(tuple(layers), params, nonzero, dense_bytes, sparse_bytes)
