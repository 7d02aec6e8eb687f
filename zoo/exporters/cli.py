"""``zoo export NAME --format onnx -o FILE``: build a registered model and export it, checked."""

from __future__ import annotations

import argparse
import json
import re

from zoo.errors import ZooError


def add_command(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a model to ONNX, TorchScript or a torch.export archive, checked against PyTorch",
        description="Build a registered model with zoo.load, export it, load the file back and compare its "
        "outputs with PyTorch on random inputs of two batch sizes. The file appears only if the check passes.",
    )
    p.add_argument("name", help="a registered model name, e.g. resnet50 (see 'zoo list applications')")
    p.add_argument(
        "-f", "--format", default="onnx", help="export format (default: onnx; 'zoo list exporters')"
    )
    p.add_argument("-o", "--output", help="file to write (default: NAME plus the format's suffix, here)")
    p.add_argument("--weights", help="weights for zoo.load: a variant, 'none' for random init, a path or URL")
    p.add_argument("--no-top", action="store_true", help="include_top=False: export the feature extractor")
    p.add_argument("--pooling", choices=("avg", "max"), help="pooling of the features with --no-top")
    p.add_argument("--load", action="append", default=[], metavar="KEY=VALUE", help="another zoo.load option")
    p.add_argument(
        "--input-shape",
        action="append",
        metavar="C,H,W",
        help="one sample's shape, without the batch axis (repeat for each input of a multi-input model)",
    )
    p.add_argument(
        "--batch-sizes", default="1,3", metavar="B1,B2", help="batch sizes of the check (default 1,3)"
    )
    p.add_argument("--static-batch", action="store_true", help="fix the batch size instead of a dynamic axis")
    p.add_argument("--atol", type=float, help="absolute tolerance of the check (default: the format's)")
    p.add_argument(
        "--rtol", type=float, help="tolerance relative to the largest output (default: the format's)"
    )
    p.add_argument("--no-check", action="store_true", help="write the file without loading it back")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="exporter option, e.g. opset_version=18",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zoo.cli import parse_pairs
    from zoo.exporters import export

    load_kwargs = parse_pairs(args.load, "--load")
    if args.weights is not None:
        load_kwargs["weights"] = None if args.weights.lower() == "none" else args.weights
    if args.no_top:
        load_kwargs["include_top"] = False
    if args.pooling:
        load_kwargs["pooling"] = args.pooling
    try:
        shapes = [_ints(s, "--input-shape", "3,224,224") for s in args.input_shape or ()]
        result = export(
            args.name,
            args.format,
            args.output,
            input_shape=(shapes[0] if len(shapes) == 1 else shapes) or None,
            load_kwargs=load_kwargs,
            dynamic_batch=not args.static_batch,
            check=not args.no_check,
            batch_sizes=_ints(args.batch_sizes, "--batch-sizes", "1,3"),
            atol=args.atol,
            rtol=args.rtol,
            **parse_pairs(args.option, "--option"),
        )
    except (TypeError, ValueError) as exc:  # bad option values; zoo's own errors pass through to main()
        raise ZooError(str(exc)) from exc
    if args.json:
        data = {k: v for k, v in vars(result).items() if k != "files"}
        data.update(path=str(result.path), files=[str(f) for f in result.files])
        print(json.dumps(data, indent=2))
    else:
        print(result)
    return 0


def _ints(text: str, flag: str, example: str) -> tuple[int, ...]:
    parts = re.split(r"[,x]", text.strip())
    if not all(part.strip().isdigit() and int(part) > 0 for part in parts):
        raise ZooError(f"{flag} expects comma-separated positive integers such as {example}, got {text!r}.")
    return tuple(int(part) for part in parts)
