"""``zoo benchmark NAME|PATTERN ...``: timm benchmark.py's measurement for zoo's applications, one row a model.

Only the parser is built at import; torch loads when the command runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

FORMATS = ("table", "csv", "json")
TABLE_COLUMNS = ("model", "mode", "batch_size", "img_size", "samples_per_sec", "step_ms", "latency_p95_ms",
                 "peak_memory_mb", "params", "gmacs", "error")  # fmt: skip


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark", help="measure inference or training speed, latency, memory and GMACs of applications"
    )
    p.add_argument("models", nargs="+", metavar="NAME|PATTERN", help="application names or fnmatch patterns")
    p.add_argument("--batch-size", type=int, default=8, help="images per step (default: 8)")
    p.add_argument("--img-size", type=int, default=None, help="image side (default: the model's input size)")
    p.add_argument("--channels", type=int, default=3, help="image channels (default: 3; LeNet-5 takes 1)")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format for model and input")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32", help="autocast precision")
    p.add_argument("--compile", action="store_true", help="run the model through torch.compile")
    p.add_argument("--train", action="store_true", help="time training steps (SGD) instead of inference")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (default: 20)")
    p.add_argument("--format", choices=FORMATS, default="table", help="what to print (default: table)")
    p.add_argument("--output", type=Path, help="also write the results to this CSV file")
    p.set_defaults(func=run)


def _check_output(path: Path) -> None:
    """``--output`` must be a file in an existing, writable folder."""
    import os

    path = path.expanduser()
    if path.is_dir():
        raise ZooError(f"--output {path} is a folder; give a file path such as {path / 'benchmark.csv'}.")
    folder = path.parent
    if not folder.is_dir():
        raise ZooError(f"--output {path}: the folder {folder} does not exist; create it first (mkdir -p {folder}).")
    if not os.access(folder, os.W_OK):
        raise ZooError(f"--output {path}: the folder {folder} is not writable.")


def run(args: argparse.Namespace) -> int:
    from zoo.applications.benchmark import benchmark, check_options
    from zoo.utils.progress import progress

    check_options(
        batch_size=args.batch_size, steps=args.steps, warmup=args.warmup, precision=args.precision,
        device=args.device, channels=args.channels,
    )  # fmt: skip
    if args.img_size is not None and args.img_size < 1:
        raise ZooError(f"--img-size must be >= 1, got {args.img_size}.")
    if args.output is not None:
        _check_output(args.output)  # before the (long) run, not after it
    names = _expand(args.models)

    rows: list[dict[str, Any]] = []
    for name in progress(names, desc="benchmark", unit="model"):
        try:
            result = benchmark(
                name, batch_size=args.batch_size, img_size=args.img_size, channels=args.channels,
                channels_last=args.channels_last, precision=args.precision, compile=args.compile, train=args.train, device=args.device,
                warmup=args.warmup, steps=args.steps,
            )  # fmt: skip
            rows.append({**result.as_row(), "error": ""})
        except (ZooError, RuntimeError, ValueError) as exc:
            # One model that cannot run so (image too small, out of memory) is a row saying why; a run over one
            # model is an ordinary error.
            if len(names) == 1:
                raise ZooError(f"cannot benchmark {name}: {_first_line(exc)}") from exc
            rows.append({"model": name, "error": _first_line(exc)})
    _print(rows, args.format)
    if args.output:
        try:
            args.output.write_text(_csv(rows))
        except OSError as exc:
            raise ZooError(f"cannot write --output {args.output}: {exc.strerror or exc}") from None
    return 1 if any(row["error"] for row in rows) else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _expand(patterns: list[str]) -> list[str]:
    """Names as given, patterns expanded against the registry; an unknown plain name suggests close ones."""
    import zoo
    from zoo.plugins import get_registry

    names: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found = zoo.list("applications", pattern)
            if not found:
                raise ZooError(f"no application matches {pattern!r}; see 'zoo list applications'.")
            names += found
        else:
            get_registry().lookup("applications", pattern)  # raises UnknownNameError with suggestions
            names.append(pattern)
    return list(dict.fromkeys(names))


def _print(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2))
    elif fmt == "csv":
        sys.stdout.write(_csv(rows))
    else:
        from zoo.console import print_table

        print_table(TABLE_COLUMNS, [[_cell(row.get(col)) for col in TABLE_COLUMNS] for row in rows])


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
