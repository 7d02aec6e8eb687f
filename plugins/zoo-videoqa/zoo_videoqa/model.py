"""The ``video_qa`` application: the Keras video-QA reference design with any zoo application as frame encoder.

    frames (N, T, 3, H, W) -> TimeDistributed(frozen backbone, global average pooling) -> LSTM(256)  = video
    question ids (N, L)    -> Embedding(vocab, 256, mask_zero=True) -> LSTM(128)                     = question
    concatenate -> Dense(128, relu) -> Dense(answers, softmax)

The model is two modules: ``encoder`` (preprocessing + frozen backbone, per frame) and ``head`` (the
rest). ``model(video, question)`` runs both; because the encoder is frozen, training can instead run
``head(features, question)`` on features computed once (``zoo.utils.FeatureCache``), which gives the same
outputs and gradients at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import zoo

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class HeadSize:
    """The head's widths, as ``zoo.load("video_qa", ...)`` takes them (``**size.options()``)."""

    video_units: int
    embed_dim: int
    question_units: int
    hidden_units: int

    def options(self) -> dict[str, int]:
        return asdict(self)


#: ``reference``: the Keras example's widths (the application's defaults). ``small``: the same layers
#: narrower, for the 1 MB toy_cnn and its 32 features per frame: with cached features the head is all of a
#: training step, and the reference's two LSTMs cost 12.7 GFLOP an epoch against toy_cnn's 83.4, which caps
#: the cache's speed-up at 7.55x at one FLOP rate, below the 10x asked of the toy setting (small: 0.9 GFLOP).
HEAD_SIZES = {"reference": HeadSize(256, 256, 128, 128), "small": HeadSize(64, 64, 32, 64)}
REFERENCE_HEAD = HEAD_SIZES["reference"]


def default_head(backbone: str) -> str:
    """The head the example and its benchmark give ``backbone``: ``small`` for toy_cnn, else ``reference``."""
    return "small" if backbone.replace("-", "_").lower() == "toy_cnn" else "reference"


def _layer(name: str, *args: Any, **kwargs: Any) -> nn.Module:
    return zoo.get("layers", name, *args, **kwargs)


def backbone_normalisation(backbone: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean/std a backbone's weights expect on [0, 1] RGB (``model.zoo.preprocessing``; ImageNet's
    when the backbone does not say)."""
    preprocessing = getattr(getattr(backbone, "zoo", None), "preprocessing", None) or {}
    mean, std = preprocessing.get("mean"), preprocessing.get("std")
    if mean is None or std is None:
        return IMAGENET_MEAN, IMAGENET_STD
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def video_tensor(clips: Any) -> torch.Tensor:
    """(N, T, H, W, 3) uint8 clips (numpy or tensor) -> (N, T, 3, H, W) float32 in [0, 1]."""
    x = torch.as_tensor(clips)
    if x.dim() != 5 or x.shape[-1] != 3:
        raise zoo.DataError(f"expected clips of shape (N, T, H, W, 3); got {tuple(x.shape)}.")
    return x.permute(0, 1, 4, 2, 3).float().div_(255)


class Normalise(nn.Module):
    """(x - mean) / std per channel; mean and std are buffers, so they are part of the encoder's state."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class FrameEncoder(nn.Module):
    """Frames (N, T, 3, H, W) in [0, 1] -> per-frame features (N, T, F), all N*T frames in one batch."""

    def __init__(self, backbone: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.frames = _layer("TimeDistributed", nn.Sequential(Normalise(mean, std), backbone))

    @property
    def backbone(self) -> nn.Module:
        return self.frames.layer[1]

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if not isinstance(video, torch.Tensor):
            raise zoo.ArgumentError(
                f"video_qa expects video as a tensor (batch, frames, 3, height, width) of floats in [0, 1]; got "
                f"a {type(video).__name__}. Convert (N, T, H, W, 3) uint8 clips with zoo_videoqa.model.video_tensor."
            )
        if video.dim() != 5 or video.shape[2] != 3:
            raise zoo.DataError(
                f"video_qa expects video as (batch, frames, 3, height, width) floats in [0, 1]; got shape "
                f"{tuple(video.shape)}. Convert (N, T, H, W, 3) uint8 clips with zoo_videoqa.model.video_tensor."
            )
        check_unit_range(video)
        return self.frames(video)


def symbolic() -> bool:
    """Whether the model is being traced, scripted, compiled or exported: values (and batch sizes) are
    symbolic then, and a data-dependent check would fail or specialise the trace."""
    exporting = getattr(torch.compiler, "is_exporting", None)
    return (
        torch.jit.is_tracing()
        or torch.jit.is_scripting()
        or torch.compiler.is_compiling()
        or (exporting is not None and exporting())
    )


#: How far outside [0, 1] a frame value may be (resampling overshoot, float16 rounding) before it is refused.
RANGE_TOLERANCE = 1e-3


def check_unit_range(video: torch.Tensor) -> None:
    """Frames must be floats in [0, 1], the scale the backbone's normalisation assumes: an integer video
    (uint8 pixels) is refused, not converted, so that the caller says what scale it is in
    (``video_tensor`` converts 0-255 uint8 clips), and floats outside [0, 1] +- ``RANGE_TOLERANCE`` (0-255
    values, or already-normalised frames) are refused. One min/max pass; skipped while tracing or
    compiling for export, where the values are symbolic."""
    if not video.is_floating_point():
        raise zoo.DataError(
            f"video_qa expects video frames as floats in [0, 1]; got {video.dtype}. For (N, T, H, W, 3) uint8 "
            "clips use zoo_videoqa.model.video_tensor(clips); for (N, T, 3, H, W) uint8 frames, "
            "video.float() / 255."
        )
    if video.numel() == 0 or symbolic():
        return
    low, high = (float(v) for v in torch.aminmax(video.detach()))
    if low < -RANGE_TOLERANCE or high > 1.0 + RANGE_TOLERANCE:
        hint = (
            " It looks like 0-255 pixel values: divide by 255 (or use zoo_videoqa.model.video_tensor)."
            if high > 2.0 else " Give the frames unnormalised: video_qa normalises them itself."
        )
        raise zoo.DataError(
            f"video_qa expects video frames as floats in [0, 1]; these range from {low:.4g} to {high:.4g}.{hint}"
        )


def _float64_block(features: Any, start: int, chunk: int) -> torch.Tensor:
    """Rows ``start:start+chunk`` as a float64 copy (a read-only memmap must not reach torch uncopied)."""
    return torch.from_numpy(np.array(features[start : start + chunk], dtype=np.float64))


class VideoQAHead(nn.Module):
    """Everything after the frozen frame encoder, built from zoo's registered Keras-named layers.

    Frame features are first centred and scaled: ``(f - feature_mean) / feature_scale``, buffers that are
    the identity until :meth:`adapt` sets them from training features (like Keras ``Normalization.adapt``).
    One scale for all features keeps the geometry of the feature space; it matters for backbones whose
    features vary on a tiny scale (a randomly initialised CNN's vary by ~1e-3), where an LSTM would
    otherwise see almost constant inputs.
    """

    def __init__(
        self,
        feature_dim: int,
        question_vocab_size: int,
        num_answers: int,
        *,
        video_units: int = REFERENCE_HEAD.video_units,
        embed_dim: int = REFERENCE_HEAD.embed_dim,
        question_units: int = REFERENCE_HEAD.question_units,
        hidden_units: int = REFERENCE_HEAD.hidden_units,
    ):
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(feature_dim))
        self.register_buffer("feature_scale", torch.ones(()))
        self.video_lstm = _layer("LSTM", video_units, input_size=feature_dim)
        self.embedding = _layer("Embedding", question_vocab_size, embed_dim, mask_zero=True)
        self.question_lstm = _layer("LSTM", question_units, input_size=embed_dim)
        self.concatenate = _layer("Concatenate")
        self.hidden = _layer("Dense", hidden_units, activation="relu", input_dim=video_units + question_units)
        self.answer = _layer("Dense", num_answers, activation="softmax", input_dim=hidden_units)

    @property
    def feature_dim(self) -> int:
        return int(self.feature_mean.shape[0])

    def _check_features(self, features: Any, what: str) -> None:
        shape = getattr(features, "shape", None)
        if shape is None or not hasattr(features, "__getitem__"):
            raise zoo.ArgumentError(
                f"{what} takes frame features as an array or tensor of shape (samples, frames, {self.feature_dim}); "
                f"got a {type(features).__name__} (np.stack a list of per-sample features first)."
            )
        if len(shape) != 3 or shape[-1] != self.feature_dim:
            raise zoo.DataError(
                f"{what} takes frame features of shape (samples, frames, {self.feature_dim}) (this head's "
                f"feature size is {self.feature_dim}); got shape {tuple(shape)}."
            )

    @torch.no_grad()
    def adapt(self, features: Any, chunk: int = 4096) -> None:
        """Set the centring and scale from training features (N, T, F), read ``chunk`` samples at a time."""
        self._check_features(features, "adapt")
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
            raise zoo.OptionError(f"adapt's chunk must be a positive integer; got {chunk!r}.")
        n = len(features)
        if n == 0 or features.shape[1] == 0:
            raise zoo.DataError(
                f"adapt needs at least one sample with at least one frame; got features of shape "
                f"{tuple(features.shape)}."
            )
        total = torch.zeros_like(self.feature_mean, dtype=torch.float64)
        for start in range(0, n, chunk):
            total += _float64_block(features, start, chunk).sum((0, 1))
        count = n * features.shape[1]
        mean = total / count
        square = torch.zeros((), dtype=torch.float64)
        for start in range(0, n, chunk):
            block = _float64_block(features, start, chunk)
            square += ((block - mean) ** 2).sum()
        scale = (square / (count * mean.numel())).sqrt().clamp_min(1e-12)
        if not (torch.isfinite(mean).all() and torch.isfinite(scale)):
            raise zoo.DataError(
                "adapt got features with NaN or infinite values; the centring and scale were left unchanged."
            )
        self.feature_mean.copy_(mean)
        self.feature_scale.copy_(scale)

    def forward(self, features: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """Answer probabilities (N, answers) from frame features (N, T, F) and question ids (N, L)."""
        if not isinstance(features, torch.Tensor) or not isinstance(question, torch.Tensor):
            raise zoo.ArgumentError(
                "video_qa's head takes tensors: features (batch, frames, F) and question ids (batch, length); "
                f"got a {type(features).__name__} and a {type(question).__name__}."
            )
        self._check_features(features, "video_qa's head")
        check_question(question, features.shape[0])
        video = self.video_lstm((features - self.feature_mean) / self.feature_scale)
        words = self.question_lstm(self.embedding(question))
        return self.answer(self.hidden(self.concatenate(video, words)))


class VideoQA(nn.Module):
    """``model(video, question)`` -> answer probabilities; ``encoder`` and ``head`` are usable alone."""

    def __init__(self, encoder: FrameEncoder, head: VideoQAHead, config: dict[str, Any]):
        super().__init__()
        self.encoder, self.head, self.config = encoder, head, config

    def forward(self, video: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        if isinstance(question, torch.Tensor) and isinstance(video, torch.Tensor) and video.dim() >= 1:
            check_question(question, video.shape[0])  # before the (costly) encoder runs
        return self.head(self.encoder(video), question)


def check_question(question: torch.Tensor, batch: int) -> None:
    """Question ids are integers of shape (batch, length), one row per video."""
    if question.dim() != 2 or question.is_floating_point() or question.dtype == torch.bool:
        raise zoo.DataError(
            f"video_qa expects question ids as an integer tensor of shape (batch, length), one row of token "
            f"ids per video (0 = padding); got a {question.dtype} tensor of shape {tuple(question.shape)}"
            + (". For one question, use question.unsqueeze(0)." if question.dim() == 1 else ".")
        )
    if not symbolic() and question.shape[0] != batch:
        raise zoo.DataError(
            f"video_qa got {batch} videos but {question.shape[0]} questions; give one question row per video."
        )


def _feature_dim(encoder: FrameEncoder, frame_size: int) -> int:
    probe = torch.zeros(1, 1, 3, frame_size, frame_size)
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            out = encoder(probe)
    except zoo.ZooError as exc:  # e.g. a frame below the backbone's minimum size
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise zoo.OptionError(
            f"video_qa's backbone cannot take a {frame_size}x{frame_size} frame_size ({why}); pass a larger "
            "frame_size (the size of the frames you will give, e.g. its weights' crop size)."
        ) from None
    finally:
        encoder.train(was_training)
    if out.dim() != 3:
        raise zoo.ModelError(
            f"the backbone gives per-frame output of shape {tuple(out.shape[2:])}; video_qa needs a feature "
            "vector per frame (load it with include_top=False, pooling='avg')."
        )
    return int(out.shape[-1])


def video_qa(
    backbone: str | nn.Module = "inception_v3",
    backbone_weights: Any = "imagenet",
    *,
    question_vocab_size: int = 10000,
    num_answers: int | None = None,
    frame_size: int | None = None,
    trainable_backbone: bool = False,
    video_units: int = REFERENCE_HEAD.video_units,
    embed_dim: int = REFERENCE_HEAD.embed_dim,
    question_units: int = REFERENCE_HEAD.question_units,
    hidden_units: int = REFERENCE_HEAD.hidden_units,
    weights: str | Path | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    pooling: str | None = None,
    trainable: bool = True,
    progress: bool = True,
) -> VideoQA:
    """Builder of the ``video_qa`` application (``zoo.load("video_qa", ...)``).

    ``backbone``: any zoo application name (or a module giving (N, F) per image), loaded with
    ``include_top=False, pooling="avg"`` and frozen unless ``trainable_backbone=True``.
    ``backbone_weights=None`` builds it without downloading anything. ``frame_size`` (default: 150 as in
    the reference, or the backbone weights' crop size when smaller, e.g. toy_cnn's 32) is only used to
    probe the feature size; any frame size the backbone accepts works afterwards. ``weights``: a checkpoint of this model (its full or head state dict).
    ``num_classes`` is accepted as a synonym of ``num_answers`` (default 1000; giving both with different
    values is an error); ``include_top``/``pooling`` make no
    sense for this model and must keep their defaults.
    """
    if not include_top or pooling is not None:
        raise zoo.OptionError("video_qa always ends in its answer layer: leave include_top and pooling unset.")
    if num_classes is not None and num_answers is not None and num_classes != num_answers:
        raise zoo.OptionError(
            f"video_qa got num_classes={num_classes!r} and num_answers={num_answers!r}; they are the same "
            "option (num_classes is its Keras name): give one of them."
        )
    num_answers = next((v for v in (num_answers, num_classes) if v is not None), 1000)
    for name, value in (("question_vocab_size", question_vocab_size), ("num_answers", num_answers),
                        ("video_units", video_units), ("embed_dim", embed_dim),
                        ("question_units", question_units), ("hidden_units", hidden_units)):  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise zoo.OptionError(f"video_qa needs a positive integer {name}; got {value!r}.")
    if frame_size is not None and (not isinstance(frame_size, int) or isinstance(frame_size, bool) or frame_size < 1):
        raise zoo.OptionError(
            f"video_qa's frame_size must be a positive integer (pixels of a square frame, e.g. 32), or None for "
            f"the backbone's own; got {frame_size!r}."
        )
    if isinstance(backbone, str):
        cnn = zoo.load(
            backbone, weights=backbone_weights, include_top=False, pooling="avg",
            trainable=trainable_backbone, progress=progress,
        )  # fmt: skip
    else:
        cnn = backbone
    if not trainable_backbone:
        zoo.freeze(cnn)
    info = getattr(cnn, "zoo", None)  # a zoo application's ModelInfo: what the config records of it
    if isinstance(backbone, str):
        backbone_name = backbone
    else:
        backbone_name = getattr(info, "name", None) or type(backbone).__name__
        backbone_weights = info.weights if info is not None else backbone_weights
    if frame_size is None:
        crop = (getattr(info, "preprocessing", None) or {}).get("crop", 150)
        crop = int(crop[-1]) if isinstance(crop, (list, tuple)) else int(crop)
        frame_size = min(crop, 150)  # the reference's 150, or the size a small backbone was trained at
    mean, std = backbone_normalisation(cnn)
    encoder = FrameEncoder(cnn, mean, std)
    head = VideoQAHead(
        _feature_dim(encoder, frame_size), question_vocab_size, num_answers,
        video_units=video_units, embed_dim=embed_dim, question_units=question_units, hidden_units=hidden_units,
    )  # fmt: skip
    config = {
        "backbone": backbone_name,
        "backbone_weights": backbone_weights if isinstance(backbone_weights, (str, type(None))) else str(backbone_weights),
        "backbone_sha256": getattr(info, "sha256", None),
        "question_vocab_size": question_vocab_size,
        "num_answers": num_answers,
        "frame_size": frame_size,
        "video_units": video_units,
        "embed_dim": embed_dim,
        "question_units": question_units,
        "hidden_units": hidden_units,
    }
    model = VideoQA(encoder, head, config)
    if weights is not None:
        load_checkpoint(model, weights)
    if not trainable:
        zoo.freeze(model)
    return model


def load_checkpoint(model: VideoQA, path: str | Path) -> None:
    """Load a full-model or head-only state dict (what training on cached features saves), read by zoo's one
    weights reader and checked by its one fit rule (``zoo_videoqa.backbone.read_weights``/``fit_weights``):
    a missing file, a file that is not weights, or weights of another model is a zoo error naming the file."""
    from zoo_videoqa.backbone import fit_weights, read_weights

    if not isinstance(path, (str, Path)):
        raise zoo.ArgumentError(f"video_qa weights= must be the path of a checkpoint file, got {type(path).__name__}.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise zoo.MissingFileError(
            f"video_qa weights={str(path)!r}: no such checkpoint file (weights= takes the path of a state dict "
            "this model, or its head, saved)."
        )
    state = read_weights(path)
    target = model if any(k.startswith("head.") for k in state) else model.head
    try:
        fit_weights(target, state, name="this video_qa model" if target is model else "this video_qa model's head",
                    source=path)  # fmt: skip
    except zoo.ModelError as exc:  # e.g. trained with another vocabulary: say which file and why
        raise zoo.ModelError(
            f"checkpoint {path} does not fit this video_qa model (question_vocab_size="
            f"{model.config['question_vocab_size']}, num_answers={model.config['num_answers']}): {exc}"
        ) from None
