"""One function per dataset: fetch (through the hub), parse the real format once, return torch tensors.

Every loader returns ``((x_train, y_train), (x_test, y_test))``, or with ``as_dataset=True`` a pair of
``torch.utils.data.Dataset`` (train, test) applying ``transform`` to x and ``target_transform`` to y.
Images are ``(N, C, H, W)`` uint8 tensors memory-mapped from ``$ZOO_HOME/datasets`` (PyTorch's layout,
where Keras gives ``(N, H, W[, C])``); class labels are ``(N,)`` int64 (Keras: uint8, ``(N, 1)`` for
CIFAR). The sequence datasets give ``x`` as a list of int lists, exactly as Keras builds them.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from zoo.datasets import archives, cache, formats, local, sources, text
from zoo.errors import ArgumentError, OptionError, ZooError

Split = tuple[Any, Any]
Transform = Callable[[Any], Any] | None


class MissingDependencyError(ZooError, ImportError):
    """An optional package a dataset needs is not installed; the message names the pip extra."""


def _options_first(loader: Callable[..., Any]) -> Callable[..., Any]:
    """Check a loader's options before anything is fetched: a wrong one must not wait for (or, offline,
    hide behind) a download. One rule per option name, for every loader that takes it."""
    signature = inspect.signature(loader)
    upper_inclusive = loader.__name__ == "reuters"  # Keras' reuters takes test_split=1 (all test)

    @functools.wraps(loader)
    def checked(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        _check_options(bound.arguments, upper_inclusive)
        return loader(*args, **kwargs)

    return checked


def _check_options(options: dict[str, Any], upper_inclusive: bool) -> None:
    def is_int(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))

    for name in ("as_dataset", "progress"):
        value = options.get(name)
        if not (isinstance(value, bool) or (value is None and name == "progress")):
            raise OptionError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    for name in ("transform", "target_transform"):
        value = options.get(name)
        if value is not None and not callable(value):
            raise OptionError(f"{name} must be a callable (a torchvision transform, a function) or None, got {value!r}.")
    if not options.get("as_dataset") and (options.get("transform") is not None or options.get("target_transform") is not None):
        raise ArgumentError("transform and target_transform apply to datasets: pass as_dataset=True as well.")
    if "seed" in options and not (is_int(options["seed"]) and 0 <= options["seed"] < 2**32):
        raise OptionError(  # Keras shuffles with numpy's RandomState(seed), which takes no other seed
            f"seed must be an int from 0 to 2**32 - 1, got {options['seed']!r} ({type(options['seed']).__name__})."
        )
    for name in ("start_char", "oov_char"):
        if options.get(name) is not None and not (is_int(options[name]) and options[name] >= 0):
            raise OptionError(f"{name} must be a non-negative int (a word index) or None, got {options[name]!r}.")
    if options.get("from_dir") is not None:
        local.check_folder(options["from_dir"], "from_dir")
    if "num_words" in options:
        text.check_options(options["num_words"], options["skip_top"], options["maxlen"], options["index_from"])
    if "test_split" in options:
        text.check_split(options["test_split"], upper_inclusive=upper_inclusive)
    if "label_mode" in options and options["label_mode"] not in ("fine", "coarse"):
        raise OptionError(f'label_mode must be one of "fine", "coarse". Received: label_mode={options["label_mode"]!r}.')


def _finish(
    train: Split, test: Split, as_dataset: bool, transform: Transform, target_transform: Transform
) -> tuple[Any, Any]:
    if not as_dataset:
        return train, test
    from zoo.datasets.torchdata import SequenceDataset, TensorPairDataset

    def wrap(split: Split):
        x, y = split
        cls = TensorPairDataset if isinstance(x, torch.Tensor) else SequenceDataset
        return cls(x, y, transform=transform, target_transform=target_transform)

    return wrap(train), wrap(test)


def _labels(y: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64).reshape(-1))


# -- IDX image sets ------------------------------------------------------------------------------------
def _idx_images(
    name: str, progress: bool | None, local_files: dict[str, local.LocalFile] | None = None
) -> tuple[Split, Split]:
    """The four IDX files, fetched through the hub or (``local_files``) verified in a local folder.

    Either way they are parsed into the same derived folder, under the same key, so after a ``from_dir``
    import an ordinary ``load(name)`` reads the arrays without asking for the files again."""

    def source(role: str):
        return local_files[role].path if local_files else cache.fetch(name, role, progress)

    def build(tmp):
        for role in local.IDX_ROLES:
            formats.idx_to_npy(source(role), tmp / f"{role}.npy")
        for split in ("train", "test"):
            images, labels = (
                cache.open_array(tmp, f"{split}_images"),
                cache.open_array(tmp, f"{split}_labels"),
            )
            if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
                raise formats.FormatError(
                    f"{name}: {split} images {images.shape} and labels {labels.shape} do not match."
                )

    # An import re-hashes arrays already there: importing again is how a user repairs them.
    folder = cache.derived(name, cache.key(name, local.IDX_ROLES), build, rehash=bool(local_files))
    if local_files:
        _keep_upstream_files(name, local_files)
    out = []
    for split in ("train", "test"):
        images = torch.from_numpy(cache.open_array(folder, f"{split}_images")).unsqueeze(1)
        out.append((images, _labels(cache.open_array(folder, f"{split}_labels"))))
    return out[0], out[1]


def _keep_upstream_files(name: str, files: dict[str, local.LocalFile]) -> None:
    """Byte-identical upstream ``.gz`` files also go into the hub's cache, where ``zoo cache list`` shows
    them and a rebuild of the arrays finds them; a recompressed or unpacked copy has no place there (the
    hub keys files by the upstream digest), its arrays are what is kept."""
    from zoo import hub

    for role, file in files.items():
        spec = cache.spec(name, role)
        if file.is_upstream_gz and hub.cached_path(sha256=spec["sha256"], filename=spec["filename"]) is None:
            hub.add_file(file.path, sha256=spec["sha256"], filename=spec["filename"])


def import_folder(name: str, folder: str | os.PathLike[str]) -> list[local.LocalFile]:
    """Import an IDX dataset from a local folder into the cache (what ``from_dir=`` does, and
    ``zoo cache add DIR --dataset NAME``); returns the verified files."""
    files = local.verified(name, folder)
    _idx_images(name, None, files)
    return list(files.values())


def _from(name: str, from_dir: str | os.PathLike[str] | None) -> dict[str, local.LocalFile] | None:
    return None if from_dir is None else local.verified(name, from_dir)


@_options_first
def mnist(
    *, from_dir: str | os.PathLike[str] | None = None, as_dataset: bool = False, transform: Transform = None,
    target_transform: Transform = None, progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """MNIST handwritten digits: x ``(N, 1, 28, 28)`` uint8, y ``(N,)`` int64; 60,000 train, 10,000 test.

    ``from_dir`` imports a local copy instead of downloading: a folder holding the four IDX files (upstream
    ``.gz`` or unpacked, either name style), or torchvision's root (``<from_dir>/MNIST/raw``)."""
    splits = _idx_images("mnist", progress, _from("mnist", from_dir))
    return _finish(*splits, as_dataset, transform, target_transform)


@_options_first
def fashion_mnist(
    *, from_dir: str | os.PathLike[str] | None = None, as_dataset: bool = False, transform: Transform = None,
    target_transform: Transform = None, progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """Fashion-MNIST: x ``(N, 1, 28, 28)`` uint8, y ``(N,)`` int64; 60,000 train, 10,000 test.

    ``from_dir`` as for :func:`mnist` (torchvision's ``FashionMNIST/raw``, or Debian's
    ``/usr/share/datasets/fashion-mnist``)."""
    splits = _idx_images("fashion_mnist", progress, _from("fashion_mnist", from_dir))
    return _finish(*splits, as_dataset, transform, target_transform)


# -- CIFAR ---------------------------------------------------------------------------------------------
_CIFAR_LAYOUT = {
    # name: (folder in the archive, train files, test files, label bytes per record)
    "cifar10": ("cifar-10-batches-bin", [f"data_batch_{i}.bin" for i in range(1, 6)], ["test_batch.bin"], 1),
    "cifar100": ("cifar-100-binary", ["train.bin"], ["test.bin"], 2),
}


def _cifar(name: str, label_column: int, progress: bool | None) -> tuple[Split, Split]:
    subdir, train_files, test_files, label_bytes = _CIFAR_LAYOUT[name]
    spec = cache.spec(name, "archive")

    def build(tmp):
        archive = cache.fetch(name, "archive", progress)
        archive_hash = spec.get("sha256") or f"md5:{spec.get('md5')}"
        extracted = archives.extract(archive, cache.root() / name / "extracted", archive_hash=archive_hash)
        for split, files in (("train", train_files), ("test", test_files)):
            paths = [extracted / subdir / f for f in files]
            missing = [p.name for p in paths if not p.is_file()]
            if missing:
                raise formats.FormatError(
                    f"{archive.name} lacks {subdir}/{missing[0]}; is it the binary version?"
                )
            formats.cifar_to_npy(paths, label_bytes, tmp / f"{split}_images.npy", tmp / f"{split}_labels.npy")

    folder = cache.derived(name, cache.key(name, ["archive"]), build)

    def split(which: str) -> Split:
        labels = cache.open_array(folder, f"{which}_labels")[:, label_column]
        return torch.from_numpy(cache.open_array(folder, f"{which}_images")), _labels(labels)

    return split("train"), split("test")


@_options_first
def cifar10(
    *, as_dataset: bool = False, transform: Transform = None, target_transform: Transform = None,
    progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """CIFAR-10: x ``(N, 3, 32, 32)`` uint8, y ``(N,)`` int64; 50,000 train, 10,000 test."""
    return _finish(*_cifar("cifar10", 0, progress), as_dataset, transform, target_transform)


@_options_first
def cifar100(
    label_mode: str = "fine", *, as_dataset: bool = False, transform: Transform = None,
    target_transform: Transform = None, progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """CIFAR-100: x ``(N, 3, 32, 32)`` uint8, y ``(N,)`` int64 fine (0-99) or coarse (0-19) labels."""
    column = 0 if label_mode == "coarse" else 1  # a binary record holds <coarse><fine><pixels>
    return _finish(*_cifar("cifar100", column, progress), as_dataset, transform, target_transform)


# -- sequences -----------------------------------------------------------------------------------------
def _npz(name: str, keys: tuple[str, ...], progress: bool | None) -> dict[str, np.ndarray]:
    path = cache.fetch(name, "data", progress)
    arrays = formats.load_npz(path)
    formats.require(arrays, keys, path.name)
    return arrays


@_options_first
def imdb(
    *, num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None, seed: int = 113,
    start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3, as_dataset: bool = False,
    transform: Transform = None, target_transform: Transform = None, progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """IMDB reviews as word-index lists with Keras' options; y ``(N,)`` int64 sentiment (0/1)."""
    arrays = _npz("imdb", ("x_train", "y_train", "x_test", "y_test"), progress)
    (xtr, ytr), (xte, yte) = text.imdb(
        arrays, num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
        start_char=start_char, oov_char=oov_char, index_from=index_from,
    )  # fmt: skip
    return _finish((xtr, _labels(ytr)), (xte, _labels(yte)), as_dataset, transform, target_transform)


@_options_first
def reuters(
    *, num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None, test_split: float = 0.2,
    seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
    as_dataset: bool = False, transform: Transform = None, target_transform: Transform = None,
    progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """Reuters newswires as word-index lists with Keras' options; y ``(N,)`` int64 topic (0-45)."""
    arrays = _npz("reuters", ("x", "y"), progress)
    (xtr, ytr), (xte, yte) = text.reuters(
        arrays, num_words=num_words, skip_top=skip_top, maxlen=maxlen, test_split=test_split, seed=seed,
        start_char=start_char, oov_char=oov_char, index_from=index_from,
    )  # fmt: skip
    return _finish((xtr, _labels(ytr)), (xte, _labels(yte)), as_dataset, transform, target_transform)


def get_word_index(name: str, progress: bool | None = None) -> dict[str, int]:
    """The word -> index mapping of ``imdb`` or ``reuters`` (indices before ``index_from`` is added)."""
    if "word_index" not in sources.FILES.get(name, {}):
        having = sorted(n for n, files in sources.FILES.items() if "word_index" in files)
        raise ZooError(f"dataset {name!r} has no word index; datasets with one: {', '.join(having)}.")
    path = cache.fetch(name, "word_index", progress)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise formats.FormatError(f"{path.name} is not valid JSON ({exc}).") from exc
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise formats.FormatError(f"{path.name} is not a mapping of words to integer indices.")
    return index


# -- tables --------------------------------------------------------------------------------------------
def _split_arrays(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple[Split, Split]:
    """Keras' boston_housing split: shuffle with ``RandomState(seed)``, the last fraction is the test set."""
    text.check_split(test_split)
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    idx = int(len(x) * (1 - test_split))
    return (x[:idx], y[:idx]), (x[idx:], y[idx:])


@_options_first
def boston_housing(
    *, test_split: float = 0.2, seed: int = 113, as_dataset: bool = False, transform: Transform = None,
    target_transform: Transform = None, progress: bool | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """Boston housing: x ``(N, 13)`` float32 attributes, y ``(N,)`` float32 median value in k$."""
    arrays = _npz("boston_housing", ("x", "y"), progress)
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise formats.FormatError(
            f"boston_housing.npz holds x {x.shape} and y {y.shape}; expected (N, 13), (N,)."
        )
    (xtr, ytr), (xte, yte) = _split_arrays(x, y, test_split, seed)

    def f32(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    return _finish((f32(xtr), f32(ytr)), (f32(xte), f32(yte)), as_dataset, transform, target_transform)


@_options_first
def digits(
    *, test_split: float = 0.2, seed: int = 113, as_dataset: bool = False, transform: Transform = None,
    target_transform: Transform = None,
) -> tuple[Any, Any]:  # fmt: skip
    """scikit-learn's 8x8 digits (offline): x ``(N, 1, 8, 8)`` uint8 in 0-16, y ``(N,)`` int64.

    Split like boston_housing: shuffled with ``RandomState(seed)``, the last ``test_split`` is the test set."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise MissingDependencyError(
            "the digits dataset comes from scikit-learn, which is not installed: pip install zoo-platform[digits]"
        ) from exc
    bunch = load_digits()
    x = bunch.images.astype(np.uint8)[:, None]
    (xtr, ytr), (xte, yte) = _split_arrays(x, bunch.target, test_split, seed)
    train = (torch.from_numpy(np.ascontiguousarray(xtr)), _labels(ytr))
    test = (torch.from_numpy(np.ascontiguousarray(xte)), _labels(yte))
    return _finish(train, test, as_dataset, transform, target_transform)
