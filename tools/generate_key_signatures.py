"""Generate zoo/applications/key_signatures.json: per built-in architecture, the signatures of its state
dict (see zoo.applications.signatures), built once here on the meta device so that a mismatch message can
name the architecture a file fits without building every model at run time.

    .venv/bin/python tools/generate_key_signatures.py          # writes the table
    .venv/bin/python tools/generate_key_signatures.py --check  # exit 1 if the committed table is stale
"""

from __future__ import annotations

import argparse
import json
import sys

import torchvision

from zoo.applications import families, table
from zoo.applications.meta import empty_weights
from zoo.applications.signatures import TABLE, signature


def signatures_of(arch: str) -> dict[str, str]:
    facts = table.architecture(arch)
    spec = families.family(facts["family"])
    config = dict(facts["weights"][facts["default_weights"]]["build"])
    if spec.aux:
        config["aux_logits"] = False
    with empty_weights(tensor_math_in_init=spec.tensor_math_in_init):
        model = getattr(torchvision.models, arch)(weights=None, **config)
    full = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    prefix = spec.classifier + "."
    backbone = families.FeatureExtractor(model, facts["family"]).state_dict()
    return {
        "classifier": spec.classifier,
        "full": signature(full.items()),
        "headless": signature((k, s) for k, s in full.items() if not k.startswith(prefix)),
        "backbone": signature((k, tuple(v.shape)) for k, v in backbone.items()),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    data = {
        "torchvision": torchvision.__version__.split("+")[0],
        "architectures": {arch: signatures_of(arch) for arch in sorted(table.architectures())},
    }
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.check:
        stale = not TABLE.exists() or TABLE.read_text() != text
        print("stale" if stale else "up to date")
        return int(stale)
    TABLE.write_text(text)
    print(f"wrote {TABLE} ({len(data['architectures'])} architectures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
