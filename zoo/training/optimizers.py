"""``torch.optim`` optimizers under Keras' names, taking Keras' argument names and defaults.

``zoo.get("optimizers", "adam", model.parameters(), lr=1e-3)`` builds ``torch.optim.Adam``. Keras
spellings are translated: ``learning_rate`` -> ``lr``, ``epsilon`` -> ``eps``, ``beta_1``/``beta_2`` ->
``betas``, RMSprop's ``rho`` -> ``alpha``; ``clipnorm``/``clipvalue`` are kept on the optimizer and applied
by ``fit`` before each step. Where Keras' default differs from torch's, the Keras-named builder uses the
Keras default (README table); PyTorch names (``lr``, ``eps``, ``alpha``) are accepted unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

# name -> (torch class name, Keras defaults applied when the user does not set them)
KERAS_DEFAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 0.01}),
    "rmsprop": ("RMSprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    "adagrad": ("Adagrad", {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": ("Adadelta", {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    "adam": ("Adam", {"lr": 0.001, "eps": 1e-7}),
    "adamw": ("AdamW", {"lr": 0.001, "eps": 1e-7, "weight_decay": 0.004}),
    "adamax": ("Adamax", {"lr": 0.001, "eps": 1e-7}),
    "nadam": ("NAdam", {"lr": 0.001, "eps": 1e-7}),
    # Not in Keras (or different there): torch's own defaults.
    "radam": ("RAdam", {}),
    "asgd": ("ASGD", {}),
    "rprop": ("Rprop", {}),
    "lbfgs": ("LBFGS", {}),
    "sparse_adam": ("SparseAdam", {}),
    "adafactor": ("Adafactor", {}),
}

_RENAMES = {"learning_rate": "lr", "epsilon": "eps"}


def translate(torch_name: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keras argument names -> torch ones; returns (torch kwargs, zoo extras such as clipnorm)."""
    kwargs = dict(kwargs)
    extras = {k: kwargs.pop(k) for k in ("clipnorm", "clipvalue") if k in kwargs}
    for keras_name, torch_arg in _RENAMES.items():
        if keras_name in kwargs:
            if torch_arg in kwargs:
                raise TypeError(f"give either {keras_name}= or {torch_arg}=, not both.")
            kwargs[torch_arg] = kwargs.pop(keras_name)
    if "beta_1" in kwargs or "beta_2" in kwargs:
        if "betas" in kwargs:
            raise TypeError("give either beta_1/beta_2 or betas=, not both.")
        kwargs["betas"] = (kwargs.pop("beta_1", 0.9), kwargs.pop("beta_2", 0.999))
    if torch_name == "RMSprop" and "rho" in kwargs:
        kwargs["alpha"] = kwargs.pop("rho")
    if "global_clipnorm" in kwargs:
        extras["clipnorm"] = kwargs.pop("global_clipnorm")
    return kwargs, extras


def build(name: str, params: Iterable[Any], **kwargs: Any) -> torch.optim.Optimizer:
    torch_name, defaults = KERAS_DEFAULTS[name]
    cls = getattr(torch.optim, torch_name, None)
    if cls is None:
        raise ValueError(f"torch.optim.{torch_name} is not in torch {torch.__version__}; upgrade torch.")
    kwargs, extras = translate(torch_name, kwargs)
    for key, value in defaults.items():
        kwargs.setdefault(key, value)
    try:
        optimizer = cls(params, **kwargs)
    except TypeError as error:
        raise TypeError(f"optimizer {name!r} (torch.optim.{torch_name}): {error}") from None
    for key, value in extras.items():
        setattr(optimizer, key, value)
    return optimizer


def _factory(name: str):
    def factory(params: Iterable[Any], **kwargs: Any) -> torch.optim.Optimizer:
        return build(name, params, **kwargs)

    torch_name = KERAS_DEFAULTS[name][0]
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (
        f"``torch.optim.{torch_name}`` with Keras argument names and defaults {KERAS_DEFAULTS[name][1]}."
    )
    return factory


sgd = _factory("sgd")
rmsprop = _factory("rmsprop")
adagrad = _factory("adagrad")
adadelta = _factory("adadelta")
adam = _factory("adam")
adamw = _factory("adamw")
adamax = _factory("adamax")
nadam = _factory("nadam")
radam = _factory("radam")
asgd = _factory("asgd")
rprop = _factory("rprop")
lbfgs = _factory("lbfgs")
sparse_adam = _factory("sparse_adam")
adafactor = _factory("adafactor")
