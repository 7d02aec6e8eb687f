"""zoo.datasets against the Keras way of reading the same files, in one run.

Full-size synthetic stand-ins in the real formats (no network here): an MNIST-sized IDX gzip set served
by a local HTTP server, and an imdb-sized npz of object arrays. Prints a table of ratios.

    .venv/bin/python benchmarks/bench_datasets.py
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import io
import os
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
from measure import Spread, paired_ratio, report_load, time_cases


def idx(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08}[array.dtype]
    return bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


def mnist_like(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mostly-black digits-like images, so gzip compresses them about as well as the real MNIST."""
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 6:22, 8:20] = rng.integers(0, 256, (n, 16, 12), dtype=np.uint8) * (
        rng.random((n, 16, 12)) < 0.4
    )
    return images


def keras_idx_load(paths: dict[str, Path]):
    """What keras.datasets.fashion_mnist.load_data does on every call: gunzip everything into memory."""
    out = {}
    for role, path in paths.items():
        with gzip.open(path, "rb") as f:
            offset = 16 if "images" in role else 8
            out[role] = np.frombuffer(f.read(), np.uint8, offset=offset)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="zoo-bench-"))
    os.environ["ZOO_HOME"] = str(work / "home")
    os.environ["ZOO_QUIET"] = "1"
    served = work / "served"
    served.mkdir()
    arrays = {
        "train_images": mnist_like(60000, rng),
        "train_labels": rng.integers(0, 10, 60000, dtype=np.uint8),
        "test_images": mnist_like(10000, rng),
        "test_labels": rng.integers(0, 10, 10000, dtype=np.uint8),
    }
    import torch  # noqa: F401 - imported before timing: the first load should not pay for it

    import zoo.datasets
    from zoo.datasets import sources

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    specs, paths = {}, {}
    for role, array in arrays.items():
        data = gzip.compress(idx(array), mtime=0)
        name = sources.FILES["mnist"][role]["filename"]
        (served / name).write_bytes(data)
        paths[role] = served / name
        specs[role] = {"url": f"http://127.0.0.1:{server.server_port}/{name}", "mirrors": [], "filename": name,
                       "sha256": hashlib.sha256(data).hexdigest(), "md5": None, "size": len(data)}  # fmt: skip
    sources.FILES["mnist"] = specs

    report_load("start")
    rows = []
    start = time.perf_counter()
    (x_train, _), _ = zoo.datasets.load("mnist")
    first = Spread((time.perf_counter() - start,))  # happens once: one sample
    times = time_cases({
        "keras": lambda: keras_idx_load(paths),
        "warm": lambda: zoo.datasets.load("mnist"),
        "touch": lambda: float(zoo.datasets.load("mnist")[0][0][:64].float().mean()),
    }, rounds=rounds)  # fmt: skip
    keras = times["keras"]
    rows.append(("mnist-size IDX, first load (download+verify+decompress)", first, keras))
    rows.append(("mnist-size IDX, later load (memory-mapped)", times["warm"], keras))
    rows.append(("  ... and read 64 images", times["touch"], keras))

    # imdb-sized object arrays: restricted unpickler vs np.load(allow_pickle=True) (older Keras)
    from zoo.datasets.formats import load_npz

    lengths = rng.integers(10, 470, 50000)
    seqs = np.empty(50000, dtype=object)
    for i, n in enumerate(lengths):
        seqs[i] = rng.integers(1, 88585, n).tolist()
    buf = io.BytesIO()
    np.savez(
        buf,
        x_train=seqs[:25000],
        y_train=np.zeros(25000, int),
        x_test=seqs[25000:],
        y_test=np.zeros(25000, int),
    )
    npz = work / "imdb.npz"
    npz.write_bytes(buf.getvalue())

    def unsafe():
        with np.load(npz, allow_pickle=True) as f:
            return {k: f[k] for k in f.files}

    npz_times = time_cases({"zoo": lambda: load_npz(npz), "unsafe": unsafe}, rounds=rounds)
    rows.append(("imdb-size npz, restricted unpickler", npz_times["zoo"], npz_times["unsafe"]))
    report_load("end")

    print(f"median (min-max) over {rounds} interleaved rounds; ratio = keras time / zoo time")
    print(f"{'case':58} {'zoo s':>26} {'keras s':>26} {'ratio':>24}")
    for name, ours, theirs in rows:
        ratio = paired_ratio(theirs, ours) if len(ours.samples) == len(theirs.samples) else \
            Spread(tuple(t / ours.median for t in theirs.samples))  # fmt: skip
        print(f"{name:58} {ours.show('.4f'):>26} {theirs.show('.4f'):>26} {ratio.show('.1f', 'x'):>24}")
    server.shutdown()
    del x_train


if __name__ == "__main__":
    main()
