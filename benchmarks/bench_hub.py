"""zoo.hub.fetch against torch.hub.download_url_to_file (the anchor) on a local HTTP server.

Both stream the file, hash it with sha256 and move it into place; zoo additionally fsyncs, keeps a
resumable part and takes a file lock. Also timed: a warm-cache hit (what every ``zoo.load`` pays).

    .venv/bin/python benchmarks/bench_hub.py [--mib 256] [--rounds 5] [--ablate]

``--ablate`` adds a third case, zoo with its write path as it was before hashing moved to a worker thread
and write-out started early (zoo/hub/hashes.py ``BackgroundHasher``, zoo/hub/writeback.py): what those two
buy on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
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


def plain(case):
    """``case`` run with the hash on the calling thread and no early write-out (``--ablate``)."""
    import zoo.hub.hashes
    import zoo.hub.partial
    import zoo.hub.writeback

    class SameThread(zoo.hub.hashes.Hasher):
        def __init__(self, extra=None, **_):
            super().__init__(extra)

        def close(self):
            pass

    def run():
        saved = zoo.hub.partial.BackgroundHasher, zoo.hub.writeback._sync_file_range
        zoo.hub.partial.BackgroundHasher, zoo.hub.writeback._sync_file_range = SameThread, None
        try:
            case()
        finally:
            zoo.hub.partial.BackgroundHasher, zoo.hub.writeback._sync_file_range = saved

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ablate", action="store_true", help="also time zoo without its write-path speed-ups")
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

        os.environ["ZOO_HOME"] = str(root / "zoo")

        def zoo_cold():
            zoo.hub.fetch(url, sha256=digest[:8], progress=False)

        def torch_cold():
            torch.hub.download_url_to_file(url, str(root / "t.pth"), hash_prefix=digest[:8], progress=False)

        def fresh_start():
            """No case inherits the one before's output: both caches empty, every dirty page on disk (a
            case timed while the kernel still writes out the previous 256 MiB is slowed by it, and one that
            follows a case which fsynced is not: unequal starts swung a case by 3x)."""
            shutil.rmtree(root / "zoo", ignore_errors=True)
            (root / "t.pth").unlink(missing_ok=True)
            os.sync()

        cases = {"zoo.hub.fetch": zoo_cold, "torch.hub": torch_cold}
        if args.ablate:
            cases["zoo, plain write path"] = plain(zoo_cold)
        times = time_cases(cases, rounds=args.rounds, setup=fresh_start)
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
    if args.ablate:
        plain_s = times["zoo, plain write path"]
        print(f"  zoo, plain write path (hash in the same thread, no early write-out) {plain_s.show('.3f', ' s')}; "
              f"zoo / plain per round: {paired_ratio(zoo_s, plain_s).show('.2f')}")  # fmt: skip
    print(f"warm-cache hit (zoo.hub.fetch of a cached file): {hit.scaled(1e3).show('.3f', ' ms')}")


if __name__ == "__main__":
    main()
