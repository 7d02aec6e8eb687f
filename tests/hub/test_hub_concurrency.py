"""N processes fetching one file: with locks, one download; without, still a whole, verified file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import payload, sha

WORKER = """
import os, sys, time
from pathlib import Path
import zoo.hub, zoo.plugins
zoo.plugins.get_plugin_manager()  # warm: after "go", each worker reaches the server within milliseconds
Path(sys.argv[3]).touch()
while not Path(sys.argv[4]).exists():
    time.sleep(0.01)
path = zoo.hub.fetch(sys.argv[1], sha256=sys.argv[2], progress=False)
print(path)
"""


def run_workers(n: int, url: str, digest: str, tmp_path: Path, env: dict[str, str]) -> list[str]:
    go = tmp_path / "go"
    procs, ready = [], []
    for i in range(n):
        ready.append(tmp_path / f"ready{i}")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, url, digest, str(ready[i]), str(go)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()  # all start fetching together
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outputs.append(out.strip())
    return outputs


@pytest.mark.parametrize("locks", ["1", "0"], ids=["filelock", "no-op-lock"])
def test_four_processes_fetch_one_file(file_server, home, tmp_path, locks):
    data = payload(1_000_000, seed=30)
    url = file_server.add("/shared.bin", data)
    file_server.plan["/shared.bin"] = [("slow", 1.0)] * 4  # every download overlaps the others
    # Only the hub plugin: the workers test locking, not how long other plugins take to import.
    env = {
        **os.environ,
        "ZOO_LOCKS": locks,
        "ZOO_QUIET": "1",
        "ZOO_LOAD_PLUGINS": "",
        "ZOO_DISABLE_PLUGINS": "applications,datasets,layers,training,export",
    }
    outputs = run_workers(4, url, sha(data), tmp_path, env)
    assert len(set(outputs)) == 1
    path = Path(outputs[0])
    assert path.read_bytes() == data and path.parent.name == sha(data)
    gets = len(file_server.gets("/shared.bin"))
    if locks == "1":
        assert gets == 1
    else:
        assert 2 <= gets <= 4  # downloads overlapped, raced to os.replace, and the cache is still whole
    assert [p.name for p in (home / "blobs").iterdir()] == [sha(data)]
    assert [p.name for p in (home / "partial").iterdir()] == []
