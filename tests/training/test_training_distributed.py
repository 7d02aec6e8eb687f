"""Data-parallel fit: two gloo processes on CPU equal one process with the doubled batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).with_name("training_ddp_worker.py")


def _launch(out: Path, nproc: int, batch_size: int) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    if nproc == 1:
        cmd = [sys.executable, str(WORKER), str(out), str(batch_size)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            str(WORKER),
            str(out),
            str(batch_size),
        ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    if result.returncode != 0 and "terminate called without an active exception" in result.stderr:
        # A rare abort in gloo's C++ teardown on an overloaded machine (seen ~1 in 6 runs at load average
        # 10, never when idle); the training results are still checked below, so rerun once.
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.timeout(300)
def test_two_gloo_processes_match_one_process_with_double_batch(tmp_path):
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    run = _launch(ddp, 2, batch_size=4)
    _launch(single, 1, batch_size=8)

    w0 = torch.load(ddp / "ranks" / "weights0.pt", weights_only=True)
    w1 = torch.load(ddp / "ranks" / "weights1.pt", weights_only=True)
    ref = torch.load(single / "ranks" / "weights0.pt", weights_only=True)
    for key in ref:
        torch.testing.assert_close(w0[key], w1[key], rtol=0, atol=0)  # identical on both ranks
        torch.testing.assert_close(w0[key], ref[key], rtol=1e-5, atol=1e-6)  # = one process, batch 8

    for kind in ("loader", "batches"):  # DataLoader and list-of-batches inputs shard to the same result
        for rank in (0, 1):
            other = torch.load(ddp / "ranks" / f"{kind}{rank}.pt", weights_only=True)
            for key in ref:
                torch.testing.assert_close(other[key], ref[key], rtol=1e-5, atol=1e-6)

    h0 = json.loads((ddp / "ranks" / "history0.json").read_text())
    h1 = json.loads((ddp / "ranks" / "history1.json").read_text())
    hs = json.loads((single / "ranks" / "history0.json").read_text())
    assert h0["world"] == 2 and hs["world"] == 1
    assert h0["history"] == h1["history"]  # metrics all-reduced: every rank logs the same numbers
    for key, values in hs["history"].items():
        assert h0["history"][key] == pytest.approx(values, rel=1e-5, abs=1e-6), key
    assert h0["stopped_epochs"] == h1["stopped_epochs"] == 1  # rank 1's stop stopped rank 0 too

    # files and progress output from rank 0 only
    names = sorted(p.name for p in (ddp / "files").iterdir())
    assert names == ["ckpt-r0-1.pt", "ckpt-r0-2.pt", "ckpt-r0-3.pt", "log-r0.csv"]
    assert len((ddp / "files" / "log-r0.csv").read_text().splitlines()) == 4
    assert run.stdout.count("Epoch 1/3") == 1
