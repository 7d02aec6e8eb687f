"""The packaged ``toy_cnn`` weight variants as zoo's applications describe theirs. Torch-free: the plugin
registers them for listing, and the builder reads the same facts (file, hash, preprocessing, classes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_WEIGHTS = "toy_shapes"
#: Smallest input side the network takes (three stride-2 blocks leave a 1x1 map at 8 px).
MIN_SIZE = (8, 8)


def variants() -> dict[str, dict[str, Any]]:
    """Variant tag -> facts, from ``weights/*.json`` (written by ``pretrain.py``)."""
    table = {}
    for meta_file in sorted(WEIGHTS_DIR.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        size = meta["input_size"][-1]
        table[meta["variant"]] = {
            "filename": meta["file"],
            "sha256": meta["sha256"],
            "size": meta["file_size"],
            "file_size_mb": round(meta["file_size"] / 1e6, 3),
            "num_classes": len(meta["categories"]),
            "categories": meta["categories"],
            "preprocessing": {"resize": size, "crop": size, "mean": meta["mean"], "std": meta["std"],
                              "interpolation": "bilinear", "antialias": True},  # fmt: skip
            "min_size": list(MIN_SIZE),
            "metrics": {"toy frames": meta["metrics"]},
            "num_params": meta["num_params"],
            "trained_on": meta["trained_on"],
            "recipe": meta["command"],
        }
    return table
