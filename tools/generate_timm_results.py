"""Write plugins/zoo-timm/zoo_timm/results-imagenet.json: the ImageNet-1k figures timm publishes for its
pretrained configs, so that ``zoo list applications --sort -acc1`` can rank timm's weights.

The figures are timm's own, from its repository (they are in neither its wheel nor its sdist):
``results/results-imagenet.csv`` (top-1/top-5 per ``arch.tag`` and evaluation resolution) and a
``results/benchmark-infer-*.csv`` (GMACs per architecture and resolution). For each config the row at its
default input size is kept (what ``model.zoo.transforms()`` feeds it), else its best row. Give the two files
and the commit they came from:

    .venv/bin/python tools/generate_timm_results.py RESULTS_CSV BENCHMARK_CSV --commit SHA
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "plugins/zoo-timm/zoo_timm/results-imagenet.json"
sys.path.insert(0, str(OUT.parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("benchmark", type=Path)
    parser.add_argument("--commit", required=True, help="the timm repository commit the files are from")
    args = parser.parse_args()
    from zoo_timm import catalogue

    gmacs = {
        (r["model"], int(r["infer_img_size"])): float(r["infer_gmacs"])
        for r in csv.DictReader(args.benchmark.open())
    }
    rows: dict[str, list[dict]] = {}
    for r in csv.DictReader(args.results.open()):
        rows.setdefault(r["model"], []).append(r)
    results = {}
    for name, candidates in sorted(rows.items()):
        arch, _, tag = name.partition(".")
        try:
            variant = catalogue.architecture(arch)["weights"].get(tag)
        except KeyError:
            continue
        if variant is None:
            continue
        size = variant["input_size"][-1]
        row = next((r for r in candidates if int(r["img_size"]) == size), None) or max(
            candidates, key=lambda r: float(r["top1"])
        )
        resolution = int(row["img_size"])
        results[name] = {"acc@1": float(row["top1"]), "acc@5": float(row["top5"]), "resolution": resolution,
                         "gflops": gmacs.get((arch, resolution)),
                         "num_params": round(float(row["param_count"].replace(",", "")) * 1e6)}  # fmt: skip
    OUT.write_text(json.dumps({
        "source": {"repository": "huggingface/pytorch-image-models", "commit": args.commit,
                   "files": [f"results/{args.results.name}", f"results/{args.benchmark.name}"],
                   "timm_version": catalogue.timm_version(), "dataset": "ImageNet-1K"},
        "results": results,
    }, indent=0, sort_keys=True) + "\n")  # fmt: skip
    print(f"wrote {len(results)} configs to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
