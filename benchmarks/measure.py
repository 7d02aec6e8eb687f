"""The one measuring loop every benchmark shares, so that every figure in the README is taken the same way.

The build machine is shared: other jobs come and go while a benchmark runs. Timing case A five times and
then case B five times lets a burst of load land on one case only; here the cases take turns (A B A B ...),
each round measures every case once, and a ratio is taken *within* each round (``paired_ratio``), so a
burst moves both sides of it. Every figure is printed as its median with the min-max range over the rounds,
and every benchmark prints the machine's load average when it starts and ends (``report_load``): a figure
measured under load says so.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Spread:
    """Samples of one figure: its median and its min-max range over the rounds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def scaled(self, factor: float) -> Spread:
        return Spread(tuple(s * factor for s in self.samples))

    def show(self, fmt: str = ".3g", unit: str = "") -> str:
        """``median (low-high)``, e.g. ``1.02x (0.98-1.07)``."""
        return f"{self.median:{fmt}}{unit} ({self.low:{fmt}}-{self.high:{fmt}})"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def report_load(when: str) -> None:
    """Print the load average; call with ``"start"`` before measuring and ``"end"`` after."""
    print(f"[{when}] {load_average()}", flush=True)


def interleave(cases: Mapping[str, Callable[[], T]], *, rounds: int, warmup: int = 1) -> dict[str, list[T]]:
    """Run every case ``warmup`` times untimed, then ``rounds`` rounds of every case once, in turn.

    Each case returns its own measurement (seconds from ``clocked``, or a dict of figures from a child
    process); this only decides the order, so that load on the machine falls on all cases alike.
    """
    for _ in range(warmup):
        for case in cases.values():
            case()
    results: dict[str, list[T]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            results[name].append(case())
    return results


def clocked(fn: Callable[[], object], *, clock: Callable[[], float] = time.perf_counter,
            sync: Callable[[], None] | None = None, inner: int = 1,
            setup: Callable[[], None] | None = None) -> Callable[[], float]:  # fmt: skip
    """``fn`` as a case returning the seconds one call takes (the mean over ``inner`` back-to-back calls,
    for calls too short to time alone); ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each read
    of the clock, so queued device work is counted; ``setup`` runs untimed before each measurement, to
    give every case the same starting state (what the case before it left behind must not be timed)."""

    def case() -> float:
        if setup:
            setup()
        if sync:
            sync()
        start = clock()
        for _ in range(inner):
            fn()
        if sync:
            sync()
        return (clock() - start) / inner

    return case


def time_cases(cases: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 1,
               clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None,
               inner: int = 1, setup: Callable[[], None] | None = None) -> dict[str, Spread]:  # fmt: skip
    """Seconds per call of each case, measured interleaved: ``{name: Spread}``."""
    timed = {name: clocked(fn, clock=clock, sync=sync, inner=inner, setup=setup) for name, fn in cases.items()}
    return {
        name: Spread(tuple(samples))
        for name, samples in interleave(timed, rounds=rounds, warmup=warmup).items()
    }


def paired_ratio(numerator: Spread | list[float], denominator: Spread | list[float]) -> Spread:
    """Round-by-round ratios of two interleaved figures: the spread of the ratio, not a ratio of medians."""
    top = numerator.samples if isinstance(numerator, Spread) else numerator
    bottom = denominator.samples if isinstance(denominator, Spread) else denominator
    return Spread(tuple(a / b for a, b in zip(top, bottom, strict=True)))


def spread_of(runs: list[dict[str, float]], key: str) -> Spread:
    """One figure out of a list of per-round dicts (what a fresh-process child prints)."""
    return Spread(tuple(run[key] for run in runs))
