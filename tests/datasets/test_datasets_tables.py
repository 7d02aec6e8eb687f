"""boston_housing, the offline digits set, and what listing shows without downloading anything."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import zoo
import zoo.datasets
from zoo.cli import main


def keras_split(n: int, seed: int, test_split: float) -> tuple[np.ndarray, np.ndarray]:
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)
    cut = int(n * (1 - test_split))
    return indices[:cut], indices[cut:]


def test_boston_housing_split(serve, fmt):
    x = np.arange(7 * 13, dtype=np.float64).reshape(7, 13) / 10
    y = np.array([24.0, 21.6, 34.7, 33.4, 36.2, 28.7, 22.9])
    serve("boston_housing", {"data": fmt.npz(x=x, y=y)})
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("boston")
    train, test = keras_split(7, 113, 0.2)  # int(7 * 0.8) = 5 training rows
    assert x_train.dtype == torch.float32 and x_train.shape == (5, 13) and x_test.shape == (2, 13)
    assert torch.allclose(x_train, torch.from_numpy(x[train]).float())
    assert torch.allclose(y_test, torch.from_numpy(y[test]).float())
    (x_train, _), (x_test, _) = zoo.datasets.load("boston_housing", test_split=0.5, seed=7)
    assert torch.allclose(x_train, torch.from_numpy(x[keras_split(7, 7, 0.5)[0]]).float())
    with pytest.raises(ValueError, match="test_split"):
        zoo.datasets.load("boston_housing", test_split=1.0)


def test_digits_offline_deterministic_split(monkeypatch):
    from sklearn.datasets import load_digits

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("digits")
    bunch = load_digits()
    train, test = keras_split(len(bunch.target), 113, 0.2)
    assert (
        x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8) and x_train.dtype == torch.uint8
    )
    assert torch.equal(x_train[:, 0], torch.from_numpy(bunch.images[train].astype(np.uint8)))
    assert y_test.tolist() == bunch.target[test].tolist() and y_test.dtype == torch.int64
    assert int(x_train.max()) == 16

    (x_again, _), _ = zoo.datasets.load("digits")
    (x_other, _), (x_small_test, _) = zoo.datasets.load("digits", seed=0, test_split=0.1)
    assert torch.equal(x_again, x_train) and not torch.equal(x_other[:1437], x_train)
    assert len(x_small_test) == 1797 - int(1797 * 0.9)

    train_ds, _ = zoo.datasets.load("digits", as_dataset=True, transform=lambda x: x.float() / 16)
    x0, y0 = train_ds[0]
    assert x0.dtype == torch.float32 and float(x0.max()) <= 1 and int(y0) == int(y_train[0])


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install zoo-platform\[digits\]") as info:
        zoo.datasets.load("digits")
    assert isinstance(info.value, zoo.ZooError)


def test_listing_and_info_import_neither_torch_nor_numpy():
    code = (
        "import sys, zoo, zoo.datasets\n"
        "names = zoo.list('datasets')\n"
        "info = zoo.info('cifar10', 'datasets')\n"
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'\n"
        "print(names, info['size'], info['splits'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "mnist" in out and "170052171" in out and "'train': 50000" in out


def test_cli_list_and_info_without_download(capsys, isolated_zoo):
    assert main(["list", "datasets"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == sorted(listed) and {"mnist", "fashion_mnist", "cifar100", "imdb", "digits"} <= set(
        listed
    )

    assert main(["info", "mnist"]) == 0
    text = capsys.readouterr().out
    for needle in ("IDX", "60000", "(N, 1, 28, 28) uint8", "CC BY-SA 3.0", "ossci-datasets", "size"):
        assert needle in text

    assert main(["info", "cifar100", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["files"][0]["sha256"] is None and data["files"][0]["md5"] == "03b5dce01913d631647c71ecec9e9cb8"
    )
    assert data["files"][0]["mirrors"] and "label_mode" in data["options"] and len(data["classes"]) == 100
    assert not (isolated_zoo / "blobs").exists()  # nothing was downloaded


def test_every_file_spec_follows_the_hub_convention():
    for name in zoo.list("datasets"):
        meta = zoo.info(name, "datasets")
        if meta["plugin"] != "datasets":
            continue
        for spec in meta["files"]:
            assert spec["url"].startswith("https://") and spec["filename"] == spec["url"].rsplit("/", 1)[1]
            assert spec["sha256"] is None or len(spec["sha256"]) == 64
            assert spec["sha256"] or spec["md5"], f"{name}: {spec['filename']} has no hash at all"
            assert all(m.startswith("https://") for m in spec["mirrors"])


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("digits", {"test_split": "0.2"}, "test_split must be a fraction in"),
        ("boston_housing", {"test_split": 1.0}, "test_split must be a fraction in"),
        ("imdb", {"num_words": "10000"}, "num_words must be a non-negative int"),
        ("imdb", {"maxlen": True}, "maxlen must be a non-negative int"),
        ("reuters", {"seed": 1.5}, "seed must be an int"),
        ("mnist", {"as_dataset": "yes"}, "as_dataset must be True or False"),
        ("cifar10", {"transform": 3, "as_dataset": True}, "transform must be a callable"),
        ("cifar100", {"label_mode": "Fine"}, "label_mode must be one of"),
        ("fashion_mnist", {"transform": abs}, "pass as_dataset=True"),
    ],
)
def test_wrong_options_are_refused_before_any_download(monkeypatch, name, options, message):
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # a download would be an OfflineError, not the option's error
    with pytest.raises(zoo.ZooError, match=message) as info:
        zoo.datasets.load(name, **options)
    assert not isinstance(info.value, zoo.OfflineError)
