"""Options the per-option check table missed: seeds numpy's RandomState refuses, negative word indices,
and folders that are not paths. Each is a ``zoo.OptionError`` before any fetch (offline: not an
``OfflineError``), never numpy's or pathlib's raw error."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import zoo
import zoo.datasets
from zoo.cli import main
from zoo.datasets import sources

from .conftest import idx_bytes


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("digits", {"seed": -1}, "seed must be an int from 0 to 2\\*\\*32 - 1, got -1"),
        ("digits", {"seed": 2**40}, "seed must be an int from 0 to 2\\*\\*32 - 1, got 1099511627776"),
        ("boston_housing", {"seed": 2**32}, "seed must be an int from 0 to 2\\*\\*32 - 1"),
        ("imdb", {"seed": -1}, "seed must be an int from 0"),
        ("reuters", {"seed": np.int64(-7)}, "seed must be an int from 0"),
        ("imdb", {"start_char": -1}, "start_char must be a non-negative int"),
        ("reuters", {"oov_char": -2}, "oov_char must be a non-negative int"),
        ("mnist", {"from_dir": 5}, "from_dir must be the path of a folder .* got 5 \\(int\\)"),
        ("fashion_mnist", {"from_dir": b"/data"}, "from_dir must be the path of a folder .*bytes"),
        ("mnist", {"from_dir": ""}, "from_dir is an empty path"),  # was a search of the current directory
    ],
)
def test_wrong_options_are_option_errors_before_any_fetch(monkeypatch, isolated_zoo, name, options, message):
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # a fetch would be an OfflineError, not the option's error
    with pytest.raises(zoo.OptionError, match=message):
        zoo.datasets.load(name, **options)
    assert not (isolated_zoo / "blobs").exists() and not (isolated_zoo / "datasets").exists()


def test_the_edges_of_the_seed_range_work_as_in_numpy():
    from sklearn.datasets import load_digits

    target = load_digits().target
    for seed in (2**32 - 1, np.uint32(0)):
        (_, y), _ = zoo.datasets.load("digits", seed=seed)
        order = np.arange(len(target))
        np.random.RandomState(seed).shuffle(order)  # Keras' split: this shuffle, then the first 80 %
        assert y.tolist() == target[order][: len(y)].tolist()


def test_start_and_oov_char_zero_and_none_are_accepted(monkeypatch):
    """0 is a word index like any other (Keras' padding value); None leaves the character out. Neither is
    refused by the check: offline they get as far as the fetch."""
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    for options in ({"start_char": 0}, {"oov_char": None}, {"start_char": None, "oov_char": 0}):
        with pytest.raises(zoo.OfflineError):
            zoo.datasets.load("imdb", **options)


@pytest.mark.parametrize("folder", [None, 5, ["/data"]])
def test_import_folder_needs_a_path(folder, isolated_zoo):
    with pytest.raises(zoo.OptionError, match="folder must be the path of a folder"):
        zoo.datasets.import_folder("mnist", folder)
    assert not (isolated_zoo / "datasets").exists()


def test_a_path_object_and_a_string_both_import(tmp_path, monkeypatch):
    arrays = {
        "train_images": np.zeros((2, 28, 28), np.uint8),
        "train_labels": np.array([3, 1], np.uint8),
        "test_images": np.ones((1, 28, 28), np.uint8),
        "test_labels": np.array([7], np.uint8),
    }
    specs = {}
    for role, spec in sources.FILES["mnist"].items():
        raw = idx_bytes(arrays[role])
        (tmp_path / spec["filename"].removesuffix(".gz")).write_bytes(raw)
        specs[role] = {**spec, "raw_sha256": hashlib.sha256(raw).hexdigest()}
    monkeypatch.setitem(sources.FILES, "mnist", specs)
    assert len(zoo.datasets.import_folder("mnist", tmp_path)) == 4
    assert len(zoo.datasets.import_folder("mnist", str(tmp_path))) == 4
    (_, y), _ = zoo.datasets.load("mnist", from_dir=str(tmp_path))
    assert y.tolist() == [3, 1]


def test_cli_dataset_import_of_a_missing_folder_is_one_line(capsys, tmp_path):
    assert main(["cache", "add", str(tmp_path / "nowhere"), "--dataset", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "is not a folder" in err and len(err.strip().splitlines()) == 1
