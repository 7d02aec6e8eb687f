"""Layers against plain torch, same run: masked LSTM and TimeDistributed.

    .venv/bin/python benchmarks/bench_layers.py [--device cuda] [--rounds 9] [--threads 1]

* masked LSTM: zoo's ``LSTM(mask=...)`` (valid steps gathered and packed; padding anywhere) vs torch's
  ``pack_padded_sequence`` + ``nn.LSTM`` (post-padding only), each giving the final state; then both
  giving the padded sequences (zoo ``return_sequences=True``; torch adds ``pad_packed_sequence``);
  without a mask vs ``nn.LSTM``; a training step (forward + backward) giving the final state; and a
  training step of an LSTM over wide inputs (zoo: torch's native kernel; ``nn.LSTM``: oneDNN).
* TimeDistributed: zoo vs a Python loop over frames and vs one call on all N*T frames.

Cases of one table run interleaved (A B C A B C ...), every ratio is taken within a round and printed as
median (min-max) over the rounds, with the machine's load average at start and end.
"""

from __future__ import annotations

import argparse
import time

import torch
from measure import Spread, paired_ratio, report_load, time_cases
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zoo.layers import LSTM, TimeDistributed


def table(title: str, cases: dict, anchor: str, args, sync) -> dict[str, Spread]:
    clock = time.perf_counter if sync else time.process_time  # CPU time: less disturbed by other jobs
    times = time_cases(cases, rounds=args.rounds, warmup=2, sync=sync, clock=clock, inner=args.inner)
    print(f"\n{title}")
    print(f"{'case':44}{'ms, median (min-max)':>28}{f'ratio to {anchor}':>28}")
    for name, spread in times.items():
        print(f"{name:44}{spread.scaled(1e3).show('.2f'):>28}{paired_ratio(spread, times[anchor]).show('.3f'):>28}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--inner", type=int, default=10,
                        help="calls per timed sample: one ~10 ms call is at the mercy of a shared machine's noise")
    parser.add_argument("--threads", type=int, default=1, help="1: two threads on a shared 2-core machine stall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    sync = torch.cuda.synchronize if dev == "cuda" else None
    torch.manual_seed(0)
    report_load("start")
    print(f"device: {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}")

    n, t, f, h = 64, 40, 128, 128
    x = torch.randn(n, t, f, device=dev)
    lengths = torch.randint(5, t + 1, (n,))
    mask = (torch.arange(t)[None] < lengths[:, None]).to(dev)
    ours = LSTM(h, input_size=f).to(dev)
    ref = ours.rnn
    ours_seq = LSTM(h, input_size=f, return_sequences=True).to(dev)
    ours_seq.load_state_dict(ours.state_dict())

    def torch_packed():
        return ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))[1][0][-1]

    def torch_packed_sequences():
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=t)

    def step(forward):  # one training step's forward and backward
        def run():
            forward().sum().backward()
        return run

    cnn = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten()).to(dev)  # fmt: skip
    video = torch.randn(8, 16, 3, 32, 32, device=dev)
    td, auto = TimeDistributed(cnn), TimeDistributed(cnn, chunk_size="auto")
    with torch.no_grad():
        table(f"masked LSTM, final state, N={n}, T={t}, F=H={h}",
              {"torch pack_padded + nn.LSTM": torch_packed, "zoo LSTM(mask=)": lambda: ours(x, mask=mask)},
              "torch pack_padded + nn.LSTM", args, sync)  # fmt: skip
        table(f"masked LSTM, padded sequences, N={n}, T={t}, F=H={h}",
              {"torch pack_padded + nn.LSTM + pad_packed": torch_packed_sequences,
               "zoo LSTM(return_sequences=True, mask=)": lambda: ours_seq(x, mask=mask)},
              "torch pack_padded + nn.LSTM + pad_packed", args, sync)  # fmt: skip
        table("LSTM without mask", {"nn.LSTM": lambda: ref(x), "zoo LSTM": lambda: ours(x)}, "nn.LSTM", args, sync)
    # Training takes the padded fused kernel where most steps are valid; the input needs its gradient, as
    # an Embedding's output (where masks come from) or a stacked layer's does.
    x_grad = x.clone().requires_grad_()
    with torch.enable_grad():
        table(f"masked LSTM, training step (forward + backward), final state, N={n}, T={t}, F=H={h}", {
            "torch pack_padded + nn.LSTM":
                step(lambda: ref(pack_padded_sequence(x_grad, lengths, batch_first=True, enforce_sorted=False))[1][0][-1]),
            "zoo LSTM(mask=)": step(lambda: ours(x_grad, mask=mask)),
        }, "torch pack_padded + nn.LSTM", args, sync)  # fmt: skip
        # A wide input (a CNN's pooled frame features): zoo trains it by torch's native kernel, nn.LSTM by
        # oneDNN (torch's choice on the CPU).
        wide = LSTM(256, input_size=2048).to(dev)
        frames = torch.randn(32, 8, 2048, device=dev)
        table("LSTM(256) over 2048 features, N=32, T=8, training step (forward + backward)", {
            "nn.LSTM": step(lambda: wide.rnn(frames)[1][0][-1]),
            "zoo LSTM": step(lambda: wide(frames)),
        }, "nn.LSTM", args, sync)  # fmt: skip
    with torch.no_grad():
        auto(video)  # measures its chunking once, untimed
        times = table("TimeDistributed(small CNN), 8 x 16 frames 32x32", {
            "per-frame loop": lambda: torch.stack([cnn(video[:, i]) for i in range(video.shape[1])], 1),
            "one call on N*T frames": lambda: cnn(video.reshape(-1, *video.shape[2:])).reshape(8, 16, -1),
            "zoo TimeDistributed(chunk_size=None)": lambda: td(video),
            "zoo TimeDistributed(chunk_size='auto')": lambda: auto(video),
        }, "per-frame loop", args, sync)  # fmt: skip
        better = Spread(tuple(map(min, times["per-frame loop"].samples, times["one call on N*T frames"].samples)))
        over = paired_ratio(times["zoo TimeDistributed(chunk_size='auto')"], better)
        print(f"chunk_size='auto' chose {list(auto.chosen_chunks.values())} frames per call; its time over the "
              f"better of loop and one call, per round: {over.show('.3f')}")  # fmt: skip
    report_load("end")


if __name__ == "__main__":
    main()
