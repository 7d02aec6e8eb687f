"""Keras weights files in Keras' own legacy h5 layout (the layout of keras.applications' published files),
written by Keras itself from a randomly initialised NASNetMobile, and the plugin's table pointed at a local
HTTP server that serves them with their md5 (as Keras publishes md5 for most of its files)."""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
NAME = "NASNetMobile"  # the Keras application nothing else has; 5.3M parameters


@pytest.fixture
def keras_name() -> str:
    return NAME


@dataclass
class KerasFiles:
    top: Path
    notop: Path
    reference: object  # the Keras model the top file was written from


def _randomise(model) -> None:
    """Every weight away from its initial value, BN statistics away from (0, 1), so that a skipped or
    misplaced tensor, or a wrong BN mode, shows in the outputs."""
    rng = np.random.default_rng(0)
    for variable in model.weights:
        value = rng.normal(0.0, 0.05, variable.shape).astype("float32")
        if any(part in variable.path for part in ("gamma", "variance")):
            value = np.abs(value) + 1.0
        variable.assign(value)


def _save(model, path: Path) -> Path:
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory) -> KerasFiles:
    from zoo_keras.architectures import constructor

    make = constructor(NAME)
    top = make(weights=None, include_top=True, classifier_activation=None)
    _randomise(top)
    notop = make(weights=None, include_top=False)
    by_name = {layer.name: layer for layer in top.layers}
    for layer in notop.layers:
        if layer.weights:
            layer.set_weights(by_name[layer.name].get_weights())
    folder = tmp_path_factory.mktemp("keras_weights")
    return KerasFiles(
        _save(top, folder / "NASNet-mobile.h5"), _save(notop, folder / "NASNet-mobile-no-top.h5"), top
    )


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def local_table(monkeypatch, keras_files, serve):
    """The installed table with NASNetMobile's two files moved to the local server, verified by md5."""
    from zoo_keras import table

    apps = copy.deepcopy(table.applications())
    files = apps[NAME]["weights"]["imagenet"]
    for key, path in (("top", keras_files.top), ("notop", keras_files.notop)):
        files[key] = {"url": serve(path, f"/keras/{path.name}"), "filename": path.name,
                      "known_hash": f"md5:{md5(path)}"}  # fmt: skip
    monkeypatch.setattr(table, "applications", lambda: apps)
    return files
