"""A data-parallel fit where one rank fails: every rank stops with a zoo error, none hangs or aborts.

The torchrun tests run this file itself as the worker (``python -m torch.distributed.run ... this_file.py
SCENARIO OUT``); each rank writes what it raised to ``OUT/rank<N>.json``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo.training import distributed


def _torchrun(scenario: str, out: Path) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """Launch two gloo ranks the way tests/training/test_training_distributed.py does (its ``_launch``
    insists on success, so the environment set-up is repeated here)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(Path(__file__).resolve()), scenario, str(out),
    ]  # fmt: skip
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as hung:  # the bug this file guards against: a rank left waiting
        pytest.fail(f"torchrun hung in scenario {scenario!r}:\n{hung.stdout}\n{hung.stderr}")
    output = result.stdout + result.stderr
    assert "terminate called" not in output and "SIGABRT" not in output, output[-4000:]
    assert result.returncode != 0, output[-4000:]  # a failed rank fails the job
    ranks = []
    for rank in (0, 1):
        path = out / f"rank{rank}.json"
        assert path.exists(), f"rank {rank} reported nothing:\n{output[-4000:]}"
        ranks.append(json.loads(path.read_text()))
    return result, ranks[0], ranks[1]


def _assert_survivor(report: dict, kind: str, *phrases: str) -> None:
    """Rank 0 did not fail itself: a DistributedError naming rank 1, which is also rank 1's zoo class."""
    assert "DistributedError" in report["classes"] and kind in report["classes"], report
    assert report["peer"] == 1 and report["error_type"] == kind, report
    assert f"rank 1 failed with {kind}: " in report["message"], report["message"]
    assert "rank 1's output" in report["message"], report["message"]
    for phrase in phrases:
        assert phrase in report["message"], report["message"]
    assert "pair.cc" not in report["message"] and "GLHF" not in report["message"], report["message"]
    assert not report["group_left"]  # destroyed: a later fit starts a fresh one
    assert report["exit_hook"]  # dying of it skips the teardown where gloo's threads abort the process


def _assert_own(report: dict, kind: str) -> None:
    assert report["classes"][0] == kind and "DistributedError" not in report["classes"], report
    assert not report["group_left"] and report["exit_hook"]


@pytest.mark.timeout(90)
def test_callback_error_on_one_rank_stops_every_rank_at_epoch_end(tmp_path):
    result, rank0, rank1 = _torchrun("callback", tmp_path)
    _assert_own(rank1, "OptionError")
    assert 'raise zoo.OptionError("on_epoch_end broke on rank 1")' in result.stderr  # its own traceback
    assert rank1["message"] == "on_epoch_end broke on rank 1"
    _assert_survivor(rank0, "OptionError", "broke on rank 1", "stopped with it at the end of epoch 1")


@pytest.mark.timeout(90)
def test_bad_batch_on_one_rank_is_named_on_the_rank_left_waiting(tmp_path):
    # No shared sync lies between the bad batch and rank 0's next gradient all-reduce: rank 0 learns of it
    # when rank 1's process goes, and names it from the note rank 1 left in the store.
    _, rank0, rank1 = _torchrun("data", tmp_path)
    _assert_own(rank1, "DataError")
    _assert_survivor(rank0, "DataError", "gave no targets", "was waiting for it in a collective (torch: ")
    # how gloo saw rank 1 go: an orderly close, or a reset when rank 0's data was still unread there
    assert "Connection closed by peer" in rank0["message"] or "Connection reset by peer" in rank0["message"]


@pytest.mark.timeout(90)
def test_an_error_before_the_loop_on_one_rank_is_named_too(tmp_path):
    # rank 1's targets do not match its inputs: fit refuses them before training starts, while rank 0 goes
    # on to wrap the model and waits for rank 1 in DDP's first broadcast
    _, rank0, rank1 = _torchrun("setup", tmp_path)
    _assert_own(rank1, "DataError")
    _assert_survivor(rank0, "DataError", "was waiting for it in a collective (torch: ")
    assert "without reporting an error" not in rank0["message"], rank0["message"]


@pytest.mark.timeout(90)
def test_terminate_on_nan_raises_on_every_rank(tmp_path):
    _, rank0, rank1 = _torchrun("nan", tmp_path)
    _assert_own(rank1, "NonFiniteLossError")
    _assert_survivor(rank0, "NonFiniteLossError", "stopped with it at batch 0 of epoch 1")


def test_peer_error_is_also_the_peers_zoo_class():
    report = {"module": "zoo.errors", "type": "NonFiniteLossError", "message": "NaN at batch 3"}
    error = distributed._peer_error(0, 2, report, "stopped with it at batch 3 of epoch 1", 1)
    assert isinstance(error, distributed.DistributedError)
    assert isinstance(error, zoo.NonFiniteLossError) and isinstance(error, zoo.ZooError)
    assert error.rank == 2 and error.error_type == "NonFiniteLossError"
    assert error.error_message == "NaN at batch 3"
    assert str(error).startswith("rank 2 failed with NonFiniteLossError: NaN at batch 3 -- this rank (0)")
    builtin = {"module": "builtins", "type": "KeyError", "message": "'a'"}
    foreign = distributed._peer_error(1, 0, builtin, "stopped with it at x", 2)
    assert type(foreign) is distributed.DistributedError and "rank 0 (and 1 other rank(s))" in str(foreign)
    silent = distributed._peer_error(1, None, None, "was waiting for it in a collective (torch: reset)", 1)
    assert type(silent) is distributed.DistributedError and silent.rank is None
    assert "without reporting an error" in str(silent)


def test_gloo_message_is_cut_to_what_happened():
    error = RuntimeError(
        "[/__w/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:561] Connection closed by peer "
        "[127.0.0.1]:2249. This is typically caused by a remote worker crashing. GLHF!"
    )
    assert distributed._broken_collective(error)
    assert distributed._first_sentence(error) == "Connection closed by peer [127.0.0.1]:2249"
    reset = RuntimeError("Read error [127.0.0.1]:41684: Connection reset by peer")
    assert distributed._broken_collective(reset)
    assert distributed._first_sentence(reset) == "Read error [127.0.0.1]:41684: Connection reset by peer"
    assert not distributed._broken_collective(zoo.NonFiniteLossError("NaN, not gloo"))
    assert not distributed._broken_collective(ValueError("bad value"))


_DYING_RANK = """
import atexit, sys, threading, time
from zoo.training import distributed

class Teardown:  # its __del__ runs only if the interpreter tears its modules down
    def __del__(self):
        print("teardown ran", flush=True)

keep = Teardown()
atexit.register(lambda: print("atexit ran", flush=True))
distributed._exit_before_teardown_if_uncaught()
distributed._exit_before_teardown_if_uncaught()  # once only: the hook must not chain itself
threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished", flush=True))).start()
print("unflushed", end="")
raise {error}
"""


@pytest.mark.parametrize("error, status", [("ValueError('boom')", 1), ("SystemExit(3)", 3)])
def test_a_failed_rank_dies_of_its_error_without_the_interpreter_teardown(error, status):
    # The gloo abort itself is a race (a worker thread finishing a collective during teardown); what is
    # checked here is the exit path that removes it: traceback, threads joined, atexit once, stdout flushed,
    # status 1, and no teardown. SystemExit keeps Python's own exit.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-c", _DYING_RANK.format(error=error)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == status, result.stderr
    assert result.stdout.count("atexit ran") == 1 and "thread finished" in result.stdout, result.stdout
    assert result.stdout.startswith("unflushed"), result.stdout
    if status == 1:
        assert "ValueError: boom" in result.stderr and result.stderr.count("Traceback") == 1, result.stderr
        assert "teardown ran" not in result.stdout, result.stdout
    else:
        assert "teardown ran" in result.stdout, result.stdout


# -- the worker, run on each rank by torchrun -----------------------------------------------------------
def _worker(scenario: str, out: Path) -> None:
    import torch
    import torch.distributed as dist
    from torch import nn

    from zoo.training.callbacks import LambdaCallback, TerminateOnNaN

    # torchrun stops the other ranks as soon as one process exits; let them write their report first.
    signal.signal(signal.SIGTERM, lambda *_: None)
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    common = dict(optimizer="sgd", loss="mse", epochs=2, batch_size=4, verbose=0)
    try:
        if scenario == "callback":

            def broken(epoch, logs):
                if rank == 1:
                    raise zoo.OptionError("on_epoch_end broke on rank 1")

            zoo.fit(model, x, y, callbacks=[LambdaCallback(on_epoch_end=broken)], **common)
        elif scenario == "data":
            # each rank takes every 2nd batch: batch 3 is rank 1's second one
            def batches():
                for i in range(4):
                    yield (x[4 * i : 4 * i + 4],) if i == 3 else (x[4 * i : 4 * i + 4], y[4 * i : 4 * i + 4])

            zoo.fit(model, batches, **common)
        elif scenario == "setup":
            zoo.fit(model, x, y[:15] if rank == 1 else y, **common)
        elif scenario == "nan":
            x[5] = float("nan")  # DistributedSampler without shuffle: odd samples are rank 1's
            zoo.fit(model, x, y, shuffle=False, callbacks=[TerminateOnNaN(raise_error=True)], **common)
    except Exception as error:
        report = {
            "classes": [c.__name__ for c in type(error).__mro__],
            "message": str(error),
            "peer": getattr(error, "rank", None),
            "error_type": getattr(error, "error_type", None),
            "group_left": dist.is_initialized(),
            "exit_hook": getattr(sys.excepthook, "__module__", None) == distributed.__name__,
        }
        (out / f"rank{rank}.json").write_text(json.dumps(report))
        raise
    (out / f"rank{rank}.json").write_text(json.dumps({"classes": [], "message": "no error"}))


if __name__ == "__main__":
    _worker(sys.argv[1], Path(sys.argv[2]))
