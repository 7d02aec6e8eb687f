"""``zoo predict NAME IMAGE... [--weights V] [--top K]``: classify image files, print the top classes.

Only the parser is built at import; torch and the model load when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.errors import ZooError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="classify images with a pretrained application")
    p.add_argument("name", help="application name, e.g. resnet50")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--weights", default="imagenet", help="variant tag, file path or URL (default: imagenet)")
    p.add_argument("--top", type=int, default=5, help="how many classes to show per image (default: 5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image, UnidentifiedImageError

    import zoo

    if args.top < 1:
        raise ZooError(f"--top must be >= 1, got {args.top}.")
    images = []
    for path in args.images:
        try:
            with Image.open(path) as img:
                images.append(img.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            raise ZooError(f"cannot read image {path}: {exc}") from None
    model = zoo.load(args.name, weights=args.weights)
    if model.zoo.categories is None:
        raise ZooError(f"{args.name} weights {args.weights!r} have no category names to predict with.")
    preprocess = model.zoo.transforms()
    batch = torch.stack([preprocess(img) for img in images])
    with torch.inference_mode():
        results = model.zoo.decode_predictions(model(batch), top=args.top)
    for path, rows in zip(args.images, results, strict=True):
        print(f"{path}  ({model.zoo.name}, {model.zoo.weights or args.weights})")
        width = max(len(name) for _, name, _ in rows)
        print(f"  {'rank':>4}  {'class'.ljust(width)}  {'index':>5}  {'prob':>7}")
        for rank, (index, name, score) in enumerate(rows, 1):
            print(f"  {rank:>4}  {name.ljust(width)}  {index:>5}  {score:>7.2%}")
    return 0
