"""Print (or with --write, put into README.md between its families markers) the table of the application
families the registry holds: plugin, architectures, pretrained variants, features_only, licences.

    .venv/bin/python tools/generate_families_table.py [--write]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

import zoo
from zoo.applications.features import UNSUPPORTED
from zoo.plugins import get_registry

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- families:begin (tools/generate_families_table.py --write) -->", "<!-- families:end -->"


def table() -> str:
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"archs": 0, "variants": 0, "licenses": set()})
    for _, entry in get_registry().listing("applications"):
        facts = entry.describe()
        family = facts.get("family") or entry.name
        group = groups[(entry.plugin, family)]
        group["archs"] += 1
        variants = facts.get("weights") if isinstance(facts.get("weights"), dict) else {}
        group["variants"] += len(variants)
        for variant in variants.values():
            group["licenses"].add(variant.get("license") or facts.get("license") or "not stated")
        if not variants and facts.get("license"):
            group["licenses"].add(facts["license"])
    lines = ["| plugin | family | architectures | pretrained variants | features_only | licences |", "|---|---|---|---|---|---|"]
    for (plugin, family), group in sorted(groups.items()):
        features = ("no" if family in UNSUPPORTED else "yes (timm's levels)" if plugin == "timm"
                    else "yes" if plugin == "applications" else "where it has conv maps")  # fmt: skip
        licenses = ", ".join(sorted(group["licenses"])) or "-"
        if len(licenses) > 60:
            licenses = f"{len(group['licenses'])} licences (`zoo list applications --columns name,weights,license`)"
        lines.append(f"| {plugin} | {family} | {group['archs']} | {group['variants']} | {features} | {licenses} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = parser.parse_args()
    text = table()
    if not args.write:
        print(text)
        return
    readme = README.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    README.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", readme))


if __name__ == "__main__":
    assert zoo  # the registry's plugins are zoo's installed ones
    main()
