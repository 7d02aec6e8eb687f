"""How long it takes to *list* the available pretrained models: ``zoo list applications`` (the console
script, a fresh process) against ``torchvision.models.list_models()`` and ``timm.list_models()`` (when timm
is installed), each in a fresh ``python -c`` process. Median of several runs, ratios in one table.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from measure import Spread, paired_ratio, report_load


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return seconds, len(out.stdout.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    script = shutil.which("zoo", path=str(Path(sys.executable).parent)) or shutil.which("zoo")
    if script is None:
        raise SystemExit("the 'zoo' console script is not installed (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    py = sys.executable
    commands = {
        "zoo list applications": [script, "list", "applications"],
        "torchvision list_models()": [py, "-c", "import torchvision; print('\\n'.join(torchvision.models.list_models()))"],
    }
    if importlib.util.find_spec("timm") is not None:
        commands["timm list_models()"] = [py, "-c", "import timm; print('\\n'.join(timm.list_models()))"]

    report_load("start")
    for cmd in commands.values():  # warm the OS file cache once
        timed(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    counts: dict[str, int] = {}
    for _ in range(args.runs):
        for name, cmd in commands.items():  # interleaved, so machine load hits all alike
            seconds, counts[name] = timed(cmd, env)
            times[name].append(seconds)

    report_load("end")
    zoo_times = times["zoo list applications"]
    print(f"\nListing pretrained models from a fresh process, median of {args.runs} runs "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")  # fmt: skip
    header = f"{'command':28} {'models':>7} {'s, median (min-max)':>24} {'vs zoo, per round':>22}"
    print(header)
    print("-" * len(header))
    for name, samples in times.items():
        ratio = paired_ratio(samples, zoo_times)
        print(f"{name:28} {counts[name]:7d} {Spread(tuple(samples)).show('.3f'):>24} {ratio.show('.1f', 'x'):>22}")


if __name__ == "__main__":
    main()
