"""``zoo predict NAME IMAGE... [--weights V] [--num-classes N --categories C] [--top K]``: classify image
files, print the top classes. A fine-tuned checkpoint with its own head takes ``--num-classes`` and names
its classes with ``--categories`` (a file with one name per line, a JSON list, or names separated by commas).

``--categories`` names the model's existing outputs, never asks for new ones: with the default weights
their count must be the model's number of classes; with ``--weights`` (a checkpoint with its own head)
it implies ``--num-classes``, and a checkpoint whose head has another size is refused rather than given a
new, untrained head.

Only the parser is built at import; torch and the model load when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from zoo.applications.contract import PREDICT_KEYS
from zoo.errors import OptionError, ZooError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="classify images with a pretrained application")
    p.add_argument("name", help="application name, e.g. resnet50")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument(
        "--weights", help="variant tag, file path, URL or 'none' (default: the application's default weights)"
    )
    p.add_argument("--num-classes", type=int, help="size of the checkpoint's own classifier (a fine-tuned head)")
    p.add_argument(
        "--categories", metavar="FILE|A,B,...", help="class names: a text file, one per line, or a comma list"
    )
    p.add_argument("--top", type=int, default=5, help="how many classes to show per image (default: 5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    import zoo

    categories = _check_args(args)
    weights = None if args.weights is None or args.weights.strip().lower() == "none" else args.weights
    images = _read_images(args.images)
    num_classes = args.num_classes
    if num_classes is None and categories and args.weights is not None:
        num_classes = len(categories)  # a checkpoint with its own head: --categories says its size
    options = {"num_classes": num_classes} if num_classes is not None else {}
    if args.weights is not None:
        options["weights"] = weights
    elif categories is None:
        _check_metadata(args.name)
    model = zoo.load(args.name, **options)
    preprocess_batch = None
    if model.zoo.dropped_keys:  # zoo.load replaced the weights' classifier by an untrained one
        preprocess_batch = _batch(model, images)
        found = _outputs_of_the_weights(args.name, options, preprocess_batch)
        asked = _asked(args, categories)
        fix = "give one category name per output" if asked == "--categories" else "drop --num-classes"
        raise OptionError(
            f"{_label(args, model)} has {found if found is not None else 'another number of'} classes, but "
            f"{asked} asks for {num_classes}: zoo predict names the model's existing outputs and never predicts "
            f"with a new, untrained head; {fix} (or give a checkpoint with a {num_classes}-class head with --weights)."
        )
    categories = categories or model.zoo.categories
    if categories is None:
        what = "random weights (--weights none)" if weights is None else f"weights {args.weights!r}"
        raise ZooError(
            f"{args.name} with {what} has no category names to predict with; name the classes with "
            "--categories FILE (one per line) or --categories a,b,c."
        )
    if model.zoo.categories and len(categories) != len(model.zoo.categories):
        raise OptionError(_count_mismatch(args, model, len(model.zoo.categories), len(categories)))
    batch = preprocess_batch if preprocess_batch is not None else _batch(model, images)
    with torch.inference_mode():
        logits = model(batch)
    if logits.shape[-1] != len(categories):
        raise OptionError(_count_mismatch(args, model, logits.shape[-1], len(categories)))
    results = zoo.decode_predictions(logits, top=min(args.top, len(categories)), categories=categories)
    label = model.zoo.weights or weights or model.zoo.source or "random weights"
    for path, rows in zip(args.images, results, strict=True):
        _print_rows(f"{path}  ({model.zoo.name}, {label})", rows)
    return 0


def _batch(model, images: list):
    import torch

    missing = [k for k in PREDICT_KEYS if k not in (model.zoo.preprocessing or {})]
    if missing:
        raise ZooError(
            f"{model.zoo.name}: its weights give no preprocessing ({', '.join(missing)} missing), so zoo predict "
            "cannot prepare the images; the plugin's weights metadata must give preprocessing={resize, crop, "
            "mean, std}."
        )
    preprocess = model.zoo.transforms()
    return torch.stack([preprocess(img) for img in images])


def _label(args: argparse.Namespace, model) -> str:
    if args.weights is None:
        return f"{args.name} ({model.zoo.weights or 'its default weights'})"
    return f"{args.name} with weights {args.weights!r}"


def _asked(args: argparse.Namespace, categories: list[str] | None) -> str:
    return "--num-classes" if args.num_classes is not None or categories is None else "--categories"


def _count_mismatch(args: argparse.Namespace, model, outputs: int, names: int) -> str:
    fix = (
        "give one category name per output"
        if args.weights is not None
        else "--categories names the model's existing outputs, one name per class (for a fine-tuned checkpoint "
        "with its own head, add --weights FILE)"
    )
    return f"{_label(args, model)} has {outputs} classes but --categories names {names}: {fix}."


def _outputs_of_the_weights(name: str, options: dict, batch) -> int | None:
    """How many outputs the weights' own head has: the model loaded again without num_classes, run once."""
    import torch

    import zoo

    try:
        model = zoo.load(name, **{k: v for k, v in options.items() if k != "num_classes"})
        with torch.inference_mode():
            return int(model(batch[:1]).shape[-1])
    except Exception:  # noqa: BLE001 - only for the error message; without it the count is left out
        return None


def _check_metadata(name: str) -> None:
    """An application whose metadata gives no categories or preprocessing is refused before it loads."""
    from zoo import saving
    from zoo.applications.contract import why_not_predict
    from zoo.plugins import get_registry

    if saving.is_saved_model(name) or name.startswith("hf-hub:"):
        return
    reason = why_not_predict(get_registry().lookup("applications", name), None)
    if reason is not None:
        raise ZooError(reason)


def _check_args(args: argparse.Namespace) -> list[str] | None:
    """The numbers checked before anything loads; returns the --categories names (or None)."""
    if args.top < 1:
        raise ZooError(f"--top must be >= 1, got {args.top}.")
    if args.num_classes is not None and args.num_classes < 1:
        raise ZooError(f"--num-classes must be >= 1, got {args.num_classes}.")
    categories = _categories(args.categories) if args.categories is not None else None
    if categories is not None and args.num_classes is not None and len(categories) != args.num_classes:
        raise ZooError(f"--categories names {len(categories)} classes but --num-classes is {args.num_classes}.")
    return categories


def _read_images(paths: list[Path]) -> list:
    from PIL import Image, UnidentifiedImageError

    images = []
    for path in paths:
        try:
            with Image.open(path) as img:
                images.append(img.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise ZooError(f"cannot read image {path}: {exc}") from None
    return images


def _print_rows(title: str, rows: list[tuple[int, str, float]]) -> None:
    print(title)
    width = max(len(name) for _, name, _ in rows)
    print(f"  {'rank':>4}  {'class'.ljust(width)}  {'index':>5}  {'prob':>7}")
    for rank, (index, name, score) in enumerate(rows, 1):
        print(f"  {rank:>4}  {name.ljust(width)}  {index:>5}  {score:>7.2%}")


def _categories(spec: str) -> list[str]:
    path = Path(spec).expanduser()
    try:
        is_file = path.is_file()
    except OSError:  # a 1000-name list is too long to be a file name
        is_file = False
    if is_file:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise OptionError(f"cannot read --categories file {path}: {exc}") from None
        if path.suffix.lower() == ".json":
            try:
                names = json.loads(text)
            except ValueError as exc:
                raise OptionError(f"--categories file {path} is not valid JSON: {exc}") from None
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                raise OptionError(f"--categories file {path} must hold a JSON list of class names.")
            names = [n.strip() for n in names]
        else:
            names = [line.strip() for line in text.splitlines() if line.strip()]
    elif _looks_like_a_path(spec):
        raise OptionError(
            f"--categories {spec!r}: no such file (a value ending in .txt/.json or holding a path separator is "
            "read as a file); check the path, or give the names as a,b,c."
        )
    else:
        names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise OptionError(f"--categories {spec!r} names no classes: give a file with one name per line, or a,b,c.")
    return names


def _looks_like_a_path(spec: str) -> bool:
    seps = {"/", os.sep, *([os.altsep] if os.altsep else [])}
    return spec.strip().lower().endswith((".txt", ".json")) or any(sep in spec for sep in seps)
