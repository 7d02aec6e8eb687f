"""``model.compile(..., jit_compile=True)`` (training through ``torch.compile``) against eager ``model.fit``.

    python benchmarks/bench_jit.py [--rounds 5] [--threads 1]

For each network two identical ``zoo.Sequential`` models (same initial weights) are compiled with
``jit_compile=False`` and ``True``. The first epoch of each is timed once (for the jit model it includes
``torch.compile``'s one-off tracing and code generation); then one-epoch fits of the two are timed
interleaved (A B A B), the ratio taken within each round, median (min-max). The break-even is the number of
epochs after which the one-off compile time is paid back by the faster steps (none when the compiled
steps are not faster). Wall time (the compiler runs in subprocesses), with the load average.
"""

from __future__ import annotations

import argparse
import time

import torch
from measure import paired_ratio, report_load, time_cases

import zoo
from zoo.layers import Dense

LOSS = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def mlp(widths: tuple[int, ...], seed: int = 0) -> zoo.Sequential:
    torch.manual_seed(seed)
    layers = [Dense(w, activation="relu", input_dim=i) for i, w in zip(widths[:-2], widths[1:-1], strict=True)]
    return zoo.Sequential([*layers, Dense(widths[-1], input_dim=widths[-2])])


def measure(name: str, widths: tuple[int, ...], samples: int, batch: int, rounds: int) -> None:
    x = torch.randn(samples, widths[0])
    y = torch.randint(0, widths[-1], (samples,))
    models = {}
    for jit in (False, True):
        model = mlp(widths)
        model.compile(optimizer="sgd", loss=LOSS, jit_compile=jit)
        models[jit] = model

    def epoch(model: zoo.Sequential) -> None:
        model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)

    first = {}
    for jit, model in models.items():
        start = time.perf_counter()
        epoch(model)
        first[jit] = time.perf_counter() - start
    t = time_cases({"eager": lambda: epoch(models[False]), "jit": lambda: epoch(models[True])}, rounds=rounds)
    ratio = paired_ratio(t["jit"], t["eager"])
    saved = t["eager"].median * (1.0 - ratio.median)  # per epoch, from the paired ratio (robust to load bursts)
    overhead = first[True] - first[False]
    even = f"{overhead / saved:.0f} epochs" if saved > 0 else "never (compiled steps are not faster)"
    steps = samples // batch
    print(f"{name:<34} {steps:>5} {1e3 * t['eager'].median:>10.1f} {1e3 * t['jit'].median:>10.1f} "
          f"{ratio.show('.3f', 'x'):<22} {overhead:>8.1f} s   {even}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report_load("start")
    print(f"torch={torch.__version__} threads={args.threads}; epoch times in ms, ratio = jit / eager per round")
    print(f"{'network':<34} {'steps':>5} {'eager ms':>10} {'jit ms':>10} {'ratio, median (min-max)':<22} "
          f"{'compile':>10}   break-even")  # fmt: skip
    measure("tiny MLP 32-64-64-10, batch 32", (32, 64, 64, 10), 512, 32, args.rounds)
    measure("MLP 512-1024-1024-10, batch 256", (512, 1024, 1024, 10), 4096, 256, args.rounds)
    report_load("end")


if __name__ == "__main__":
    main()
