"""``toy_cnn``: a ~1 MB image backbone pretrained by this project on single toy frames, shipped in the package.

The question types of ``toy_video_qa`` need per-frame features that keep colour, shape, position, size and
orientation after global average pooling (motion is a change of position/size/orientation across frames).
A plain CNN loses absolute position when it pools, so the network appends two coordinate channels to its
input (CoordConv, Liu et al. 2018): a filter can then weight its response by x or y, and an averaged
channel reads out where the object is. ``pretrain.py`` trains it with one head per property.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo_videoqa.toy import COLOURS, SHAPES

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_WEIGHTS = "toy_shapes"
#: Inputs are RGB in [0, 1]; this is the normalisation the weights were trained with.
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
CATEGORIES = [f"{c} {s}" for c in COLOURS for s in SHAPES]
WIDTHS = (32, 64, 128, 128)
#: Size of the per-frame feature vector. A linear 1x1 bottleneck keeps what pretraining asks for and
#: little of the clutter; its first ``len(GEOMETRY)`` channels are trained to *be* the object's geometry
#: (scaled to about [-1.5, 1.5]), so after average pooling a frame-to-frame change of position, size or
#: orientation is a large change in a few features, which a recurrent layer picks up from few clips.
EMBED = 32
GEOMETRY = ("x", "y", "radius", "cos(k*angle)", "sin(k*angle)")


def weights_table() -> dict[str, dict[str, Any]]:
    """The packaged weight variants, read from ``weights/*.json`` (written by ``pretrain.py``)."""
    table = {}
    for meta_file in sorted(WEIGHTS_DIR.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        table[meta["variant"]] = meta
    return table


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
            raise ValueError(f"pooling must be None, 'avg' or 'max'; got {pooling!r}.")
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


def model_info(variant, sha, path, named_classes: bool, include_top: bool, pooling):
    """``model.zoo``: the same :class:`zoo.applications.info.ModelInfo` every zoo application carries."""
    from zoo.applications.info import ModelInfo

    size = 32
    return ModelInfo(
        name="toy_cnn",
        weights=variant,
        sha256=sha,
        source=str(path) if path is not None else None,
        categories=list(CATEGORIES) if named_classes else None,
        preprocessing={"resize": size, "crop": size, "mean": list(MEAN), "std": list(STD),
                       "interpolation": "bilinear", "antialias": True},  # fmt: skip
        min_size=(8, 8),
        include_top=include_top,
        pooling=pooling,
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve_weights(weights: Any) -> tuple[str | None, Path | None, str | None]:
    """(variant, file, expected sha256) for the ``weights`` argument of ``zoo.load``."""
    if weights is None or weights is False:
        return None, None, None
    table = weights_table()
    if weights is True or (isinstance(weights, str) and weights.lower() in ("default", "imagenet", "pretrained")):
        weights = DEFAULT_WEIGHTS
    if isinstance(weights, str) and weights in table:
        meta = table[weights]
        return weights, WEIGHTS_DIR / meta["file"], meta["sha256"]
    path = Path(str(weights)).expanduser()
    if path.is_file():
        return None, path, None
    from zoo.errors import UnknownNameError

    raise UnknownNameError(
        f"toy_cnn has no weights {weights!r}: use one of {', '.join(table) or '(none packaged)'}, None for "
        "random initialisation, or the path of a state-dict file."
    )


def load_state(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """A state dict from a packaged or local file, hash-checked first and never unpickled."""
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            from zoo.errors import IntegrityError

            raise IntegrityError(
                f"{path} has sha256 {actual}, expected {expected_sha256}: the packaged weights are damaged; "
                "reinstall zoo-videoqa (pip install --force-reinstall -e plugins/zoo-videoqa)."
            )
    return torch.load(path, map_location="cpu", weights_only=True)


def toy_cnn(
    weights: Any = DEFAULT_WEIGHTS,
    include_top: bool = True,
    pooling: str | None = None,
    num_classes: int | None = None,
    trainable: bool = True,
    progress: bool = True,
    **options: Any,
) -> ToyCNN:
    """Builder of the ``toy_cnn`` application, with keras.applications semantics.

    ``weights``: ``"toy_shapes"`` (default, also ``"imagenet"``/``"DEFAULT"``/``True``) = the packaged
    file, ``None`` = random, or a path. ``num_classes`` with pretrained weights keeps the backbone and
    gives a fresh classifier. ``trainable=False`` freezes every parameter and keeps BatchNorm in eval mode.
    """
    if options:
        raise TypeError(f"toy_cnn got unexpected options {sorted(options)}")
    del progress  # nothing is downloaded: the weights ship inside the package
    variant, path, sha = _resolve_weights(weights)
    classes = num_classes or len(CATEGORIES)
    model = ToyCNN(classes, include_top=include_top, pooling=pooling)
    if path is not None:
        state = load_state(path, sha)
        fresh_head = not include_top or classes != len(CATEGORIES)
        if fresh_head:
            state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not (fresh_head and k.startswith("classifier."))]:
            raise ValueError(f"{path} does not fit toy_cnn: missing {missing}, unexpected {unexpected}.")
    if sha is None and path is not None:
        sha = sha256_file(path)
    model.zoo = model_info(variant, sha, path, include_top and path is not None and classes == len(CATEGORIES),
                           include_top, pooling)  # fmt: skip
    from zoo.plugins import get_plugin_manager

    get_plugin_manager().hook.zoo_model_built(
        model=model, name="toy_cnn",
        options={"weights": weights, "include_top": include_top, "pooling": pooling, "num_classes": num_classes,
                 "trainable": trainable},
    )  # fmt: skip
    if not trainable:
        import zoo

        zoo.freeze(model)
    return model
