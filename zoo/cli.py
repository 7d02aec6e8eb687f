"""The ``zoo`` command. Core commands live here; plugins add theirs through ``zoo_register_commands``.

No command prints a traceback: a zoo error is its message on stderr and exit status 1 (a usage mistake too:
:class:`ZooArgumentParser`); any other exception is one line naming it, also status 1. ``--debug`` (anywhere on the line) or ``ZOO_DEBUG=1`` shows the
traceback. Warnings are one line each (``zoo: warning: ...``), each said once per run.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import zoo
import zoo.api
from zoo._version import DISTRIBUTION
from zoo.console import print_table
from zoo.errors import ArgumentError, PluginError, ZooError
from zoo.hookspecs import KINDS
from zoo.plugins import NOT_CONTAINED, PluginInfo, check_targets, get_plugin_manager, get_registry
from zoo.registry import canonical_kind


def _cmd_plugins(args: argparse.Namespace) -> int:
    pm = get_plugin_manager()
    registry = (
        get_registry()
    )  # registering fills in the per-kind counts, shadowed names and register failures
    broken = check_targets(pm, registry) if args.check else {}
    infos = sorted(pm.info.values(), key=lambda i: (not i.builtin, i.name))
    if args.json:
        print(json.dumps([vars(i) for i in infos], indent=2, default=str))
    else:
        rows = []
        for info in infos:
            what = ", ".join(f"{n} {k}" for k, n in info.counts.items() if n) or "-"
            origin = f"{info.distribution} (built-in)" if info.builtin else (info.distribution or "")
            rows.append((info.name, info.version or "", origin, what, _plugin_status(info, args.check)))
        print_table(("plugin", "version", "from", "registers", "status"), rows)
    if broken and pm.strict:
        raise PluginError(
            f"{sum(map(len, broken.values()))} lazy targets do not import, of plugins {', '.join(sorted(broken))} "
            "(ZOO_STRICT_PLUGINS is set); 'zoo plugins --check' lists them."
        )
    return 0


def _plugin_status(info: PluginInfo, checked: bool) -> str:
    """``ok`` or ``FAILED: cause``, then what zoo ignores of it, the names it shadows, and (``--check``) the
    targets that do not import."""
    if info.status == "failed":
        return f"FAILED: {info.error}"
    notes = [info.status]
    notes += [f"warning: {w}" for w in info.warnings]
    for kind, names in info.shadows.items():
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        notes.append(f"shadows {len(names)} {kind}: {shown}")
    if info.broken_targets:
        notes.append(f"{len(info.broken_targets)} targets do not import: {'; '.join(info.broken_targets)}")
    elif checked and info.status == "ok" and any(info.counts.values()):
        notes[0] = "ok, every target imports"
    return "; ".join(notes)


_PYTHON_LITERALS = {"true": True, "false": False, "none": None, "null": None}


def parse_value(raw: str) -> Any:
    """A command-line value: JSON (``3``, ``[1, 2]``, ``"x"``), Python's ``True``/``False``/``None`` in
    any case, else the text itself."""
    if raw.strip().lower() in _PYTHON_LITERALS:
        return _PYTHON_LITERALS[raw.strip().lower()]
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def parse_pairs(items: Sequence[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` items (``--where``, ``--load``, ``--option``) as a dict of parsed values."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"{flag} expects KEY=VALUE, got {item!r}.")
        out[key.strip()] = parse_value(raw)
    return out


def _cmd_list(args: argparse.Namespace) -> int:
    if _wants_catalogue(args):
        return _cmd_catalogue(args)
    where = list(args.where)
    pattern = args.pattern
    if "=" in pattern:  # 'zoo list layers category=recurrent': a filter, not a name pattern
        where.append(pattern)
        pattern = "*"
    filters = parse_pairs(where, "--where")
    kinds = [args.kind] if args.kind else list(KINDS)
    if args.kind is not None and args.kind not in KINDS:
        get_registry().names(args.kind)  # raises, naming the kinds
    result = {kind: zoo.list(kind, pattern, **filters) for kind in kinds}
    if args.kind and not result[args.kind]:  # an error with --json too: [] with status 0 reads as success
        raise ZooError(_nothing_matches(args.kind, pattern, filters))
    if args.json:
        print(json.dumps(result if not args.kind else result[args.kind], indent=2))
    elif args.kind:
        print("\n".join(result[args.kind]))
    else:
        for kind, names in result.items():
            print(f"{kind} ({len(names)}): {', '.join(names)}")
    return 0


def _wants_catalogue(args: argparse.Namespace) -> bool:
    """The catalogue's view (a row per weights variant): asked by --sort/--columns/--format or a comparison."""
    asked = args.sort or args.columns or args.format or any(op in w for w in args.where for op in "<>!")
    if asked and args.kind is not None and canonical_kind(args.kind) != "applications":
        raise ZooError(
            "--sort, --columns, --format and comparisons apply to the catalogue of applications only."
        )
    return bool(asked)


def _cmd_catalogue(args: argparse.Namespace) -> int:
    import csv
    import io

    from zoo.catalogue import DEFAULT_COLUMNS, catalogue, column

    columns = (
        [column(c) for c in args.columns.split(",") if c.strip()] if args.columns else list(DEFAULT_COLUMNS)
    )
    rows = catalogue(args.pattern, where=args.where, sort=args.sort.split(",") if args.sort else None)
    if not rows:  # an error whatever the format, as for the names listing
        raise ZooError("no weights variant matches; see 'zoo list applications --columns name,weights,acc1'.")
    table = [{c: getattr(row, c) for c in columns} for row in rows]
    fmt = args.format or ("json" if args.json else "table")
    if fmt == "json":
        print(json.dumps(table, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        sys.stdout.write(out.getvalue())
    else:
        print_table(columns, [["" if row[c] is None else row[c] for c in columns] for row in table])
    return 0


def _nothing_matches(kind: str, pattern: str, filters: dict[str, Any]) -> str:
    """What ``zoo list KIND PATTERN`` matched nothing of, with the names closest to the pattern (its
    wildcards dropped): ``mnst`` is a typo of ``mnist`` far more often than a pattern."""
    said = ", ".join(f"{k}={v!r}" for k, v in filters.items())
    asked = " and ".join(x for x in (f"pattern {pattern!r}" if pattern != "*" else "", said) if x)
    stem = "".join(ch for ch in pattern if ch not in "*?[]")
    close = get_registry().suggest(kind, stem) if stem else []
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return (
        f"no {kind} match {asked or 'at all'}.{hint} See 'zoo list {kind}' for every name, and 'zoo info NAME' "
        "for the metadata keys to filter on."
    )


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


#: Where a subcommand's parser leaves itself in the namespace, so that arguments nobody took are blamed on
#: the (innermost) command they were given to, not on ``zoo``.
_PARSER_SEEN = "_zoo_parser"


class ZooArgumentParser(argparse.ArgumentParser):
    """argparse, held to the CLI's promise: a usage mistake is one line, ``zoo: error: ...``, exit status 1
    (argparse prints the whole usage and exits 2), pointing at the command's ``--help``, with the closest
    choice or option when one was misspelt (Python 3.11's argparse suggests none).

    ``add_subparsers`` makes its parsers of the parent's class, so every command gets this behaviour, those
    that plugins add through ``zoo_register_commands`` included. ``--help`` and ``--version`` still exit 0."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentError(f"{message} (see '{self.prog} --help')")  # main() prints it as one line

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            close = _closest(str(value), [str(choice) for choice in action.choices or ()])
            if close is None:
                raise
            raise argparse.ArgumentError(action, f"{exc.message}. Did you mean {close!r}?") from None

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        namespace, extras = super().parse_known_args(args, namespace)
        if not hasattr(namespace, _PARSER_SEEN):  # a subcommand's parser, innermost first, got there already
            setattr(namespace, _PARSER_SEEN, self)
        return namespace, extras

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        namespace, extras = self.parse_known_args(args, namespace)
        parser = vars(namespace).pop(_PARSER_SEEN, self)
        if extras:
            options = [o for action in parser._actions for o in action.option_strings]
            close = next(
                (c for x in extras if x.startswith("-") and (c := _closest(x.partition("=")[0], options))), None
            )
            hint = f". Did you mean {close!r}?" if close else ""
            parser.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return namespace


def whole_number(minimum: int = 0) -> Callable[[str], int]:
    """An argparse ``type``: a whole number ``>= minimum``, so ``--epochs 0`` is a one-line usage error when
    the line is read, not a crash (or a run that silently does nothing) later. ``16e3`` reads as 16000."""
    return _number(f"a whole number >= {minimum}", minimum, integer=True)  # type: ignore[return-value]


def finite_number(minimum: float = 0.0, *, strict: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number ``>= minimum`` (``> minimum`` if ``strict``, as a learning rate
    is). NaN compares false with every bound, so ``--lr nan`` would otherwise pass any check and train on."""
    return _number(f"a finite number {'>' if strict else '>='} {minimum:g}", minimum, strict=strict)


def _number(kind: str, minimum: float, *, integer: bool = False, strict: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        bad = not math.isfinite(value) or value < minimum or (strict and value == minimum)
        if bad or (integer and not value.is_integer()):
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}")
        return int(value) if integer else value

    return parse


def _closest(word: str, candidates: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def build_parser() -> argparse.ArgumentParser:
    parser = ZooArgumentParser(prog="zoo", description="A plugin-based model zoo for PyTorch.")
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {zoo.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plugins", help="list plugins, their versions, what they register and their status")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--check", action="store_true",
                   help="also import every lazy target and report those that do not, per plugin "
                        "(an error under ZOO_STRICT_PLUGINS=1)")  # fmt: skip
    p.set_defaults(func=_cmd_plugins)

    p = sub.add_parser("list", help="list registered names of one kind (or of all kinds)")
    p.add_argument("kind", nargs="?", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'resnet*'")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="metadata filter; for applications also a comparison such as 'params<10e6' or 'acc1>=80'")  # fmt: skip
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--sort", help="applications catalogue: sort by these columns ('-acc1' descending, 'a,-b')"
    )
    p.add_argument(
        "--columns", help="applications catalogue: columns to show, e.g. name,weights,acc1,params,gflops"
    )
    p.add_argument("--format", choices=("table", "csv", "json"), help="applications catalogue: output format")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", help="show what zoo knows about a name")
    p.add_argument("name")
    p.add_argument("--kind", help="the kind to look in (default: the first that has the name)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_info)

    from zoo.scaffold.cli import add_parser as add_new_plugin

    add_new_plugin(sub)
    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(subparsers: argparse._SubParsersAction) -> None:
    """Each plugin adds its commands on its own, so one broken plugin cannot take the CLI down; one whose
    hook raises loses the commands it added before raising too (a FAILED plugin's command must not run)."""
    pm = get_plugin_manager()
    for name in pm.implementers("zoo_register_commands"):
        parsers, listed = dict(subparsers.choices), list(subparsers._choices_actions)
        try:
            pm.call_plugin(name, "zoo_register_commands", subparsers=subparsers)
        except NOT_CONTAINED:
            raise
        except BaseException as exc:  # noqa: BLE001 - isolation is the point
            subparsers.choices.clear()  # argparse's own map of command -> parser (_name_parser_map)
            subparsers.choices.update(parsers)
            subparsers._choices_actions[:] = listed  # what --help lists
            pm.fail(name, f"zoo_register_commands raised {type(exc).__name__}: {exc}")


def _descending_sorts(args: list[str]) -> list[str]:
    """``--sort -acc1`` as ``--sort=-acc1``: argparse would read ``-acc1`` as an unknown option."""
    out: list[str] = []
    for arg in args:
        if out and out[-1] == "--sort" and arg.startswith("-") and not arg.startswith("--"):
            out[-1] = f"--sort={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list or os.environ.get("ZOO_DEBUG", "").strip().lower() in ("1", "true", "yes")
    args_list = _descending_sorts([a for a in args_list if a != "--debug"])
    with one_line_warnings():
        try:
            return _run(args_list)
        except KeyboardInterrupt:
            print("zoo: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # `zoo list | head` closed the pipe: not an error. Point stdout at devnull so that the interpreter's
            # final flush does not raise again (the recipe in Python's signal module docs).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except Exception as exc:  # noqa: BLE001 - the promise: never a traceback without --debug
            print(f"zoo: error: {_error_line(exc)}", file=sys.stderr)
            if debug:
                traceback.print_exc()
            return 1


def _error_line(exc: Exception) -> str:
    if isinstance(exc, ZooError):
        return str(exc)
    if isinstance(exc, (ValueError, TypeError)):  # a bad value that reached Python's own checks
        return _one_line(exc)
    return (
        f"{type(exc).__name__}: {_one_line(exc)} (unexpected; run with --debug or ZOO_DEBUG=1 for the "
        "traceback, and please report it)"
    )


def _run(argv: list[str]) -> int:
    parser = build_parser()
    parser.add_argument("--debug", action="store_true", help="show tracebacks (also: ZOO_DEBUG=1)")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:500] + " ...") if len(text) > 500 else text or type(exc).__name__


@contextlib.contextmanager
def one_line_warnings():
    """Warnings as ``zoo: warning: Category: message`` on one line, each said once, without Python's
    file-and-source-line noise."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"zoo: warning: {category.__name__}: {_one_line(message) if isinstance(message, Exception) else ' '.join(str(message).split())}"
        if text not in seen:
            seen.add(text)
            print(text, file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


if __name__ == "__main__":
    sys.exit(main())
