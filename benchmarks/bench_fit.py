"""zoo.fit against a hand-written PyTorch loop: same model, data, seed and optimizer.

Prints microseconds per step on a tiny MLP and seconds per epoch on a small CNN, and each zoo case's ratio
to the hand loop (median and min-max over rounds; the cases run interleaved, A B A B, and each ratio is
taken within a round), and asserts that every loop ends with the same loss and weights. The tiny MLP is
also trained with the loss given by its Keras name (``{"name": "sparse_categorical_crossentropy",
"from_logits": True}``), which must cost what ``nn.CrossEntropyLoss`` does. On CPU the clock is the
process's CPU time (``time.process_time``), which a busy shared machine disturbs far less than wall time;
on CUDA it is wall time after a synchronize.

    .venv/bin/python benchmarks/bench_fit.py [--rounds 7] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch
from measure import Spread, interleave, paired_ratio, report_load
from torch import nn

import zoo

KERAS_LOSS = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def tiny_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
    )  # fmt: skip


def make_optimizer(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9)


def hand_loop(model, x, y, batch_size, device):
    """What one writes by hand: shuffle, slice, forward, loss, backward, step; loss summed on device."""
    model.to(device).train()
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = len(x)
    perm = torch.randperm(n)
    total = torch.zeros((), device=device)
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        xb, yb = x[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True)
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(idx)
    return (total / n).item()


def zoo_loop(loss):
    def loop(model, x, y, batch_size, device):
        history = zoo.fit(model, x, y, optimizer=make_optimizer, loss=loss, epochs=1, batch_size=batch_size,
                          device=device, verbose=0)  # fmt: skip
        return history.history["loss"][-1]

    return loop


def measure(build, x, y, batch_size, loops, rounds, device) -> dict[str, Spread]:
    """Seconds per epoch of each loop, interleaved; asserts every loop ends where the hand loop does."""
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    ends = {}

    def case(name, loop):
        def run() -> float:
            torch.manual_seed(0)
            model = build()
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = clock()
            loss = loop(model, x, y, batch_size, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = clock() - start
            ends[name] = (loss, [p.detach().cpu().clone() for p in model.parameters()])
            return seconds

        return run

    times = interleave({name: case(name, loop) for name, loop in loops.items()}, rounds=rounds)
    loss_h, w_h = ends["hand"]
    for name, (loss, weights) in ends.items():
        assert abs(loss - loss_h) <= 1e-6 * max(1.0, abs(loss_h)), (
            f"final loss differs: hand {loss_h} vs {name} {loss}"
        )
        assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(w_h, weights, strict=True)), \
            f"final weights differ: {name}"  # fmt: skip
    return {name: Spread(tuple(samples)) for name, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    report_load("start")

    tables = []
    x = torch.randn(64 * 300, 32, generator=g)
    y = torch.randint(0, 10, (len(x),), generator=g)
    loops = {"hand": hand_loop, "zoo.fit, nn.CrossEntropyLoss()": zoo_loop(nn.CrossEntropyLoss()),
             f"zoo.fit, {KERAS_LOSS}": zoo_loop(KERAS_LOSS)}  # fmt: skip
    times = measure(tiny_mlp, x, y, 64, loops, args.rounds, device)
    tables.append(
        ("tiny MLP 32-64-10, batch 64, us/step", {k: v.scaled(1e6 / 300) for k, v in times.items()})
    )

    x = torch.randn(64 * 40, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (len(x),), generator=g)
    loops = {"hand": hand_loop, "zoo.fit, nn.CrossEntropyLoss()": zoo_loop(nn.CrossEntropyLoss())}
    tables.append(("small CNN, batch 64, 40 steps, s/epoch",
                   measure(small_cnn, x, y, 64, loops, max(3, args.rounds // 2), device)))  # fmt: skip

    report_load("end")
    print(f"device={device} threads={args.threads} torch={torch.__version__}; median (min-max) over rounds, "
          "every loop ends with the hand loop's loss and weights")  # fmt: skip
    for title, times in tables:
        print(f"\n{title}")
        print(f"{'loop':70}{'time':>26}{'ratio to hand':>26}")
        for name, spread in times.items():
            print(f"{name:70}{spread.show('.4g'):>26}{paired_ratio(spread, times['hand']).show('.3f'):>26}")


if __name__ == "__main__":
    main()
