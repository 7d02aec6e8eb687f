"""Reproduce Dynamic Network Surgery (Guo, Yao, Chen, NIPS 2016) on LeNet, beside the paper's table.

For each seed: train the dense reference with ``zoo.fit``, then fine-tune a copy of it with the
``dynamic_network_surgery`` callback (pruning with splicing) and another copy with the prune-only
ablation (the same thresholds and schedule, but a pruned weight never comes back). Prints per-layer
parameters and % kept, the compression (all parameters, biases included / non-zero), the test error of
dense vs pruned as mean +- std over the seeds, the number of splice events and the size of the sparse
encoding in bytes.

Offline (the default) it runs LeNet-300-100 on scikit-learn's bundled 8x8 digits: 64 inputs instead of
MNIST's 784, so the paper's numbers are a reference, not a target. ``--dataset mnist`` runs the paper's
setting through ``zoo.datasets`` (needs the MNIST download).

    python examples/surgery_lenet.py                      # digits, 3 seeds (95 s on a shared 2-core machine)
    python examples/surgery_lenet.py --dataset mnist --model lenet5
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field

import torch

import zoo

LOSS = {"name": "sparse_categorical_crossentropy", "from_logits": True}

# As reported: DNS = Guo et al. 2016, Tables 1-2; Han = Han et al., "Learning both weights and
# connections", NIPS 2015. Kept share per layer (weights and biases), total compression, test error.
PAPER = {
    "lenet_300_100": {
        "kept": {"fc1": (0.018, 0.08), "fc2": (0.018, 0.09), "fc3": (0.055, 0.26)},
        "compression": (56, 12),
        "total_kept": (0.018, 0.08),
        "error_dense": (2.28, 1.64),
        "error_pruned": (1.99, 1.59),
        "params": {"fc1": 235_500, "fc2": 30_100, "fc3": 1_010},
    },
    "lenet5": {
        "kept": {"conv1": (0.142, 0.66), "conv2": (0.031, 0.12), "fc1": (0.007, 0.08), "fc2": (0.043, 0.19)},
        "compression": (108, 12),
        "total_kept": (0.009, 0.08),
        "error_dense": (0.91, 0.80),
        "error_pruned": (0.91, 0.77),
        "params": {"conv1": 520, "conv2": 25_050, "fc1": 400_500, "fc2": 5_010},
    },
}

# Per-layer c_rate (threshold = mu + c_rate * sigma of |w|). For digits they were chosen by us to reach
# about 30x; for MNIST only LeNet-5's fc1 setting is published (c_rate 4, gamma 1e-4, iter_stop 14000).
C_RATES = {
    ("digits", "lenet_300_100"): {"fc1": 3.5, "fc2": 3.5, "fc3": 2.0},
    ("mnist", "lenet_300_100"): {"fc1": 3.5, "fc2": 3.5, "fc3": 2.0},
    ("mnist", "lenet5"): {"conv1": 2.0, "conv2": 3.0, "fc1": 4.0, "fc2": 3.0},
}
# The prune-only ablation at about the surgery run's compression (same thresholds make prune-only cut far
# more, since nothing comes back): lower c_rates, calibrated once on digits so that prune-only keeps slightly
# MORE parameters than surgery (about 29x vs 31x); the table prints the compression each run reached.
MATCHED_C_RATES = {
    ("digits", "lenet_300_100"): {"fc1": 2.5, "fc2": 2.5, "fc3": 1.6},
}
DEFAULT_ITERS = {  # (dense, surgery, iter_stop)
    "digits": (2000, 4000, 2000),
    "mnist": (10_000, 16_000, 14_000),
}


@dataclass
class Run:
    error: float
    compression: float = 1.0
    kept: dict[str, float] = field(default_factory=dict)
    splices: int = 0
    sparse_bytes: int = 0
    dense_bytes: int = 0


def load_data(name: str) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    (x, y), (xt, yt) = zoo.datasets.load(name)
    scale = 16.0 if name == "digits" else 255.0  # digits pixels are 0-16, MNIST's 0-255
    return (x.float() / scale, y.long()), (xt.float() / scale, yt.long())


def optimizer(lr: float) -> dict:
    # Caffe's LeNet solver: SGD, momentum 0.9, weight decay 5e-4 (which acts on pruned weights too).
    return {"name": "sgd", "learning_rate": lr, "momentum": 0.9, "weight_decay": 5e-4}


def test_error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    result = zoo.evaluate(model, x, y, loss=LOSS, metrics=["accuracy"], batch_size=1000, verbose=0)
    return 100.0 * (1.0 - result["accuracy"])


def train(model, x, y, iterations: int, args, callbacks=()) -> None:
    """``zoo.fit`` for at least ``iterations`` batches (whole epochs), with the run's optimizer settings."""
    epochs = math.ceil(iterations / math.ceil(len(x) / args.batch_size))
    zoo.fit(
        model,
        x,
        y,
        optimizer=optimizer(args.lr),
        loss=LOSS,
        epochs=epochs,
        batch_size=args.batch_size,
        callbacks=list(callbacks),
        verbose=0,
        device=args.device,
    )


def surgery_run(dense, data, args, c_rates, *, splice: bool, seed: int) -> Run:
    from zoo_surgery import DynamicNetworkSurgery, report

    (x, y), (xt, yt) = data
    model = copy.deepcopy(dense)
    callback = DynamicNetworkSurgery(
        gamma=args.gamma,
        power=1.0,
        iter_stop=args.iter_stop,
        splice=splice,
        seed=seed,
        layers={name: {"c_rate": c} for name, c in c_rates.items()},
    )
    train(model, x, y, args.surgery_iters, args, callbacks=[callback])
    rep = report(model)
    return Run(
        error=test_error(model, xt, yt),
        compression=rep.compression,
        kept={layer.name: layer.kept for layer in rep.layers},
        splices=callback.surgery.splice_events,
        sparse_bytes=rep.sparse_bytes,
        dense_bytes=rep.dense_bytes,
    )


def one_seed(seed: int, data, args, variants: dict[str, tuple[dict[str, float], bool]]) -> dict[str, Run]:
    (x, y), (xt, yt) = data
    torch.manual_seed(seed)
    dense = zoo.load(args.model, weights=None, num_classes=10, input_shape=tuple(x.shape[1:]))
    train(dense, x, y, args.dense_iters, args)
    runs = {"dense": Run(error=test_error(dense, xt, yt))}
    for label, (c_rates, splice) in variants.items():
        runs[label] = surgery_run(dense, data, args, c_rates, splice=splice, seed=seed)
    return runs


def _ms(values: list[float], fmt: str = ".2f") -> str:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:{fmt}} +- {std:{fmt}}"


def table(results: list[dict[str, Run]], args, params: dict[str, int]) -> str:
    paper = PAPER[args.model]
    labels = [k for k in results[0] if k != "dense"]
    w = 22
    head = f"{'':<26}{'DNS paper':>11}{'Han paper':>11}" + "".join(f"{label:>{w}}" for label in labels)
    lines = [
        f"Dynamic network surgery, {args.model} on {args.dataset} ({len(results)} seeds, mean +- std); "
        f"paper columns: {args.model} on MNIST as reported (DNS = Guo et al. 2016, Han = Han et al. 2015)",
        "",
        "kept share of weights+biases per layer",
        f"{'layer':<8}{'params':>9}{'(MNIST)':>9}" + head[26:],
    ]
    for name, count in params.items():
        dns, han = paper["kept"].get(name, (math.nan, math.nan))
        ours = "".join(f"{_ms([100 * r[k].kept[name] for r in results]) + '%':>{w}}" for k in labels)
        lines.append(f"{name:<8}{count:>9}{paper['params'].get(name, 0):>9}{dns:>11.1%}{han:>11.1%}{ours}")
    total = "".join(f"{_ms([100 / r[k].compression for r in results]) + '%':>{w}}" for k in labels)
    lines.append(
        f"{'total':<8}{sum(params.values()):>9}{sum(paper['params'].values()):>9}"
        f"{paper['total_kept'][0]:>11.1%}{paper['total_kept'][1]:>11.1%}{total}"
    )
    dense_err = [r["dense"].error for r in results]

    def row(title: str, dns, han, values, fmt=".2f") -> str:
        cells = "".join(f"{_ms(values(k), fmt):>{w}}" for k in labels)
        return f"{title:<26}{dns:>11}{han:>11}{cells}"

    lines += [
        "",
        head,
        row(
            "compression (x)",
            paper["compression"][0],
            paper["compression"][1],
            lambda k: [r[k].compression for r in results],
            ".1f",
        ),
        row("test error dense (%)", paper["error_dense"][0], paper["error_dense"][1], lambda k: dense_err),
        row(
            "test error pruned (%)",
            paper["error_pruned"][0],
            paper["error_pruned"][1],
            lambda k: [r[k].error for r in results],
        ),
        row(
            "error change (points)",
            f"{paper['error_pruned'][0] - paper['error_dense'][0]:+.2f}",
            f"{paper['error_pruned'][1] - paper['error_dense'][1]:+.2f}",
            lambda k: [r[k].error - r["dense"].error for r in results],
        ),
        row(
            "error - surgery's, paired",
            "-",
            "-",
            lambda k: [r[k].error - r["surgery"].error for r in results],
        ),
        row("splice events", "-", "-", lambda k: [r[k].splices for r in results], ".0f"),
        row("sparse file (bytes)", "-", "-", lambda k: [r[k].sparse_bytes for r in results], ".0f"),
        f"{'dense float32 (bytes)':<26}{'-':>11}{'-':>11}{results[0][labels[0]].dense_bytes:>{w}}",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    parser.add_argument("--model", choices=("lenet_300_100", "lenet5"), default="lenet_300_100")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--dense-iters", type=int, help="dense training iterations (rounded up to epochs)")
    parser.add_argument(
        "--surgery-iters", type=int, help="surgery fine-tuning iterations (rounded up to epochs)"
    )
    parser.add_argument("--iter-stop", type=int, help="iteration after which masks stay fixed")
    parser.add_argument("--gamma", type=float, default=1e-4, help="mask update probability (1 + gamma*it)^-1")
    parser.add_argument(
        "--c-rate",
        action="append",
        default=[],
        metavar="LAYER=C",
        help="per-layer c_rate, e.g. --c-rate fc1=4 (repeatable)",
    )
    parser.add_argument(
        "--matched-c-rate",
        action="append",
        default=[],
        metavar="LAYER=C",
        help="per-layer c_rate of the compression-matched prune-only run",
    )
    parser.add_argument(
        "--no-matched", action="store_true", help="skip the compression-matched prune-only run"
    )
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None, help="e.g. cuda; default: zoo.fit's choice")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (1 is fastest for these tiny models)"
    )
    parser.add_argument("--json", help="also write the per-seed results to this JSON file")
    args = parser.parse_args(argv)
    if args.dataset == "digits" and args.model == "lenet5":
        parser.error("LeNet-5 needs at least 16x16 inputs; digits are 8x8. Use --dataset mnist for lenet5.")
    dense, surgery, stop = DEFAULT_ITERS[args.dataset]
    args.dense_iters = args.dense_iters or dense
    args.surgery_iters = args.surgery_iters or surgery
    args.iter_stop = args.iter_stop if args.iter_stop is not None else min(stop, args.surgery_iters)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    return args


def _c_rates(defaults: dict[str, float], items: list[str], option: str) -> dict[str, float]:
    c_rates = dict(defaults)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in c_rates:
            raise SystemExit(
                f"{option} expects LAYER=VALUE with LAYER one of {sorted(c_rates)}, got {item!r}"
            )
        c_rates[name] = float(value)
    return c_rates


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    key = (args.dataset, args.model)
    c_rates = _c_rates(C_RATES[key], args.c_rate, "--c-rate")
    variants = {"surgery": (c_rates, True), "prune-only": (c_rates, False)}
    if not args.no_matched and (key in MATCHED_C_RATES or args.matched_c_rate):
        matched = _c_rates(MATCHED_C_RATES.get(key, c_rates), args.matched_c_rate, "--matched-c-rate")
        variants["prune-only matched"] = (matched, False)
    data = load_data(args.dataset)
    print(
        f"{args.model} on {args.dataset}: {len(data[0][0])} train / {len(data[1][0])} test; dense "
        f"{args.dense_iters} it, surgery {args.surgery_iters} it (masks fixed from {args.iter_stop}), "
        f"gamma {args.gamma}, c_rate {c_rates}"
        + (f", matched prune-only c_rate {variants['prune-only matched'][0]}" if len(variants) > 2 else ""),
        flush=True,
    )
    results = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        runs = one_seed(seed, data, args, variants)
        results.append(runs)
        done = " | ".join(
            f"{k} {r.error:.2f}% at {r.compression:.1f}x ({r.splices} splices)"
            for k, r in runs.items()
            if k != "dense"
        )
        print(
            f"seed {seed}: dense {runs['dense'].error:.2f}% | {done} [{time.perf_counter() - start:.0f}s]",
            flush=True,
        )
    print()
    print(table(results, args, _layer_params(args, data)))
    print(f"\nwall time {time.perf_counter() - start:.0f}s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "args": vars(args),
                    "variants": {k: {"c_rate": c, "splice": sp} for k, (c, sp) in variants.items()},
                    "runs": [{k: vars(v) for k, v in r.items()} for r in results],
                },
                fh,
                indent=1,
            )
    return 0


def _layer_params(args, data) -> dict[str, int]:
    from zoo_surgery import masked_layers

    model = zoo.load(
        args.model, weights=None, num_classes=10, input_shape=tuple(data[0][0].shape[1:]), masked=True
    )
    return {name: sum(p.numel() for _, p, _ in layer.masked_pairs()) for name, layer in masked_layers(model)}


if __name__ == "__main__":
    sys.exit(main())
