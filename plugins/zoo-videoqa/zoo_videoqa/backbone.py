"""``toy_cnn``: a ~1 MB image backbone pretrained by this project on single toy frames, shipped in the package.

The question types of ``toy_video_qa`` need per-frame features that keep colour, shape, position, size and
orientation after global average pooling (motion is a change of position/size/orientation across frames).
A plain CNN loses absolute position when it pools, so the network appends two coordinate channels to its
input (CoordConv, Liu et al. 2018): a filter can then weight its response by x or y, and an averaged
channel reads out where the object is. ``pretrain.py`` trains it with one head per property.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

import zoo
from zoo.plugin import ChosenWeights, check_options, finish, means_default_weights
from zoo_videoqa.toy import COLOURS, SHAPES
from zoo_videoqa.variants import DEFAULT_WEIGHTS, MIN_SIZE, WEIGHTS_DIR, variants

#: Inputs are RGB in [0, 1]; this is the normalisation the weights were trained with (pretrain.py).
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
CATEGORIES = [f"{c} {s}" for c in COLOURS for s in SHAPES]
WIDTHS = (32, 64, 128, 128)
#: Size of the per-frame feature vector. A linear 1x1 bottleneck keeps what pretraining asks for and
#: little of the clutter; its first ``len(GEOMETRY)`` channels are trained to *be* the object's geometry
#: (scaled to about [-1.5, 1.5]), so after average pooling a frame-to-frame change of position, size or
#: orientation is a large change in a few features, which a recurrent layer picks up from few clips.
EMBED = 32
GEOMETRY = ("x", "y", "radius", "cos(k*angle)", "sin(k*angle)")


class AddCoords(nn.Module):
    """Appends x and y in [-1, 1] as two channels (CoordConv)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
        return torch.cat([x, xs, ys], dim=1)


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ToyCNN(nn.Module):
    """CoordConv stem, four conv blocks (/8 overall), a linear 1x1 bottleneck to 32 channels;
    ``include_top`` adds a colour-and-shape classifier on the averaged bottleneck.

    Like keras.applications: ``include_top=False`` gives the feature map (N, 32, H/8, W/8), and
    ``pooling="avg"|"max"`` reduces it to (N, 32).
    """

    def __init__(self, num_classes: int = len(CATEGORIES), include_top: bool = True, pooling: str | None = None):
        super().__init__()
        if pooling not in (None, "avg", "max"):
            raise zoo.OptionError(f"pooling must be None, 'avg' or 'max'; got {pooling!r}.")
        self.include_top, self.pooling = include_top, pooling
        self.coords = AddCoords()
        chans = (5, *WIDTHS)
        strides = (2, 2, 1, 2)
        blocks = [_block(chans[i], chans[i + 1], strides[i]) for i in range(len(WIDTHS))]
        self.features = nn.Sequential(*blocks, nn.Conv2d(WIDTHS[-1], EMBED, 1))
        self.num_features = EMBED
        self.classifier = nn.Linear(self.num_features, num_classes) if include_top else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.coords(x))
        if self.include_top:
            return self.classifier(x.mean(dim=(2, 3)))
        if self.pooling == "avg":
            return x.mean(dim=(2, 3))
        if self.pooling == "max":
            return x.amax(dim=(2, 3))
        return x


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve_weights(weights: Any) -> ChosenWeights:
    """Which weights the ``weights`` argument of ``zoo.load`` means: a packaged variant, a file, or none."""
    table = variants()
    default = table[DEFAULT_WEIGHTS]
    if weights is None or weights is False:
        return ChosenWeights(None, default, None, None, None)
    if weights is True or (isinstance(weights, str) and (means_default_weights(weights) or weights.lower() == "pretrained")):
        weights = DEFAULT_WEIGHTS
    if isinstance(weights, str) and weights in table:
        facts = table[weights]
        path = WEIGHTS_DIR / facts["filename"]
        return ChosenWeights(weights, facts, path, str(path), facts["sha256"])
    path = Path(str(weights)).expanduser()
    if path.is_file():
        return ChosenWeights(None, default, path, str(path), None)
    from zoo.plugin import UnknownNameError

    if isinstance(weights, (str, Path)) and (path.suffix or "/" in str(weights) or "\\" in str(weights)):
        raise zoo.MissingFileError(
            f"toy_cnn weights {str(weights)!r}: no such file. Give the path of a state-dict file, one of "
            f"{', '.join(table) or '(none packaged)'}, or None for random initialisation."
        )
    raise UnknownNameError(
        f"toy_cnn has no weights {weights!r}: use one of {', '.join(table) or '(none packaged)'}, None for "
        "random initialisation, or the path of a state-dict file."
    )


def load_state(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """A state dict from a packaged or local file, hash-checked first and never unpickled."""
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            from zoo.plugin import IntegrityError

            raise IntegrityError(
                f"{path} has sha256 {actual}, expected {expected_sha256}: the packaged weights are damaged; "
                "reinstall zoo-videoqa (pip install --force-reinstall -e plugins/zoo-videoqa)."
            )
    return read_weights(path)


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """zoo's one weights reader (``zoo.plugin.load_state_dict``: torch files with ``weights_only=True`` and
    safetensors); a file that is not weights is a ``zoo.DataError`` saying what it is instead."""
    from zoo.plugin import WeightsFileError, load_state_dict

    path = Path(path)
    if not path.is_file():
        raise zoo.MissingFileError(f"weights file {path} does not exist; give the path of a state-dict file.")
    try:
        return load_state_dict(path)
    except WeightsFileError as exc:
        raise zoo.DataError(str(exc)) from None


def fit_weights(module: nn.Module, state: dict[str, torch.Tensor], *, name: str, source: Any,
                optional: tuple[str, ...] | list[str] = ()) -> None:  # fmt: skip
    """``state`` copied into ``module``; weights that do not fit are a ``zoo.ModelError`` worded by zoo's one
    fit rule (``zoo.plugin.assign_weights``: the file, a few missing/unexpected keys, both shapes of a
    tensor of another shape). Keys in ``optional`` (a new head) may be missing from the file."""
    import copy

    from zoo.plugin import WeightsFileError, assign_weights

    try:
        missing, unexpected = module.load_state_dict(state, strict=False)
        fits = not unexpected and all(k in optional for k in missing)
    except RuntimeError:  # tensors of other shapes
        fits = False
    if fits:
        return
    try:  # on a copy: the rule checks every key before it assigns anything
        assign_weights(copy.deepcopy(module), state, name=name, source=str(source), optional=optional)
    except WeightsFileError as exc:
        raise zoo.ModelError(str(exc)) from None
    raise zoo.ModelError(f"the weights in {source} do not fit {name}.")  # pragma: no cover - the rule said why


def toy_cnn(
    weights: Any = DEFAULT_WEIGHTS,
    include_top: bool = True,
    pooling: str | None = None,
    num_classes: int | None = None,
    trainable: bool = True,
    progress: bool | None = None,
    **options: Any,
) -> ToyCNN:
    """Builder of the ``toy_cnn`` application, with keras.applications semantics (and zoo's own ending,
    ``zoo.applications.finish``: eval mode, freezing that spares a new head, the input-size check).

    ``weights``: ``"toy_shapes"`` (default, also ``"imagenet"``/``"DEFAULT"``/``True``) = the packaged
    file, ``None`` = random, or a path. ``num_classes`` with pretrained weights keeps the backbone and
    gives a fresh classifier. ``trainable=False`` freezes every parameter and keeps BatchNorm in eval mode.
    """
    if options:
        raise zoo.ArgumentError(f"toy_cnn got unexpected options {sorted(options)}")
    check_options(include_top, pooling, num_classes, trainable)
    del progress  # nothing is downloaded: the weights ship inside the package
    chosen = _resolve_weights(weights)
    classes = num_classes or len(CATEGORIES)
    model = ToyCNN(classes, include_top=include_top, pooling=pooling)
    dropped: list[str] = []
    if chosen.path is not None:
        state = load_state(chosen.path, chosen.sha256)
        if not include_top or classes != len(CATEGORIES):  # no classifier, or a fresh one
            dropped = [k for k in state if k.startswith("classifier.")]
            state = {k: v for k, v in state.items() if k not in dropped}
        optional = [k for k in model.state_dict() if dropped and k.startswith("classifier.")]
        fit_weights(model, state, name="toy_cnn", source=chosen.path, optional=optional)
        if chosen.sha256 is None:
            chosen.sha256 = sha256_file(chosen.path)
    named = include_top and chosen.path is not None and not dropped
    options = dict(weights=weights, include_top=include_top, pooling=pooling, num_classes=num_classes,
                   trainable=trainable)  # fmt: skip
    return finish(
        model, name="toy_cnn", chosen=chosen, options=options,
        new_head=model.classifier if include_top and dropped else None, dropped=dropped,
        categories=list(chosen.facts["categories"]) if named else None,
        preprocessing=chosen.facts["preprocessing"], min_size=MIN_SIZE,
    )  # fmt: skip
