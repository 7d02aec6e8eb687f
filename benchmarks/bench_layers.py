"""Layers against plain torch, same run: masked LSTM and TimeDistributed.

    .venv/bin/python benchmarks/bench_layers.py [--device cuda]

* masked LSTM: zoo's ``LSTM(mask=...)`` (valid steps gathered, packed, scattered back; padding anywhere)
  vs torch's ``pack_padded_sequence`` + ``nn.LSTM`` (post-padding only) and vs ``nn.LSTM`` ignoring the mask.
* TimeDistributed: zoo (all N*T frames in one call) vs a Python loop over frames.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zoo.layers import LSTM, TimeDistributed


def timeit(fn, device: str, repeat: int) -> float:
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dev, rows = args.device, []
    torch.manual_seed(0)

    n, t, f, h = 64, 40, 128, 128
    x = torch.randn(n, t, f, device=dev)
    lengths = torch.randint(5, t + 1, (n,))
    mask = (torch.arange(t)[None] < lengths[:, None]).to(dev)
    ours = LSTM(h, input_size=f).to(dev)
    ref = ours.rnn

    def torch_packed():
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=t)

    with torch.no_grad():
        base = timeit(torch_packed, dev, args.repeat)
        rows.append(
            (
                "masked LSTM (N=64,T=40)",
                "torch pack_padded",
                base,
                timeit(lambda: ours(x, mask=mask), dev, args.repeat),
            )
        )
        rows.append(
            (
                "LSTM, no mask",
                "nn.LSTM",
                timeit(lambda: ref(x), dev, args.repeat),
                timeit(lambda: ours(x), dev, args.repeat),
            )
        )

        cnn = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten()).to(dev)  # fmt: skip
        video = torch.randn(8, 16, 3, 32, 32, device=dev)
        td = TimeDistributed(cnn)
        loop = timeit(
            lambda: torch.stack([cnn(video[:, i]) for i in range(video.shape[1])], 1), dev, args.repeat
        )
        rows.append(
            (
                "TimeDistributed(CNN) 8x16 frames",
                "per-frame loop",
                loop,
                timeit(lambda: td(video), dev, args.repeat),
            )
        )

    print(f"device: {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'case':36} {'anchor':18} {'anchor ms':>10} {'zoo ms':>8} {'zoo/anchor':>10}")
    for case, anchor, a, z in rows:
        print(f"{case:36} {anchor:18} {a * 1e3:10.2f} {z * 1e3:8.2f} {z / a:10.2f}")


if __name__ == "__main__":
    main()
