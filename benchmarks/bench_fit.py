"""zoo.fit against a hand-written PyTorch loop: same model, data, seed and optimizer.

Prints microseconds per step on a tiny MLP and seconds per epoch on a small CNN (median of repeats,
runs interleaved so machine noise hits both alike), the overhead ratio, and asserts that both loops end
with the same loss and weights. On CPU the clock is the process's CPU time (``time.process_time``), which
a busy shared machine disturbs far less than wall time; on CUDA it is wall time after a synchronize.

    .venv/bin/python benchmarks/bench_fit.py [--repeats 7] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import zoo


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


def hand_loop(model, x, y, epochs, batch_size, device):
    """What one writes by hand: shuffle, slice, forward, loss, backward, step; loss summed on device."""
    model.to(device).train()
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = len(x)
    for _ in range(epochs):
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
        epoch_loss = (total / n).item()
    return epoch_loss


def zoo_loop(model, x, y, epochs, batch_size, device):
    history = zoo.fit(
        model, x, y, optimizer=make_optimizer, loss=nn.CrossEntropyLoss(), epochs=epochs,
        batch_size=batch_size, device=device, verbose=0,
    )  # fmt: skip
    return history.history["loss"][-1]


def measure(build, x, y, batch_size, epochs, repeats, device):
    times = {"hand": [], "zoo": []}
    results = {}
    for _ in range(repeats):
        for name, loop in (("hand", hand_loop), ("zoo", zoo_loop)):
            torch.manual_seed(0)
            model = build()
            clock = time.perf_counter if device.type == "cuda" else time.process_time
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = clock()
            loss = loop(model, x, y, epochs, batch_size, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append(clock() - start)
            results[name] = (loss, [p.detach().cpu().clone() for p in model.parameters()])
    (loss_h, w_h), (loss_z, w_z) = results["hand"], results["zoo"]
    assert loss_h == loss_z, f"final loss differs: hand {loss_h} vs zoo {loss_z}"
    assert all(torch.equal(a, b) for a, b in zip(w_h, w_z, strict=True)), "final weights differ"
    return statistics.median(times["hand"]), statistics.median(times["zoo"]), loss_h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)

    rows = []
    x = torch.randn(64 * 300, 32, generator=g)
    y = torch.randint(0, 10, (len(x),), generator=g)
    steps = len(x) // 64
    hand, ours, loss = measure(tiny_mlp, x, y, 64, 1, args.repeats, device)
    rows.append(("tiny MLP (us/step)", hand / steps * 1e6, ours / steps * 1e6, loss))

    x = torch.randn(64 * 40, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (len(x),), generator=g)
    hand, ours, loss = measure(small_cnn, x, y, 64, 1, max(3, args.repeats // 2), device)
    rows.append(("small CNN (s/epoch)", hand, ours, loss))

    print(f"device={device} threads={args.threads} torch={torch.__version__}")
    print(f"{'case':<22}{'hand loop':>12}{'zoo.fit':>12}{'ratio':>8}{'final loss (equal)':>20}")
    for name, hand, ours, loss in rows:
        print(f"{name:<22}{hand:>12.4g}{ours:>12.4g}{ours / hand:>8.3f}{loss:>20.6f}")


if __name__ == "__main__":
    main()
