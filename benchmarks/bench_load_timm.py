"""zoo.load("timm:NAME") from a warm cache against timm.create_model(NAME, pretrained=True), same file.

No network here, so each architecture gets a random state dict saved as the file timm's default config names
(``model.safetensors`` from the Hugging Face Hub, or a release ``.pth``) in a folder laid out like its URL. zoo fetches it once
through ``ZOO_MIRRORS=https://=file://...`` so every timed ``zoo.load`` is a cache hit
(``ZOO_OFFLINE=1`` makes sure); timm reads the same file through ``pretrained_cfg_overlay=dict(file=...)``,
its own loading path without the download. Each timed load runs in a fresh subprocess (imports are not
timed) and reports wall time and peak RSS.

    .venv/bin/python benchmarks/bench_load_timm.py [--runs 5] [--arch resnet50 legacy_xception nasnetalarge]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from fresh_process import child_script, compare, compile_zoo
from measure import report_load

CHILD = child_script(
    imports="import timm, zoo",
    load="""
        if lib == "zoo":
            model = zoo.load(f"timm:{arch}", progress=False)
        else:
            model = timm.create_model(arch, pretrained=True, pretrained_cfg_overlay={"file": source})
    """,
    input_side='model.pretrained_cfg["input_size"][-1]',
)


def make_weights(arch: str, hub: Path) -> Path:
    """A random weights file for timm's default config of ``arch`` where its URL points (mirrored under
    ``hub``): ``model.safetensors`` for a Hub file, a ``torch.save``-d state dict for a release URL."""
    import timm
    import torch
    from safetensors.torch import save_file
    from zoo_timm import catalogue

    facts = catalogue.architecture(arch)
    tag = facts["default_weights"]
    url = facts["weights"][tag]["url"]
    path = hub / url.removeprefix("https://")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    state = {k: v.contiguous() for k, v in timm.create_model(f"{arch}.{tag}", pretrained=False).state_dict().items()}
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--arch", nargs="+", default=["resnet50", "legacy_xception", "nasnetalarge"])
    args = parser.parse_args()
    compile_zoo()
    report_load("start")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Path(tmp) / "hub"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
        env.update(ZOO_HOME=str(Path(tmp) / "zoo"), ZOO_QUIET="1", ZOO_OFFLINE="1",
                   ZOO_MIRRORS=f"https://={hub.as_uri()}/")  # fmt: skip
        os.environ.update(env)
        from zoo_timm import catalogue
        from zoo_timm.builder import fetch_variant

        from zoo import hub as zoo_hub

        files = {}
        for arch in args.arch:
            path = make_weights(arch, hub)
            cached, _ = fetch_variant(arch, catalogue.architecture(arch)["default_weights"])  # warm the cache
            assert zoo_hub.cache_dir() in cached.parents
            files[arch] = path
        rows = []
        for arch in args.arch:
            med, speedup = compare(CHILD, ("timm", "zoo"), arch, str(files[arch]), env, args.runs)
            rows.append((arch, files[arch].stat().st_size / 2**20, med["timm"], med["zoo"], speedup))

    report_load("end")
    print(f"\nzoo.load('timm:NAME') vs timm.create_model(NAME, pretrained=True), same file, warm cache, median of "
          f"{args.runs} fresh processes (python {sys.version.split()[0]}, {os.cpu_count()} CPUs; memory in MB)")
    header = (f"{'model':16} {'file MB':>8} {'timm s':>7} {'zoo s':>7} {'speed-up (range)':>16} {'timm peak':>9} {'zoo peak':>8} "
              f"{'timm load':>9} {'zoo load':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for arch, size, tm, zo, speedup in rows:
        print(f"{arch:16} {size:8.0f} {tm['seconds']:7.3f} {zo['seconds']:7.3f} {speedup.show('.1f', 'x'):>16} "
              f"{tm['peak_mb']:9.0f} {zo['peak_mb']:8.0f} {tm['load_mb']:9.0f} {zo['load_mb']:8.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
