"""Time one model load in a fresh Python process, so imports and earlier loads never blur the figure.

Both load benchmarks (torchvision and timm anchors) measure the same things: wall time of the load alone,
RSS growth over the load and after one forward pass, and the process's peak RSS.
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from measure import Spread, interleave, paired_ratio, spread_of

ROOT = Path(__file__).resolve().parents[1]

_TEMPLATE = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import torch
{imports}

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

lib, arch, source = sys.argv[1:4]
base = rss_mb()
start = time.perf_counter()
{load}
seconds = time.perf_counter() - start
loaded = rss_mb()
size = {input_side}
with torch.inference_mode():
    model.eval()(torch.zeros(1, 3, size, size))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "load_mb": loaded - base, "forward_mb": rss_mb() - base, "peak_mb": peak}}))
"""


def compile_zoo() -> None:
    """Byte-compile zoo and the plugins in this repository, as pip does for the packages it installs.

    torch, torchvision and timm arrive compiled; zoo's editable install does not, and with
    ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines, CI's among them) every fresh process would compile
    zoo's modules from source again (20 ms), which a user's installed zoo never does.
    """
    for folder in (ROOT / "zoo", *sorted(ROOT.glob("plugins/*/zoo_*"))):
        compileall.compile_dir(folder, quiet=1)


def child_script(*, imports: str, load: str, input_side: str) -> str:
    """The child's code: ``load`` (statements binding ``model`` from ``lib``, ``arch``, ``source``) is timed."""
    return _TEMPLATE.format(imports=imports, load=textwrap.dedent(load).strip(), input_side=input_side)


def run_child(script: str, lib: str, arch: str, source: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", script, lib, arch, source], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{lib} {arch} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(script: str, libs: tuple[str, ...], arch: str, source: str, env: dict[str, str], runs: int
            ) -> tuple[dict[str, dict[str, float]], Spread]:  # fmt: skip
    """Median figures per library, and the anchor's load time over zoo's per round (the speed-up).

    One untimed load each first (caches, zoo's tensor record, the page cache), then ``runs`` rounds of
    one timed load per library in turn (``measure.interleave``), so load on the machine hits every library
    alike. ``libs`` holds ``"zoo"`` and one anchor."""
    cases = {lib: (lambda lib=lib: run_child(script, lib, arch, source, env)) for lib in libs}
    results = interleave(cases, rounds=runs)
    (anchor,) = (lib for lib in libs if lib != "zoo")
    speedup = paired_ratio(spread_of(results[anchor], "seconds"), spread_of(results["zoo"], "seconds"))
    return {lib: medians(timed) for lib, timed in results.items()}, speedup


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}
