"""Video QA: epochs with the frozen-backbone feature cache vs recomputing the backbone every epoch, and
feature-extraction throughput with/without channels_last and batching across time.

    python benchmarks/bench_videoqa.py                   # toy_cnn at 32x32 (the example's setting)
    python benchmarks/bench_videoqa.py --backbone resnet18 --size 112 --clips 64
    python benchmarks/bench_videoqa.py --threads 1 --repeat 1   # on a busy machine

Both training runs start from the same head weights and see the same batches in the same order, so
their loss curves must agree (checked to 4 decimals); only where the frame features come from differs.

A third case, interleaved with them, runs only the head's two LSTM kernels (``nn.LSTM`` forward and
backward on the same batches, each under the faster of torch's two CPU kernels: no embedding, dense
layers, loss, optimizer or fit loop). No head of the reference's shape trains faster, so ``recompute /
that`` bounds the cache speed-up any implementation of this head can show on the machine. The FLOP
line says the same without the machine: the backbone's forward and the LSTMs' forward and backward
counted per epoch, so that ``1 + backbone / LSTMs`` is the speed-up were both to run at one FLOP rate.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
import time

import numpy as np
import torch
from measure import Spread, interleave, paired_ratio, report_load, time_cases
from torch.utils.flop_counter import FlopCounterMode
from zoo_videoqa.data import Vocabulary, encode
from zoo_videoqa.model import HEAD_SIZES, default_head, video_tensor

import zoo
from zoo.utils import to_categorical
from zoo.utils.feature_cache import FeatureCache


def epochs_of(model, source, c, q, a, n_answers, args) -> tuple[list[float], float]:
    """Train ``model`` with zoo.fit on batches whose first input comes from ``source[clip ids]``."""

    def batches():
        for epoch in range(args.epochs):
            order = np.random.default_rng([args.seed, epoch]).permutation(len(a))
            for start in range(0, len(a), args.batch_size):
                idx = order[start : start + args.batch_size]
                yield (source(c[idx]), torch.from_numpy(q[idx])), torch.from_numpy(to_categorical(a[idx], n_answers))

    stream = batches()
    start = time.perf_counter()
    history = zoo.fit(
        model, lambda: stream, optimizer="adam", loss="categorical_crossentropy", epochs=args.epochs,
        steps_per_epoch=math.ceil(len(a) / args.batch_size), verbose=0,
    )  # fmt: skip
    return history.history["loss"], (time.perf_counter() - start) / args.epochs


def lstm_steps(model, features, c, q, args):
    """The head's two recurrent kernels alone, as (batches, steps): ``nn.LSTM``s of the head's sizes run
    forward and backward on the batches ``epochs_of`` trains on (each question cut to its batch's
    longest, as zoo's masked LSTM runs it)."""
    head = model.head
    video = torch.nn.LSTM(head.video_lstm.rnn.input_size, head.video_lstm.units, batch_first=True)
    question = torch.nn.LSTM(head.question_lstm.rnn.input_size, head.question_lstm.units, batch_first=True)
    embed = torch.randn(head.question_lstm.rnn.input_size, requires_grad=True)
    lengths = (q != 0).sum(1)

    def batches():
        for epoch in range(args.epochs):
            order = np.random.default_rng([args.seed, epoch]).permutation(len(q))
            for first in range(0, len(q), args.batch_size):
                yield order[first : first + args.batch_size]

    def frames_lstm(idx):
        video(torch.from_numpy(np.ascontiguousarray(features[c[idx]])))[1][0][-1].sum().backward()

    def question_lstm(idx):
        question(embed.expand(len(idx), int(lengths[idx].max()), -1))[1][0][-1].sum().backward()

    return batches, (frames_lstm, question_lstm)


@contextlib.contextmanager
def one_dnn(enabled: bool):
    """torch.backends.mkldnn.enabled set for a block, then restored. Set by hand:
    torch.backends.mkldnn.flags() also sets oneDNN's TF32 flag, which warns on CPU builds."""
    before, torch.backends.mkldnn.enabled = torch.backends.mkldnn.enabled, enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


def lstm_floor(model, features, c, q, args) -> float:
    """Seconds per epoch of :func:`lstm_steps`. Each LSTM is timed under both of torch's CPU kernels
    (oneDNN and the native one; which is faster depends on the input width) and the faster is kept, so
    that this bounds any head, zoo's kernel choice included."""
    batches, steps = lstm_steps(model, features, c, q, args)

    def seconds(step, use_one_dnn: bool) -> float:
        with one_dnn(use_one_dnn):
            start = time.perf_counter()
            for idx in batches():
                step(idx)
            return (time.perf_counter() - start) / args.epochs

    return sum(min(seconds(step, True), seconds(step, False)) for step in steps)


def flops_per_epoch(model, clips, features, c, q, args) -> tuple[float, float]:
    """(backbone forward, head LSTMs forward + backward) floating-point operations per epoch, counted by
    torch's FlopCounterMode. The backbone runs once per question on the recompute side (its clip's
    frames); the LSTMs are :func:`lstm_steps` under the native kernel (oneDNN's fused op is opaque to
    the counter; both kernels do the same matrix products)."""
    sample = video_tensor(clips[: min(4, len(clips))])
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model.encoder(sample)
    backbone = counter.get_total_flops() / len(sample) * len(q)
    batches, steps = lstm_steps(model, features, c, q, args)
    with FlopCounterMode(display=False) as counter, one_dnn(False):
        for idx in batches():
            for step in steps:
                step(idx)
    return backbone, counter.get_total_flops() / args.epochs


def throughput(encoder: torch.nn.Module, clips: np.ndarray, *, channels_last: bool, per_call: str, repeat: int) -> float:
    """Frames per second of the frozen per-frame backbone over ``clips`` (B, T, H, W, 3).

    ``per_call``: ``"frame"`` = one frame per call (no batching), ``"step"`` = the B frames of one time
    step per call (batching across clips only), ``"all"`` = all B*T frames in one call (batching across
    time too, what ``TimeDistributed`` does).
    """
    backbone = encoder.frames.layer  # normalisation + CNN, applied to (N, 3, H, W)
    video = video_tensor(clips)
    n, t = video.shape[:2]
    frames = video.reshape(n * t, *video.shape[2:])
    calls = {"frame": frames.split(1), "step": [video[:, i] for i in range(t)], "all": [frames]}[per_call]
    if channels_last:
        backbone = backbone.to(memory_format=torch.channels_last)
        calls = [c.contiguous(memory_format=torch.channels_last) for c in calls]
    else:
        calls = [c.contiguous() for c in calls]
    with torch.inference_mode():
        backbone(calls[0][:2])  # warm-up
        start = time.perf_counter()
        for _ in range(repeat):
            for batch in calls:
                backbone(batch)
        seconds = time.perf_counter() - start
    backbone.to(memory_format=torch.contiguous_format)
    return repeat * n * t / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="toy_cnn")
    parser.add_argument("--weights", default=None, help="backbone weights (default: toy_shapes for toy_cnn, else none)")
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the sample per throughput figure")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the two training runs")
    parser.add_argument("--head", choices=sorted(HEAD_SIZES),
                        help="the head's widths (default: the example's, small for toy_cnn, else reference)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's; 1 on a shared machine, where two threads stall)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report_load("start")
    weights = args.weights or ("toy_shapes" if args.backbone == "toy_cnn" else None)
    args.head = args.head or default_head(args.backbone)

    data = zoo.get("datasets", "toy_video_qa", "train", clips=args.clips, frames=args.frames, size=args.size, seed=args.seed)
    clips = np.stack([data.clip(i) for i in range(data.num_clips)])  # both runs read the same pixels
    questions = Vocabulary.for_questions(r.question for r in data.qa)
    answers = Vocabulary.for_answers(r.answer for r in data.qa)
    c, q, a = encode(data, questions, answers, 12)
    torch.manual_seed(args.seed)
    model = zoo.load("video_qa", backbone=args.backbone, backbone_weights=weights, question_vocab_size=len(questions),
                     num_answers=len(answers), frame_size=args.size, **HEAD_SIZES[args.head].options())  # fmt: skip
    initial = {k: v.clone() for k, v in model.head.state_dict().items()}

    with tempfile.TemporaryDirectory() as root:
        cache = FeatureCache(model.encoder, root=root, transform=video_tensor)
        start = time.perf_counter()
        features = cache.features(lambda: (clips[i : i + 32] for i in range(0, len(clips), 32)),
                                  fingerprint=data.fingerprint, count=len(clips))  # fmt: skip
        extract = time.perf_counter() - start
        hit = time_cases({"hit": lambda: cache.features([], fingerprint=data.fingerprint, count=len(clips))},
                         rounds=5, inner=20)["hit"]  # fmt: skip
        curves: dict[str, list[float]] = {}

        def run(name, module, source):
            def case() -> float:
                model.head.load_state_dict(initial)
                torch.manual_seed(args.seed)
                curves[name], seconds = epochs_of(module, source, c, q, a, len(answers), args)
                return seconds

            return case

        # recompute: the full model, frozen backbone included, on raw frames every epoch;
        # cache: the head alone on the memory-mapped features. Interleaved rounds, each from the same weights.
        epochs = interleave({
            "recompute": run("recompute", model, lambda ids: video_tensor(clips[ids])),
            "cache": run("cache", model.head, lambda ids: torch.from_numpy(np.ascontiguousarray(features[ids]))),
            "floor": lambda: lstm_floor(model, features, c, q, args),
        }, rounds=args.rounds, warmup=0)  # fmt: skip
        backbone_flops, lstm_flops = flops_per_epoch(model, clips, features, c, q, args)
    loss_full, loss_cached = curves["recompute"], curves["cache"]
    same = np.allclose(np.round(loss_full, 4), np.round(loss_cached, 4), atol=1.01e-4)
    speedup = paired_ratio(epochs["recompute"], epochs["cache"])
    bound = paired_ratio(epochs["recompute"], epochs["floor"])
    report_load("end")

    print(f"\nvideo QA training, {args.backbone} {args.size}x{args.size}, {args.head} head, {args.clips} clips x {args.frames} frames, "
          f"{len(a)} questions, batch {args.batch_size}, {torch.get_num_threads()} threads; "
          f"median (min-max) over {args.rounds} interleaved rounds")  # fmt: skip
    print(f"{'recompute backbone every epoch':34}{Spread(tuple(epochs['recompute'])).show('.3f', ' s/epoch')}")
    print(f"{'feature cache (head only)':34}{Spread(tuple(epochs['cache'])).show('.3f', ' s/epoch')}")
    print(f"{'head LSTM kernels alone':34}{Spread(tuple(epochs['floor'])).show('.3f', ' s/epoch')}")
    print(f"{'cache speed-up, per round':34}{speedup.show('.2f', 'x')}")
    print(f"{'bound: recompute / LSTM kernels':34}{bound.show('.2f', 'x')}  (no head of this shape beats it here)")
    print(f"FLOPs per epoch: backbone forward {backbone_flops / 1e9:.1f} G, head LSTMs forward+backward "
          f"{lstm_flops / 1e9:.2f} G; at equal FLOP rates the cache speed-up is at most "
          f"1 + {backbone_flops / lstm_flops:.2f} = {1 + backbone_flops / lstm_flops:.2f}x")  # fmt: skip
    print(f"one-off feature extraction {extract:.2f}s, cache hit {hit.scaled(1e3).show('.3f', ' ms')}")
    print("loss per epoch, recompute:", " ".join(f"{x:.4f}" for x in loss_full))
    print("loss per epoch, cached:   ", " ".join(f"{x:.4f}" for x in loss_cached))
    print(f"loss curves match to 4 decimals: {same}")

    sample = clips[: min(32, len(clips))]
    print(f"\nfeature extraction, {len(sample)} clips x {args.frames} frames ({args.backbone}, inference mode)")
    print(f"{'':42}{'frames/s':>10}{'ratio':>10}")
    base = None
    for label, cl, per_call in (
        ("one frame per call (B*T calls)", False, "frame"),
        ("one time step per call (T calls of B)", False, "step"),
        ("batched across time (1 call of B*T)", False, "all"),
        ("one frame per call, channels_last", True, "frame"),
        ("one time step per call, channels_last", True, "step"),
        ("batched across time, channels_last", True, "all"),
    ):
        fps = throughput(model.encoder, sample, channels_last=cl, per_call=per_call, repeat=args.repeat)
        base = base or fps
        print(f"{label:42}{fps:>10.0f}{fps / base:>10.2f}")
    if not same:
        raise SystemExit("loss curves differ")


if __name__ == "__main__":
    main()
