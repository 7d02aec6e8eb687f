"""The weights variants of ``tiny_digits``, as plain data: the plugin registers them (``zoo info`` and
``zoo list`` show them without importing torch) and the builder reads the file name and hash from here."""

import json
from pathlib import Path

_FACTS = json.loads((Path(__file__).parent / "weights" / "tiny_digits-v1.json").read_text())

VARIANTS = {
    "v1": {
        # shipped inside the package: no url. A downloadable variant gives "url" (and "mirrors") instead,
        # and its builder fetches it with zoo.plugin.fetch([url], sha256=..., size=..., filename=...).
        "filename": "tiny_digits-v1.safetensors",
        "sha256": _FACTS["sha256"],
        "size": _FACTS["size"],
        "num_classes": 10,
        "categories": [str(d) for d in range(10)],
        "preprocessing": {"resize": 8, "crop": 8, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "metrics": {"sklearn digits (test, 360 images)": {"acc@1": _FACTS["test_accuracy"]}},
        "trained_on": "sklearn digits, 1437 training images (seed 0)",
        "recipe": "python plugins/zoo-example/make_weights.py",
        "license": "apache-2.0",
    }
}
