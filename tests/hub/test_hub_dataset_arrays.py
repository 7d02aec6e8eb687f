"""The datasets' derived arrays are part of the cache: digests recorded when written, re-hashed by
``zoo cache verify`` and by an import, sizes checked on every load; and the cache CLI's messages for a
short sha256 prefix, a folder without ``--dataset`` and a negative ``--size``.

The arrays are built from the real MNIST (the shared, recompressed IDX files), then damaged the way the
reviewer did: the first training label (byte 128 of ``train_labels.npy``, after the .npy header) set to 9.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import zoo
import zoo.datasets
from zoo.cli import main
from zoo.datasets import cache
from zoo.hub.store import Store

from .conftest import payload, sha

# As tests/datasets/test_datasets_local.py finds it: the project's shared/ beside the checkout, else /work/shared.
REAL_MNIST = next(
    (p for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist", Path("/work/shared/data/mnist"))
     if p.is_dir()),
    Path("/work/shared/data/mnist"),
) if not os.environ.get("ZOO_TEST_MNIST_DIR") else Path(os.environ["ZOO_TEST_MNIST_DIR"])  # fmt: skip
needs_mnist = pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="the shared real MNIST is not on this machine")
FIRST_LABELS = [5, 0, 4, 1, 9]  # the shared README's first training labels


def arrays_folder() -> Path:
    (folder,) = cache.folders()
    return folder


def damage_first_label(folder: Path) -> None:
    path = folder / "train_labels.npy"
    with open(path, "r+b") as f:  # same size: only a re-hash can tell
        f.seek(128)
        assert f.read(1) == b"\x05"
        f.seek(128)
        f.write(b"\x09")


def first_labels() -> list[int]:
    (_, y), _ = zoo.datasets.load("mnist")
    return y[:5].tolist()


def verify(capsys, *args: str) -> tuple[int, str]:
    code = main(["cache", "verify", *args])
    return code, capsys.readouterr().out


@needs_mnist
def test_damaged_arrays_are_found_by_verify_and_rebuilt_by_a_reimport(capsys, monkeypatch):
    assert main(["cache", "add", str(REAL_MNIST), "--dataset", "mnist"]) == 0
    capsys.readouterr()
    folder = arrays_folder()
    marker = json.loads((folder / ".complete").read_text())["files"]
    assert set(marker) == {f"{r}.npy" for r in ("train_images", "train_labels", "test_images", "test_labels")}
    assert all(len(r["sha256"]) == 64 and r["size"] == (folder / n).stat().st_size for n, r in marker.items())
    code, out = verify(capsys)
    assert code == 0 and "4 checked, 0 damaged" in out

    damage_first_label(folder)
    assert first_labels()[0] == 9  # a load checks sizes only (re-hashing 55 MB per load is too slow)
    code, out = verify(capsys)
    assert code == 1 and "4 checked, 1 damaged" in out
    assert f"DAMAGED  datasets/mnist/{folder.name}/train_labels.npy  expected sha256 {marker['train_labels.npy']['sha256']}" in out

    # Importing again re-hashes what is there and rebuilds what does not match.
    assert main(["cache", "add", str(REAL_MNIST), "--dataset", "mnist"]) == 0
    assert first_labels() == FIRST_LABELS
    assert verify(capsys)[0] == 0

    damage_first_label(folder)
    zoo.datasets.load("mnist", from_dir=REAL_MNIST)  # from_dir is the same import
    assert first_labels() == FIRST_LABELS


@needs_mnist
def test_verify_fix_removes_a_damaged_folder_and_the_next_import_builds_it(capsys):
    zoo.datasets.import_folder("mnist", REAL_MNIST)
    folder = arrays_folder()
    damage_first_label(folder)
    code, out = verify(capsys, "--fix")
    assert code == 0 and "1 damaged; all removed" in out and f"removed datasets/mnist/{folder.name}" in out
    assert not folder.exists() and cache.folders() == []
    assert verify(capsys) == (0, "0 checked, 0 damaged\n")
    zoo.datasets.import_folder("mnist", REAL_MNIST)
    assert first_labels() == FIRST_LABELS and verify(capsys)[0] == 0


@needs_mnist
def test_a_marker_without_digests_is_rebuilt_not_trusted(capsys, monkeypatch):
    """A folder whose marker records only sizes (as zoo wrote them before digests) cannot be verified."""
    zoo.datasets.import_folder("mnist", REAL_MNIST)
    folder = arrays_folder()
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.suffix == ".npy"}
    (folder / ".complete").write_text(json.dumps(sizes))
    code, out = verify(capsys)
    assert code == 1 and f"DAMAGED  datasets/mnist/{folder.name}/.complete  no sha256 recorded" in out
    damage_first_label(folder)
    # Not trusted on a load either: it is rebuilt, which offline needs the hub's copy (these recompressed
    # files have none) or the folder imported again; the damaged labels are never served.
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(zoo.OfflineError):
        zoo.datasets.load("mnist")
    zoo.datasets.import_folder("mnist", REAL_MNIST)
    assert first_labels() == FIRST_LABELS and verify(capsys)[0] == 0


@needs_mnist
def test_an_array_cut_short_is_rebuilt_on_an_ordinary_load(capsys, monkeypatch):
    zoo.datasets.import_folder("mnist", REAL_MNIST)
    folder = arrays_folder()
    with open(folder / "train_labels.npy", "r+b") as f:
        f.truncate(1000)
    code, out = verify(capsys)
    assert code == 1 and "train_labels.npy  has 1000 bytes, 60128 were written" in out
    # The recompressed files are not in the hub's cache, so offline the rebuild needs the folder again...
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(zoo.OfflineError):
        zoo.datasets.load("mnist")
    assert (folder / "train_labels.npy").stat().st_size == 1000  # ...and a failed rebuild serves nothing
    zoo.datasets.load("mnist", from_dir=REAL_MNIST)
    assert first_labels() == FIRST_LABELS


def test_verify_with_names_checks_only_those_downloads(capsys, tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(payload(3000, seed=7))
    zoo.hub.add_file(source)
    folder = cache.root() / "mnist" / "0123456789abcdef"  # a damaged derived folder beside it
    folder.mkdir(parents=True)
    (folder / ".complete").write_text("{}")
    code, out = verify(capsys, "weights.bin")
    assert code == 0 and out.endswith("1 checked, 0 damaged\n")
    code, out = verify(capsys)
    assert code == 1 and "datasets/mnist/0123456789abcdef/.complete" in out


# -- messages of the cache CLI ---------------------------------------------------------------------------
def test_a_short_sha256_prefix_says_it_needs_eight_digits(capsys, tmp_path):
    data = payload(2000, seed=3)
    source = tmp_path / "model.pth"
    source.write_bytes(data)
    zoo.hub.add_file(source)
    for command in ("remove", "verify"):
        assert main(["cache", command, sha(data)[:4]]) == 1
        err = capsys.readouterr().err
        assert "a sha256 prefix needs at least 8 digits, not 4" in err and sha(data)[:8] in err
        assert len(err.strip().splitlines()) == 1
    assert main(["cache", "remove", "zz"]) == 1
    assert "no cached file named 'zz' (nor with that sha256 prefix)" in capsys.readouterr().err
    assert main(["cache", "remove", sha(data)[:8]]) == 0  # eight digits select it
    assert "removed model.pth" in capsys.readouterr().out


def test_a_folder_without_dataset_points_to_dataset(capsys, tmp_path):
    assert main(["cache", "add", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path} is a folder" in err and "--dataset NAME (mnist or fashion_mnist)" in err
    assert "neither a URL" not in err
    assert main(["cache", "add", str(tmp_path / "missing.bin")]) == 1
    assert "neither a URL nor an existing file" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-5", "1.5", "lots"])
def test_a_size_that_is_not_a_byte_count_is_a_usage_error_before_anything(value, capsys, tmp_path, home):
    source = tmp_path / "file.bin"
    source.write_bytes(b"12345")
    assert main(["cache", "add", str(source), "--size", value]) == 1
    err = capsys.readouterr().err
    assert f"argument --size: invalid byte count '{value}': give a whole number >= 0" in err
    assert not (home / "blobs").exists()  # refused before the cache was touched
    assert main(["cache", "add", "http://127.0.0.1:9/file.bin", "--size", value]) == 1  # no request either
    assert "argument --size" in capsys.readouterr().err


def test_a_local_file_of_another_size_never_enters_the_cache(capsys, tmp_path, home):
    source = tmp_path / "file.bin"
    source.write_bytes(b"12345")
    assert main(["cache", "add", str(source), "--size", "9"]) == 1
    assert "has 5 bytes, expected 9; it is not the file wanted" in capsys.readouterr().err
    assert list(Store(home).entries()) == []
    with pytest.raises(zoo.OptionError, match="size must be a byte count"):
        zoo.hub.add_file(source, size=-1)
    assert main(["cache", "add", str(source), "--size", "5"]) == 0
    assert capsys.readouterr().out.strip().endswith("file.bin")
