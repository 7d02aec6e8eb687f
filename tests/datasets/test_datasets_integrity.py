"""Damaged downloads never reach the cache, and a failed load leaves no half-built data behind."""

from __future__ import annotations

import pytest

import zoo
import zoo.datasets
from zoo.datasets import cache
from zoo.datasets.archives import ArchiveError
from zoo.datasets.formats import FormatError


def cached_names(home) -> list[str]:
    blobs = home / "blobs"
    return (
        sorted(p.name for p in blobs.rglob("*") if p.is_file() and not p.name.startswith("."))
        if blobs.exists()
        else []
    )


def datasets_tree(name) -> list[str]:
    folder = cache.root() / name
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_corrupted_file_is_rejected_by_sha256(serve, mini_mnist, isolated_zoo, httpserver, monkeypatch):
    specs = serve("mnist", mini_mnist[1])
    monkeypatch.setitem(specs["train_images"], "size", None)
    # the server now sends other bytes than the ones whose hash the table holds
    httpserver.clear_all_handlers()
    for role, data in mini_mnist[1].items():
        body = data if role != "train_images" else data[:-10] + b"\0" * 10
        httpserver.expect_request(f"/mnist/{specs[role]['filename']}").respond_with_data(body)
    with pytest.raises(zoo.IntegrityError, match="sha256"):
        zoo.datasets.load("mnist")
    assert "train-images-idx3-ubyte.gz" not in cached_names(isolated_zoo)
    assert datasets_tree("mnist") == []


def test_md5_only_archive_with_wrong_bytes_is_rejected_and_evicted(
    serve, mini_cifar100, isolated_zoo, monkeypatch
):
    specs = serve("cifar100", {"archive": mini_cifar100[1]})
    monkeypatch.setitem(specs["archive"], "md5", "f" * 32)
    with pytest.raises(zoo.IntegrityError, match="md5"):
        zoo.datasets.load("cifar100")
    assert cached_names(isolated_zoo) == []
    assert datasets_tree("cifar100") == []


def test_truncated_archive_gives_clear_error_and_leaves_nothing(serve, mini_cifar10):
    archive = mini_cifar10[1]
    serve("cifar10", {"archive": archive[: len(archive) // 2]})  # upstream itself is cut short
    with pytest.raises(ArchiveError, match="damaged"):
        zoo.datasets.load("cifar10")
    assert datasets_tree("cifar10") == []


def test_truncated_idx_payload_is_a_format_error(serve, mini_mnist, fmt):
    files = dict(mini_mnist[1])
    files["test_images"] = fmt.gz(fmt.idx_bytes(mini_mnist[0]["test_images"])[:-100])
    serve("mnist", files)
    with pytest.raises(FormatError, match="truncated"):
        zoo.datasets.load("mnist")
    assert datasets_tree("mnist") == []


def test_cut_gzip_stream_is_a_format_error(serve, mini_mnist):
    files = dict(mini_mnist[1])
    files["train_labels"] = files["train_labels"][:-12]
    serve("mnist", files)
    with pytest.raises(FormatError, match="damaged|truncated"):
        zoo.datasets.load("mnist")


def test_wrong_magic_is_a_format_error(serve, mini_mnist, fmt):
    files = dict(mini_mnist[1])
    files["train_labels"] = fmt.gz(b"\x08\x03\x00\x00garbage")
    serve("mnist", files)
    with pytest.raises(FormatError, match="not an IDX file"):
        zoo.datasets.load("mnist")


def test_mismatched_image_and_label_counts(serve, mini_mnist, fmt):
    files = dict(mini_mnist[1])
    files["train_labels"] = fmt.gz(fmt.idx_bytes(mini_mnist[0]["train_labels"][:4]))
    serve("mnist", files)
    with pytest.raises(FormatError, match="do not match"):
        zoo.datasets.load("mnist")


def test_cifar_archive_with_missing_member(serve, fmt):
    serve("cifar10", {"archive": fmt.tar_gz({"cifar-10-batches-bin/data_batch_1.bin": b"\0" * 3073})})
    with pytest.raises(FormatError, match="lacks cifar-10-batches-bin/data_batch_2.bin"):
        zoo.datasets.load("cifar10")


def test_cifar_archive_with_short_record_file(serve, fmt):
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    members = {
        f"cifar-10-batches-bin/{n}": b"\0" * (3000 if n == "data_batch_3.bin" else 3073) for n in names
    }
    serve("cifar10", {"archive": fmt.tar_gz(members)})
    with pytest.raises(FormatError, match="data_batch_3.bin: 3000 bytes .* 3073-byte CIFAR records"):
        zoo.datasets.load("cifar10")
    assert not any(p.name.endswith(".tmp") for p in (cache.root() / "cifar10").iterdir())


def test_offline_miss_names_the_file(serve, mini_mnist, monkeypatch, requests_seen):
    serve("mnist", mini_mnist[1])
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(zoo.OfflineError, match="idx(.|\n)*zoo download mnist"):
        zoo.datasets.load("mnist")
    assert requests_seen() == 0


def test_md5_only_file_fails_over_to_a_mirror(serve, mini_cifar100, httpserver, isolated_zoo, monkeypatch):
    (images, _, fine), archive = mini_cifar100
    specs = serve("cifar100", {"archive": archive})
    httpserver.clear_all_handlers()
    httpserver.expect_request("/upstream/cifar-100-binary.tar.gz").respond_with_data(archive[::-1])
    httpserver.expect_request("/mirror/cifar-100-binary.tar.gz").respond_with_data(archive)
    monkeypatch.setitem(specs["archive"], "url", httpserver.url_for("/upstream/cifar-100-binary.tar.gz"))
    monkeypatch.setitem(specs["archive"], "mirrors", [httpserver.url_for("/mirror/cifar-100-binary.tar.gz")])
    (x_train, y_train), _ = zoo.datasets.load("cifar100")
    assert y_train.tolist() == fine[:4].tolist()
    assert cached_names(isolated_zoo) == ["cifar-100-binary.tar.gz"]  # the good copy only; the bad one went
