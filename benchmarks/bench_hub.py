"""zoo.hub.fetch against torch.hub.download_url_to_file (the anchor) on a local HTTP server.

Both stream the file, hash it with sha256 and move it into place; zoo additionally fsyncs, keeps a
resumable part and takes a file lock. Also timed: a warm-cache hit (what every ``zoo.load`` pays).

    .venv/bin/python benchmarks/bench_hub.py [--mib 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch.hub

    import zoo.hub

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "www").mkdir()
        data = os.urandom(args.mib << 20)
        digest = hashlib.sha256(data).hexdigest()
        name = f"weights-{digest[:8]}.pth"
        (root / "www" / name).write_bytes(data)
        del data
        httpd, base = serve(root / "www")
        url = f"{base}/{name}"
        os.environ["ZOO_QUIET"] = "1"
        os.environ["TORCH_HOME"] = str(root / "torch")

        def zoo_cold():
            os.environ["ZOO_HOME"] = tempfile.mkdtemp(dir=root)
            zoo.hub.fetch(url, sha256=digest[:8], progress=False)

        def torch_cold():
            torch.hub.download_url_to_file(url, str(root / "t.pth"), hash_prefix=digest[:8], progress=False)

        zoo_s = best(zoo_cold, args.repeat)
        torch_s = best(torch_cold, args.repeat)
        zoo.hub.fetch(url, sha256=digest[:8])
        hit_s = best(lambda: zoo.hub.fetch(url, sha256=digest[:8]), 200)
        httpd.shutdown()

    rows = [
        ("download + sha256 (cold)", f"{args.mib} MiB", zoo_s, torch_s),
    ]
    print(f"{'case':28} {'size':>8} {'zoo s':>8} {'torch s':>8} {'zoo/torch':>9}")
    for case, size, z, t in rows:
        print(f"{case:28} {size:>8} {z:8.3f} {t:8.3f} {z / t:9.2f}")
    print(f"warm-cache hit (zoo.hub.fetch of a cached file): {hit_s * 1e3:.3f} ms")
    print(
        f"throughput: zoo {args.mib / zoo_s:.0f} MiB/s, torch.hub {args.mib / torch_s:.0f} MiB/s "
        f"(best of {args.repeat}; zoo also fsyncs before the file enters the cache)"
    )


if __name__ == "__main__":
    main()
