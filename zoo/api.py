"""The by-name API: ``get``, ``list``, ``info``, ``load``. Importing this module does not import torch."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from zoo.errors import ArgumentError, UnknownNameError
from zoo.hookspecs import KINDS
from zoo.plugins import get_registry
from zoo.registry import Entry


def get(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Build the entry ``name`` of ``kind``: ``zoo.get("optimizers", "adam", model.parameters(), lr=1e-3)``.

    An application goes through the applications contract (:mod:`zoo.applications.contract`), as in
    ``zoo.load``."""
    entry = get_registry().lookup(kind, name)
    if entry.kind == "applications":
        from zoo.applications import contract

        return contract.build(entry, args, kwargs)
    built = entry(*args, **kwargs)
    if entry.kind == "callbacks":
        _check_callback(entry, built)
    return built


def _check_callback(entry: Entry, built: Any) -> None:
    """A registered callback that cannot work fails now, naming its plugin, not later inside ``fit``."""
    from zoo.errors import ArgumentError
    from zoo.training.callbacks.base import check_callback

    try:
        check_callback(built)
    except ArgumentError as exc:
        raise ArgumentError(
            f"callbacks {entry.name!r} of plugin {entry.plugin!r} (target {entry.describe()['target']}) "
            f"cannot work: {exc}"
        ) from None


def load(name: str, **kwargs: Any) -> Any:
    """A pretrained application as a plain ``torch.nn.Module``: ``zoo.load("resnet50")``.

    Keyword arguments follow keras.applications: ``weights``, ``include_top``, ``pooling``,
    ``num_classes``, ``trainable``, ``progress``; a folder ``zoo.save_pretrained`` wrote (or
    ``"local-dir:DIR"``) loads that saved model; ``features_only=True`` (with ``out_indices``) gives a CNN's
    feature maps at each scale; see the README. ``"hf-hub:ORG/REPO[@REVISION]"`` loads a
    model from a Hugging Face Hub repository in timm's layout. Every module returned has Keras'
    ``trainable`` property; ``input_tensor=zoo.Input(...)`` returns the model applied to it (symbolic).
    """
    from zoo.models.applications import finish_load

    input_tensor = kwargs.pop("input_tensor", None)
    return finish_load(_load(name, **kwargs), input_tensor)


def _load(name: str, **kwargs: Any) -> Any:
    from zoo import saving

    if saving.is_saved_model(name):
        return saving.load(name, **kwargs)
    if kwargs.get("features_only") or "out_indices" in kwargs:
        from zoo.applications import features

        return features.load(name, **kwargs)
    kwargs.pop("features_only", None)
    if isinstance(name, str) and name.startswith("hf-hub:"):
        from zoo.applications import hub_source

        return hub_source.load(name, **kwargs)
    if isinstance(name, str) and "://" in name:
        from zoo.errors import OptionError

        raise OptionError(
            f"zoo.load takes a model name, not a URL ({name!r}). To load weights from a URL, name the "
            f"architecture and pass the URL as weights: zoo.load('resnet50', weights={name!r}) (add "
            "sha256='...' to verify the download); a Hugging Face Hub repository loads as "
            "zoo.load('hf-hub:ORG/REPO')."
        )
    _refuse_other_paths(name)
    try:
        get_registry().lookup("applications", name)
    except UnknownNameError as exc:
        if isinstance(name, str) and Path(name).expanduser().exists():  # a bare name is a name: say what it also is
            raise UnknownNameError(
                f"{exc} ('{name}' is also a {'folder' if Path(name).expanduser().is_dir() else 'file'} here: "
                f"write './{name}' to load it as a path.)"
            ) from None
        raise
    return get("applications", name, **kwargs)


def _refuse_other_paths(name: Any) -> None:
    """A path that is no saved model (a weights file, a folder without config.json, a typo'd path) would
    otherwise read as a name: "no applications named '/data/resnet.pt'" hides what to do instead."""
    from zoo.errors import MissingFileError, OptionError

    if not isinstance(name, (str, os.PathLike)):
        return
    text = os.fspath(name)
    path = Path(text).expanduser()
    if isinstance(name, os.PathLike) or os.sep in text:  # a bare 'resnet50' stays a name even if such a file exists
        if path.is_file():
            what = f"{text!r} is a file, not a folder or .zip that zoo.save_pretrained or model.save wrote"
        elif path.is_dir():
            what = f"{text!r} is a folder without the config.json zoo.save_pretrained and model.save write"
        else:
            what = f"there is no file or folder {text!r}"
        weights = "" if path.is_dir() else f"; a weights file loads into its architecture: zoo.load('resnet50', weights={text!r})"
        raise (OptionError if path.exists() else MissingFileError)(
            f"zoo.load: {what}. zoo.load takes a registered name ('zoo list'), or a saved model's folder or "
            f"zip{weights}."
        )


def list(kind: str = "applications", pattern: str = "*", **filters: Any) -> builtins.list[str]:  # noqa: A001
    """Names of ``kind`` matching an fnmatch ``pattern`` and metadata filters, naturally sorted."""
    return get_registry().names(kind, pattern, **filters)


def info(name: str, kind: str | None = None) -> dict[str, Any]:
    """An entry's metadata as plain data. Without ``kind``, kinds are searched in ``zoo.hookspecs.KINDS``
    order (applications first) and the first match is returned."""
    if not isinstance(name, str):  # else a raw AttributeError from deep inside the suggestions
        raise ArgumentError(f"zoo.info takes an entry's name as a string, such as 'resnet50', got {name!r} "
                            f"({type(name).__name__}).")  # fmt: skip
    if kind is not None:
        return get_registry().lookup(kind, name).describe()
    return find(name)[0].describe()


def find(name: str) -> builtins.list[Entry]:
    """Every kind's entry for ``name`` (``relu`` is both a layer and an activation); raises if none."""
    registry = get_registry()
    found = []
    for kind in KINDS:
        try:
            found.append(registry.lookup(kind, name))
        except UnknownNameError:
            continue
    if not found:
        close = [
            f"{', '.join(near[:3])} ({kind})" for kind in KINDS if (near := registry.suggest(kind, name))
        ]
        hint = f" Did you mean: {'; '.join(close)}?" if close else ""
        raise UnknownNameError(f"nothing is registered as {name!r}.{hint} Run 'zoo list' to see every name.")
    return found
