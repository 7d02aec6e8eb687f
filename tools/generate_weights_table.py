"""Generate zoo/applications/weights.json from torchvision's ``Weights`` enums.

Run it again after a torchvision upgrade::

    .venv/bin/python tools/generate_weights_table.py          # writes zoo/applications/weights.json
    .venv/bin/python tools/generate_weights_table.py --check  # exit 1 if the committed table is stale

Why a table: ``zoo list applications`` and ``zoo info`` must answer without importing torch or torchvision
(importing torchvision alone takes seconds), and the weight facts (URL, hash, preprocessing, accuracy) are
data, not code.

Known limits of the facts, recorded as such in the table:

* ``sha256`` is the hash *prefix* torchvision puts in each file name (what ``torch.hub`` checks, 8-10 hex
  digits); the full sha256 of the upstream files is not published by torchvision and cannot be computed
  here (no network), so every variant carries ``"sha256_is_prefix": true``.
* ``size`` (exact bytes) is unknown for the same reason; ``file_size_mb`` is torchvision's rounded
  ``_file_size`` figure.

The script also checks, for every variant, that the builder arguments it records (``build``) make the
same architecture on the meta device as ``torchvision.models.<name>(weights=...)`` does (same ``repr``,
same state-dict keys and shapes), so the table cannot silently drift from torchvision's builders.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import torch
import torchvision
from torchvision import models
from torchvision.models._api import WeightsEnum

from zoo.applications import families
from zoo.applications.meta import empty_weights, meta_tensors

OUT = Path(__file__).resolve().parents[1] / "zoo" / "applications" / "weights.json"

# Keras spellings that case/separator normalisation does not already map onto torchvision's names.
# keras.applications.RegNetX004 is the 400MF RegNetX of the same paper (pycls configurations).
KERAS_ALIASES: dict[str, list[str]] = {
    "regnet_x_400mf": ["RegNetX004"],
    "regnet_x_800mf": ["RegNetX008"],
    "regnet_x_1_6gf": ["RegNetX016"],
    "regnet_x_3_2gf": ["RegNetX032"],
    "regnet_x_8gf": ["RegNetX080"],
    "regnet_x_16gf": ["RegNetX160"],
    "regnet_x_32gf": ["RegNetX320"],
    "regnet_y_400mf": ["RegNetY004"],
    "regnet_y_800mf": ["RegNetY008"],
    "regnet_y_1_6gf": ["RegNetY016"],
    "regnet_y_3_2gf": ["RegNetY032"],
    "regnet_y_8gf": ["RegNetY080"],
    "regnet_y_16gf": ["RegNetY160"],
    "regnet_y_32gf": ["RegNetY320"],
}

HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")


def family_of(builder: Any) -> str:
    return builder.__module__.rsplit(".", 1)[-1]


def build_kwargs(family: str, weights: WeightsEnum) -> dict[str, Any]:
    """The keyword arguments torchvision's builder passes to the model class for these weights."""
    meta = weights.meta
    kwargs: dict[str, Any] = {}
    if meta["categories"] is not None:
        kwargs["num_classes"] = len(meta["categories"])
    if family in ("inception", "googlenet"):
        kwargs.update(transform_input=True, aux_logits=True, init_weights=False)
    elif family == "vgg":
        kwargs["init_weights"] = False
    elif family == "vision_transformer":
        kwargs["image_size"] = meta["min_size"][0]
    elif family == "maxvit":
        kwargs["input_size"] = list(meta["min_size"])
    return kwargs


def preprocessing(weights: WeightsEnum) -> dict[str, Any]:
    """Read the preset by instantiating it, so defaults of ``ImageClassification`` are included."""
    preset = weights.transforms()
    if type(preset).__name__ != "ImageClassification":
        raise SystemExit(
            f"{weights!r}: unexpected preset {type(preset).__name__}; teach the generator about it"
        )
    return {
        "resize": int(preset.resize_size[0]),
        "crop": int(preset.crop_size[0]),
        "mean": [float(v) for v in preset.mean],
        "std": [float(v) for v in preset.std],
        "interpolation": preset.interpolation.value,
        "antialias": bool(preset.antialias),
    }


@contextlib.contextmanager
def no_download():
    """Make torchvision's builders skip fetching and loading weights, so only the architecture is built."""
    with (
        mock.patch.object(WeightsEnum, "get_state_dict", lambda self, *a, **k: {}),
        mock.patch.object(torch.nn.Module, "load_state_dict", lambda self, *a, **k: None),
    ):
        yield


def check_build(name: str, builder: Any, weights: WeightsEnum, kwargs: dict[str, Any], family: str) -> None:
    """Same architecture from our recorded arguments as from torchvision's own builder with weights."""
    spec = families.family(family)
    with no_download(), empty_weights(tensor_math_in_init=spec.tensor_math_in_init):
        reference = builder(weights=weights)
    with empty_weights(tensor_math_in_init=spec.tensor_math_in_init):
        ours = builder(weights=None, **kwargs)
    for model in (reference, ours):  # zoo drops auxiliary classifiers after loading (plain tensor output)
        families.drop_aux(model, spec)
    if meta_tensors(ours) != [k for k, _ in (*ours.named_parameters(), *ours.named_buffers())]:
        raise SystemExit(f"{name}: some weights were allocated although building on meta")
    shapes = lambda m: {k: tuple(v.shape) for k, v in m.state_dict().items()}  # noqa: E731
    if repr(ours) != repr(reference) or shapes(ours) != shapes(reference):
        raise SystemExit(
            f"{name} {weights.name}: recorded build arguments {kwargs} differ from torchvision's"
        )
    if getattr(ours, "transform_input", None) != getattr(reference, "transform_input", None):
        raise SystemExit(f"{name} {weights.name}: transform_input differs from torchvision's")


def generate(verify: bool = True) -> dict[str, Any]:
    categories: dict[str, list[str]] = {}
    architectures: dict[str, Any] = {}
    for name in models.list_models(module=models):
        builder = models.get_model_builder(name)
        enum = models.get_model_weights(name)
        family = family_of(builder)
        variants: dict[str, Any] = {}
        for weights in enum:
            meta = weights.meta
            filename = weights.url.rsplit("/", 1)[-1]
            match = HASH_IN_NAME.search(filename)
            if match is None:
                raise SystemExit(f"{name} {weights.name}: no sha256 prefix in {filename}")
            cats = meta["categories"]
            ref = None
            if cats is not None:
                ref = "imagenet1k" if len(cats) == 1000 else f"{name}_{weights.name.lower()}"
                if categories.setdefault(ref, list(cats)) != list(cats):
                    raise SystemExit(f"{name} {weights.name}: categories differ from {ref!r}")
            kwargs = build_kwargs(family, weights)
            if verify:
                check_build(name, builder, weights, kwargs, family)
            variants[weights.name] = {
                "url": weights.url,
                "filename": filename,
                "sha256": match.group(1),
                "sha256_is_prefix": True,
                "size": None,
                "file_size_mb": meta.get("_file_size"),
                "categories": ref,
                "num_classes": len(cats) if cats is not None else None,
                "preprocessing": preprocessing(weights),
                "metrics": meta.get("_metrics", {}),
                "num_params": meta.get("num_params"),
                "min_size": list(meta["min_size"]),
                "gflops": meta.get("_ops"),
                "recipe": meta.get("recipe"),
                "build": kwargs,
            }
        default = enum.DEFAULT.name
        architectures[name] = {
            "family": family,
            "builder": f"torchvision.models:{name}",
            "aliases": KERAS_ALIASES.get(name, []),
            "default_weights": default,
            "min_size": variants[default]["min_size"],
            "num_params": variants[default]["num_params"],
            "weights": variants,
        }
        print(f"{name:24s} {family:20s} {', '.join(variants)}", file=sys.stderr)
    return {
        "generated_by": "tools/generate_weights_table.py",
        "torchvision_version": torchvision.__version__.split("+")[0],
        "notes": "sha256 holds the hash prefix from torchvision's file names (the full hash is not "
        "published); size (bytes) is unknown, file_size_mb is torchvision's rounded figure.",
        "categories": categories,
        "architectures": architectures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed table differs")
    parser.add_argument("--no-verify", action="store_true", help="skip the meta-device architecture check")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    text = json.dumps(generate(verify=not args.no_verify), indent=1, sort_keys=False) + "\n"
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run tools/generate_weights_table.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
