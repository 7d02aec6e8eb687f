"""Freeze a module so that it stays frozen: no gradients, and BatchNorm/Dropout kept in eval mode even
when a parent calls ``.train()``.

Setting ``requires_grad=False`` is not enough in PyTorch: ``parent.train()`` switches every BatchNorm
inside back to batch statistics and keeps updating its running averages, so a "frozen" pretrained
backbone drifts (pytorch#86590; Keras avoids this by running BN in inference mode when
``trainable=False``). The fix here is an instance attribute ``train`` that shadows ``nn.Module.train``:
``nn.Module.train`` calls ``child.train(mode)`` on each child, so the override is reached from any parent.
It is a ``functools.partial`` of a module-level function, so a frozen module still pickles, deep-copies and
scripts its ``state_dict`` exactly as before (no hooks, no subclassing, no new state-dict keys).
"""

from __future__ import annotations

import functools

from torch import nn

from zoo.errors import ArgumentError, OptionError


def _stay_in_eval(module: nn.Module, mode: bool = True) -> nn.Module:
    """The frozen module's ``train``: whatever mode is asked for, the subtree stays in eval mode."""
    return nn.Module.train(module, False)


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    """``requires_grad_`` that also reaches a lazy layer's not yet built parameters (their method refuses;
    the attribute is kept when they materialise), so freezing before the first batch freezes too."""
    for param in module.parameters():
        param.requires_grad = flag


def freeze(module: nn.Module) -> nn.Module:
    """Stop training ``module``: parameters get ``requires_grad=False`` and the whole subtree stays in eval
    mode (BatchNorm uses its running statistics, Dropout is off) even after ``parent.train()``.

    Returns the module, frozen in place. Undo with :func:`unfreeze`.
    """
    if not isinstance(module, nn.Module):
        raise ArgumentError(f"freeze() expects a torch.nn.Module, got {type(module).__name__}.")
    _set_requires_grad(module, False)
    module.train = functools.partial(_stay_in_eval, module)  # type: ignore[method-assign]
    module.train()
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Make ``module`` and everything inside it trainable again (also submodules frozen on their own).

    Parameters get ``requires_grad=True``; ``train()``/``eval()`` work normally again. The module keeps its
    current (eval) mode until the next ``.train()`` call, as Keras keeps a layer's state until fit runs.
    """
    if not isinstance(module, nn.Module):
        raise ArgumentError(f"unfreeze() expects a torch.nn.Module, got {type(module).__name__}.")
    for sub in module.modules():
        sub.__dict__.pop("train", None)
    _set_requires_grad(module, True)
    return module


def is_frozen(module: nn.Module) -> bool:
    """True when :func:`freeze` pinned this module in eval mode."""
    return isinstance(module.__dict__.get("train"), functools.partial)


def freeze_except(module: nn.Module, keep: nn.Module) -> None:
    """Freeze ``module`` but leave ``keep`` (a submodule, e.g. a new classifier) trainable.

    Siblings along the path to ``keep`` are frozen one by one, so ``parent.train()`` still reaches ``keep``
    and whatever sits next to it in its container (a classifier's Dropout stays active).
    """
    if module is keep:
        return
    path = _path_to(module, keep)
    if path is None:
        raise OptionError("freeze_except: `keep` is not a submodule of `module`.")
    node = module
    for step in path:
        for name, child in node.named_children():
            if name != step:
                freeze(child)
        for param in node.parameters(recurse=False):
            param.requires_grad_(False)
        node = node.get_submodule(step)


def _path_to(root: nn.Module, target: nn.Module) -> list[str] | None:
    for name, sub in root.named_modules():
        if sub is target:
            return name.split(".") if name else []
    return None
