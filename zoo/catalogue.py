"""The catalogue: one row per pretrained weights variant, to sort and filter by accuracy, size or licence.

``zoo.catalogue(where=["params<10e6", "license=apache-2.0"], sort="-acc1")`` and
``zoo list applications --sort -acc1 --where 'params<10e6' --columns name,weights,acc1,params``. The rows
are read from what plugins register (torchvision's Weights meta in the built-in table, timm's published
results shipped with zoo-timm), so nothing here imports torch or model code. Column names are the
metadata's field names (``num_params``, ``file_size_mb``, ``gflops``, ``license``), with the short
spellings ``params`` and ``size_mb``; the reported accuracy is ``acc1``/``acc5`` on ``dataset`` at
``resolution``.
"""

from __future__ import annotations

import dataclasses
import difflib
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zoo.errors import ZooError


@dataclass(frozen=True)
class CatalogueRow:
    """One weights variant of one application (``weights`` None: an architecture without pretrained weights)."""

    name: str
    weights: str | None
    plugin: str
    family: str | None
    dataset: str | None
    acc1: float | None
    acc5: float | None
    resolution: int | None
    num_params: int | None
    gflops: float | None
    file_size_mb: float | None
    license: str | None
    paper: str | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


COLUMNS = tuple(f.name for f in dataclasses.fields(CatalogueRow))
ALIASES = {"params": "num_params", "size_mb": "file_size_mb", "top1": "acc1", "top5": "acc5"}
NUMERIC = ("acc1", "acc5", "resolution", "num_params", "gflops", "file_size_mb")
DEFAULT_COLUMNS = ("name", "weights", "acc1", "acc5", "num_params", "gflops", "file_size_mb", "license")
_OPERATORS = {"<=": operator.le, ">=": operator.ge, "!=": operator.ne, "==": operator.eq, "=": operator.eq,
              "<": operator.lt, ">": operator.gt}  # fmt: skip
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w@]*)\s*(<=|>=|!=|==|=|<|>)\s*(.*?)\s*$")


def column(name: str) -> str:
    """The column a user's spelling names; an unknown one is an error with the closest match."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in COLUMNS:
        close = difflib.get_close_matches(key, [*COLUMNS, *ALIASES], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ZooError(
            f"the catalogue has no column {name!r}.{hint} Columns: {', '.join(COLUMNS)} (params, size_mb)."
        )
    return key


@dataclass(frozen=True)
class Condition:
    """``column OP value`` from ``'params<10e6'`` or ``'license=apache-2.0'``."""

    column: str
    op: str
    value: float | str | None

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text) if isinstance(text, str) else None
        if not match or not match.group(3):
            raise ZooError(
                f"cannot read the condition {text!r}: write COLUMN OP VALUE with OP one of "
                "= != < <= > >=, e.g. 'params<10e6' or 'license=apache-2.0'."
            )
        name, op, raw = match.groups()
        key, value = column(name), _value(raw)
        if key in NUMERIC and isinstance(value, str):
            raise ZooError(f"{key} holds numbers; {raw!r} in {text!r} is not one (e.g. '{key}>=80', '{key}<1e7').")
        if key not in NUMERIC and op not in ("=", "==", "!="):
            raise ZooError(f"{key} holds text; compare it with = or !=, not {op} ({text!r}).")
        return cls(key, op, value)

    def holds(self, row: CatalogueRow) -> bool:
        have = getattr(row, self.column)
        if self.value is None or have is None:  # an unknown figure passes no comparison, only "!="
            same = have is self.value
            return same if self.op in ("=", "==") else (not same and self.op == "!=")
        if isinstance(self.value, str) or isinstance(have, str):
            return (str(have).lower() == str(self.value).lower()) == (self.op != "!=")
        return _OPERATORS[self.op](have, self.value)


def _value(raw: str) -> float | str | None:
    if raw.lower() in ("none", "null"):
        return None
    try:
        return float(raw)
    except ValueError:
        return raw.strip("'\"")


def catalogue(
    pattern: str = "*",
    *,
    where: Iterable[str | Condition] = (),
    sort: str | Sequence[str] | None = None,
    pretrained: bool | None = None,
) -> list[CatalogueRow]:
    """Rows of the applications matching an fnmatch ``pattern``, kept by every ``where`` condition and
    ordered by ``sort`` (a column, ``-column`` for descending; rows lacking the value come last)."""
    from zoo.plugins import get_registry

    conditions = [c if isinstance(c, Condition) else Condition.parse(c) for c in where]
    keys = [sort] if isinstance(sort, str) else list(sort or ())
    order = [(column(k.lstrip("-+")), k.startswith("-")) for k in keys]
    registry = get_registry()
    rows = []
    for shown, entry in registry.listing("applications", pattern):
        rows.extend(_rows(shown, entry.plugin, entry.describe()))
    if pretrained is not None:
        rows = [r for r in rows if (r.weights is not None) == pretrained]
    rows = [r for r in rows if all(c.holds(r) for c in conditions)]
    for name, descending in reversed(order):  # stable sorts, last key first
        present = [r for r in rows if getattr(r, name) is not None]
        missing = [r for r in rows if getattr(r, name) is None]
        rows = sorted(present, key=lambda r, n=name: getattr(r, n), reverse=descending) + missing
    return rows


def _rows(shown: str, plugin: str, facts: Mapping[str, Any]) -> list[CatalogueRow]:
    variants = facts.get("weights") or {}
    if not isinstance(variants, Mapping) or not variants:
        return [_row(shown, plugin, facts, None, {})]
    return [_row(shown, plugin, facts, tag, dict(variants[tag])) for tag in variants]


def _row(
    shown: str, plugin: str, facts: Mapping[str, Any], tag: str | None, variant: dict[str, Any]
) -> CatalogueRow:
    metrics = variant.get("metrics") or {}
    dataset = next(iter(metrics), None)
    reported = metrics.get(dataset, {}) if dataset else {}
    crop = (variant.get("preprocessing") or {}).get("crop")
    resolution = (
        reported.get("resolution")
        or (crop if isinstance(crop, int) else None)
        or _side(variant.get("input_size"))
    )
    return CatalogueRow(
        name=shown,
        weights=tag,
        plugin=plugin,
        family=facts.get("family"),
        dataset=dataset,
        acc1=reported.get("acc@1"),
        acc5=reported.get("acc@5"),
        resolution=resolution,
        num_params=variant.get("num_params") or facts.get("num_params"),
        gflops=variant.get("gflops") or facts.get("gflops"),
        file_size_mb=variant.get("file_size_mb") or facts.get("file_size_mb"),
        license=variant.get("license") or facts.get("license"),
        paper=_extra(variant, "paper") or _extra(facts, "paper"),
    )


def _side(size: Any) -> int | None:
    if isinstance(size, int):
        return size
    return size[-1] if isinstance(size, (list, tuple)) and size else None


def _extra(facts: Mapping[str, Any], key: str) -> Any:
    """A fact outside the typed fields: top level, or under ``extra``."""
    return facts.get(key) or (facts.get("extra") or {}).get(key)
