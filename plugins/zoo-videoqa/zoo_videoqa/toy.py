"""Synthetic clips of one coloured shape acting on a cluttered background, drawn from ``(seed, index)``.

Every clip (and every single frame used to pretrain the toy backbone) is a pure function of a seed tuple,
so a split of any size is streamed clip by clip and never has to fit in memory, and two machines draw the
same pixels. Shapes are drawn from signed distances with a one-pixel soft edge, so sub-pixel motion,
growth and rotation change the pixels smoothly.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

import zoo
from zoo.plugin import checked_index, checked_range
from zoo_videoqa.data import QA, VideoQADataset, check_count

#: Bumped whenever the drawing changes, so cached features of old pixels are never reused.
GENERATOR_VERSION = 1

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.92, 0.16, 0.14),
    "green": (0.16, 0.78, 0.22),
    "blue": (0.18, 0.36, 0.96),
    "yellow": (0.95, 0.88, 0.14),
    "purple": (0.66, 0.2, 0.86),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
#: Rotational symmetry order of each shape (0: no visible orientation).
SYMMETRY: dict[str, int] = {"circle": 0, "square": 4, "triangle": 3}
ACTIONS: tuple[str, ...] = (
    "still",
    "leftward",
    "rightward",
    "upward",
    "downward",
    "growing",
    "shrinking",
    "rotating",
)
QUESTIONS: dict[str, tuple[str, ...]] = {
    "colour": (
        "what colour is the object?",
        "what color is the shape?",
        "which colour does the object have?",
    ),
    "shape": (
        "what shape is it?",
        "what shape is the object?",
        "what kind of shape is moving here?",
    ),
    "action": (
        "what is the object doing?",
        "how is the shape moving?",
        "what does the object do?",
    ),
}
SPLITS: tuple[str, ...] = ("train", "validation", "test")
_SPLIT_IDS = {name: i for i, name in enumerate(SPLITS)}


# --------------------------------------------------------------------------------------------------
# drawing
# --------------------------------------------------------------------------------------------------
def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A dim, grey-ish scene with a gradient and a few blobs and bars, shared by all frames of a clip."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(0.12, 0.32)
    gx, gy = rng.uniform(-0.12, 0.12, size=2)
    img = np.repeat((base + gx * (xx - 0.5) + gy * (yy - 0.5))[..., None], 3, axis=2)
    for _ in range(int(rng.integers(5, 10))):
        grey = rng.uniform(0.05, 0.55)
        tint = rng.uniform(-0.06, 0.06, size=3)
        colour = np.clip(grey + tint, 0, 1)
        cx, cy = rng.uniform(0, 1, size=2)
        if rng.random() < 0.5:  # elliptic blob
            rx, ry = rng.uniform(0.04, 0.16, size=2)
            mask = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        else:  # bar
            hw, hh = (rng.uniform(0.02, 0.25), rng.uniform(0.01, 0.04))
            if rng.random() < 0.5:
                hw, hh = hh, hw
            mask = (np.abs(xx - cx) <= hw) & (np.abs(yy - cy) <= hh)
        img[mask] = colour
    return img.astype(np.float32)


def _distance(shape: str, x: np.ndarray, y: np.ndarray, cx, cy, radius, angle) -> np.ndarray:
    """Signed distance (pixels, negative inside) to a shape of circumradius-like size ``radius``.

    ``x``/``y`` are (S, S) pixel grids; the other arguments are (F, 1, 1) arrays for F frames.
    """
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return np.sqrt(dx**2 + dy**2) - radius
    cos, sin = np.cos(angle), np.sin(angle)
    qx, qy = cos * dx + sin * dy, -sin * dx + cos * dy
    if shape == "square":
        return np.maximum(np.abs(qx), np.abs(qy)) - 0.8 * radius
    if shape == "triangle":  # equilateral, circumradius `radius`, inradius radius / 2
        edges = [np.cos(a) * qx + np.sin(a) * qy for a in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3)]
        return np.max(np.stack(edges), axis=0) - 0.5 * radius * 1.25
    raise zoo.OptionError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def draw(
    background: np.ndarray,
    shape: str,
    colour: tuple[float, float, float] | np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    angle: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """Frames (F, S, S, 3) uint8 of one shape over ``background``; geometry arrays have length F."""
    size = background.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    shape_args = [np.asarray(a, np.float32)[:, None, None] for a in (cx, cy, radius, angle)]
    alpha = np.clip(0.5 - _distance(shape, xx, yy, *shape_args), 0.0, 1.0)[..., None]
    frames = background[None] * (1 - alpha) + np.asarray(colour, np.float32) * alpha + noise
    return (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class ClipSpec:
    """What a clip shows: the answers to its questions, plus per-frame geometry."""

    colour: str
    shape: str
    action: str
    cx: np.ndarray = field(repr=False)
    cy: np.ndarray = field(repr=False)
    radius: np.ndarray = field(repr=False)
    angle: np.ndarray = field(repr=False)


def _clip_spec(rng: np.random.Generator, frames: int, size: int) -> ClipSpec:
    colour = str(rng.choice(list(COLOURS)))
    shape = str(rng.choice(SHAPES))
    actions = [a for a in ACTIONS if not (a == "rotating" and SYMMETRY[shape] == 0)]
    action = str(rng.choice(actions))
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)
    s = float(size)
    radius = np.full(frames, rng.uniform(0.12, 0.17) * s, np.float32)
    if action in ("growing", "shrinking"):
        small = rng.uniform(0.085, 0.11) * s
        radius = small * (1 + 0.8 * t) if action == "growing" else small * (1.8 - 0.8 * t)
    margin = float(radius.max()) + 1.0
    travel = 0.38 * s if action in ("leftward", "rightward", "upward", "downward") else 0.0
    x0 = rng.uniform(margin, s - margin - travel * (action in ("leftward", "rightward")))
    y0 = rng.uniform(margin, s - margin - travel * (action in ("upward", "downward")))
    cx = np.full(frames, x0, np.float32)
    cy = np.full(frames, y0, np.float32)
    if action == "rightward":
        cx = x0 + travel * t
    elif action == "leftward":
        cx = x0 + travel * (1 - t)
    elif action == "downward":  # image y grows downwards
        cy = y0 + travel * t
    elif action == "upward":
        cy = y0 + travel * (1 - t)
    angle = np.full(frames, rng.uniform(0, 2 * np.pi), np.float32)
    if action == "rotating":
        period = 2 * np.pi / SYMMETRY[shape]
        angle = angle + rng.choice([-1.0, 1.0]) * 0.4 * period * t
    return ClipSpec(colour, shape, action, cx, cy, radius.astype(np.float32), angle.astype(np.float32))


def render_clip(seed: int, split: str, index: int, frames: int = 8, size: int = 32) -> tuple[np.ndarray, ClipSpec]:
    """Clip ``index`` of ``split``: frames (T, S, S, 3) uint8 and what they show."""
    spec = _clip_spec(np.random.default_rng([seed, _SPLIT_IDS[split], index, GENERATOR_VERSION, 1]), frames, size)
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], index, GENERATOR_VERSION, 2])
    background = _background(rng, size)
    shade = np.clip(np.asarray(COLOURS[spec.colour]) + rng.uniform(-0.06, 0.06, size=3), 0, 1)
    noise = rng.normal(0.0, 0.025, size=(frames, size, size, 3)).astype(np.float32)
    pixels = draw(background, spec.shape, shade, spec.cx, spec.cy, spec.radius, spec.angle, noise)
    return pixels, spec


def render_frames(seed: int, start: int, count: int, size: int = 32) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``count`` independent single frames for pretraining a backbone, with what each shows.

    Targets: ``colour`` and ``shape`` class ids, and ``geometry`` (count, 5) = centre x, centre y and
    radius as fractions of the frame, then cos and sin of (symmetry order x angle), which is what a
    shape's orientation looks like (zero for the circle, whose ``has_angle`` is False).
    """
    images = np.empty((count, size, size, 3), np.uint8)
    colour_ids = np.empty(count, np.int64)
    shape_ids = np.empty(count, np.int64)
    geometry = np.zeros((count, 5), np.float32)
    has_angle = np.zeros(count, bool)
    names = list(COLOURS)
    for k in range(count):
        rng = np.random.default_rng([seed, 99, start + k, GENERATOR_VERSION])
        background = _background(rng, size)
        c, s = int(rng.integers(len(names))), int(rng.integers(len(SHAPES)))
        shape = SHAPES[s]
        radius = rng.uniform(0.085, 0.2) * size
        cx, cy = rng.uniform(radius + 1, size - radius - 1, size=2)
        angle = rng.uniform(0, 2 * np.pi)
        shade = np.clip(np.asarray(COLOURS[names[c]]) + rng.uniform(-0.06, 0.06, size=3), 0, 1)
        noise = rng.normal(0.0, 0.025, size=(1, size, size, 3)).astype(np.float32)
        images[k] = draw(background, shape, shade, [cx], [cy], [radius], [angle], noise)[0]
        colour_ids[k], shape_ids[k] = c, s
        order = SYMMETRY[shape]
        geometry[k, :3] = (cx / size, cy / size, radius / size)
        if order:
            geometry[k, 3:] = (np.cos(order * angle), np.sin(order * angle))
            has_angle[k] = True
    return images, {"colour": colour_ids, "shape": shape_ids, "geometry": geometry, "has_angle": has_angle}


# --------------------------------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToyConfig:
    seed: int = 0
    split: str = "train"
    clips: int = 600
    frames: int = 8
    size: int = 32


class ToyVideoQA(VideoQADataset):
    """The ``toy_video_qa`` dataset: one question of each type ("colour", "shape", "action") per clip.

    Clips are drawn on demand from ``(seed, split, index)``; only the questions (a few bytes each) are
    kept, so ``clips=10**6`` costs no memory. The question template of each (clip, type) is drawn from
    the same seed, so wording varies but is reproducible.
    """

    def __init__(self, split: str = "train", *, clips: int | None = None, frames: int = 8, size: int = 32, seed: int = 0):
        if split not in SPLITS:
            raise zoo.OptionError(f"toy_video_qa has splits {', '.join(SPLITS)}; got split={split!r}.")
        if clips is None:
            clips = {"train": 600, "validation": 150, "test": 300}[split]
        for name, value, low in (("clips", clips, 1), ("frames", frames, 2), ("size", size, 16), ("seed", seed, 0)):
            check_count("toy_video_qa", name, value, low)
        clips, frames, size, seed = int(clips), int(frames), int(size), int(seed)
        self.config = ToyConfig(seed, split, clips, frames, size)
        self.split, self.frames, self.size = split, frames, size
        self.name = "toy_video_qa"
        self.qa = _ToyRows(self)
        # The three rows of a clip are read together: remember the last few clips' specs.
        self._spec = functools.lru_cache(maxsize=64)(self._draw_spec)

    def _draw_spec(self, index: int) -> ClipSpec:
        # The spec has its own random stream, so listing questions draws no pixels.
        rng = np.random.default_rng([self.config.seed, _SPLIT_IDS[self.split], index, GENERATOR_VERSION, 1])
        return _clip_spec(rng, self.frames, self.size)

    def row(self, index: int) -> QA:
        """Question ``index``: clip ``index // 3``, type colour/shape/action by ``index % 3``."""
        clip, which = divmod(index, len(QUESTIONS))
        spec = self._spec(clip)
        kind = tuple(QUESTIONS)[which]
        rng = np.random.default_rng([self.config.seed, _SPLIT_IDS[self.split], clip, GENERATOR_VERSION, 7, which])
        question = QUESTIONS[kind][int(rng.integers(len(QUESTIONS[kind])))]
        answer = {"colour": spec.colour, "shape": spec.shape, "action": spec.action}[kind]
        return QA(clip, question, answer, kind, f"{self.split} clip {clip}")

    @property
    def num_clips(self) -> int:
        return self.config.clips

    def clip(self, index: int) -> np.ndarray:
        index = self._clip_index(index)
        return render_clip(self.config.seed, self.split, index, self.frames, self.size)[0]

    def describe(self, index: int) -> ClipSpec:
        """What clip ``index`` shows (its colour, shape, action and per-frame geometry)."""
        return self._spec(self._clip_index(index))

    @property
    def fingerprint(self) -> str:
        blob = json.dumps({"generator": GENERATOR_VERSION, **asdict(self.config)}, sort_keys=True)
        return "toy_video_qa-" + hashlib.sha256(blob.encode()).hexdigest()[:24]


class _ToyRows(Sequence):
    """The question rows of a toy dataset, computed on access: a million clips cost no memory."""

    def __init__(self, dataset: ToyVideoQA):
        self.dataset = dataset

    def __len__(self) -> int:
        return self.dataset.num_clips * len(QUESTIONS)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in checked_range(index, len(self), "toy_video_qa question table")]
        return self.dataset.row(checked_index(index, len(self), "toy_video_qa question table", items="questions"))
