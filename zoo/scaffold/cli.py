"""``zoo new-plugin NAME [--kinds K,...] [--from DIR [--weights-url URL --weights-sha256 HEX]] [-o OUT]``."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from zoo.scaffold import DEFAULT_KINDS, kinds_supported

    p = subparsers.add_parser(
        "new-plugin", help="write a ready plugin package (entry point, hooks, a test calling zoo's kit, README)"
    )
    p.add_argument("name", help="the plugin's name: its entry point, package zoo_NAME and distribution zoo-NAME")
    p.add_argument("--kinds", help=f"comma list of kinds with an example entry each (default: {','.join(DEFAULT_KINDS)}; "
                                   f"templates: {','.join(kinds_supported())})")  # fmt: skip
    p.add_argument("--from", dest="from_dir", metavar="DIR", help="a folder zoo.save_pretrained wrote: package that model")
    p.add_argument("--weights-url", help="with --from: where the weights will be downloaded from (else they ship inside)")
    p.add_argument("--weights-sha256", help="with --from: the sha256 of the weights file (checked against the file)")
    p.add_argument("--embed-max-mb", type=float,
                   help="with --from: the largest weights file shipped inside the package (default: 20)")  # fmt: skip
    p.add_argument("-o", "--output", default=".", help="the folder to write zoo-NAME/ into (default: here)")
    p.add_argument("--force", action="store_true", help="overwrite an existing zoo-NAME/ folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zoo.scaffold import new_plugin

    kinds = None if args.kinds is None else [k for k in args.kinds.split(",") if k.strip()]
    root = new_plugin(
        args.name, kinds=kinds, from_dir=args.from_dir, output=args.output, weights_url=args.weights_url,
        weights_sha256=args.weights_sha256, embed_max_mb=args.embed_max_mb, force=args.force,
    )  # fmt: skip
    print(f"wrote {root}: pip install -e {root} and run pytest {root / 'tests'}")
    return 0
