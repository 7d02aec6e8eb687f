"""zoo.hub.fetch against torch.hub.download_url_to_file (the anchor) on a local HTTP server.

Both stream the file, hash it with sha256 and move it into place; zoo additionally fsyncs, keeps a
resumable part and takes a file lock. Also timed: a warm-cache hit (what every ``zoo.load`` pays).

    .venv/bin/python benchmarks/bench_hub.py [--mib 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from measure import paired_ratio, report_load, time_cases


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report_load("start")

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

        times = time_cases({"zoo.hub.fetch": zoo_cold, "torch.hub": torch_cold}, rounds=args.rounds)
        zoo.hub.fetch(url, sha256=digest[:8])
        hit = time_cases({"hit": lambda: zoo.hub.fetch(url, sha256=digest[:8])}, rounds=5, inner=100)["hit"]
        httpd.shutdown()
    report_load("end")

    zoo_s, torch_s = times["zoo.hub.fetch"], times["torch.hub"]
    print(f"download + sha256 (cold), {args.mib} MiB, median (min-max) over {args.rounds} interleaved rounds")
    print(f"  zoo.hub.fetch   {zoo_s.show('.3f', ' s')}   {zoo_s.scaled(1 / args.mib).show('.4f')} s/MiB")
    print(f"  torch.hub       {torch_s.show('.3f', ' s')}   {torch_s.scaled(1 / args.mib).show('.4f')} s/MiB")
    print(f"  zoo / torch.hub time, per round: {paired_ratio(zoo_s, torch_s).show('.2f')} "
          "(zoo also fsyncs, keeps a resumable part and takes a file lock)")  # fmt: skip
    print(f"warm-cache hit (zoo.hub.fetch of a cached file): {hit.scaled(1e3).show('.3f', ' ms')}")


if __name__ == "__main__":
    main()
