"""MNIST-style datasets imported from a local folder (``from_dir=`` / ``zoo cache add DIR --dataset``).

Miniature IDX files are generated in every shape users hold them in; ``FILES`` is pointed at their real
digests, so the same verification runs as for the real files. One test imports the real shared MNIST.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
import zoo.datasets
from zoo.cli import main
from zoo.datasets import local, sources
from zoo.errors import IntegrityError, ZooError

from .conftest import gz, idx_bytes

#: The real MNIST (recompressed IDX files); read at import, before the fixtures clear ZOO_* variables.
# The project's shared/ folder sits beside the checkout (CI lays a copy there too); /work/shared for worktrees.
REAL_MNIST = next(
    (p for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist", Path("/work/shared/data/mnist"))
     if p.is_dir()),
    Path("/work/shared/data/mnist"),
) if not os.environ.get("ZOO_TEST_MNIST_DIR") else Path(os.environ["ZOO_TEST_MNIST_DIR"])  # fmt: skip


@pytest.fixture
def mini(mini_mnist, monkeypatch):
    """The mini MNIST with its upstream-style .gz digests and raw IDX digests in FILES."""
    arrays, gzipped = mini_mnist
    raws = {role: idx_bytes(a) for role, a in arrays.items()}
    specs = {}
    for role, spec in sources.FILES["mnist"].items():
        specs[role] = {
            **spec,
            "sha256": hashlib.sha256(gzipped[role]).hexdigest(),
            "raw_sha256": hashlib.sha256(raws[role]).hexdigest(),
            "size": len(gzipped[role]),
        }
    monkeypatch.setitem(sources.FILES, "mnist", specs)
    return arrays, gzipped, raws


def write(folder: Path, files: dict[str, bytes], name_of) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, data in files.items():
        (folder / name_of(sources.FILES["mnist"][role]["filename"])).write_bytes(data)
    return folder


def recompress(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=123456)  # another header and stream than upstream


def _upstream(name: str) -> str:
    return name


def _unpacked(name: str) -> str:
    return name.removesuffix(".gz")


def _dotted(name: str) -> str:
    return name.removesuffix(".gz").replace("-idx", ".idx")


@pytest.mark.parametrize(
    "shape, expected_by",
    [
        ("upstream .gz", local.UPSTREAM_GZ),
        ("unpacked", local.RAW_IDX),
        ("dotted names", local.RAW_IDX),
        ("torchvision root, recompressed", local.RAW_IDX),
    ],
)
def test_every_shape_imports_verifies_and_later_loads_are_ordinary(
    shape, expected_by, mini, tmp_path, monkeypatch
):
    arrays, gzipped, raws = mini
    if shape == "upstream .gz":
        folder = write(tmp_path, gzipped, _upstream)
    elif shape == "unpacked":
        folder = write(tmp_path / "raw", raws, _unpacked).parent
    elif shape == "dotted names":
        folder = write(tmp_path, raws, _dotted)
    else:
        write(tmp_path / "MNIST" / "raw", {r: recompress(d) for r, d in raws.items()}, _upstream)
        folder = tmp_path

    files = zoo.datasets.import_folder("MNIST", folder)
    assert {f.role for f in files} == set(local.IDX_ROLES)
    assert {f.verified_by for f in files} == {expected_by}
    # Only byte-identical upstream files enter the hub's cache (keyed by the upstream digest).
    in_hub = [
        zoo.hub.cached_path(sha256=s["sha256"], filename=s["filename"])
        for s in sources.FILES["mnist"].values()
    ]
    assert all(p is not None for p in in_hub) == (expected_by == local.UPSTREAM_GZ)
    assert any(p is not None for p in in_hub) == (expected_by == local.UPSTREAM_GZ)

    monkeypatch.setenv("ZOO_OFFLINE", "1")  # an ordinary load may not download anything
    (x, y), (xt, yt) = zoo.datasets.load("mnist")
    assert torch.equal(x[:, 0], torch.from_numpy(arrays["train_images"]))
    assert torch.equal(xt[:, 0], torch.from_numpy(arrays["test_images"]))
    assert y.tolist() == [5, 0, 4, 1, 9] and yt.tolist() == [7, 2, 1]


def test_file_names_are_looked_for_in_both_styles():
    assert local.candidate_names("train-images-idx3-ubyte.gz") == [
        "train-images-idx3-ubyte.gz",
        "train-images-idx3-ubyte",
        "train-images.idx3-ubyte",
        "train-images.idx3-ubyte.gz",
    ]


def test_load_with_from_dir_returns_the_data(mini, tmp_path):
    arrays, _, raws = mini
    write(tmp_path, raws, _unpacked)
    (x, y), _ = zoo.datasets.load("mnist", from_dir=tmp_path)
    assert torch.equal(x[:, 0], torch.from_numpy(arrays["train_images"])) and y.tolist() == [5, 0, 4, 1, 9]


def test_a_changed_byte_is_an_integrity_error_naming_the_file(mini, tmp_path, isolated_zoo):
    _, gzipped, raws = mini
    bad = bytearray(raws["test_labels"])
    bad[-1] ^= 1
    write(tmp_path, {**gzipped, "test_labels": recompress(bytes(bad))}, _upstream)
    with pytest.raises(IntegrityError, match=r"t10k-labels-idx1-ubyte\.gz is not mnist's t10k-labels"):
        zoo.datasets.load("mnist", from_dir=tmp_path)
    assert not (isolated_zoo / "datasets" / "mnist").exists()  # nothing was built from unverified files


def test_damaged_gzip_is_an_integrity_error(mini, tmp_path):
    _, gzipped, _ = mini
    write(tmp_path, {**gzipped, "train_images": gzipped["train_images"][:-9]}, _upstream)
    with pytest.raises(IntegrityError, match="train-images-idx3-ubyte.gz is a damaged gzip file"):
        zoo.datasets.load("mnist", from_dir=tmp_path)


def test_another_datasets_file_is_named_as_such(mini, tmp_path, monkeypatch):
    _, gzipped, raws = mini
    fashion = {role: {**spec} for role, spec in sources.FILES["fashion_mnist"].items()}
    fashion["train_labels"]["raw_sha256"] = hashlib.sha256(b"fashion labels").hexdigest()
    monkeypatch.setitem(sources.FILES, "fashion_mnist", fashion)
    write(tmp_path, {**gzipped, "train_labels": gz(b"fashion labels")}, _upstream)
    with pytest.raises(IntegrityError, match="It is fashion_mnist's train_labels"):
        zoo.datasets.import_folder("mnist", tmp_path)


def test_wrong_folders_say_what_is_missing(mini, tmp_path):
    _, gzipped, _ = mini
    with pytest.raises(ZooError, match="is not a folder"):
        zoo.datasets.load("mnist", from_dir=tmp_path / "nowhere")
    with pytest.raises(ZooError, match=r"no mnist files in .*MNIST/raw"):
        zoo.datasets.load("mnist", from_dir=tmp_path)
    write(tmp_path, {r: d for r, d in gzipped.items() if r != "train_labels"}, _upstream)
    with pytest.raises(ZooError, match="only part of mnist: train-labels-idx1-ubyte"):
        zoo.datasets.load("mnist", from_dir=tmp_path)
    with pytest.raises(ZooError, match=r"IDX datasets \(mnist, fashion_mnist\); 'cifar10'"):
        zoo.datasets.import_folder("cifar10", tmp_path)


def test_cli_cache_add_dataset(mini, tmp_path, capsys, monkeypatch):
    arrays, _, raws = mini
    write(tmp_path, raws, _dotted)
    assert main(["cache", "add", str(tmp_path), "--dataset", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "train-images.idx3-ubyte (matches the raw IDX sha256)" in out
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    (x, _), _ = zoo.datasets.load("mnist")
    assert torch.equal(x[:, 0], torch.from_numpy(arrays["train_images"]))

    assert main(["cache", "add", str(tmp_path), "--dataset", "mnist", "--sha256", "abcdef12"]) == 1
    assert "--hash do not apply with --dataset" in capsys.readouterr().err
    assert main(["cache", "add", str(tmp_path), "--dataset", "mnsit"]) == 1
    assert "Did you mean: mnist" in capsys.readouterr().err


def test_published_digests_are_complete_for_the_idx_datasets():
    for name in local.idx_datasets():
        for spec in sources.FILES[name].values():
            assert len(spec["sha256"]) == 64 and len(spec["raw_sha256"]) == 64
            assert spec["raw_size"] in (47_040_016, 60_008, 7_840_016, 10_008)
    assert local.idx_datasets() == ["mnist", "fashion_mnist"]


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="the shared real MNIST is not on this machine")
def test_the_real_mnist_imports_by_its_raw_digests():
    files = zoo.datasets.import_folder("mnist", REAL_MNIST)
    assert {f.verified_by for f in files} == {local.RAW_IDX}  # recompressed: only the contents match
    (x, y), (xt, yt) = zoo.datasets.load("mnist")
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the README's first labels
    assert yt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y.numpy()).tolist()[:2] == [5923, 6742]  # MNIST's published class counts
