"""Finding and verifying an IDX dataset (MNIST, Fashion-MNIST) in a folder the user already holds.

Users hold these files in several shapes: torchvision's ``<root>/MNIST/raw/`` (or ``FashionMNIST/raw``),
the four upstream ``.gz`` files, the same unpacked (``train-images-idx3-ubyte``) or with the dotted names
of LeCun's site unpacked on Windows (``train-images.idx3-ubyte``), or recompressed by a packager (Debian's
``dataset-fashion-mnist``, whose gzip headers differ from upstream). A file is accepted when its bytes hash
to the upstream ``.gz`` sha256, or its IDX contents (decompressed if gzipped) hash to the raw sha256 in
:mod:`zoo.datasets.sources`; anything else is an :class:`~zoo.errors.IntegrityError` naming the file.

Standard library only; the loaders turn the verified files into the cached arrays.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from zoo.datasets import sources
from zoo.errors import IntegrityError, OptionError, ZooError

#: The IDX files an MNIST-style dataset is made of, in the order they are looked for.
IDX_ROLES = ("train_images", "train_labels", "test_images", "test_labels")
#: torchvision's folder names: ``torchvision.datasets.MNIST(root)`` keeps its files in ``root/MNIST/raw``.
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
_CHUNK = 1 << 20

UPSTREAM_GZ = "upstream .gz sha256"
RAW_IDX = "raw IDX sha256"


@dataclass(frozen=True)
class LocalFile:
    """One verified file: which role it plays, where it is, and which digest it matched."""

    role: str
    path: Path
    verified_by: str  # UPSTREAM_GZ or RAW_IDX

    @property
    def is_upstream_gz(self) -> bool:
        return self.verified_by == UPSTREAM_GZ


def idx_datasets() -> list[str]:
    """The datasets ``from_dir`` can import: those made of the four IDX files."""
    return [name for name, files in sources.FILES.items() if set(IDX_ROLES) <= set(files)]


def candidate_names(filename: str) -> list[str]:
    """The names a file goes by: ``train-images-idx3-ubyte`` with or without ``.gz``, and the dotted
    ``train-images.idx3-ubyte`` style."""
    stem = filename.removesuffix(".gz")
    head, _, tail = stem.rpartition("-idx")
    dotted = f"{head}.idx{tail}" if head else stem
    return list(dict.fromkeys([f"{stem}.gz", stem, dotted, f"{dotted}.gz"]))


def find(dataset: str, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The path of each of ``dataset``'s four files under ``folder`` (itself, ``raw/`` or torchvision's
    ``<Name>/raw/``): the first folder holding any of them must hold all four."""
    _check_dataset(dataset)
    check_folder(folder)
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ZooError(
            f"from_dir={str(folder)!r} is not a folder; give the folder that holds the {dataset} files "
            f"(e.g. torchvision's root, or its {TORCHVISION_FOLDERS.get(dataset, dataset)}/raw)."
        )
    specs = sources.FILES[dataset]
    places = [root, root / "raw", root / TORCHVISION_FOLDERS.get(dataset, dataset) / "raw"]
    for place in places:
        found: dict[str, Path] = {}
        for role in IDX_ROLES:
            hit = next(
                (place / n for n in candidate_names(specs[role]["filename"]) if (place / n).is_file()), None
            )
            if hit is not None:
                found[role] = hit
        if len(found) == len(IDX_ROLES):
            return found
        if found:
            missing = [specs[r]["filename"].removesuffix(".gz") for r in IDX_ROLES if r not in found]
            raise ZooError(
                f"{place} holds only part of {dataset}: {', '.join(missing)} (.gz or not) is missing."
            )
    wanted = ", ".join(specs[r]["filename"] for r in IDX_ROLES)
    raise ZooError(
        f"no {dataset} files in {root} (looked in {', '.join(str(p) for p in places)}); expected {wanted}, "
        "gzipped or not, or with dotted names such as train-images.idx3-ubyte."
    )


def verify(dataset: str, role: str, path: Path) -> LocalFile:
    """Check one file against the upstream ``.gz`` digest, then against the raw IDX digest."""
    spec = sources.FILES[dataset][role]
    gzipped = _is_gzip(path)
    whole = _sha256_file(path)
    if gzipped and whole == spec.get("sha256"):
        return LocalFile(role, path, UPSTREAM_GZ)
    contents = _sha256_contents(path) if gzipped else whole
    if contents == spec.get("raw_sha256"):
        return LocalFile(role, path, RAW_IDX)
    found = f"sha256 {whole}" + (f", decompressed {contents}" if gzipped else "")
    raise IntegrityError(
        f"{path} is not {dataset}'s {spec['filename'].removesuffix('.gz')}: it has {found}, but the upstream "
        f".gz has {spec.get('sha256')} and the IDX file {spec.get('raw_sha256')}."
        + _whose(dataset, role, {whole, contents})
    )


def verified(dataset: str, folder: str | os.PathLike[str]) -> dict[str, LocalFile]:
    """Find ``dataset``'s four files under ``folder`` and verify each (see :func:`verify`)."""
    return {role: verify(dataset, role, path) for role, path in find(dataset, folder).items()}


def check_folder(value: object, argument: str = "folder") -> None:
    """A folder is given as a path; anything else (None, a number) would reach pathlib as a raw TypeError."""
    if not isinstance(value, (str, os.PathLike)):
        raise OptionError(
            f"{argument} must be the path of a folder (a str or pathlib.Path), got {value!r} ({type(value).__name__})."
        )
    if os.fspath(value) == "":
        raise OptionError(f"{argument} is an empty path; give the folder (\".\" for the current one).")


def _check_dataset(dataset: str) -> None:
    if dataset not in idx_datasets():
        raise ZooError(
            f"from_dir imports the IDX datasets ({', '.join(idx_datasets())}); {dataset!r} is not one of them."
        )


def _whose(dataset: str, role: str, digests: set[str]) -> str:
    """A hint when the file is another dataset's (MNIST and Fashion-MNIST share their file names)."""
    for other in idx_datasets():
        for other_role, spec in sources.FILES[other].items():
            known = {spec.get("sha256"), spec.get("raw_sha256")}
            if (other, other_role) != (dataset, role) and digests & known:
                return f" It is {other}'s {other_role}: is the folder the right dataset's?"
    return " The file is damaged, or another version; a fresh copy of it fixes this."


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_contents(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise IntegrityError(
            f"{path} is a damaged gzip file ({exc}); a fresh copy of it fixes this."
        ) from exc
    return digest.hexdigest()
