"""Miniature datasets in the exact upstream formats, served by a real local HTTP server.

``serve(dataset, {role: bytes})`` publishes the bytes and points ``zoo.datasets.sources.FILES[dataset]``
at them, with their real sha256 (or, for the files whose upstream publishes only an md5, their md5 and no
sha256, as in the real table). Everything then goes through the real download, verify and parse path.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from types import SimpleNamespace

import numpy as np
import pytest

from zoo.datasets import sources


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (http://yann.lecun.com/exdb/mnist/): 0, 0, type, ndim, big-endian sizes, big-endian data."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # object arrays are pickled inside the .npy members, as in Keras' files
    return buf.getvalue()


def object_array(seqs: list[list[int]]) -> np.ndarray:
    out = np.empty(len(seqs), dtype=object)
    for i, seq in enumerate(seqs):
        out[i] = list(seq)
    return out


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR binary records: label byte(s), then the 3x32x32 pixels (R, G, B planes, row-major)."""
    labels = labels.reshape(len(images), -1).astype(np.uint8)
    return np.concatenate([labels, images.reshape(len(images), -1)], axis=1).astype(np.uint8).tobytes()


@pytest.fixture
def serve(httpserver, monkeypatch):
    def publish(dataset: str, files: dict[str, bytes]) -> dict[str, dict]:
        specs = {}
        for role, data in files.items():
            real = sources.FILES[dataset][role]
            path = f"/{dataset}/{real['filename']}"
            httpserver.expect_request(path).respond_with_data(data, content_type="application/octet-stream")
            specs[role] = {
                "url": httpserver.url_for(path),
                "mirrors": [],
                "filename": real["filename"],
                "sha256": hashlib.sha256(data).hexdigest() if real["sha256"] else None,
                "md5": hashlib.md5(data).hexdigest() if real["md5"] or not real["sha256"] else None,
                "size": len(data),
            }
        monkeypatch.setitem(sources.FILES, dataset, specs)
        return specs

    return publish


@pytest.fixture
def requests_seen(httpserver):
    return lambda: len(httpserver.log)


# -- miniature data sets ------------------------------------------------------------------------------
@pytest.fixture
def mini_mnist():
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train_labels": np.array([5, 0, 4, 1, 9], np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([7, 2, 1], np.uint8),
    }
    return arrays, {role: gz(idx_bytes(a)) for role, a in arrays.items()}


@pytest.fixture
def mini_cifar10():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 3, 32, 32), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    members = {"cifar-10-batches-bin/batches.meta.txt": b"airplane\nautomobile\n"}
    for i in range(5):  # two records per training batch, in order
        sl = slice(2 * i, 2 * i + 2)
        members[f"cifar-10-batches-bin/data_batch_{i + 1}.bin"] = cifar_records(images[sl], labels[sl])
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records(images[10:], labels[10:])
    return (images, labels), tar_gz(members)


@pytest.fixture
def mini_cifar100():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    coarse = np.array([3, 19, 0, 7, 11, 2], np.uint8)
    fine = np.array([42, 99, 0, 57, 13, 88], np.uint8)
    labels = np.stack([coarse, fine], axis=1)  # a CIFAR-100 record holds <coarse><fine><pixels>
    members = {
        "cifar-100-binary/train.bin": cifar_records(images[:4], labels[:4]),
        "cifar-100-binary/test.bin": cifar_records(images[4:], labels[4:]),
        "cifar-100-binary/fine_label_names.txt": b"apple\n",
    }
    return (images, coarse, fine), tar_gz(members)


@pytest.fixture
def fmt():
    """The format writers, for tests that build their own files."""
    return SimpleNamespace(
        idx_bytes=idx_bytes,
        gz=gz,
        tar_gz=tar_gz,
        npz=npz,
        object_array=object_array,
        cifar_records=cifar_records,
    )
