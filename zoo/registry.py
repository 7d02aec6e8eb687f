"""Kinds -> entries, and the rules that turn a user's spelling into one entry.

Names are matched after normalisation (case and separators ignored), so ``ResNet50``, ``resnet-50`` and
``resnet50`` are one name. A separator between two digits is kept (as ``_``) because it carries meaning:
torchvision has both ``regnet_x_1_6gf`` and ``regnet_x_16gf``.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import (
    AmbiguousNameError,
    ArgumentError,
    OptionError,
    PluginError,
    RegistrationError,
    TargetImportError,
    UnknownNameError,
    ZooError,
)
from zoo.hookspecs import KINDS
from zoo.metadata import LAZY_TARGET, EntryMeta, UnknownFieldError, field_names

_SINGULAR = {
    "application": "applications",
    "app": "applications",
    "model": "applications",
    "models": "applications",
    "dataset": "datasets",
    "layer": "layers",
    "optimizer": "optimizers",
    "loss": "losses",
    "metric": "metrics",
    "callback": "callbacks",
    "activation": "activations",
    "initializer": "initializers",
    "regularizer": "regularizers",
    "constraint": "constraints",
    "exporter": "exporters",
}

_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[-_ .](?=\d)")
_SEPARATORS = re.compile(r"[-_ .]")
_VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
#: The values ``register(fallback=...)`` takes, as ranks: who wins a bare name (see Entry.fallback).
FALLBACK_RANKS = (0, 1, 2)


def normalize(name: str) -> str:
    """The key a name is matched by: lower case, separators dropped except between two digits."""
    key = _DIGIT_SEPARATOR.sub("\0", name.strip().lower())
    return _SEPARATORS.sub("", key).replace("\0", "_")


def canonical_kind(kind: str) -> str:
    """``"application"`` and ``"Applications"`` -> ``"applications"``; unknown kinds raise."""
    if not isinstance(kind, str):
        raise ArgumentError(
            f"kind must be a kind's name as a string, got {kind!r} ({type(kind).__name__}); kinds are: "
            f"{', '.join(KINDS)}."
        )
    key = kind.strip().lower()
    key = _SINGULAR.get(key, key)
    if key not in KINDS:
        close = difflib.get_close_matches(key, KINDS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown kind {kind!r}.{hint} Kinds are: {', '.join(KINDS)}.")
    return key


def natural_key(text: str) -> list[Any]:
    """Sort key putting resnet18 < resnet50 < resnet101."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.lower())]


@dataclass(frozen=True)
class Entry:
    """One thing a plugin registered: a model, a dataset, a loss ..."""

    kind: str
    name: str
    target: Callable[..., Any] | str
    plugin: str
    aliases: tuple[str, ...] = ()
    meta: EntryMeta = field(default_factory=EntryMeta)
    #: False for an ordinary entry; True (= 1) yields a bare name to ordinary entries; 2 also to rank-1
    #: fallbacks (a catalogue of last resort, such as zoo-keras beside zoo-timm). ``rank`` reads it.
    fallback: bool | int = False

    @property
    def rank(self) -> int:
        """Who wins a bare name: the lowest rank among the entries claiming it (0 = ordinary)."""
        return int(self.fallback)

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}"

    def resolve(self) -> Callable[..., Any]:
        """Import a lazy ``"module:attr"`` target (only now, when it is used); one that does not import
        raises :class:`TargetImportError` naming the plugin, so the user knows whose package is broken."""
        if not isinstance(self.target, str):
            return self.target
        return self.import_path(self.target, "as")

    def import_path(self, path: str, field: str) -> Any:
        """``"module:attr"`` of this entry (its target, or a metadata field naming one: ``word_index``),
        imported; an error names the plugin, so the user knows whose package is broken."""
        module_name, _, attr_path = path.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for attr in attr_path.split("."):
                obj = getattr(obj, attr)
        except Exception as exc:  # noqa: BLE001 - whatever the import raised, say whose target it is
            raise TargetImportError(
                f"plugin {self.plugin!r} registers {self.kind} {self.name!r} {field} {path!r}, which does not "
                f"import: {type(exc).__name__}: {exc} (check every target with 'zoo plugins --check')"
            ) from exc
        return obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        target = self.resolve()
        if kwargs and self.kind not in _OWN_KEYWORD_CHECKS:
            check_keywords(f"{self.kind} {self.name!r}", kwargs, keywords_of(target))
        if kwargs and self.kind == "exporters":
            from zoo.exporters.flags import checked_flags

            kwargs = checked_flags(self.name, target, kwargs)
        if self.kind == "activations":  # a function, not a factory: see zoo.training.activations.build
            from functools import partial

            from zoo.training.activations import build

            target = partial(build, target)
        try:
            built = target(*args, **kwargs)
        except ZooError:
            raise  # says what was wrong already
        except Exception as exc:
            self.blame(exc)
            raise
        _check_built(self, built)
        return built

    def blame(self, exc: BaseException) -> None:
        """Note on an error the entry's builder raised whose it is: the traceback's last frame is in the
        plugin's code, and the user needs the entry and the plugin to report it."""
        exc.add_note(f"(raised by {self.kind} {self.qualified_name!r}, from plugin {self.plugin!r})")

    def describe(self) -> dict[str, Any]:
        """Plain-data view for ``zoo info`` and ``--json`` (a lazy weights table, zoo-timm's, is read only
        now)."""
        target = self.target if isinstance(self.target, str) else _callable_path(self.target)
        return {
            "name": self.name,
            "kind": self.kind,
            "plugin": self.plugin,
            "qualified_name": self.qualified_name,
            "aliases": list(self.aliases),
            "target": target,
            **self.meta.describe(),
        }


#: Kinds whose builders check their own keywords (the applications contract, zoo layers' Keras keywords).
_OWN_KEYWORD_CHECKS = ("applications", "layers")


def _check_built(entry: Entry, built: Any) -> None:
    """What an entry's builder returned is of its kind, else an error naming the plugin now, not a raw
    one deep inside ``fit`` or ``export`` (applications have theirs in the applications contract)."""
    import torch

    from zoo.exporters.base import Exporter
    from zoo.training.optimizers import DeferredOptimizer

    callable_or_tensor = callable(built) or isinstance(built, torch.Tensor)  # zoo.get("activations", "relu", x)
    expected = {
        "layers": (isinstance(built, torch.nn.Module), "a torch.nn.Module"),
        "optimizers": (isinstance(built, (torch.optim.Optimizer, DeferredOptimizer)), "a torch.optim.Optimizer"),
        "losses": (callable(built), "a callable loss (an nn.Module or a function (input, target) -> tensor)"),
        "metrics": (callable(built), "a callable metric"),
        "activations": (callable_or_tensor, "a callable tensor -> tensor"),
        "initializers": (callable_or_tensor, "a callable that fills a tensor"),
        "regularizers": (callable_or_tensor, "a callable weight -> penalty"),
        "constraints": (callable_or_tensor, "a callable weight -> weight"),
        "exporters": (isinstance(built, Exporter), "a zoo.plugin.Exporter instance"),
    }.get(entry.kind)
    if expected is not None and not expected[0]:
        raise PluginError(
            f"{entry.kind} {entry.qualified_name!r} of plugin {entry.plugin!r} built a {type(built).__name__} "
            f"({built!r:.60}), not {expected[1]}; its builder must return one."
        )


def keywords_of(target: Any, skip: int = 0) -> list[str] | None:
    """The keyword arguments ``target`` takes (after its first ``skip`` parameters, e.g. a loss function's
    ``input, target``), or None when it takes any (``**kwargs``) or its signature cannot be read.

    A target whose real keywords are another function's (a wrapper taking ``**kwargs``) may say them in a
    ``zoo_keywords`` attribute: a list of names, or a callable returning it."""
    declared = getattr(target, "zoo_keywords", None)
    if declared is not None:
        return list(declared() if callable(declared) else declared)
    try:
        params = list(inspect.signature(target).parameters.values())[skip:]
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def check_keywords(what: str, kwargs: Mapping[str, Any], accepted: Iterable[str] | None) -> None:
    """An ``ArgumentError`` for the first keyword of ``kwargs`` that ``what`` does not take, naming the
    closest match and every keyword it takes (``accepted`` None: anything goes)."""
    if accepted is None:
        return
    accepted = list(accepted)
    for key in kwargs:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            takes = f"It takes: {', '.join(accepted)}." if accepted else "It takes no keywords."
            raise ArgumentError(f"{what} takes no keyword {key!r}.{hint} {takes}")


def _callable_path(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


class Registry:
    """Entries of every kind, indexed by normalised name and by plugin."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Entry]] = {kind: [] for kind in KINDS}
        self._by_key: dict[str, dict[str, list[Entry]]] = {kind: {} for kind in KINDS}

    # -- building -------------------------------------------------------------------------------------
    def add_all(self, entries: Iterable[Entry]) -> None:
        """Add one plugin's entries for one kind, all or none."""
        keyed: list[tuple[Entry, dict[str, None]]] = []
        staged: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            self._check(entry)
            keys: dict[str, None] = {}  # the entry's distinct keys, in order
            for spelling in (entry.name, *entry.aliases):
                key = normalize(spelling)
                slot = (entry.kind, key)
                previous = staged.get(slot) or self._own_claim(entry.kind, key, entry.plugin)
                if previous is not None and previous is not entry:
                    raise _own_clash(entry, spelling, previous, key)
                staged[slot] = entry
                keys[key] = None
            keyed.append((entry, keys))
        for entry, keys in keyed:
            self._entries[entry.kind].append(entry)
            for key in keys:
                self._by_key[entry.kind].setdefault(key, []).append(entry)

    def _own_claim(self, kind: str, key: str, plugin: str) -> Entry | None:
        for entry in self._by_key[kind].get(key, ()):
            if entry.plugin == plugin:
                return entry
        return None

    @staticmethod
    def _check(entry: Entry) -> None:
        where = f"plugin {entry.plugin!r}"
        for spelling in (entry.name, *entry.aliases):
            if not isinstance(spelling, str) or not _VALID_NAME.match(spelling):
                raise RegistrationError(
                    f"{where} registers {entry.kind} with invalid name {spelling!r}: use letters, digits, "
                    "'_', '-' or '.', starting with a letter or digit."
                )
        target = entry.target
        if isinstance(target, str):
            if not LAZY_TARGET.match(target):
                raise RegistrationError(
                    f"{where} registers {entry.kind} {entry.name!r} with target {target!r}; a lazy target "
                    "must read 'package.module:attribute'."
                )
        elif not callable(target):
            raise RegistrationError(
                f"{where} registers {entry.kind} {entry.name!r} with a {type(target).__name__} target; "
                "give a callable or a 'module:attr' string."
            )
        if entry.fallback not in FALLBACK_RANKS or type(entry.fallback) not in (bool, int):
            raise RegistrationError(
                f"{where} registers {entry.kind} {entry.name!r} with fallback={entry.fallback!r}; fallback= takes "
                "False (an ordinary entry), True (it yields a bare name to ordinary entries) or 2 (a catalogue "
                "of last resort: it yields to True ones too)."
            )

    # -- reading --------------------------------------------------------------------------------------
    def entries(self, kind: str) -> list[Entry]:
        return list(self._entries[canonical_kind(kind)])

    def lookup(self, kind: str, name: str) -> Entry:
        """The entry ``name`` means for ``kind``; ``plugin:name`` picks one plugin's entry."""
        kind = canonical_kind(kind)
        if not isinstance(name, str) or not name.strip():
            raise UnknownNameError(
                f"expected the name of one of the {kind} as a non-empty string, got {name!r}."
            )
        plugin, sep, bare = name.rpartition(":")
        candidates = self._by_key[kind].get(normalize(bare), [])
        if sep:
            plugin = plugin.strip()
            chosen = [e for e in candidates if e.plugin.lower() == plugin.lower()]  # case ignored, as in names
            if not chosen:
                plugins = sorted({e.plugin for e in self._entries[kind]})
                owner = next((p for p in plugins if p.lower() == plugin.lower()), None)
                if owner is None:
                    raise UnknownNameError(
                        f"no plugin {plugin!r} registers {kind}; plugins that do: {', '.join(plugins) or 'none'}. "
                        "Run 'zoo plugins' to see which loaded."
                    )
                raise self._unknown(kind, bare, owner)
            return chosen[0]
        if not candidates:
            raise self._unknown(kind, bare)
        best = min(e.rank for e in candidates)
        primary = [e for e in candidates if e.rank == best]
        if len(primary) > 1:
            names = ", ".join(sorted(e.qualified_name for e in primary))
            raise AmbiguousNameError(
                f"{kind} {bare!r} is registered by {len(primary)} plugins: {names}. "
                "Use one of these qualified names, or disable a plugin with ZOO_DISABLE_PLUGINS."
            )
        return primary[0]

    def suggest(self, kind: str, name: str, *, plugin: str | None = None) -> list[str]:
        """Registered names of ``kind`` closest to ``name`` (optionally only ``plugin``'s)."""
        spellings: dict[str, str] = {}
        for entry in self._entries[canonical_kind(kind)]:
            if plugin is None or entry.plugin == plugin:
                for spelling in (entry.name, *entry.aliases):
                    spellings.setdefault(normalize(spelling), entry.name)
        close = difflib.get_close_matches(normalize(name), list(spellings), n=5, cutoff=0.6)
        return list(dict.fromkeys(spellings[key] for key in close))

    def _unknown(self, kind: str, name: str, plugin: str | None = None) -> UnknownNameError:
        suggestions = self.suggest(kind, name, plugin=plugin)
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        # zoo.load("mnist") is a kind mix-up, not a typo: name the kind that has it
        elsewhere = [k for k, keys in self._by_key.items() if k != kind and normalize(name) in keys]
        if elsewhere and plugin is None:
            hint = f" {name!r} is one of the {' and '.join(elsewhere)}: zoo.get({elsewhere[0]!r}, {name!r})."
        return UnknownNameError(f"no {kind} named {name!r}.{hint} Run 'zoo list {kind}' to see them all.")

    def names(self, kind: str, pattern: str = "*", **filters: Any) -> list[str]:
        """Names of ``kind`` matching an fnmatch ``pattern`` and metadata ``filters``, naturally sorted.

        A filter ``key=value`` keeps entries whose ``meta[key]`` equals ``value``; for a list or dict
        value (e.g. ``weights``), ``key=True`` keeps entries where it is non-empty. A name is shown bare only
        when the bare name resolves to that entry; otherwise qualified.
        """
        return [shown for shown, _ in self.listing(kind, pattern, **filters)]

    def listing(self, kind: str, pattern: str = "*", **filters: Any) -> list[tuple[str, Entry]]:
        """``(name as shown, entry)`` for :meth:`names`' entries, in its order; the shown name resolves
        back to the entry."""
        kind = canonical_kind(kind)
        if not isinstance(pattern, str):
            raise ArgumentError(
                f"pattern must be an fnmatch pattern as a string, such as 'resnet*' ('*': every name), got "
                f"{pattern!r} ({type(pattern).__name__}); metadata filters go as keywords: family='resnet'."
            )
        _check_filters(kind, filters, self._entries[kind])
        pattern_key = pattern.lower()
        shown: dict[str, Entry] = {}
        for entry in self._entries[kind]:
            if not (_matches(entry, pattern_key) and _passes(entry, filters)):
                continue
            # bare only when the bare name means this entry: no lower rank, and no other entry of its rank,
            # claims the key (also as an alias: an alias 'mse' in another plugin makes 'mse' ambiguous)
            claims = [e.rank for e in self._by_key[kind][normalize(entry.name)] if e is not entry]
            clash = any(rank <= entry.rank for rank in claims)
            shown.setdefault(entry.qualified_name if clash else entry.name, entry)
        # by the bare name, then rank: keras:ResNet50 (a fallback) beside resnet50, not before all the rest
        return sorted(shown.items(), key=lambda item: (natural_key(normalize(item[1].name)), item[1].rank, item[0]))

    def shadows(self, order: Iterable[str]) -> dict[str, dict[str, list[tuple[str, str]]]]:
        """``{plugin: {kind: [(name, other plugin)]}}``: ordinary (non-fallback) names a plugin claims that a
        plugin before it in ``order`` already claims as ordinary names, so a bare lookup of them is now
        ambiguous. A fallback entry yields, so it never shadows nor is shadowed."""
        rank_of = {name: n for n, name in enumerate(order)}
        out: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for kind in KINDS:
            for key, entries in self._by_key[kind].items():
                ordinary = sorted(
                    (e for e in entries if e.rank == 0), key=lambda e: rank_of.get(e.plugin, len(rank_of))
                )
                owners = list(dict.fromkeys(e.plugin for e in ordinary))
                for entry in ordinary:
                    if entry.plugin != owners[0]:
                        spelling = next(s for s in (entry.name, *entry.aliases) if normalize(s) == key)
                        out.setdefault(entry.plugin, {}).setdefault(kind, []).append((spelling, owners[0]))
        return out


def _own_clash(entry: Entry, spelling: str, previous: Entry, key: str) -> RegistrationError:
    """One plugin giving two of its entries one key: said from the spelling that clashes (the new entry's
    name or one of its aliases) and the earlier entry's spelling it meets, so that the plugin's author reads
    which two spellings to choose between."""
    position, held = next((n, s) for n, s in enumerate((previous.name, *previous.aliases)) if normalize(s) == key)
    where = f"plugin {entry.plugin!r}"
    if spelling == entry.name == held and position == 0:
        return RegistrationError(
            f"{where} registers {entry.kind} {spelling!r} twice; register each name once (aliases= gives one "
            "entry more spellings)."
        )
    if spelling == entry.name:
        what = f"{where} registers {entry.kind} {spelling!r}"
    else:
        what = f"{where}: {entry.kind} {entry.name!r} gives the alias {spelling!r}"
    if held == spelling:
        said = f"its entry {previous.name!r} already has" + (" as an alias" if position else "")
    else:
        has = f"its entry {previous.name!r}" if position == 0 else f"the alias {held!r} of its entry {previous.name!r}"
        said = f"reads the same as {has} once case and separators are ignored"
    return RegistrationError(f"{what}, which {said}; rename one of them.")


def _matches(entry: Entry, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(s.lower(), pattern) for s in (entry.name, entry.qualified_name))


def _check_filters(kind: str, filters: Mapping[str, Any], entries: Iterable[Entry]) -> None:
    """A filter must name a metadata field of the kind (or a fact some entry has in ``extra``), and its value
    must be able to match: of the type the entries hold (``pretrained="False"`` is a string, never equal to a
    flag) and, for a field of names (``family``, ``category``, ``license`` ...), one some entry has, else the
    closest ones are named. Either mistake would otherwise list nothing, silently."""
    fields = field_names(kind)
    entries = list(entries)
    for key, wanted in filters.items():
        if key not in fields and not any(key in (e.meta.extra or {}) for e in entries):
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise UnknownFieldError(
                f"{kind} have no metadata field {key!r}. {hint}Fields: {', '.join(fields)}."
            )
        if wanted is None or isinstance(wanted, bool):  # None: unset; True/False: set (non-empty) or not
            continue
        values = [v for e in entries if (v := _field_value(e, key)) is not None]
        held = {_value_type(v) for v in values}
        if len(held) != 1 or None in held:  # no entry sets it, or it holds lists, mappings, mixed types
            continue
        (what,) = held
        if _value_type(wanted) != what:
            raise OptionError(
                f"filter {key}={wanted!r} can match no {kind}: it is a {type(wanted).__name__}, and their {key} "
                f"is {what} (e.g. {key}={values[0]!r}). Pass such a value; the command line's --where reads "
                "numbers and true/false/none (any case) as such."
            )
        if what == "a string" and wanted not in values:
            by_lower = {v.lower(): v for v in sorted(set(values), key=natural_key)}
            close = [by_lower[c] for c in difflib.get_close_matches(wanted.lower(), list(by_lower), n=3)]
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            have = list(by_lower.values())
            listed = len(have) <= 20 and all(len(v) <= 40 for v in have)  # names, not prose such as descriptions
            said = f"Their {key} values: {', '.join(have)}." if listed else f"'zoo info NAME' shows an entry's {key}."
            raise OptionError(f"no {kind} have {key}={wanted!r}.{hint} {said}")


def _field_value(entry: Entry, key: str) -> Any:
    """``entry``'s value of metadata field or ``extra`` fact ``key``; None when it has neither."""
    try:
        return entry.meta.value(key)
    except KeyError:
        return None


def _value_type(value: Any) -> str | None:
    """What a filter value must be to equal ``value``, as a message says it; None for lists and mappings."""
    if isinstance(value, bool):
        return "True or False"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return None


def _passes(entry: Entry, filters: Mapping[str, Any]) -> bool:
    for key, wanted in filters.items():
        value = _field_value(entry, key)
        if isinstance(wanted, bool) and not isinstance(value, bool):
            if bool(value) != wanted:
                return False
        elif value != wanted:
            return False
    return True
