"""``module.trainable``, Keras' switch, on zoo layers, ``Sequential``, ``Model`` and what ``zoo.load`` returns.

In Keras ``cnn.trainable = False`` freezes a model; on a plain ``nn.Module`` the same line only sets an
attribute nobody reads, and the "frozen" backbone trains anyway. Here ``trainable`` is a property:
setting False is ``zoo.freeze`` (no gradients, BatchNorm and Dropout kept in eval mode), True is
``zoo.unfreeze`` (recursively, as in Keras); reading it says the state. Classes of zoo's own inherit
``Trainable``; an instance of any other class (torchvision's ResNet, a timm model) gets it through
``with_trainable``, which swaps the instance to a cached subclass adding the property (with Keras' call
``training=`` and weight arrays), so ``isinstance``, ``state_dict``, ``deepcopy``, pickling and scripting
see the module as before.
"""

from __future__ import annotations

from typing import Any, TypeVar

from torch import nn

from zoo.applications.freezing import freeze, is_frozen, unfreeze
from zoo.errors import ArgumentError

M = TypeVar("M", bound=nn.Module)


def trainable_state(module: nn.Module) -> bool:
    """False when the module was frozen (``zoo.freeze``) or holds parameters none of which trains."""
    if is_frozen(module):
        return False
    flags = {p.requires_grad for p in module.parameters()}
    return flags != {False}


class Trainable:
    """Mixin for ``nn.Module`` classes: the ``trainable`` property (see the module docstring)."""

    __jit_unused_properties__ = ["trainable"]  # noqa: RUF012 - torch.jit reads this list

    @property
    def trainable(self) -> bool:
        return trainable_state(self)  # type: ignore[arg-type]

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            from zoo.errors import ModelError

            raise ModelError(f"trainable must be True or False, got {value!r}.")
        if value:
            unfreeze(self)  # type: ignore[arg-type]
        else:
            freeze(self)  # type: ignore[arg-type]


_SUBCLASSES: dict[type, type] = {}


def trainable_class(cls: type) -> type:
    """``cls`` with the ``trainable`` property: ``cls`` itself if it has one, else a cached subclass."""
    if isinstance(getattr(cls, "trainable", None), property):
        return cls
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        from zoo.models.weights import WeightArrays

        namespace: dict[str, Any] = {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__call__": _keras_call(cls),
        }  # fmt: skip
        if cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__:
            namespace["__reduce_ex__"] = _reduce_ex  # classes with their own (GraphModule) keep it
        sub = type(cls.__name__, (cls, Trainable, WeightArrays), namespace)
        _SUBCLASSES[cls] = sub
    return sub


def _keras_call(cls: type) -> Any:
    """What the subclass adds to a call: Keras' ``training=`` (``base(inputs, training=False)``, the
    transfer-learning recipe, on a ``zoo.load`` model), as zoo's own layers and models take it. The
    class's ``__call__`` is looked up per call: torch.fx patches ``nn.Module.__call__`` while it traces."""

    def __call__(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
        if "training" in kwargs:
            from zoo.utils.modes import call_with_training

            return call_with_training(lambda *a, **k: cls.__call__(self, *a, **k), self, args, kwargs)
        return cls.__call__(self, *args, **kwargs)

    return __call__


def _reduce_ex(self: nn.Module, protocol: Any) -> Any:
    """Pickle as the original class (importable by name) and put the property back when loaded."""
    base = type(self).__mro__[1]
    return (_rebuild, (base,), self.__getstate__())


def _rebuild(base: type) -> nn.Module:
    return object.__new__(trainable_class(base))


def with_trainable(module: M) -> M:
    """Give ``module`` (any ``nn.Module``) the ``trainable`` property, in place; returns it."""
    if not isinstance(module, nn.Module):
        raise ArgumentError(f"with_trainable expects a torch.nn.Module, got {type(module).__name__}.")
    if "trainable" in vars(module):  # an attribute set before: keep its meaning
        value = vars(module).pop("trainable")
        module.__class__ = trainable_class(type(module))
        module.trainable = bool(value)  # type: ignore[attr-defined]
        return module
    module.__class__ = trainable_class(type(module))
    return module


def apply_trainable_attributes(model: nn.Module) -> nn.Module:
    """Honour ``sub.trainable = False`` (or True) set as a plain attribute on any module inside ``model``.

    On a torch module without the property (``m.layer1`` of a ``zoo.load`` model, an ``nn.Linear``) the
    Keras line only stored an attribute; ``fit``/``evaluate`` call this first, so every module whose instance
    ``__dict__`` holds ``trainable`` gets the property (:func:`with_trainable`) and the value takes effect:
    frozen, or unfrozen. Parents come before children (``modules()`` order), so a child's False wins over its
    parent's True, as the two lines would read in Keras. Only those modules are touched: no class swap of
    modules that did not ask for it. Returns ``model``.
    """
    from zoo.errors import ModelError

    for name, sub in model.named_modules():
        if "trainable" not in vars(sub):
            continue
        value = vars(sub)["trainable"]
        if not isinstance(value, bool):
            where = f"model.{name}" if name else "the model"
            raise ModelError(f"{where}.trainable must be True or False, got {value!r}.")
        try:
            with_trainable(sub)
        except TypeError:  # a class whose instances cannot change class (a C extension, a ScriptModule)
            vars(sub)["trainable"] = value
            (unfreeze if value else freeze)(sub)
    return model
