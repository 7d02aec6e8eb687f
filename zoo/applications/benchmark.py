"""``zoo.benchmark``: how fast an application runs here, measured the way timm's ``benchmark.py`` does.

The protocol is timm's (warm-up steps, then timed steps, each closed by a device synchronisation; samples/s
over the whole timed run, step time as the mean), extended with what a user choosing a model asks next:
latency percentiles, peak memory, parameters and GMACs. Models are built without weights
(``weights=None``): speed does not depend on the values, and a benchmark must not need the network.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from zoo.errors import ZooError

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
DEFAULT_IMG_SIZE = 224


@dataclass(frozen=True)
class BenchmarkResult:
    """One model's figures; the field names are the CSV/JSON columns of ``zoo benchmark``."""

    model: str
    mode: str
    device: str
    precision: str
    batch_size: int
    img_size: int
    channels_last: bool
    compiled: bool
    samples_per_sec: float
    step_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    peak_memory_mb: float | None
    params: int
    gmacs: float | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def benchmark(
    model: str | nn.Module,
    *,
    batch_size: int = 8,
    img_size: int | None = None,
    channels: int = 3,
    channels_last: bool = False,
    precision: str = "fp32",
    compile: bool = False,  # noqa: A002 - the flag's name in timm and torch
    train: bool = False,
    device: str = "cpu",
    warmup: int = 5,
    steps: int = 20,
) -> BenchmarkResult:
    """Time ``steps`` forward passes (or training steps with ``train=True``) of one model on random images.

    ``model`` is an application name (built with ``weights=None``) or an ``nn.Module`` taking
    (N, ``channels``, H, W) images.
    ``img_size`` defaults to the application's input size (224 for a module).
    """
    dev = check_options(
        batch_size=batch_size,
        steps=steps,
        warmup=warmup,
        precision=precision,
        device=device,
        channels=channels,
    )
    name, build, size = _resolve(model, img_size)
    with _peak_memory(dev) as peak:
        module, gmacs, latencies, elapsed = _run(
            build, channels, size, dev, batch_size, channels_last, precision, compile, train, warmup, steps
        )
    return BenchmarkResult(
        model=name,
        mode="train" if train else "infer",
        device=str(dev),
        precision=precision,
        batch_size=batch_size,
        img_size=size,
        channels_last=channels_last,
        compiled=compile,
        samples_per_sec=round(batch_size * steps / elapsed, 2),
        step_ms=round(1000 * statistics.fmean(latencies), 3),
        latency_p50_ms=round(1000 * _percentile(latencies, 50), 3),
        latency_p95_ms=round(1000 * _percentile(latencies, 95), 3),
        peak_memory_mb=peak.mb,
        params=sum(p.numel() for p in module.parameters()),
        gmacs=gmacs,
    )


def _run(
    build: Callable[[], nn.Module],
    channels: int,
    size: int,
    dev: torch.device,
    batch_size: int,
    channels_last: bool,
    precision: str,
    compile: bool,  # noqa: A002
    train: bool,
    warmup: int,
    steps: int,
) -> tuple[nn.Module, float | None, list[float], float]:
    module = build().to(dev, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    module.train(train)
    gmacs = _gmacs(module, channels, size, dev)
    x = torch.randn(batch_size, channels, size, size, device=dev)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    runner = torch.compile(module) if compile else module
    step = _train_step(runner, module, x) if train else _infer_step(runner, x)
    dtype = PRECISIONS[precision]
    autocast = torch.autocast(dev.type, dtype=dtype) if dtype else contextlib.nullcontext()
    with autocast, contextlib.nullcontext() if train else torch.inference_mode():
        for _ in range(warmup):
            step()
        _sync(dev)
        latencies = []
        start = time.perf_counter()
        for _ in range(steps):
            t0 = time.perf_counter()
            step()
            _sync(dev)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    return module, gmacs, latencies, elapsed


def check_options(
    *, batch_size: int, steps: int, warmup: int, precision: str, device: str, channels: int = 3
) -> torch.device:
    """Refuse a setting that cannot be measured, before any model is built; gives the device to run on."""
    counts = (
        ("batch_size", batch_size, 1),
        ("steps", steps, 1),
        ("warmup", warmup, 0),
        ("channels", channels, 1),
    )
    for key, value, least in counts:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ZooError(f"{key} must be a whole number >= {least}, got {value!r}.")
    if precision not in PRECISIONS:
        raise ZooError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    return _device(device)


def _device(device: str, cpu: str = "--device cpu") -> torch.device:
    """``device`` as a torch device this machine has; ``cpu``: how the caller's user asks for the CPU
    instead (the CLI's flag, or ``device='cpu'`` from Python)."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ZooError(
            f"device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1, mps): {exc}"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ZooError(f"device {device!r} asked for, but this torch sees no CUDA device; use {cpu}.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ZooError(f"device {device!r} asked for, but MPS is not available here; use {cpu}.")
    return dev


def _resolve(model: str | nn.Module, img_size: int | None) -> tuple[str, Callable[[], nn.Module], int]:
    """The model's name, how to build it and the image size; the builder's code is imported now, so that
    the memory measured is the model's, not the import's."""
    if isinstance(model, nn.Module):
        return type(model).__name__, lambda: model, img_size or DEFAULT_IMG_SIZE
    import zoo
    import zoo.plugins

    facts = zoo.info(model, kind="applications")
    size = img_size or int(facts.get("input_size") or DEFAULT_IMG_SIZE)
    min_h, min_w = facts.get("min_size") or (1, 1)
    if size < min_h or size < min_w:
        raise ZooError(
            f"{facts['name']} needs images of at least {min_h}x{min_w} pixels; img_size={size} is too small."
        )
    zoo.plugins.get_registry().lookup("applications", model).resolve()
    return model, lambda: zoo.load(model, weights=None), size


def _infer_step(runner: Callable[..., Any], x: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        runner(x)

    return step


def _train_step(runner: Callable[..., Any], module: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """timm's training step: SGD at lr 1e-4, cross-entropy against random labels (a plain mean of squares for
    a model that does not end in class scores, e.g. ``include_top=False``)."""
    trainable = [p for p in module.parameters() if p.requires_grad]
    if not trainable:
        raise ZooError("train=True needs trainable parameters; this model has none (was it frozen?).")
    optimizer = torch.optim.SGD(trainable, lr=1e-4)
    generator = torch.Generator(device=x.device).manual_seed(0)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        out = runner(x)
        out = out[0] if isinstance(out, (tuple, list)) else out
        if out.ndim == 2:
            target = torch.randint(0, out.shape[1], (out.shape[0],), device=out.device, generator=generator)
            loss = nn.functional.cross_entropy(out.float(), target)
        else:
            loss = out.float().square().mean()
        loss.backward()
        optimizer.step()

    return step


def _gmacs(module: nn.Module, channels: int, size: int, dev: torch.device) -> float | None:
    """Multiply-accumulates of one sample's forward pass, counted by torch's own FlopCounterMode (flops / 2)."""
    was_training = module.training
    module.eval()
    try:
        counter = FlopCounterMode(display=False)
        with counter, torch.inference_mode():
            module(torch.randn(1, channels, size, size, device=dev))
        return round(counter.get_total_flops() / 2 / 1e9, 3)
    except RuntimeError:  # an op the counter cannot follow: say nothing rather than something wrong
        return None
    finally:
        module.train(was_training)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


class _Peak:
    mb: float | None = None


@contextlib.contextmanager
def _peak_memory(dev: torch.device) -> Iterator[_Peak]:
    """Peak memory of building and running the model: torch's allocator peak on CUDA; on Linux CPUs, the
    resident set's high-water mark above what the process held before (the kernel's peak, reset through
    ``/proc/self/clear_refs``). Memory an earlier model freed to the allocator is reused, so in a run over
    many models a later one can read low: compare models in separate runs when memory is what matters."""
    peak = _Peak()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
        yield peak
        peak.mb = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
        return
    before = _reset_rss_peak()
    yield peak
    if before is not None:
        after = _proc_status_kb("VmHWM")
        peak.mb = round(max(0, after - before) / 1024, 1) if after is not None else None


def _reset_rss_peak() -> int | None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _proc_status_kb("VmRSS")


def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]
