"""``zoo.benchmark`` against a plain hand-written timing loop of the same protocol, on the same models.

Both time ``--steps`` inference steps after ``--warmup`` untimed ones, on the same random batch, with
``time.perf_counter`` around each step; they take turns (zoo, hand, zoo, hand ...) so that load on the
machine falls on both. Prints each model's step time for both, and the round-by-round ratio zoo / hand
(median and min-max range), with the load average. The measurement adds nothing when the ratio is ~1.00.

    .venv/bin/python benchmarks/bench_benchmark.py [--rounds 7] [--threads 1] [--timm-checkout DIR]

With ``--timm-checkout DIR`` (a checkout of timm's repository: its ``benchmark.py`` is in neither the wheel
nor the sdist), timm's own benchmark.py runs too, in a child process on one thread, interleaved with
``zoo.benchmark`` of the same timm model, and its ``infer_step_time`` is compared with zoo's step time.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from measure import Spread, interleave, paired_ratio, report_load

import zoo

MODELS = (("resnet18", 64), ("mobilenet_v3_small", 96), ("toy_cnn", 32))


def hand_loop(model: torch.nn.Module, x: torch.Tensor, warmup: int, steps: int) -> float:
    """What one writes by hand: eval, inference mode, warm up, then time each step; mean step in ms."""
    model.eval()
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.fmean(times)


def compare(name: str, size: int, args: argparse.Namespace) -> tuple[Spread, Spread]:
    """Step times (ms) of zoo.benchmark and of the hand loop on one model, interleaved round by round."""
    model = zoo.load(name, weights=None)
    x = torch.randn(args.batch_size, 3, size, size)
    cases = {
        "zoo": lambda: (
            zoo.benchmark(
                model, batch_size=args.batch_size, img_size=size, warmup=args.warmup, steps=args.steps
            ).step_ms
        ),
        "hand": lambda: hand_loop(model, x, args.warmup, args.steps),
    }
    results = interleave(cases, rounds=args.rounds, warmup=1)
    return Spread(tuple(results["zoo"])), Spread(tuple(results["hand"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--timm-checkout", type=Path, help="a checkout of timm's repository, for its benchmark.py"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report_load("start")
    print(
        f"threads={args.threads} batch={args.batch_size} warmup={args.warmup} steps={args.steps} torch={torch.__version__}"
    )
    print(f"{'model':<22}{'size':>6}{'zoo ms/step':>22}{'hand ms/step':>22}{'zoo / hand':>22}")
    for name, size in MODELS:
        ours, hand = compare(name, size, args)
        ratio = paired_ratio(ours, hand)
        print(f"{name:<22}{size:>6}{ours.show('.2f'):>22}{hand.show('.2f'):>22}{ratio.show('.3f', 'x'):>22}")
    if args.timm_checkout:
        compare_with_timm(args)
    report_load("end")


def timm_benchmark(script: Path, arch: str, size: int, args: argparse.Namespace) -> float:
    """timm's benchmark.py in a child on one thread: its mean inference step in ms."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "results.csv"
        command = [sys.executable, str(script), "--model", arch, "--bench", "inference", "--device", "cpu",
                   "--img-size", str(size), "-b", str(args.batch_size), "--num-warm-iter", str(args.warmup),
                   "--num-bench-iter", str(args.steps), "--results-file", str(results)]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=script.parent)
        (row,) = csv.DictReader(results.open())
        return float(row["infer_step_time"])


def compare_with_timm(args: argparse.Namespace) -> None:
    script = args.timm_checkout / "benchmark.py"
    if not script.is_file():
        raise SystemExit(f"{script} is missing: --timm-checkout takes a checkout of timm's repository")
    arch, size = "resnet18", 64
    model = zoo.load(f"timm:{arch}", weights=None)
    cases = {
        "zoo": lambda: (
            zoo.benchmark(
                model, batch_size=args.batch_size, img_size=size, warmup=args.warmup, steps=args.steps
            ).step_ms
        ),  # fmt: skip
        "timm": lambda: timm_benchmark(script, arch, size, args),
    }
    results = interleave(cases, rounds=max(3, args.rounds // 2), warmup=0)
    ours, theirs = Spread(tuple(results["zoo"])), Spread(tuple(results["timm"]))
    label = f"timm:{arch} vs timm's benchmark.py"
    print(
        f"{label:<44}{ours.show('.2f'):>22}{theirs.show('.2f'):>22}{paired_ratio(ours, theirs).show('.3f', 'x'):>22}"
    )


if __name__ == "__main__":
    main()
