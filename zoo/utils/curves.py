"""``zoo.plot_history``: training curves from a ``History`` -- one panel per quantity, train against
validation, epochs on x, the best epoch marked -- and ``PlotCallback``, which redraws them during ``fit``.

Which way is "best" follows the training callbacks' one rule (``monitor_direction``: loss down, a metric
its declared direction), so the marked epoch is the one ``EarlyStopping(restore_best_weights=True)`` and
``ModelCheckpoint(save_best_only=True)`` keep.
"""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.atomic import atomic_path
from zoo.utils.plot import PlotError


def _records(history: Any) -> tuple[dict[str, list[float]], Any]:
    """(key -> one value per epoch, the compiled metrics if known) from a History, a dict or a CSVLogger file."""
    if isinstance(history, (str, os.PathLike)):
        path = Path(history)
        if not path.is_file():
            raise PlotError(f"plot_history: no file {str(path)!r} (give a History, its .history dict or a CSVLogger file).")
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
        return {k: [float(r[k]) if r[k] not in ("", None) else float("nan") for r in rows] for k in keys}, None
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise PlotError(
            f"plot_history takes what fit returns (a History), its .history dict or a CSVLogger file; got "
            f"{type(history).__name__}."
        )
    values = {k: [float(x) for x in v] for k, v in record.items() if isinstance(v, Sequence) and not isinstance(v, str)}
    return values, getattr(getattr(history, "trainer", None), "metrics", None)


def _direction(name: str, metrics: Any) -> str | None:
    from zoo.training.callbacks.monitor_callback import monitor_direction

    found = monitor_direction(name, metrics)
    if found is None:
        try:
            import zoo

            found = getattr(zoo.get("metrics", name.removeprefix("val_")), "direction", None)
        except (zoo.ZooError, TypeError):
            found = None
    return found if found in ("up", "down") else None


def quantities(values: Mapping[str, Sequence[float]], metrics: Sequence[str] | None) -> list[str]:
    """The panels: ``loss`` first, then each other training quantity, or ``metrics`` as asked."""
    trained = [k for k in values if not k.startswith("val_")] or [k.removeprefix("val_") for k in values]
    if metrics is None:
        return sorted(dict.fromkeys(trained), key=lambda k: (k != "loss", trained.index(k)))
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen = []
    for name in metrics:
        base = name.removeprefix("val_")
        if base not in values and f"val_{base}" not in values:
            close = difflib.get_close_matches(base, list(dict.fromkeys(trained)), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise PlotError(f"plot_history: the history has no {name!r}; it has {', '.join(values)}.{hint}")
        chosen.append(base)
    return list(dict.fromkeys(chosen))


def best_epoch(values: Sequence[float], direction: str) -> int:
    """Index of the best value (the first of ties), ignoring NaN."""
    pairs = [(v, i) for i, v in enumerate(values) if v == v]
    if not pairs:
        return -1
    sign = 1 if direction == "down" else -1
    return min(pairs, key=lambda p: (sign * p[0], p[1]))[1]


def plot_history(
    history: Any,
    to_file: str | os.PathLike = "curves.png",
    metrics: Sequence[str] | str | None = None,
    *,
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Draw ``loss`` and each metric of ``history`` (what ``fit`` returns, its ``.history`` dict, or a
    ``CSVLogger`` file), train solid and validation dashed, one panel per quantity, epochs from 1 on x; the
    best epoch (of validation when there is one) gets a star and a dotted line. ``metrics`` picks the
    panels (``["accuracy"]``; ``val_`` names mean the same panel). PNG, SVG or PDF by extension; written
    atomically; returns the path."""
    path = Path(to_file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise PlotError(f"plot_history writes png, svg, pdf files; got {str(path)!r}.")
    fig = history_figure(history, metrics, title=title, dpi=dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return path


def history_figure(history: Any, metrics: Sequence[str] | str | None = None, *, title: str | None = None,
                   dpi: int = 100):  # fmt: skip
    """The matplotlib ``Figure`` that :func:`plot_history` saves (one axes per quantity, titled by it)."""
    values, compiled = _records(history)
    if not any(values.values()):
        raise PlotError("plot_history: the history is empty (fit ran no epoch?).")
    names = quantities(values, metrics)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install matplotlib (or zoo-platform[plots]).") from None
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(4.2 * columns, 3.2 * rows), dpi=dpi, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        for key, style, label in ((name, "-", "train"), (f"val_{name}", "--", "validation")):
            if key in values:
                series = values[key]
                ax.plot(range(1, len(series) + 1), series, style, label=label, marker="." if len(series) < 30 else None)
        watched = f"val_{name}" if f"val_{name}" in values else name
        direction = _direction(watched, compiled)
        best = best_epoch(values[watched], direction) if direction is not None else -1
        if best >= 0:
            ax.axvline(best + 1, color="#888888", linestyle=":", linewidth=1)
            ax.plot([best + 1], [values[watched][best]], "*", markersize=11, color="#d62728",
                    label=f"best epoch {best + 1}: {values[watched][best]:.4g}")  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[len(names) :]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig
