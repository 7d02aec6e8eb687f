"""Write the catalogue of timm's architectures and pretrained configs as plain JSON.

This is the only module of the plugin that imports timm to *list*: it runs once per installed timm version
(``python -m zoo_timm.generate`` at release time for the shipped file, or lazily by
:mod:`zoo_timm.catalogue` into ``$ZOO_HOME`` when another timm version is installed), so that
``zoo list`` answers from JSON without importing timm or torch.

Weights sources follow timm's own order: the Hugging Face Hub file when the config names a hub repo
(``model.safetensors`` first, ``pytorch_model.bin`` next, as ``timm.models.load_state_dict_from_hf``
tries them), then the config's release URL. No sha256 is recorded: timm's configs carry none, and
zoo does not invent one (see the README, "Integrity").
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HF_RESOLVE = "https://huggingface.co/{repo}/resolve/{revision}/{filename}"


def hf_files(hub_filename: str | None) -> list[str]:
    """The file names timm tries in a hub repo, in its order."""
    if hub_filename:
        if hub_filename.endswith(".safetensors"):
            return [hub_filename]
        stem = hub_filename.rsplit(".", 1)[0]
        safe = (
            "model.safetensors"
            if stem == "pytorch_model"
            else f"{stem.replace('pytorch_model', 'model')}.safetensors"
        )
        return [safe, hub_filename]
    return ["model.safetensors", "pytorch_model.bin"]


def variant_sources(arch: str, tag: str, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """File specs (``url``, ``filename``) for one pretrained config, preferred first."""
    label = f"{arch}.{tag}" if tag else arch
    sources: list[dict[str, Any]] = []
    hub_id = cfg.get("hf_hub_id")
    if hub_id:
        repo, _, revision = hub_id.partition("@")
        for name in hf_files(cfg.get("hf_hub_filename")):
            suffix = name[name.index(".") :] if "." in name else ""
            sources.append(
                {
                    "url": HF_RESOLVE.format(repo=repo, revision=revision or "main", filename=name),
                    "filename": f"{label}{suffix}",
                }
            )
    if cfg.get("url"):
        sources.append({"url": cfg["url"], "filename": cfg["url"].rsplit("/", 1)[-1].split("?")[0]})
    return sources


def _facts(cfg: dict[str, Any]) -> dict[str, Any]:
    """The preprocessing and head facts zoo needs from a pretrained config."""
    return {
        "input_size": list(cfg.get("input_size") or (3, 224, 224)),
        "min_input_size": list(cfg["min_input_size"]) if cfg.get("min_input_size") else None,
        "fixed_input_size": bool(cfg.get("fixed_input_size")),
        "crop_pct": cfg.get("crop_pct", 0.875),
        "crop_mode": cfg.get("crop_mode", "center"),
        "interpolation": cfg.get("interpolation") or "bilinear",
        "mean": [round(float(v), 6) for v in cfg.get("mean", (0.485, 0.456, 0.406))],
        "std": [round(float(v), 6) for v in cfg.get("std", (0.229, 0.224, 0.225))],
        "num_classes": int(cfg.get("num_classes") or 0),
        "license": cfg.get("license"),
    }


def build_catalogue() -> dict[str, Any]:
    """Every timm architecture, with its pretrained configs as weights variants (default first)."""
    import timm
    from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg

    archs: dict[str, Any] = {}
    for arch in timm.list_models():
        weights: dict[str, Any] = {}
        for full_name, cfg_obj in get_arch_pretrained_cfgs(arch).items():
            tag = full_name.partition(".")[2]
            cfg = cfg_obj.to_dict()
            sources = variant_sources(arch, tag, cfg)
            if not sources:
                continue
            primary, *alternates = sources
            weights[tag or "default"] = {
                **primary,
                "sha256": None,
                "alternates": alternates,
                # a config's custom loader (.npz files) applies to its release URL, not to the hub copy
                "custom_load": bool(cfg.get("custom_load")) and not cfg.get("hf_hub_id"),
                **_facts(cfg),
            }
        default_cfg = get_pretrained_cfg(arch, allow_unregistered=True)
        archs[arch] = {
            "default_weights": next(iter(weights), None),
            "weights": weights,
            "defaults": _facts(default_cfg.to_dict() if default_cfg else {}),
        }
    return {"timm_version": timm.__version__, "architectures": archs}


def write_catalogue(path: Path, catalogue: dict[str, Any]) -> None:
    """Write ``catalogue`` and, beside it, its index (``index-<version>.json``, what registration reads)."""
    from zoo_timm.catalogue import index_of

    write_json(path.with_name(path.name.replace("catalogue-", "index-", 1)), index_of(catalogue))
    write_json(path, catalogue)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically (a reader never sees half a file), creating the folder."""
    from zoo.plugin import write_json_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, data, compact=True)


def main(argv: list[str] | None = None) -> int:
    import timm

    default = Path(__file__).with_name(f"catalogue-{timm.__version__}.json")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default, help=f"output file (default: {default})")
    args = parser.parse_args(argv)
    catalogue = build_catalogue()
    write_catalogue(args.out, catalogue)
    print(f"{args.out} (and its index): {len(catalogue['architectures'])} architectures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
