"""MNIST-style IDX sets and CIFAR binary archives, through the real download + parse path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo
import zoo.datasets
from zoo.datasets import cache


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_dataset_loads_with_torch_layout(name, serve, mini_mnist, requests_seen, monkeypatch):
    arrays, files = mini_mnist
    serve(name, files)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load(name)

    assert x_train.shape == (5, 1, 28, 28) and x_train.dtype == torch.uint8
    assert x_test.shape == (3, 1, 28, 28)
    assert torch.equal(x_train[:, 0], torch.from_numpy(arrays["train_images"]))
    assert torch.equal(x_test[:, 0], torch.from_numpy(arrays["test_images"]))
    assert y_train.dtype == torch.int64 and y_train.tolist() == [5, 0, 4, 1, 9]
    assert y_test.tolist() == [7, 2, 1]
    assert requests_seen() == 4

    # Second load: derived arrays are reused; no request, and it works with the network forbidden.
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    (x2, y2), _ = zoo.datasets.load(name.replace("_", "-").upper())
    assert requests_seen() == 4
    assert torch.equal(x2, x_train) and torch.equal(y2, y_train)


def test_images_are_memory_mapped_not_copied(serve, mini_mnist):
    serve("mnist", mini_mnist[1])
    (x_train, _), _ = zoo.datasets.load("mnist")
    folder = next((cache.root() / "mnist").iterdir())
    mapped = np.load(folder / "train_images.npy", mmap_mode="r")
    assert isinstance(cache.open_array(folder, "train_images"), np.memmap)
    assert np.array_equal(mapped, x_train[:, 0].numpy())
    # writes to the tensor stay private (copy-on-write): the file on disk is untouched
    x_train[0, 0, 0, 0] = (int(x_train[0, 0, 0, 0]) + 1) % 256
    assert np.load(folder / "train_images.npy")[0, 0, 0] == mini_mnist[0]["train_images"][0, 0, 0]


def test_as_dataset_applies_transforms(serve, mini_mnist):
    serve("mnist", mini_mnist[1])
    train, test = zoo.datasets.load(
        "mnist", as_dataset=True, transform=lambda x: x.float() / 255, target_transform=lambda y: y + 100
    )
    assert isinstance(train, torch.utils.data.Dataset) and len(train) == 5 and len(test) == 3
    x, y = train[1]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert torch.allclose(x, torch.from_numpy(mini_mnist[0]["train_images"][1]).float()[None] / 255)
    assert int(y) == 100
    batch_x, batch_y = next(iter(torch.utils.data.DataLoader(train, batch_size=5)))
    assert batch_x.shape == (5, 1, 28, 28) and batch_y.tolist() == [105, 100, 104, 101, 109]


def test_transform_without_as_dataset_is_an_error(serve, mini_mnist):
    serve("mnist", mini_mnist[1])
    with pytest.raises(TypeError, match="as_dataset=True"):
        zoo.datasets.load("mnist", transform=lambda x: x)


def test_cifar10_binary_archive(serve, mini_cifar10, requests_seen, monkeypatch):
    (images, labels), archive = mini_cifar10
    serve("cifar10", {"archive": archive})
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("cifar10")
    assert x_train.shape == (10, 3, 32, 32) and x_train.dtype == torch.uint8
    assert torch.equal(x_train, torch.from_numpy(images[:10]))  # batches 1..5 concatenated in order
    assert torch.equal(x_test, torch.from_numpy(images[10:]))
    assert y_train.tolist() == labels[:10].tolist() and y_test.tolist() == labels[10:].tolist()
    assert y_train.dtype == torch.int64
    extracted = cache.root() / "cifar10" / "extracted"
    assert (extracted / "cifar-10-batches-bin" / "test_batch.bin").is_file()

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    zoo.datasets.load("CIFAR-10")
    assert requests_seen() == 1


def test_cifar100_label_modes(serve, mini_cifar100, requests_seen):
    (images, coarse, fine), archive = mini_cifar100
    serve("cifar100", {"archive": archive})  # md5-only upstream: verified by the loader
    (x_train, y_fine), (x_test, y_fine_test) = zoo.datasets.load("cifar100")
    assert torch.equal(x_train, torch.from_numpy(images[:4])) and torch.equal(
        x_test, torch.from_numpy(images[4:])
    )
    assert y_fine.tolist() == fine[:4].tolist() and y_fine_test.tolist() == fine[4:].tolist()
    (_, y_coarse), (_, y_coarse_test) = zoo.datasets.load("cifar100", label_mode="coarse")
    assert y_coarse.tolist() == coarse[:4].tolist() and y_coarse_test.tolist() == coarse[4:].tolist()
    assert requests_seen() == 1
    with pytest.raises(ValueError, match="label_mode"):
        zoo.datasets.load("cifar100", label_mode="medium")


def test_unknown_option_is_a_type_error(serve, mini_mnist):
    with pytest.raises(TypeError):
        zoo.datasets.load("mnist", num_words=10)


def test_idx_to_npy_handles_big_endian_multibyte_types(tmp_path, fmt):
    from zoo.datasets.formats import idx_to_npy

    for array in (np.arange(-6, 6, dtype=np.int32).reshape(3, 4), np.linspace(-1, 1, 10, dtype=np.float32)):
        for compress in (True, False):
            source = tmp_path / f"a-{array.dtype}-{compress}.idx"
            raw = fmt.idx_bytes(array)
            source.write_bytes(fmt.gz(raw) if compress else raw)
            assert idx_to_npy(source, tmp_path / "out.npy") == array.shape
            loaded = np.load(tmp_path / "out.npy")
            assert loaded.dtype == array.dtype and np.array_equal(loaded, array)


def test_damaged_derived_folder_is_rebuilt_from_the_cache(serve, mini_mnist, monkeypatch, requests_seen):
    serve("mnist", mini_mnist[1])
    zoo.datasets.load("mnist")
    folder = next(p for p in (cache.root() / "mnist").iterdir() if not p.name.startswith("."))
    (folder / "test_images.npy").write_bytes(b"cut")  # damaged by hand
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # the downloads are still in the hub's cache
    _, (x_test, _) = zoo.datasets.load("mnist")
    assert torch.equal(x_test[:, 0], torch.from_numpy(mini_mnist[0]["test_images"]))
    assert requests_seen() == 4
    assert [p.name for p in (cache.root() / "mnist").iterdir()] == [folder.name]
