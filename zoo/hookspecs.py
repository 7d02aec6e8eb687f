"""The plugin contract: every hook a zoo plugin may implement.

A plugin is a module (or object) with functions marked ``@zoo.hookimpl`` (or
``pluggy.HookimplMarker("zoo")``), published through the ``zoo`` entry-point group::

    [project.entry-points.zoo]
    myplugin = "zoo_myplugin"

Registration hooks say *what exists*. Each receives a ``register`` callback and calls it once per entry::

    register(name, target, *, aliases=(), fallback=False, **meta)

``target`` is either a callable (``zoo.get`` calls it with the user's arguments) or a lazy
``"package.module:attribute"`` string, so that listing entries never imports torch or model code.
``meta`` is plain data that users list, filter and show (``zoo info``): weight variants, parameter counts,
accuracy, file sizes, URLs. ``fallback=True`` marks an entry that yields a bare name to any ordinary
entry of the same name (a catalogue plugin mirroring names the built-ins already have); ``fallback=2``
yields to those fallbacks as well (a catalogue of last resort: zoo-keras, beside zoo-timm). A bare name
resolves to the one entry of the lowest rank; every entry stays reachable as ``plugin:name``.

Behaviour hooks say *how things work*: extra download sources, a look at each model after it is built,
and extra CLI sub-commands.

zoo calls every hook through pluggy one plugin at a time, built-ins first (``zoo/plugins.py``): a
``wrapper=True`` implementation wraps its own plugin's implementations; a register hook that raises fails
its plugin, a behaviour hook that raises is reported once and skipped.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import pluggy

PROJECT_NAME = "zoo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[..., None]

#: The kinds of entry, in the order ``zoo list`` shows them. Each has a ``zoo_register_<kind>`` hook.
KINDS: tuple[str, ...] = (
    "applications",
    "datasets",
    "layers",
    "optimizers",
    "losses",
    "metrics",
    "callbacks",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "exporters",
)


@hookspec
def zoo_register_applications(register: Register) -> None:
    """Register pretrained models: ``register("resnet50", "pkg.models:build", weights={...}, ...)``.

    The target is called with the keyword arguments of ``zoo.load`` (``weights``, ``include_top``, ...)
    and returns a ``torch.nn.Module``.
    """


@hookspec
def zoo_register_datasets(register: Register) -> None:
    """Register datasets; the target is called with the options of ``zoo.datasets.load``."""


@hookspec
def zoo_register_layers(register: Register) -> None:
    """Register layers: targets are ``torch.nn.Module`` classes or factories."""


@hookspec
def zoo_register_optimizers(register: Register) -> None:
    """Register optimizers: targets take ``(params, **config)`` like ``torch.optim`` classes."""


@hookspec
def zoo_register_losses(register: Register) -> None:
    """Register losses: targets build a callable ``loss(input, target) -> scalar tensor``."""


@hookspec
def zoo_register_metrics(register: Register) -> None:
    """Register metrics: targets build a ``zoo.training.Metric`` (or a function of ``(y_pred, y_true)``)."""


@hookspec
def zoo_register_callbacks(register: Register) -> None:
    """Register training callbacks: targets build a ``zoo.training.Callback``."""


@hookspec
def zoo_register_activations(register: Register) -> None:
    """Register activations: targets are functions or modules mapping a tensor to a tensor."""


@hookspec
def zoo_register_initializers(register: Register) -> None:
    """Register initializers: targets build a callable that fills a tensor in place."""


@hookspec
def zoo_register_regularizers(register: Register) -> None:
    """Register weight regularizers: targets build a callable ``penalty(tensor) -> scalar tensor``."""


@hookspec
def zoo_register_constraints(register: Register) -> None:
    """Register weight constraints: targets build a callable ``project(tensor) -> tensor`` (same shape)."""


@hookspec
def zoo_register_exporters(register: Register) -> None:
    """Register export formats: targets build an exporter used by ``zoo.export``."""


@hookspec
def zoo_download_mirrors(url: str, filename: str, sha256: str | None) -> Sequence[str]:
    """Return extra URLs serving the same bytes as ``url``; tried in order after the entry's own URLs.

    Results from every plugin are concatenated. The file's hash is verified whatever the source, so a
    mirror can never put wrong bytes in the cache.
    """


@hookspec
def zoo_model_built(model: Any, name: str, options: dict[str, Any]) -> None:
    """Called once with every model ``zoo.load`` returns, whatever plugin's builder made it (the core fires
    it, :mod:`zoo.applications.contract`), after weights are loaded and ``model.zoo`` is attached, for
    inspection or in-place changes (logging, registering buffers, patching modules). ``options``: the
    call's options, with ``include_top``, ``pooling``, ``num_classes`` and ``trainable`` always present."""


@hookspec
def zoo_register_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add CLI sub-commands: ``p = subparsers.add_parser("name", help=...)``; ``p.set_defaults(func=run)``
    where ``run(args) -> int | None`` is called with the parsed arguments."""
