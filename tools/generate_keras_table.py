"""Write plugins/zoo-keras/zoo_keras/applications.json from the installed Keras: for every keras.applications
name, the weights files Keras itself would fetch (URL, file name, Keras' published md5 or sha256), its
default and minimum input size, parameter count and input preprocessing.

The files are found by asking Keras: each application is built with ``weights="imagenet"`` while Keras'
``get_file`` is replaced by a recorder that stops before any download (with and without the top). Nothing is
downloaded. The preprocessing mode is read by feeding each application module's ``preprocess_input`` a
known array. Run with the torch backend:

    KERAS_BACKEND=torch .venv/bin/python tools/generate_keras_table.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

TABLE = Path(__file__).resolve().parents[1] / "plugins/zoo-keras/zoo_keras/applications.json"
PARTIAL = Path(tempfile.gettempdir()) / "zoo-keras-table.partial.json"
sys.path.insert(0, str(TABLE.parents[1]))


class _Stop(Exception):
    pass


def _files(build, include_top: bool) -> dict:
    from keras.src.utils import file_utils

    seen: dict = {}

    def record(fname=None, origin=None, file_hash=None, **_):
        seen.update(filename=fname, url=origin, hash=file_hash)
        raise _Stop

    real = file_utils.get_file
    file_utils.get_file = record
    try:
        build(weights="imagenet", include_top=include_top)
    except _Stop:
        pass
    finally:
        file_utils.get_file = real
    if not seen.get("url"):
        raise SystemExit(f"{build}: Keras asked for no weights file")
    digest = seen["hash"]
    algorithm = "sha256" if digest and len(digest) == 64 else "md5"
    return {"url": seen["url"], "filename": seen["filename"] or seen["url"].rsplit("/", 1)[-1],
            "known_hash": f"{algorithm}:{digest}" if digest else None}  # fmt: skip


def _sizes(build) -> tuple[int, int, int]:
    """Default size, minimum size (from Keras' obtain_input_shape) and parameter count."""
    from keras.src.applications import imagenet_utils

    asked: dict = {}
    real = imagenet_utils.obtain_input_shape

    def spy(*args, **kwargs):
        names = ("input_shape", "default_size", "min_size", "data_format", "require_flatten", "weights")
        asked.update(dict(zip(names, args, strict=False)), **kwargs)
        return real(*args, **kwargs)

    imagenet_utils.obtain_input_shape = spy
    try:
        model = build(weights=None, include_top=True)
    finally:
        imagenet_utils.obtain_input_shape = real
    # the size Keras' weights were trained at: the model's static input, else obtain_input_shape's default
    # (MobileNetV3 takes any size with its top, and asks obtain_input_shape nothing: Keras documents 224)
    default = model.input_shape[1] or asked.get("default_size") or 224
    return int(default), int(asked.get("min_size", 32)), int(model.count_params())


def _preprocessing(name: str) -> str:
    """keras.applications' preprocess_input mode: caffe, tf, torch, or none (preprocessing in the model)."""
    import importlib

    import keras

    module = importlib.import_module(getattr(keras.applications, name).__module__)
    x = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")
    y = np.asarray(module.preprocess_input(x.copy()))
    if np.allclose(y, x):
        return "none"
    if np.allclose(y, x / 127.5 - 1, atol=1e-5):
        return "tf"
    if np.allclose(y[..., ::-1] + [103.939, 116.779, 123.68][::-1], x, atol=1e-3):
        return "caffe"
    if np.allclose(y, (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225], atol=1e-5):
        return "torch"
    raise SystemExit(f"{name}: unknown preprocess_input behaviour {y}")


def generate() -> dict:
    import keras
    from zoo_keras.architectures import constructor

    if keras.backend.backend() != "torch":
        raise SystemExit("run with KERAS_BACKEND=torch")
    table = json.loads(PARTIAL.read_text()) if PARTIAL.exists() else {}
    names = sorted(n for n in dir(keras.applications) if n[0].isupper())
    for n, name in enumerate(names, 1):
        if name in table:
            continue
        build = constructor(name)
        default, minimum, params = _sizes(build)
        table[name] = {
            "input_size": default,
            "min_size": minimum,
            "num_params": params,
            "preprocess_mode": _preprocessing(name),
            "weights": {"imagenet": {"top": _files(build, True), "notop": _files(build, False)}},
        }
        PARTIAL.write_text(json.dumps(table))  # building the large ones takes minutes: a rerun goes on here
        print(f"[{n}/{len(names)}] {name}: {default}px, {params:,} params", file=sys.stderr, flush=True)
    PARTIAL.unlink(missing_ok=True)
    return {"keras_version": keras.__version__, "applications": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed table differs")
    args = parser.parse_args()
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if args.check:
        if TABLE.read_text() != text:
            raise SystemExit(f"{TABLE} is stale: rerun this script")
        return
    TABLE.write_text(text)
    print(f"wrote {TABLE}", file=sys.stderr)


if __name__ == "__main__":
    main()
