"""zoo: a plugin-based model zoo for PyTorch.

``zoo.load("resnet50")`` gives a pretrained ``torch.nn.Module``; every other kind of thing (datasets,
layers, optimizers, losses, metrics, callbacks, activations, initializers, exporters) is reachable by name
through ``zoo.get(kind, name, ...)``. Importing zoo does not import torch: the heavy parts load on first
use.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports
from zoo._version import __version__
from zoo.api import get, info, list, load
from zoo.errors import (
    AmbiguousNameError,
    ArgumentError,
    DataError,
    DataIndexError,
    DownloadError,
    IntegrityError,
    MissingFileError,
    MissingKeyError,
    ModelError,
    NonFiniteLossError,
    OfflineError,
    OptionError,
    PluginError,
    RegistrationError,
    SavedModelError,
    TargetImportError,
    UnknownNameError,
    ZooError,
)
from zoo.hookspecs import hookimpl

# Public names served lazily (attribute -> "module:attr", or "module" for a submodule).
_LAZY: dict[str, str] = {
    "hub": "zoo.hub",
    "datasets": "zoo.datasets",
    "layers": "zoo.layers",
    "training": "zoo.training",
    # Keras' namespaces: keras.losses.X is zoo.losses.X (the classes; functions keep torch's (input, target))
    "losses": "zoo.losses",
    "metrics": "zoo.metrics",
    "callbacks": "zoo.callbacks",
    "optimizers": "zoo.optimizers",
    "activations": "zoo.activations",
    "initializers": "zoo.initializers",
    "regularizers": "zoo.regularizers",
    "constraints": "zoo.constraints",
    "preprocessing": "zoo.preprocessing",
    "utils": "zoo.utils",
    "fit": "zoo.training:fit",
    "evaluate": "zoo.training:evaluate",
    "predict": "zoo.training:predict",
    "Callback": "zoo.training:Callback",
    "freeze": "zoo.applications:freeze",
    "unfreeze": "zoo.applications:unfreeze",
    "decode_predictions": "zoo.applications:decode_predictions",
    "preprocess_input": "zoo.applications:preprocess_input",
    "summary": "zoo.utils:summary",
    "plot_model": "zoo.utils:plot_model",
    "plot_history": "zoo.utils:plot_history",
    "export": "zoo.exporters:export",
    "benchmark": "zoo.applications.benchmark:benchmark",
    "catalogue": "zoo.catalogue:catalogue",
    "save_pretrained": "zoo.saving:save_pretrained",
    "models": "zoo.models",
    "Sequential": "zoo.models.sequential:Sequential",
    "Model": "zoo.models.model:Model",
    "Input": "zoo.models.symbolic:Input",
    "load_model": "zoo.models.saving:load_model",
}

__all__ = [
    "AmbiguousNameError",
    "ArgumentError",
    "DataError",
    "DataIndexError",
    "DownloadError",
    "IntegrityError",
    "MissingFileError",
    "MissingKeyError",
    "ModelError",
    "NonFiniteLossError",
    "OfflineError",
    "OptionError",
    "PluginError",
    "RegistrationError",
    "SavedModelError",
    "TargetImportError",
    "UnknownNameError",
    "ZooError",
    "__version__",
    "get",
    "hookimpl",
    "info",
    "list",
    "load",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
