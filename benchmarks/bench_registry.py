"""How long ``import zoo`` defers to the first registry use: plugin discovery and building the registry.

Each run is a fresh process that imports torch, torchvision and zoo untimed (as ``bench_load.py`` does),
then times ``zoo.plugins.get_plugin_manager()`` (entry points found, plugins imported and registered) and
``zoo.plugins.get_registry()`` (every plugin's entries collected and checked: with zoo-timm installed,
its ~1400 from its index) separately. Median (min-max) over the runs, with the load average.

    .venv/bin/python benchmarks/bench_registry.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from fresh_process import compile_zoo
from measure import Spread, report_load

CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
import torch, torchvision, zoo
from zoo import plugins
start = time.perf_counter()
pm = plugins.get_plugin_manager()
found = time.perf_counter()
registry = plugins.get_registry()
built = time.perf_counter()
kinds = ("applications", "layers", "datasets", "losses", "metrics", "optimizers", "callbacks")
count = sum(len(registry.entries(kind)) for kind in kinds)
print(json.dumps({"discover_ms": (found - start) * 1e3, "registry_ms": (built - found) * 1e3,
                  "total_ms": (built - start) * 1e3, "entries": count, "timm": "timm" in pm.plugin_order()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    compile_zoo()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    report_load("start")
    runs = []
    for _ in range(args.runs + 1):  # the first one warms the page cache, untimed
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    runs = runs[1:]
    report_load("end")
    print(f"first registry use in a fresh process, median (min-max) of {args.runs} runs; "
          f"{runs[0]['entries']} entries, zoo-timm {'installed' if runs[0]['timm'] else 'NOT installed'}")  # fmt: skip
    for key, label in (("discover_ms", "plugin discovery"), ("registry_ms", "registry build"),
                       ("total_ms", "both")):  # fmt: skip
        print(f"  {label:18} {Spread(tuple(r[key] for r in runs)).show('.1f', ' ms')}")


if __name__ == "__main__":
    main()
