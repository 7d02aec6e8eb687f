"""zoo.load(NAME) against torchvision.models.NAME(weights=...) on the same weights file, from a warm cache.

No network here, so each architecture gets a random state dict saved in torchvision's format under the file
name torchvision expects, in ``$TORCH_HOME/hub/checkpoints`` (torchvision checks the hash prefix only when
it downloads, so it loads the file as is). zoo reads the same bytes through its own cache: a ``file://``
URL fetched once beforehand, so every timed run is a cache hit (and finds the tensor layout zoo records
beside a cached file on its first load). Each timed load runs in a fresh subprocess: ``import torchvision,
zoo`` is not timed; zoo's plugin discovery and registry, which ``import zoo`` defers to the first
``zoo.load``, are. It reports wall time and peak RSS (``ru_maxrss``) over that load.

    .venv/bin/python benchmarks/bench_load.py [--runs 5] [--arch resnet50 vgg16 inception_v3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from fresh_process import child_script, compare, compile_zoo
from measure import report_load

from zoo.hub.store import derived_record

CHILD = child_script(
    imports="import torchvision, zoo",
    load="""
        if lib == "zoo":
            model = zoo.load(arch, weights=source, progress=False)
        else:
            model = getattr(torchvision.models, arch)(weights="DEFAULT", progress=False)
    """,
    input_side='299 if arch == "inception_v3" else 224',
)


def make_weights(arch: str, torch_home: Path, fmt: str) -> Path:
    """A torchvision-format file under the name torchvision's DEFAULT weights of ``arch`` use, in torch's zip
    format (torch >= 1.6: resnet50's IMAGENET1K_V2 file) or its legacy one (vgg16's file, from 2017)."""
    import torch
    import torchvision

    from zoo.applications import table

    facts = table.architecture(arch)
    target = torch_home / "hub" / "checkpoints" / facts["weights"][facts["default_weights"]]["filename"]
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    extra = {"init_weights": False} if arch in ("vgg16", "inception_v3", "googlenet") else {}
    with torch.device("meta"):  # only the shapes matter; fill with random numbers after
        model = getattr(torchvision.models, arch)(weights=None, **extra)
    state = {k: torch.randn(v.shape) if v.is_floating_point() else torch.zeros(v.shape, dtype=v.dtype)
             for k, v in model.state_dict().items()}  # fmt: skip
    torch.save(state, target, _use_new_zipfile_serialization=fmt == "zip")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--arch", nargs="+", default=["resnet50", "vgg16", "inception_v3"])
    parser.add_argument("--format", nargs="+", choices=["zip", "legacy"], default=["zip", "legacy"],
                        help="torch's file format: zip (torch >= 1.6) and/or legacy (torchvision's oldest files)")
    args = parser.parse_args()
    compile_zoo()
    report_load("start")

    work = Path(tempfile.mkdtemp(prefix="zoo-bench-load-"))
    rows = []
    for fmt in args.format:
        env = {**os.environ, "TORCH_HOME": str(work / fmt / "torch"), "ZOO_HOME": str(work / fmt / "zoo"),
               "ZOO_QUIET": "1", "ZOO_NAME_HASH": "0"}  # fmt: skip  # random bytes under torchvision's names
        env.pop("ZOO_OFFLINE", None)
        for arch in args.arch:
            path = make_weights(arch, work / fmt / "torch", fmt)
            med, speedup = compare(CHILD, ("zoo", "torchvision"), arch, path.as_uri(), env, args.runs)
            record = derived_record(path, "tensors").name
            mapped = any((work / fmt / "zoo" / "blobs").glob(f"*/{record}"))
            label = f"{arch} {fmt}{'' if mapped or fmt == 'zip' else ' (unmapped)'}"
            rows.append((label, path.stat().st_size / 2**20, med["torchvision"], med["zoo"], speedup))

    report_load("end")
    print(f"\nzoo.load vs torchvision weights=DEFAULT, warm cache, median of {args.runs} fresh processes")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs. Memory in MB: peak = peak RSS of the process "
          "(imports included); +load = RSS growth over the load; +fwd = RSS growth after one forward pass,\n"
          "which also counts zoo's memory-mapped weights once they are read: file-backed pages the OS can share "
          "and drop, unlike torchvision's private copies)\n")  # fmt: skip
    header = (f"{'model, file format':26} {'file MB':>8} {'tv s':>7} {'zoo s':>7} {'speed-up (range)':>16} {'tv peak':>8} {'zoo peak':>8} "
              f"{'tv +load':>8} {'zoo +load':>9} {'tv +fwd':>8} {'zoo +fwd':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for arch, size, tv, zo, speedup in rows:
        print(f"{arch:26} {size:8.0f} {tv['seconds']:7.3f} {zo['seconds']:7.3f} {speedup.show('.1f', 'x'):>16} "
              f"{tv['peak_mb']:8.0f} {zo['peak_mb']:8.0f} {tv['load_mb']:8.0f} {zo['load_mb']:9.0f} "
              f"{tv['forward_mb']:8.0f} {zo['forward_mb']:8.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
