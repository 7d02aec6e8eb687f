"""Pretrains ``toy_cnn`` on single synthetic frames and writes the packaged weights (deterministic).

    python -m zoo_videoqa.pretrain                 # rewrites zoo_videoqa/weights/toy_cnn.pt and .json
    python -m zoo_videoqa.pretrain --out /tmp/w    # somewhere else

Each frame shows one shape of the toy clips' colours and shapes, at a random position, size and angle on
a cluttered background. Linear heads on the pooled features predict colour and shape, and the first five
pooled features are trained to equal the geometry (centre, radius, and orientation as cos/sin of symmetry
order x angle, zero for the circle), so the features a video model sees keep everything its questions ask
about, and motion is a large change in a few of them. Seeds, data order and single-threaded CPU
kernels make two runs on one machine produce the same file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from zoo.plugin import ZooArgumentParser, ZooError, atomic_open, whole_number, write_text_atomic
from zoo_videoqa.backbone import CATEGORIES, GEOMETRY, MEAN, STD, WEIGHTS_DIR, ToyCNN, sha256_file
from zoo_videoqa.toy import SHAPES, render_frames


def _to_input(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


class Pretrainer(nn.Module):
    """The backbone plus one linear head per property; only the backbone and classifier are shipped."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ToyCNN(len(CATEGORIES), include_top=True)
        self.colour = nn.Linear(self.backbone.num_features, len(CATEGORIES) // len(SHAPES))
        self.shape = nn.Linear(self.backbone.num_features, len(SHAPES))

    def forward(self, x: torch.Tensor):
        pooled = self.backbone.features(self.backbone.coords(x)).mean(dim=(2, 3))
        return self.backbone.classifier(pooled), self.colour(pooled), self.shape(pooled), pooled


def scaled_geometry(geometry: torch.Tensor) -> torch.Tensor:
    """Targets of the geometry features: centre and radius spread to about [-1.5, 1.5]; the circle's
    orientation (cos, sin) is 0 (it has none)."""
    offset = torch.tensor([0.5, 0.5, 0.14, 0.0, 0.0])
    scale = torch.tensor([4.0, 4.0, 20.0, 1.5, 1.5])
    return (geometry - offset) * scale


def _losses(model: Pretrainer, x, t) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    joint, colour, shape, pooled = model(x)
    category = t["colour"] * len(SHAPES) + t["shape"]
    n = len(GEOMETRY)
    parts = {
        "category": F.cross_entropy(joint, category),
        "colour": F.cross_entropy(colour, t["colour"]),
        "shape": F.cross_entropy(shape, t["shape"]),
        "geometry": 4 * F.mse_loss(pooled[:, :n], scaled_geometry(t["geometry"])),
        "rest": 0.01 * pooled[:, n:].pow(2).mean(),  # keep the other features small: less clutter detail
    }
    return sum(parts.values()), parts


@torch.no_grad()
def _evaluate(model: Pretrainer, x: torch.Tensor, t: dict[str, torch.Tensor]) -> dict[str, float]:
    model.eval()
    joint, colour, shape, pooled = model(x)
    scale = torch.tensor([4.0, 4.0, 20.0, 1.5, 1.5])
    err = ((pooled[:, : len(GEOMETRY)] - scaled_geometry(t["geometry"])) / scale).abs()
    angle = t["has_angle"]
    return {
        "category_accuracy": float((joint.argmax(1) == t["colour"] * len(SHAPES) + t["shape"]).float().mean()),
        "colour_accuracy": float((colour.argmax(1) == t["colour"]).float().mean()),
        "shape_accuracy": float((shape.argmax(1) == t["shape"]).float().mean()),
        "position_mae": float(err[:, :2].mean()),
        "radius_mae": float(err[:, 2].mean()),
        "orientation_mae": float(err[angle, 3:].mean()),
    }


def _targets(meta: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in meta.items()}


def pretrain(
    out: Path = WEIGHTS_DIR,
    *,
    frames: int = 16000,
    size: int = 32,
    epochs: int = 8,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
    log=print,
) -> dict:
    """Train, then write ``toy_cnn.pt`` (state dict of ToyCNN with its classifier) and ``toy_cnn.json``."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions in a fixed order: the same bytes every run
    try:
        start = time.perf_counter()
        images, meta = render_frames(seed, 0, frames, size)
        val_images, val_meta = render_frames(seed + 1, 0, max(frames // 10, 64), size)
        x_val, t_val = _to_input(val_images), _targets(val_meta)
        model = Pretrainer()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
        steps = epochs * (frames // batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
        order_rng = np.random.default_rng(seed)
        for epoch in range(epochs):
            model.train()
            order = order_rng.permutation(frames)
            total = 0.0
            for b in range(frames // batch_size):
                idx = order[b * batch_size : (b + 1) * batch_size]
                x = _to_input(images[idx])
                t = _targets({k: v[idx] for k, v in meta.items()})
                loss, _ = _losses(model, x, t)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach())
            metrics = _evaluate(model, x_val, t_val)
            log(f"epoch {epoch + 1}/{epochs} loss {total / (frames // batch_size):.4f} "
                + " ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(False)
    out.mkdir(parents=True, exist_ok=True)
    weights_file = out / "toy_cnn.pt"
    state = {k: v.contiguous() for k, v in model.backbone.state_dict().items()}
    with atomic_open(weights_file) as f:  # a file object: the archive's inner folder is 'archive', not a temp name
        torch.save(state, f)
    info = {
        "variant": "toy_shapes",
        "file": weights_file.name,
        "sha256": sha256_file(weights_file),
        "file_size": weights_file.stat().st_size,
        "num_params": sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k),
        "input_size": [3, size, size],
        "mean": list(MEAN),
        "std": list(STD),
        "categories": list(CATEGORIES),
        "trained_on": f"{frames} synthetic toy frames (seed {seed}), {epochs} epochs",
        "command": "python -m zoo_videoqa.pretrain",
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    write_text_atomic(out / "toy_cnn.json", json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> None:
    """A wrong option (``--epochs 0``, ``--frames many``) is one line and exit status 1, before any training."""
    parser = ZooArgumentParser(prog="python -m zoo_videoqa.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--frames", type=whole_number(1), default=16000)
    parser.add_argument("--epochs", type=whole_number(1), default=8)
    parser.add_argument("--size", type=whole_number(1), default=32)
    parser.add_argument("--seed", type=whole_number(0), default=0)
    try:
        args = parser.parse_args(argv)
    except ZooError as exc:
        raise SystemExit(f"{parser.prog}: error: {exc}") from None
    info = pretrain(args.out, frames=args.frames, size=args.size, epochs=args.epochs, seed=args.seed)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
