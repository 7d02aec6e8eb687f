"""Inference latency of a model exported with ``zoo.export`` to ONNX, under onnxruntime, against eager
PyTorch, on CPU, in one run.

    .venv/bin/python benchmarks/bench_export.py                      # resnet50, 224x224, batch 1 and 32
    .venv/bin/python benchmarks/bench_export.py --model mobilenet_v2 --threads 4

Both runtimes get the same number of threads. Weights are random (``weights=None``): latency does not depend
on their values, and no download is needed. Each figure is the median of ``--repeats`` timed runs after
warm-up runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import onnxruntime
import torch
import torchvision
from measure import paired_ratio, report_load, time_cases

import zoo


def build(name: str) -> torch.nn.Module:
    if zoo.list("applications", name):
        return zoo.load(name, weights=None)
    return torchvision.models.get_model(name, weights=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = build(args.model).eval()
    with tempfile.TemporaryDirectory() as tmp:
        result = zoo.export(
            model, "onnx", os.path.join(tmp, "model.onnx"), input_shape=(3, args.size, args.size)
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
        session = onnxruntime.InferenceSession(str(result.path), options, providers=["CPUExecutionProvider"])
    print(result)
    report_load("start")
    print(
        f"\n{args.model}, {args.size}x{args.size}, {args.threads} threads, torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; median of {args.repeats} interleaved runs, "
        "speedup per run: median (min-max)\n"
    )
    header = ("batch", "eager torch ms", "onnxruntime ms", "ort speedup", "eager img/s", "ort img/s")
    print(" | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for batch in (int(b) for b in args.batches.split(",")):
        x = torch.randn(batch, 3, args.size, args.size)
        feed = {"input": x.numpy()}
        with torch.inference_mode():
            reference = model(x).numpy()
            times = time_cases({"eager": lambda x=x: model(x), "ort": lambda feed=feed: session.run(None, feed)},
                               rounds=args.repeats, warmup=args.warmup)  # fmt: skip
        eager, ort = times["eager"].median, times["ort"].median
        speedup = paired_ratio(times["eager"], times["ort"])
        diff = float(np.abs(session.run(None, feed)[0] - reference).max())
        assert diff <= result.tolerance, f"onnxruntime differs from torch by {diff} at batch {batch}"
        row = (batch, f"{eager * 1e3:.1f}", f"{ort * 1e3:.1f}", speedup.show(".2f", "x"),
               f"{batch / eager:.1f}", f"{batch / ort:.1f}")  # fmt: skip
        print(" | ".join(map(str, row)), flush=True)
    report_load("end")


if __name__ == "__main__":
    main()
