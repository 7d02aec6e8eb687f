"""Data-parallel plumbing: detect ``torchrun``, start the process group, reduce values across ranks, and
stop every rank together when one of them fails.

A rank that raises leaves its peers waiting in a collective it will never join: they would hang until the
group's timeout, or die on a broken pipe once its process exits. Failures are therefore made collective
twice over: where the loop already synchronises (the stop flag after ``on_epoch_end`` and, when used, after
each batch) an "I failed" flag rides on that ``all_reduce`` so every rank stops there with a clear error;
anywhere else the failing rank leaves its error in the rendezvous store before it goes, so a peer whose
collective breaks can say which rank failed and why instead of showing gloo's socket error.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from zoo import errors
from zoo.errors import ZooError

__all__ = ["Context", "DistributedError", "agree", "all_reduce_sum", "failures", "setup"]


class DistributedError(ZooError, RuntimeError):
    """Raised on the ranks of a data-parallel run that did not fail themselves, because another rank did:
    they cannot go on without it. Its own error and traceback are in that rank's output; ``rank``,
    ``error_type`` and ``error_message`` hold what is known of it (``None`` when it died without saying).

    When the other rank's error is a zoo error, the one raised here is also an instance of that class, so
    a handler such as ``except zoo.NonFiniteLossError`` runs on every rank, not only on the one that saw it.
    """

    rank: int | None = None
    error_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device | None) -> Context:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1), else a 1-process context.

    An already initialised group is used as is; otherwise ``nccl`` is chosen on CUDA, ``gloo`` on CPU.
    """
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return Context()
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = (device is None or device.type == "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Context(rank, world, local_rank)


def all_reduce_sum(tensors: list[torch.Tensor]) -> None:
    """Sum tensors in place across ranks (one collective for all of them)."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1).to(torch.float64) for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset : offset + n].reshape(t.shape).to(t.dtype))
        offset += n


_FAILED = 2  # the stop flag's value for "a rank failed" (0 go on, 1 stop)


def agree(stop: bool, error: Exception | None, device: torch.device, where: str) -> bool:
    """The stop decision every rank must share (``True`` everywhere when ``stop`` is on any rank), which
    also tells every rank whether any of them failed since the last one. Both ride on the one-element
    ``all_reduce`` the stop flag needs anyway (0 go on, 1 stop, 2 failed: the maximum wins, and a failure
    makes the stop moot), so the check costs nothing extra. On failure every rank raises here, its own
    ``error`` or a ``DistributedError`` naming the failed rank; only then is there a second collective,
    gathering the errors' messages."""
    flag = torch.tensor([_FAILED if error is not None else int(stop)], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    shared = flag.item()
    if shared != _FAILED:
        return bool(shared)
    reports: list[dict[str, str] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(reports, _describe(error) if error is not None else None)
    if error is not None:
        raise error
    failed = [r for r, report in enumerate(reports) if report is not None]
    first = failed[0]
    raise _peer_error(dist.get_rank(), first, reports[first], f"stopped with it at {where}", len(failed))


_RUNS = itertools.count()  # every rank enters the same fits and evaluates in the same order: same ids


@contextlib.contextmanager
def failures(ctx: Context, device: torch.device) -> Iterator[None]:
    """Around one distributed ``fit``/``evaluate``: a rank's own error propagates after it has left a note
    for its peers in the store and destroyed the process group; a collective broken by a peer's failure
    becomes a ``DistributedError`` naming that peer. Either way, should the error end the process, it ends
    without the interpreter's teardown (``_exit_before_teardown_if_uncaught``).

    Destroying a group DDP has used does not close its sockets (gloo's ``shutdown`` does nothing and the
    group outlives the wrapper), so the peers of a rank that catches its error and carries on wait until
    that process exits. A ``Trainer`` reused after a failure joins a fresh group here."""
    if not ctx.active:
        yield
        return
    if not dist.is_initialized():
        setup(device)
    run = f"zoo/failed/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/{next(_RUNS)}"
    try:
        yield
    except DistributedError:
        _destroy()
        _exit_before_teardown_if_uncaught()
        raise
    except Exception as error:
        _exit_before_teardown_if_uncaught()
        if not _broken_collective(error):
            _leave_note(run, ctx.rank, error)
            _destroy()
            raise
        peer, report = _read_notes(run, ctx)
        _destroy()
        waited = f"was waiting for it in a collective (torch: {_first_sentence(error)})"
        raise _peer_error(ctx.rank, peer, report, waited, 1) from None


def _exit_before_teardown_if_uncaught() -> None:
    """Make a process that dies of this failure end as Python would, minus the interpreter's teardown.

    ``destroy_process_group`` does not stop a gloo group that DDP has used (gloo's ``shutdown`` is a no-op
    and the group outlives the wrapper), so its worker threads may still be finishing a collective, such as
    the all-reduce DDP's join starts in each forward, when the interpreter is torn down. A worker that then
    drops the last reference to a tensor needs the GIL; during teardown Python ends such a thread, inside
    C++ code that may not unwind, and the process aborts (``terminate called without an active exception``,
    SIGABRT) instead of exiting with its error. So when the error goes uncaught, the hook below prints it,
    does what the interpreter does before teardown (join non-daemon threads, run ``atexit`` hooks, flush the
    standard streams) and ends the process with status 1, which an uncaught exception gives anyway.
    """
    global _previous_excepthook
    if _previous_excepthook is not None or sys.flags.interactive or hasattr(sys, "ps1"):
        return  # installed already, or a prompt that must outlive the error
    _previous_excepthook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        _previous_excepthook(kind, value, tb)
        if not isinstance(value, Exception):  # KeyboardInterrupt: Python's own exit (a signal's status)
            return
        threading._shutdown()  # type: ignore[attr-defined]  # the interpreter's own first steps of exit
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(1)

    sys.excepthook = excepthook


_previous_excepthook: Callable[..., Any] | None = None


def _describe(error: Exception) -> dict[str, str]:
    kind = type(error)
    return {"module": kind.__module__, "type": kind.__qualname__, "message": str(error)[:2000]}


def _broken_collective(error: Exception) -> bool:
    """Whether ``error`` is the backend's failure to communicate (a peer gone or timed out), not this rank's
    own problem: torch raises those as ``DistError`` or, from gloo, as a plain ``RuntimeError``."""
    if isinstance(error, ZooError):
        return False
    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    text = str(error)
    marks = ("gloo", "Gloo", "NCCL", "ProcessGroup", "Connection closed by peer", "Connection reset by peer")
    return isinstance(error, RuntimeError) and any(mark in text for mark in marks)


def _store() -> dist.Store | None:
    try:
        return dist.distributed_c10d._get_default_store()
    except Exception:  # no group, or a torch without this helper: the note is a courtesy
        return None


def _leave_note(run: str, rank: int, error: Exception) -> None:
    store = _store()
    if store is None:
        return
    with contextlib.suppress(Exception):  # a store that is gone only costs the peers the details
        store.set(f"{run}/{rank}", json.dumps(_describe(error)))


def _read_notes(run: str, ctx: Context) -> tuple[int | None, dict[str, str] | None]:
    """The first other rank that left a note (it wrote it before its process could break the connection)."""
    store = _store()
    if store is None:
        return None, None
    for rank in range(ctx.world_size):
        if rank == ctx.rank:
            continue
        key = f"{run}/{rank}"
        with contextlib.suppress(Exception):
            if store.check([key]):  # check does not wait, unlike get on a missing key
                return rank, json.loads(store.get(key))
    return None, None


def _destroy() -> None:
    """Drop the process group: after a failure it is out of step (or broken), and a later ``fit`` starts
    a fresh one."""
    with contextlib.suppress(Exception):
        if dist.is_initialized():
            dist.destroy_process_group()


def _first_sentence(error: Exception) -> str:
    """gloo's message without its source location and advice (``[.../pair.cc:561] Connection closed by peer
    [127.0.0.1]:2249. This is typically caused by ...``)."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", str(error).strip())
    return (text.split(". ")[0][:300] or type(error).__name__).rstrip(".")


def _peer_error(
    me: int, rank: int | None, report: dict[str, str] | None, how: str, count: int
) -> DistributedError:
    """What rank ``me`` raises for ``rank``'s failure (``report``: its ``_describe``, ``None`` if unknown);
    ``how``: what this rank was doing when it found out."""
    this = f"this rank ({me})"
    if report is None:
        message = (
            f"another rank stopped without reporting an error -- {this} {how}. It crashed, was killed (out "
            "of memory?) or failed outside zoo.fit/evaluate; its error is in its own output (torchrun's "
            "summary names the failed rank): fix that and rerun."
        )
        error = DistributedError(message)
    else:
        others = f" (and {count - 1} other rank(s))" if count > 1 else ""
        message = (
            f"rank {rank}{others} failed with {report['type']}: {report['message'][:500]} -- {this} {how}. "
            f"The traceback is in rank {rank}'s output; fix that error and rerun."
        )
        error = _peer_class(report["module"], report["type"])(message)
        error.error_type, error.error_message = report["type"], report["message"]
    error.rank = rank
    return error


@functools.cache
def _peer_class(module: str, name: str) -> type[DistributedError]:
    """``DistributedError`` combined with the peer's zoo error class (the same error, seen from here)."""
    kind = getattr(errors, name, None) if module == errors.__name__ else None
    if not isinstance(kind, type) or not issubclass(kind, ZooError) or kind is ZooError:
        return DistributedError
    namespace = {"__module__": __name__, "__doc__": DistributedError.__doc__}
    return type("DistributedError", (DistributedError, kind), namespace)
