"""``zoo.load("keras:NAME", ...)``: a keras.applications network on Keras' torch backend, with Keras' own
weights files fetched through zoo's cache and verified by Keras' published hashes (md5 or sha256)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from torch import nn

from zoo.plugin import (
    ChosenWeights,
    WeightsFileError,
    ZooError,
    category_names,
    check_options,
    content_sha256,
    fetch,
    fetch_spec,
    finish,
    means_default_weights,
    without_gc,
)
from zoo_keras import table
from zoo_keras.architectures import constructor
from zoo_keras.boundary import KerasApplication, preprocessing


@without_gc  # constructing a network is an allocation burst
def build(
    name: str,
    *,
    weights: str | os.PathLike[str] | None = "imagenet",
    include_top: bool = True,
    pooling: str | None = None,
    num_classes: int | None = None,
    trainable: bool = True,
    progress: bool | None = None,
    sha256: str | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build keras.applications' ``name`` the zoo way; see the README's Keras section.

    ``weights`` is ``"imagenet"`` (Keras' file), None (random), a local ``.h5`` file or a URL. Extra
    ``kwargs`` go to the Keras function (e.g. ``alpha=0.75`` for MobileNet); unknown ones are an error.
    """
    options = dict(weights=weights, include_top=include_top, pooling=pooling, num_classes=num_classes,
                   trainable=trainable, progress=progress, sha256=sha256, **kwargs)  # fmt: skip
    check_options(include_top, pooling, num_classes, trainable)
    facts = table.applications()[name]
    _keras()
    make = constructor(name)
    _check_kwargs(name, make, kwargs)
    new_head = include_top and num_classes is not None and weights is not None
    top_file = include_top and not new_head
    chosen = _resolve_weights(name, facts, weights, top=top_file, progress=progress, sha256=sha256)
    if top_file:
        net = make(
            weights=None, include_top=True, classes=num_classes or 1000, classifier_activation=None, **kwargs
        )
    else:
        # Keras' own input for a network without its top: any size for most, NASNet's static size (its
        # graph depends on it, and so does the layer list its weights file is read by).
        net = make(weights=None, include_top=False, pooling="avg" if new_head else pooling, **kwargs)
    if chosen.path is not None:
        _load_h5(net, chosen.path, name)
    head = nn.Linear(int(net.output_shape[-1]), num_classes) if new_head else None
    model = KerasApplication(net, mode=facts["preprocess_mode"], head=head)
    size = facts["input_size"]
    # With its top (and NASNet without it) a Keras network has a static input, its weights' size; else any
    # size from the minimum.
    fixed = _static_input(net)
    min_size = (size, size) if fixed else (facts["min_size"], facts["min_size"])
    categories = (
        category_names("imagenet1k") if chosen.path and top_file and num_classes in (None, 1000) else None
    )
    return finish(
        model, name=f"keras:{name}", chosen=chosen, options=options, new_head=head, dropped=[],
        categories=categories, preprocessing=preprocessing(size), min_size=min_size, fixed_size=fixed,
    )  # fmt: skip


def _keras() -> Any:
    """Keras on its torch backend; another backend already chosen is an error saying how to fix it."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    if keras.backend.backend() != "torch":
        raise ZooError(
            f"zoo-keras runs Keras on its torch backend, but Keras uses {keras.backend.backend()!r} here: "
            "set KERAS_BACKEND=torch before Keras is first imported."
        )
    return keras


def _check_kwargs(name: str, make: Any, kwargs: dict[str, Any]) -> None:
    """Keyword arguments Keras' function does not take are a ZooError naming what it does take."""
    accepted = set(inspect.signature(make).parameters) - {"weights", "include_top", "pooling", "classes",
                                                            "classifier_activation", "input_tensor", "input_shape"}  # fmt: skip
    if "kwargs" in accepted:  # NASNetMobile's partial: the parameters of NASNet() it leaves open
        accepted = {"name"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(accepted), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ZooError(
            f"keras:{name} takes no option {', '.join(map(repr, unknown))}.{hint} Besides zoo's (weights, "
            f"include_top, pooling, num_classes, trainable), it takes: {', '.join(sorted(accepted)) or 'none'}."
        )


def _resolve_weights(name: str, facts: dict[str, Any], weights: Any, *, top: bool, progress: bool | None,
                     sha256: str | None) -> ChosenWeights:  # fmt: skip
    if weights is None:
        return ChosenWeights(None, {}, None, None, None)
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if not isinstance(weights, str):
        raise ZooError(
            f"weights must be 'imagenet', None, an .h5 file or a URL, got {type(weights).__name__}."
        )
    if means_default_weights(weights):
        spec = facts["weights"]["imagenet"]["top" if top else "notop"]
        path = fetch_spec(spec, entry=f"keras:{name}", progress=progress)
        return ChosenWeights("imagenet", spec, path, spec["url"], content_sha256(path))
    if "://" in weights:
        path = fetch(weights, sha256=sha256, progress=progress, entry=f"keras:{name}")
        return ChosenWeights(None, {}, path, weights, content_sha256(path))
    path = Path(weights).expanduser()
    if path.is_file():
        return ChosenWeights(None, {}, path, str(path), content_sha256(path) or sha256)
    raise ZooError(
        f"keras:{name} has no weights {weights!r}: use 'imagenet' (Keras' file), None for random "
        "initialisation, the path of an .h5 weights file or a URL."
    )


def _load_h5(net: Any, path: Path, name: str) -> None:
    """Keras' own loader of its h5 layout (h5py: no pickle); Keras tells a file's format by its suffix."""
    import h5py

    if not h5py.is_hdf5(path):
        raise WeightsFileError(f"{path} is not an HDF5 file; keras:{name} loads Keras' .h5 weights files.")
    if path.suffix not in (".h5", ".hdf5"):
        raise WeightsFileError(
            f"{path} is HDF5 but Keras reads weights files only by an .h5 name: rename it."
        )
    try:
        net.load_weights(str(path))
    except (ValueError, KeyError, OSError) as exc:
        raise WeightsFileError(f"{path} does not hold weights of keras:{name} as built here: {exc}") from None


def _static_input(net: Any) -> bool:
    shape = net.input_shape
    return all(dim is not None for dim in shape[1:3])
