"""The public plugin API: everything a zoo plugin may import from zoo, in one module.

A plugin imports ``zoo`` (the user API: ``zoo.load``, ``zoo.Callback``, the errors) and ``zoo.plugin``;
nothing else of zoo is promised to stay where it is (a test checks the in-tree plugins keep to this).
Importing this module does not import torch: the helpers that need torch load on first use.

What is here, by task:

* metadata: :class:`ApplicationMeta`, :class:`WeightsVariant`, :class:`DatasetMeta`, :class:`FileSpec`,
  :class:`LayerMeta`, :class:`ExporterMeta`, :class:`EntryMeta` (what ``register(..., **meta)`` is checked
  against; a plugin may also pass ``meta=ApplicationMeta(...)``);
* packaging: :data:`DISTRIBUTION`, the name to depend on in a plugin's ``pyproject.toml``
  (``dependencies = ["zoo-platform"]``; the import name stays ``zoo``);
* hooks: :data:`hookimpl` (the marker for ``zoo_*`` hook functions), :data:`Register` (the ``register``
  callback every ``zoo_register_<kind>`` hook receives), :data:`KINDS`;
* a torch-free package: :func:`lazy_exports` (a package ``__getattr__`` importing names on first use),
  :func:`without_gc` (pause the cyclic collector around an allocation burst such as building a network);
* building an application: :func:`empty_weights` (build on the meta device), :func:`load_state_dict`
  (read a weights file, never unpickling code), :func:`assign_weights` (assign the tensors into the meta
  model, each tensor in the model's dtype), :func:`in_model_dtypes` (the same dtype rule for a loader that
  assigns by itself), :func:`meta_tensors`, :class:`WeightsFileError`; :func:`check_options`, :class:`ChosenWeights`
  and :func:`finish` (the keras.applications options and the ending every builder shares);
  :func:`means_default_weights` and :data:`DEFAULT_WEIGHTS_SPELLINGS` (which ``weights=`` words mean the
  recommended variant), :func:`snake_case` (default names from class names) — :mod:`zoo.naming`'s rules;
  :func:`architecture_builders` (one lazy target per architecture of a catalogue); :func:`category_names`
  (the names behind a categories reference such as ``"imagenet1k"``);
* files: :func:`fetch`, :func:`fetch_spec`, :func:`content_sha256`, :func:`cache_dir`
  (zoo's verified download cache); :func:`atomic_open`, :func:`atomic_path`, :func:`atomic_folder`,
  :func:`write_json_atomic`, :func:`write_text_atomic`, :func:`write_bytes_atomic` (zoo's one atomic
  writer, :mod:`zoo.atomic`: a reader sees the old file or the whole new one; ``fsync=True`` for
  durability);
* datasets: :func:`checked_index` and :func:`checked_range`, the index rule of zoo's datasets (a wrong
  index is a zoo error, one out of range an ``IndexError`` that ends a ``for`` loop);
* training: :class:`Callback`;
* command lines (``zoo_register_commands``, a plugin's own scripts): :func:`whole_number` and
  :func:`finite_number`, argparse types that refuse ``--epochs 0`` or ``--lr nan`` when the line is read,
  and :class:`ZooArgumentParser` (the parser every ``zoo`` command has: one-line errors, close matches);
* export formats: :class:`Exporter` (the base class of a format) and :class:`Signature` (what ``save`` and
  ``load`` are told of the model's inputs and outputs).
"""

from __future__ import annotations

from zoo._gc import without_gc
from zoo._lazy import lazy_exports
from zoo._version import DISTRIBUTION
from zoo.atomic import (
    atomic_folder,
    atomic_open,
    atomic_path,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)
from zoo.datasets.indexing import checked_index, checked_range
from zoo.errors import (
    AmbiguousNameError,
    DownloadError,
    IntegrityError,
    OfflineError,
    PluginError,
    RegistrationError,
    TargetImportError,
    UnknownNameError,
    ZooError,
)
from zoo.hookspecs import KINDS, PROJECT_NAME, Register, hookimpl
from zoo.metadata import (
    ApplicationMeta,
    DatasetMeta,
    EntryMeta,
    ExporterMeta,
    FileSpec,
    LayerMeta,
    WeightsVariant,
)
from zoo.naming import DEFAULT_WEIGHTS_SPELLINGS, means_default_weights, snake_case

# Public names that need torch (or a heavier module), served on first use: attribute -> "module:attr".
_LAZY: dict[str, str] = {
    "ChosenWeights": "zoo.applications.builder:ChosenWeights",
    "check_options": "zoo.applications.builder:check_options",
    "finish": "zoo.applications.builder:finish",
    "assign_weights": "zoo.applications.builder:assign_weights",
    "in_model_dtypes": "zoo.applications.builder:in_model_dtypes",
    "architecture_builders": "zoo.applications.models:architecture_builders",
    "category_names": "zoo.applications.table:categories",
    "WeightsFileError": "zoo.applications.loading:WeightsFileError",
    "load_state_dict": "zoo.applications.loading:load_state_dict",
    "file_sha256": "zoo.applications.local_weights:file_sha256",
    "choose_preprocessing": "zoo.applications.local_weights:choose_preprocessing",
    "empty_weights": "zoo.applications.meta:empty_weights",
    "meta_tensors": "zoo.applications.meta:meta_tensors",
    "fetch": "zoo.hub:fetch",
    "fetch_spec": "zoo.hub:fetch_spec",
    "content_sha256": "zoo.hub:content_sha256",
    "cache_dir": "zoo.hub:cache_dir",
    "Callback": "zoo.training:Callback",
    "ZooArgumentParser": "zoo.cli:ZooArgumentParser",
    "whole_number": "zoo.cli:whole_number",
    "finite_number": "zoo.cli:finite_number",
    "Exporter": "zoo.exporters.base:Exporter",
    "Signature": "zoo.exporters.base:Signature",
}

__all__ = [
    "DEFAULT_WEIGHTS_SPELLINGS",
    "DISTRIBUTION",
    "KINDS",
    "ApplicationMeta",
    "DatasetMeta",
    "EntryMeta",
    "ExporterMeta",
    "FileSpec",
    "LayerMeta",
    "WeightsVariant",
    "PROJECT_NAME",
    "AmbiguousNameError",
    "DownloadError",
    "IntegrityError",
    "OfflineError",
    "PluginError",
    "Register",
    "RegistrationError",
    "TargetImportError",
    "UnknownNameError",
    "ZooError",
    "atomic_folder",
    "checked_index",
    "checked_range",
    "atomic_open",
    "atomic_path",
    "hookimpl",
    "means_default_weights",
    "snake_case",
    "lazy_exports",
    "without_gc",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
