"""The ``zoo`` command. Core commands live here; plugins add theirs through ``zoo_register_commands``.

Errors from zoo exit with status 1 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import zoo
import zoo.api
from zoo.errors import ZooError
from zoo.hookspecs import KINDS
from zoo.plugins import get_plugin_manager, get_registry


def _cmd_plugins(args: argparse.Namespace) -> int:
    pm = get_plugin_manager()
    get_registry()  # registering fills in the per-kind counts and any register failures
    infos = sorted(pm.info.values(), key=lambda i: (not i.builtin, i.name))
    if args.json:
        print(json.dumps([vars(i) for i in infos], indent=2))
        return 0
    rows = []
    for info in infos:
        what = ", ".join(f"{n} {k}" for k, n in info.counts.items() if n) or "-"
        status = info.status if info.status != "failed" else f"FAILED: {info.error}"
        origin = "built-in" if info.builtin else (info.distribution or "")
        version = zoo.__version__ if info.builtin else (info.version or "")
        rows.append((info.name, version, origin, what, status))
    _table(("plugin", "version", "from", "registers", "status"), rows)
    return 0


def _parse_filters(items: Sequence[str]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ZooError(f"--where expects KEY=VALUE, got {item!r}.")
        try:
            filters[key] = json.loads(raw)
        except json.JSONDecodeError:
            filters[key] = raw
    return filters


def _cmd_list(args: argparse.Namespace) -> int:
    filters = _parse_filters(args.where)
    kinds = [args.kind] if args.kind else list(KINDS)
    result = {kind: zoo.list(kind, args.pattern, **filters) for kind in kinds}
    if args.json:
        print(json.dumps(result if not args.kind else result[args.kind], indent=2))
    elif args.kind:
        print("\n".join(result[args.kind]))
    else:
        for kind, names in result.items():
            print(f"{kind} ({len(names)}): {', '.join(names)}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    found = [get_registry().lookup(args.kind, args.name)] if args.kind else zoo.api.find(args.name)
    data = [entry.describe() for entry in found]
    if args.json:
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2, default=str))
        return 0
    for n, item in enumerate(data):
        if n:
            print()
        _print_tree(item)
    return 0


def _print_tree(data: Any, indent: int = 0) -> None:
    pad = "  " * indent
    width = max((len(str(k)) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, dict) and value:
            print(f"{pad}{key}:")
            _print_tree(value, indent + 1)
        else:
            if isinstance(value, (list, tuple)):
                value = ", ".join(map(str, value)) if len(value) <= 12 else f"{len(value)} items"
            print(f"{pad}{str(key).ljust(width)}  {value}")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="A plugin-based model zoo for PyTorch.")
    parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plugins", help="list plugins, their versions, what they register and their status")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("list", help="list registered names of one kind (or of all kinds)")
    p.add_argument("kind", nargs="?", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'resnet*'")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE", help="metadata filter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", help="show what zoo knows about a name")
    p.add_argument("name")
    p.add_argument("--kind", help="the kind to look in (default: the first that has the name)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_info)

    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(subparsers: argparse._SubParsersAction) -> None:
    """Each plugin adds its commands on its own, so one broken plugin cannot take the CLI down."""
    pm = get_plugin_manager()
    for impl in reversed(pm.hook.zoo_register_commands.get_hookimpls()):
        try:
            impl.function(subparsers=subparsers)
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            pm.fail(impl.plugin_name, f"zoo_register_commands raised {type(exc).__name__}: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `zoo list | head` closed the pipe: not an error. Point stdout at devnull so that the interpreter's
        # final flush does not raise again (the recipe in Python's signal module docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
