"""zoo's one saved-model format: a folder (or a zip of one) that a person can read and no loader unpickles.

::

    my-model/
      config.json         what to build: {"format": "zoo-saved-model", "format_version": 1, "kind": ..., ...}
      model.safetensors   the weights (safetensors: tensors only, never code)
      README.md           a model card: what it is, its metrics, data and licence, and how to load it

``kind`` says which loader rebuilds the model: ``"application"`` (``zoo.save_pretrained`` of a ``zoo.load``
model: the application's name and load options) here; the Keras-style models register theirs
(``register_loader``). ``zoo.load(DIR)`` and ``zoo.load("local-dir:DIR")`` read any kind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.atomic import atomic_folder, atomic_path, check_parent
from zoo.errors import MissingFileError, SavedModelError, ZooError

FORMAT = "zoo-saved-model"
FORMAT_VERSION = 1
CONFIG, WEIGHTS, CARD = "config.json", "model.safetensors", "README.md"
PREFIX = "local-dir:"

Loader = Callable[["SavedModel", dict[str, Any]], Any]
_LOADERS: dict[str, Loader] = {}


@dataclass(frozen=True)
class SavedModel:
    """A saved model as read back: its config and where its files are."""

    folder: Path
    config: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.config["kind"]

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS


def register_loader(kind: str, loader: Loader) -> None:
    """``loader(saved, overrides) -> model`` rebuilds saved models of ``kind``."""
    _LOADERS[kind] = loader


def save_folder(path: str | os.PathLike[str], *, config: Mapping[str, Any], state_dict: Mapping[str, Any],
                card: str, overwrite: bool = True) -> Path:  # fmt: skip
    """Write ``path`` (a folder; ``.zip`` makes a zip of it) whole or not at all: the files are written into a
    temporary folder beside it, which then takes its place (:mod:`zoo.atomic`)."""
    from safetensors.torch import save_file

    target = Path(path).expanduser()
    if target.exists() and not (target.is_dir() or target.suffix == ".zip"):
        raise ZooError(f"{target} exists and is not a folder; save into a folder (or a .zip).")
    from zoo.training.arguments import check_bool

    overwrite = check_bool("save", "overwrite", overwrite)
    if target.exists():
        _check_replaceable(target, overwrite)
    check_parent(target)

    def fill(folder: Path) -> None:
        document = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
        (folder / CONFIG).write_text(json.dumps(document, indent=2, default=_json_default) + "\n")
        # safetensors refuses tensors that share memory (tied weights): each is written as its own copy
        tensors = {key: value.detach().cpu().clone().contiguous() for key, value in state_dict.items()}
        save_file(tensors, str(folder / WEIGHTS), metadata={"format": FORMAT})
        (folder / CARD).write_text(card)

    if target.suffix != ".zip":
        return atomic_folder(target, fill)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as staging:
        fill(Path(staging))
        with atomic_path(target) as archive, zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in (CONFIG, WEIGHTS, CARD):
                zf.write(Path(staging) / name, name)
    return target


def _check_replaceable(target: Path, overwrite: bool) -> None:
    """Saving replaces ``target`` whole: only an earlier saved model (or an empty folder) may be replaced,
    and only with ``overwrite=True``; ``model.save("results")`` deleted the folder's own files."""
    if target.is_dir():
        held = sorted(p.name for p in target.iterdir())
        others = [name for name in held if name not in (CONFIG, WEIGHTS, CARD)]
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            what = "a saved model and other files" if len(others) < len(held) else "other files"
            raise ZooError(
                f"{target} is a folder holding {what} ({shown}); saving replaces the folder whole, so zoo does not: "
                "save into a new or empty folder (or move those files out)."
            )
        if not held:
            return
    elif zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as zf:
            if set(zf.namelist()) - {CONFIG, WEIGHTS, CARD}:
                raise ZooError(f"{target} is a zip holding other files, not a saved model; save to another name.")
    if not overwrite:
        raise ZooError(f"{target} already holds a saved model; pass overwrite=True to replace it.")


def read_folder(path: str | os.PathLike[str]) -> SavedModel:
    """The saved model at ``path`` (a folder or a zip); what is not one is a ZooError saying what is missing."""
    source = Path(str(path).removeprefix(PREFIX)).expanduser()
    from zoo.applications.weights_file import is_torch_file

    torch_file = source.is_file() and is_torch_file(source)
    if source.is_file() and zipfile.is_zipfile(source) and not torch_file:
        source = _unzipped(source)
    if source.is_file() and source.suffix.lower() == ".zip" and not torch_file:
        raise SavedModelError(f"{source} is not a readable zip archive (truncated or damaged?); save it again.")
    if source.is_file():
        what = "a torch.save file" if torch_file else "a file"
        raise SavedModelError(
            f"{source} is {what}, not a saved-model folder or zip (model.save(path) and zoo.save_pretrained "
            "write a folder, or a .zip of one); for a weights file use model.load_weights(path) or "
            "zoo.load(NAME, weights=path)."
        )
    if not source.is_dir():
        raise MissingFileError(f"{source} is not a saved model: no such folder (or zip of one).")
    try:
        config = json.loads((source / CONFIG).read_text())
    except FileNotFoundError:
        raise ZooError(
            f"{source} has no {CONFIG}: it is not a zoo saved model (zoo.save_pretrained writes one)."
        ) from None
    except ValueError as exc:
        raise ZooError(f"{source / CONFIG} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ZooError(f'{source / CONFIG} is not a zoo saved model\'s config (no "format": "{FORMAT}").')
    version = config.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SavedModelError(f"{source / CONFIG} has format_version {version!r}, not a whole number: the file is damaged.")
    if version > FORMAT_VERSION:
        raise ZooError(
            f"{source} was saved by a newer zoo (format version {config['format_version']}); upgrade zoo."
        )
    if not (source / WEIGHTS).is_file():
        raise ZooError(f"{source} has no {WEIGHTS}: the saved model's weights are missing.")
    _check_fields(source / CONFIG, config)
    return SavedModel(source, config)


# What each kind's config must hold, by key: (the types it may have, whether it must be there). A config edited
# by hand is checked here, once, instead of failing as a KeyError in its loader, or (categories "abc" read as
# three names) not failing at all.
_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "application": {
        "application": ((str,), True),
        "options": ((dict,), False),
        "preprocessing": ((dict, type(None)), False),
        "categories": ((list, type(None)), False),
        "base_weights": ((dict, type(None)), False),
    },
    **dict.fromkeys(("sequential", "functional", "weights"), {"model": ((dict,), True)}),
}


def _check_fields(config_file: Path, config: dict[str, Any]) -> None:
    kind = config.get("kind")
    if not isinstance(kind, str):
        raise SavedModelError(
            f'{config_file} has no "kind" (what rebuilds the model: "application", "sequential", ...), '
            f"got {kind!r}: the file is damaged; save the model again."
        )
    for key, (types, required) in _FIELDS.get(kind, {}).items():
        if key not in config:
            if required:
                raise SavedModelError(f'{config_file}: a saved {kind} model\'s config needs "{key}"; the file is damaged.')
            continue
        value = config[key]
        if not isinstance(value, types):
            allowed = " or ".join("null" if t is type(None) else {"dict": "an object", "list": "a list",
                                                                  "str": "a string"}[t.__name__] for t in types)  # fmt: skip
            raise SavedModelError(
                f'{config_file}: "{key}" must be {allowed}, got {json.dumps(value)}: the file is damaged.'
            )
    categories = config.get("categories")
    if isinstance(categories, list) and not all(isinstance(name, str) for name in categories):
        raise SavedModelError(f'{config_file}: "categories" must be a list of class names (strings).')


def load(path: str | os.PathLike[str], **overrides: Any) -> Any:
    """Rebuild a saved model of any registered kind (``zoo.load(DIR)``)."""
    saved = read_folder(path)
    loader = _LOADERS.get(saved.kind) or _BUILT_IN.get(saved.kind)
    if loader is None:
        known = ", ".join(sorted({*_LOADERS, *_BUILT_IN}))
        raise ZooError(
            f"{saved.folder} holds a model of kind {saved.kind!r}, which nothing here loads (kinds: {known})."
        )
    return loader(saved, overrides)


def is_saved_model(name: Any) -> bool:
    """``zoo.load`` of a ``local-dir:`` name, or of an existing folder or zip holding a config.json."""
    if not isinstance(name, (str, os.PathLike)):
        return False
    text = os.fspath(name)
    if text.startswith(PREFIX):
        return True
    path = Path(text).expanduser()
    return (path.is_dir() and (path / CONFIG).is_file()) or (path.suffix == ".zip" and path.is_file())


def _unzipped(archive: Path) -> Path:
    """A zip's members extracted into a fresh folder, refusing anything but the format's three plain files."""
    target = Path(tempfile.mkdtemp(prefix="zoo-saved-"))
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.filename not in (CONFIG, WEIGHTS, CARD) or info.is_dir():
                raise ZooError(
                    f"{archive} holds {info.filename!r}; a saved model's zip holds only {CONFIG}, {WEIGHTS}, {CARD}."
                )
            zf.extract(info, target)
    return target


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise ZooError(f"cannot write {value!r} ({type(value).__name__}) into config.json: give plain data.")


# -- applications: zoo.save_pretrained -------------------------------------------------------------------
def save_pretrained(
    model: Any,
    path: str | os.PathLike[str],
    *,
    metrics: Mapping[str, float] | None = None,
    dataset: str | None = None,
    license: str | None = None,  # noqa: A002 - the model card's word
    description: str | None = None,
) -> Path:
    """Save a ``zoo.load`` model (fine-tuned or not) in zoo's format; ``zoo.load(path)`` gives it back with
    identical outputs. ``metrics``, ``dataset``, ``license`` and ``description`` go into the model card."""
    info = getattr(model, "zoo", None)
    if info is None or not getattr(info, "name", None):
        raise ZooError(
            "save_pretrained saves models that zoo.load built (they carry model.zoo); for a zoo.Sequential or "
            "functional zoo.Model use model.save(path), for any other module torch's own state_dict saving."
        )
    options = dict(getattr(info, "load_options", None) or {})
    config = {
        "kind": "application",
        "application": info.name,
        "options": options,
        "preprocessing": info.preprocessing,
        "categories": info.categories,
        "base_weights": {"weights": info.weights, "sha256": info.sha256, "source": info.source},
    }
    card = _card(
        info, options, path, metrics=metrics, dataset=dataset, license=license, description=description
    )
    return save_folder(path, config=config, state_dict=model.state_dict(), card=card)


def _load_application(saved: SavedModel, overrides: dict[str, Any]) -> Any:
    """The architecture built as saved (no weights), then the saved tensors loaded strictly: one path for
    every plugin, whatever its builder does with files of other heads."""
    import dataclasses

    import zoo
    from zoo.applications.local_weights import choose_preprocessing, fit_weights, read_weights
    from zoo.plugin import file_sha256

    config = saved.config
    options = {**config.get("options", {}), **overrides}
    if "weights" in options:
        raise ZooError(f"{saved.folder} brings its own weights; drop weights=.")
    model = zoo.load(config["application"], weights=None, **options)
    fit_weights(model, read_weights(saved.weights), name=f"{config['application']} built with {options}",
                source=saved.weights)  # fmt: skip
    try:  # the rule of zoo.load(preprocessing=...): known keys, sizes and per-channel numbers
        _, preprocessing = choose_preprocessing(config.get("preprocessing") or None, model.zoo.preprocessing,
                                                lambda tag: None, config["application"], [])  # fmt: skip
    except ZooError as exc:
        raise SavedModelError(f"{saved.folder / CONFIG}: {exc} The file is damaged.") from None
    model.zoo = dataclasses.replace(
        model.zoo,
        sha256=file_sha256(saved.weights),
        source=str(saved.folder),
        preprocessing=preprocessing,
        categories=list(config["categories"]) if config.get("categories") else model.zoo.categories,
    )
    return model


def _load_keras_model(saved: SavedModel, overrides: dict[str, Any]) -> Any:
    from zoo.models.saving import _rebuild

    return _rebuild(saved, overrides)


_BUILT_IN: dict[str, Loader] = {
    "application": _load_application,
    **dict.fromkeys(("sequential", "functional", "weights"), _load_keras_model),
}


def _card(info: Any, options: Mapping[str, Any], path: Any, **facts: Any) -> str:
    name = Path(str(path)).name
    lines = [f"# {name}", "", facts.get("description") or f"`{info.name}` saved by zoo.", ""]
    lines += ["## Model", "", f"- application: `{info.name}`",
              f"- started from weights: `{info.weights}` ({info.source})" if info.source else "- started from random weights",
              f"- load options: `{json.dumps(dict(options))}`", ""]  # fmt: skip
    if facts.get("metrics"):
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in facts["metrics"].items()] + [""]
    lines += [
        "## Data",
        "",
        facts.get("dataset") or "not stated",
        "",
        "## Licence",
        "",
        facts.get("license") or "not stated",
        "",
    ]
    lines += ["## How to load", "", "```python", "import zoo", "", f'model = zoo.load("{name}")   # or "local-dir:{name}"',
              "preprocess = model.zoo.transforms()", "```", ""]  # fmt: skip
    return "\n".join(lines)
