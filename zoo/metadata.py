"""Typed metadata: one dataclass per kind, checked when a plugin registers an entry.

``register(name, target, **meta)`` passes plain keywords; :func:`parse` turns them into the kind's
dataclass (:class:`ApplicationMeta`, :class:`DatasetMeta`, :class:`LayerMeta`, :class:`ExporterMeta`, or
:class:`EntryMeta` for the other kinds) and refuses an unknown field, a value of the wrong type or one that
cannot be meant (a zero ``min_size``, categories that do not fit ``num_classes``, a dict holding more than
plain data) with a :class:`RegistrationError` naming the entry and the field (the plugin is then FAILED,
as for any other registration error). Facts a plugin wants to show that have no field go in ``extra={...}``.

Everything here is plain data and torch-free: ``zoo list`` and ``zoo info`` read it without importing
model code. A plugin may give ``weights`` as a lazy ``Mapping`` (zoo-timm's catalogue); its variants are
checked when first read.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from zoo.errors import RegistrationError, ZooError
from zoo.naming import means_default_weights

Check = Callable[[Any], Any]


class _Invalid(RegistrationError, ValueError):
    """A value that does not fit its field; the message says what the field takes. A RegistrationError
    itself, so a dataclass built directly (``ApplicationMeta(...)``) that fails a cross-field check still
    raises a zoo error."""


def _expect(ok: bool, value: Any, what: str) -> None:
    if not ok:
        raise _Invalid(f"must be {what}, got {value!r}")


def _str(value: Any) -> str:
    _expect(isinstance(value, str), value, "a string")
    return value


#: What a lazy target spells, imported only when used: an entry's target, a dataset's ``word_index``.
LAZY_TARGET = re.compile(r"^[\w.]+:[\w.]+\Z")


def _lazy_target(value: Any) -> str:
    _expect(isinstance(value, str) and LAZY_TARGET.match(value) is not None, value, "'package.module:function'")
    return value


def _finite(value: Any) -> float:
    """A measured figure (GFLOPs, a file's MB): NaN or a negative one would sort and filter as nonsense."""
    _expect(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0,
        value, "a finite number >= 0",
    )  # fmt: skip
    return value


def _is_int(value: Any) -> bool:
    """True for an int that is not a bool (``True`` is an ``int`` to Python, never a count to a plugin)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any) -> int:
    _expect(_is_int(value) and value >= 0, value, "an int >= 0")
    return value


def _positive(value: Any) -> int:
    """A size that zero would make meaningless (a dataset's ``num_classes``)."""
    _expect(_is_int(value) and value > 0, value, "a positive int")
    return value


def _outputs(value: Any) -> int:
    """The classes a model's classifier outputs; 0 is timm's mark of weights without one (a feature
    backbone: ``zoo.load`` then asks for ``num_classes=N``), so only a negative count is meaningless."""
    _expect(_is_int(value) and value >= 0, value, "an int >= 0 (0: the weights have no classifier)")
    return value


def _percent(value: Any) -> float:
    """An accuracy in percent (``76.13``, as torchvision's ``acc@1``); 0.7613 would read as 0.76%."""
    _expect(_finite(value) <= 100, value, "a percentage in [0, 100] (76.13, not 0.7613)")
    return value


def _bool(value: Any) -> bool:
    _expect(isinstance(value, bool), value, "True or False")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    _expect(ok, value, "a list of strings")
    return tuple(value)


def _shape(value: Any) -> int | tuple[int, ...]:
    """An image side (``224``) or a per-sample shape (``(3, 224, 224)``)."""
    if _is_int(value):
        _expect(value > 0, value, "a positive int or a tuple of them")
        return value
    ok = isinstance(value, (list, tuple)) and value and all(_is_int(v) and v > 0 for v in value)
    _expect(bool(ok), value, "a positive int or a tuple of them, e.g. (3, 224, 224)")
    return tuple(value)


def _pair(value: Any) -> tuple[int, int]:
    """A ``(height, width)`` in pixels, or one int for both; a zero side is no image."""
    if _is_int(value):
        value = (value, value)
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) and v > 0 for v in value)
    _expect(ok, value, "(height, width), two positive ints (or one for both)")
    return tuple(value)  # type: ignore[return-value]


_PLAIN = "plain data (str, int, float, bool, None, and lists or dicts with str keys of them)"


def _mapping(value: Any) -> dict[str, Any]:
    """A dict of facts. ``zoo info --json`` dumps metadata as it is, so an object JSON cannot write (a set,
    a class, a tensor) is refused here, naming where it sits, instead of breaking that command later."""
    _expect(isinstance(value, Mapping), value, "a mapping")
    _check_plain(value, "")
    return dict(value)


def _check_plain(value: Any, path: str) -> None:
    at = f"the value at {path}" if path else "it"
    if value is None or isinstance(value, (str, bool, int, float)):
        return  # NaN too: torchvision's "no accuracy" mark, which json.dumps writes as NaN
    if isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            _check_plain(item, f"{path}[{n}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(f"must be {_PLAIN}; {at} has the key {key!r}: use str({key!r})")
            _check_plain(item, f"{path}[{key!r}]")
        return
    raise _Invalid(
        f"must be {_PLAIN}; {at} is {value!r} ({type(value).__name__}): "
        "give a str, number or list of them instead"
    )


def _same_count(categories: Any, num_classes: int | None, names: str, count: str) -> None:
    """Category names and a class count that both describe one head must agree: decoding a prediction
    reads name ``i`` for output ``i``. A shared list's name (``"imagenet1k"``) is resolved only when a
    model is built, so it is not counted here."""
    if num_classes is None or categories is None or isinstance(categories, str):
        return
    if len(categories) != num_classes:
        given = f"{len(categories)} name{'' if len(categories) == 1 else 's'}"
        raise _Invalid(f"{names} ({given}) and {count} ({num_classes}) disagree: give one name per output")


def _categories(value: Any) -> str | tuple[str, ...]:
    """A reference to a shared list (``"imagenet1k"``) or the list of names itself."""
    if isinstance(value, str):
        return value
    return _strs(value)


def _f(check: Check, default: Any = None) -> Any:
    return field(default=default, metadata={"check": check})


@functools.cache
def _init_fields(cls: type[_Typed]) -> dict[str, dataclasses.Field]:
    """A class's init fields by name (looked up once per class: registration parses ~1700 entries)."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]


def _from_mapping(cls: type[_Typed], data: Mapping[str, Any], where: str) -> Any:
    names = _init_fields(cls)
    values: dict[str, Any] = {}
    for key, value in data.items():
        spec = names.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise RegistrationError(
                f"{where} with unknown field {key!r}: {hint}fields are {', '.join(sorted(names))}; "
                "put other facts in extra={...}."
            )
        if value is None:
            continue
        try:
            values[key] = spec.metadata["check"](value)
        except _Invalid as exc:
            raise RegistrationError(f"{where}: field {key!r} {exc}.") from None
        except RegistrationError as exc:
            raise RegistrationError(f"{where}: field {key!r}: {exc}") from None
    clash = sorted(set(values.get("extra") or ()) & set(names))
    if clash:  # zoo info would show the fact, and a filter on the field would say no entry has it
        raise RegistrationError(
            f"{where}: extra holds {', '.join(map(repr, clash))}, a field of its own; give it as the field "
            f"({clash[0]}=...), extra is for facts without one."
        )
    # The dataclass' own __init__ sets each of up to 17 fields by object.__setattr__ (frozen): 10 of the
    # 17 us an entry took. The fields are checked above, so fill the instance's dict and run __post_init__.
    meta = object.__new__(cls)
    meta.__dict__.update(_init_defaults(cls), **values)
    try:
        meta.__post_init__()
    except _Invalid as exc:
        raise RegistrationError(f"{where}: {exc}.") from None
    return meta


def _recheck(meta: Any, where: str) -> Any:
    """A dataclass a plugin built itself (``meta=ApplicationMeta(...)``) skipped the field checks, which
    only :func:`_from_mapping` runs: run them on its values, as for keywords."""
    return _from_mapping(type(meta), {name: getattr(meta, name) for name in _init_fields(type(meta))}, where)


@functools.cache
def _init_defaults(cls: type[_Typed]) -> dict[str, Any]:
    """Every field's default (each is a plain value: ``_f`` takes no factories)."""
    defaults = {name: spec.default for name, spec in _init_fields(cls).items()}
    missing = [name for name, default in defaults.items() if default is dataclasses.MISSING]
    assert not missing, f"{cls.__name__}: metadata fields need plain defaults (_f), not {missing}"
    return defaults


class _Typed:
    """Shared reading of the metadata dataclasses."""

    #: Fields ``describe`` always shows, even unset (a file spec's shape is the hub's convention).
    _always: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        """Checks across fields, after each field's own check (``_from_mapping``)."""

    def describe(self) -> dict[str, Any]:
        """Plain data for ``zoo info`` / ``--json``: fields that are set, then ``extra``'s facts."""
        out: dict[str, Any] = {}
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            unset = value is None or (spec.default is not None and value == spec.default)
            if spec.name == "extra" or (unset and spec.name not in self._always):
                continue
            out[spec.name] = _plain(value)
        out.update({k: _plain(v) for k, v in (getattr(self, "extra", None) or {}).items() if k not in out})
        return out

    def value(self, key: str) -> Any:
        """A field's value, or a fact from ``extra``; ``KeyError`` when neither has ``key``."""
        if key in {f.name for f in dataclasses.fields(self)} and key != "extra":  # type: ignore[arg-type]
            return getattr(self, key)
        return (getattr(self, "extra", None) or {})[key]


def _plain(value: Any) -> Any:
    if isinstance(value, _Typed):
        return value.describe()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# -- files ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileSpec(_Typed):
    """One file zoo's cache can fetch: where it is and how to check it.

    ``mirrors`` are more URLs of the same file; ``alternates`` are other files with the same content
    (timm's ``pytorch_model.bin`` beside its ``model.safetensors``), tried in order. ``sha256_is_prefix``:
    only a prefix of the hash is known (torchvision's file names carry one).
    """

    _always: ClassVar[tuple[str, ...]] = ("url", "filename", "sha256", "size", "mirrors")

    url: str | None = _f(_str)
    filename: str | None = _f(_str)
    sha256: str | None = _f(_str)
    sha256_is_prefix: bool = _f(_bool, False)
    md5: str | None = _f(_str)
    size: int | None = _f(_count)
    mirrors: tuple[str, ...] = _f(_strs, ())
    alternates: tuple[FileSpec, ...] = _f(lambda v: _file_specs(v, "alternate"), ())
    role: str | None = _f(_str)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | FileSpec, where: str) -> Any:
        if isinstance(data, cls):
            return _recheck(data, where)
        if not isinstance(data, Mapping):
            raise RegistrationError(f"{where} must be a mapping of file facts (url, sha256, ...), got {data!r}.")
        return _from_mapping(cls, data, where)

    @property
    def label(self) -> str:
        return self.filename or (self.url or "").rsplit("/", 1)[-1]

    def fetch_spec(self) -> dict[str, Any]:
        """The spec as ``zoo.hub.fetch_spec`` takes it."""
        return {
            "url": self.url,
            "sha256": self.sha256,
            "size": self.size,
            "filename": self.filename,
            "mirrors": list(self.mirrors),
            "alternates": [a.fetch_spec() for a in self.alternates],
        }


def _file_specs(value: Any, what: str) -> tuple[FileSpec, ...]:
    _expect(isinstance(value, (list, tuple)), value, "a list of file specs")
    specs = tuple(FileSpec.parse(v, f"{what} {n}") for n, v in enumerate(value))
    for spec in specs:
        if not spec.url:
            raise _Invalid(f"{what} {spec.label or '?'} has no url")
    return specs


@dataclass(frozen=True)
class WeightsVariant(FileSpec):
    """One set of pretrained weights of an application: its file (no ``url``: shipped inside the plugin
    package, nothing to download) and what a model built with it is."""

    categories: str | tuple[str, ...] | None = _f(_categories)
    num_classes: int | None = _f(_outputs)
    preprocessing: dict[str, Any] | None = _f(_mapping)
    metrics: dict[str, Any] | None = _f(_mapping)
    num_params: int | None = _f(_count)
    gflops: float | None = _f(_finite)
    file_size_mb: float | None = _f(_finite)
    min_size: tuple[int, int] | None = _f(_pair)
    input_size: int | tuple[int, ...] | None = _f(_shape)
    license: str | None = _f(_str)
    recipe: str | None = _f(_str)
    trained_on: str | None = _f(_str)
    build: dict[str, Any] | None = _f(_mapping)
    extra: dict[str, Any] | None = _f(_mapping)

    def __post_init__(self) -> None:
        _same_count(self.categories, self.num_classes, "field 'categories'", "field 'num_classes'")


class Variants(Mapping[str, WeightsVariant]):
    """An application's weights: tag -> :class:`WeightsVariant`, parsed on first read of each tag, so a
    lazy table (zoo-timm reads its catalogue only when asked) stays lazy."""

    __slots__ = ("_raw", "_where", "_parsed", "_entry")

    def __init__(self, raw: Mapping[str, Any], where: str, entry: ApplicationMeta | None = None) -> None:
        self._raw, self._where, self._parsed, self._entry = raw, where, {}, entry

    def __getitem__(self, tag: str) -> WeightsVariant:
        if tag not in self._parsed:
            where = f"{self._where} weights[{tag!r}]"
            variant = WeightsVariant.parse(self._raw[tag], where)
            if self._entry is not None:
                self._entry._check_variant_classes(variant, where)
            self._parsed[tag] = variant
        return self._parsed[tag]

    def __iter__(self) -> Iterator[str]:
        """The tags, each checked to be a string: ``weights="v1"`` is matched by its text, so a tag of
        another type (``{1: {...}}``) is a mistake of the plugin, said as one (when registering, for a dict)
        instead of an AttributeError inside ``zoo.load``."""
        for tag in self._raw:
            if not isinstance(tag, str):
                raise RegistrationError(
                    f"{self._where}: field 'weights' has the tag {tag!r} ({type(tag).__name__}); a variant's tag "
                    f"is a string, e.g. weights={{{str(tag)!r}: {{...}}}}."
                )
            yield tag

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Variants({list(self._raw)!r})"


# -- entries --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryMeta(_Typed):
    """What every entry may carry."""

    description: str | None = _f(_str)
    license: str | None = _f(_str)
    extra: dict[str, Any] = _f(_mapping, None)

    def __post_init__(self) -> None:
        if self.extra is None:
            object.__setattr__(self, "extra", {})


@dataclass(frozen=True)
class ApplicationMeta(EntryMeta):
    """A pretrained model: its weights variants and the facts users list and filter by.

    ``options``: the keras.applications options of ``zoo.load`` the builder supports (e.g. ``("weights",
    "include_top", "pooling", "num_classes", "input_shape")``); the core refuses any other it knows
    (:mod:`zoo.applications.contract`), applies ``trainable`` itself when it is not listed, and serves
    ``weights`` for an entry with variants. None = not declared: every keyword is passed through.
    """

    architecture: str | None = _f(_str)
    family: str | None = _f(_str)
    task: str | None = _f(_str)
    keras_name: str | None = _f(_str)
    pretrained: bool | None = _f(_bool)
    weights: Mapping[str, WeightsVariant] = _f(lambda v: v, None)
    default_weights: str | None = _f(_str)
    num_params: int | None = _f(_count)
    gflops: float | None = _f(_finite)
    input_size: int | tuple[int, ...] | None = _f(_shape)
    min_size: tuple[int, int] | None = _f(_pair)
    num_classes: int | None = _f(_outputs)
    categories: str | tuple[str, ...] | None = _f(_categories)
    top1: float | None = _f(_percent)
    file_size_mb: float | None = _f(_finite)
    options: tuple[str, ...] | None = _f(_strs)

    def __post_init__(self) -> None:
        super().__post_init__()
        weights = {} if self.weights is None else self.weights
        if not isinstance(weights, Mapping):
            raise _Invalid(
                f"field 'weights' must map variant tags to file facts ({{}} for none), got {weights!r}"
            )
        if not isinstance(weights, Variants):
            weights = Variants(weights, "an application")
        object.__setattr__(self, "weights", weights)
        if self.pretrained is None:
            object.__setattr__(self, "pretrained", bool(weights))
        _same_count(self.categories, self.num_classes, "field 'categories'", "field 'num_classes'")

    def _check_variant_classes(self, variant: WeightsVariant, where: str) -> None:
        """A variant that sets one of categories/num_classes takes the other from the entry (the model's
        categories are ``variant.categories or meta.categories``), so that pair must agree as well."""
        if (variant.categories is None) == (variant.num_classes is None):
            return  # both its own (checked by the variant) or both the entry's (checked by the entry)
        if variant.num_classes is None:
            names, count, missing = "field 'categories'", "the entry's field 'num_classes'", "num_classes"
        else:
            names, count, missing = "the entry's field 'categories'", "field 'num_classes'", "categories"
        try:
            _same_count(variant.categories or self.categories, variant.num_classes or self.num_classes, names, count)
        except _Invalid as exc:
            raise RegistrationError(f"{where}: {exc}, or give the variant its own {missing}.") from None

    def _check_weights(self, where: str) -> None:
        """Variants given as plain data are checked now (a lazy table: when read), and the default too."""
        variants = Variants(self.weights._raw, where, self)  # type: ignore[attr-defined]
        object.__setattr__(self, "weights", variants)
        if not isinstance(variants._raw, dict):
            return
        for tag in variants:
            variants[tag]
        if self.default_weights not in (None, *variants):
            raise RegistrationError(
                f"{where}: field 'default_weights' is {self.default_weights!r}, which is none of its weights "
                f"({', '.join(variants) or 'none'})."
            )

    def variant(self, weights: str | None) -> str | None:
        """The tag ``weights`` names: ``"imagenet"``/``"DEFAULT"``/None = the default, a tag (any case),
        ``arch.tag`` (timm) or ``Enum.TAG`` (torchvision); None when it names none."""
        if not self.weights:
            return None
        if weights is None or means_default_weights(weights):
            return self.default_weights or next(iter(self.weights))
        by_lower = {t.lower(): t for t in self.weights}
        return by_lower.get(weights.lower()) or by_lower.get(weights.rsplit(".", 1)[-1].lower())


@dataclass(frozen=True)
class DatasetMeta(EntryMeta):
    """A dataset: where it comes from, its files (none: generated or bundled), splits and shapes."""

    _always: ClassVar[tuple[str, ...]] = ("files",)

    source: str | None = _f(_str)
    format: str | None = _f(_str)
    files: tuple[FileSpec, ...] = _f(lambda v: _file_specs(v, "file"), ())
    size: int | None = _f(_count)
    splits: dict[str, int | None] | None = _f(lambda v: _splits(v))
    shapes: dict[str, Any] | None = _f(_mapping)
    num_classes: int | None = _f(_positive)
    classes: tuple[str, ...] | None = _f(_strs)
    coarse_classes: tuple[str, ...] | None = _f(_strs)
    options: tuple[str, ...] | None = _f(_strs)
    offline: bool = _f(_bool, False)
    word_index: str | None = _f(_lazy_target)

    def __post_init__(self) -> None:
        super().__post_init__()
        _same_count(self.classes, self.num_classes, "field 'classes'", "field 'num_classes'")


def _splits(value: Any) -> dict[str, int | None]:
    """``{"train": 60000, ...}``, or just the split names."""
    if isinstance(value, Mapping):
        return {_str(k): None if v is None else _count(v) for k, v in value.items()}
    return dict.fromkeys(_strs(value))


@dataclass(frozen=True)
class LayerMeta(EntryMeta):
    category: str | None = _f(_str)


@dataclass(frozen=True)
class ExporterMeta(EntryMeta):
    suffix: str | None = _f(_str)
    runtime: str | None = _f(_str)
    requires: tuple[str, ...] = _f(_strs, ())
    install: str | None = _f(_str)


META_TYPES: dict[str, type[EntryMeta]] = {
    "applications": ApplicationMeta,
    "datasets": DatasetMeta,
    "layers": LayerMeta,
    "exporters": ExporterMeta,
}


def meta_type(kind: str) -> type[EntryMeta]:
    return META_TYPES.get(kind, EntryMeta)


def parse(kind: str, data: Mapping[str, Any] | EntryMeta, where: str) -> EntryMeta:
    """The typed metadata of an entry of ``kind``; ``where`` ("plugin 'x' registers applications 'y'")
    starts every error message."""
    cls = meta_type(kind)
    if isinstance(data, EntryMeta):
        if type(data) is not cls and (cls is EntryMeta or not isinstance(data, cls)):  # a LayerMeta is no loss's
            raise RegistrationError(f"{where} with {type(data).__name__}; {kind} take {cls.__name__}.")
        meta = _recheck(data, where)
    else:
        meta = _from_mapping(cls, data, where)
    if isinstance(meta, ApplicationMeta):
        meta._check_weights(where)
    return meta


def field_names(kind: str) -> list[str]:
    return [f.name for f in dataclasses.fields(meta_type(kind)) if f.name != "extra"]


class UnknownFieldError(ZooError, LookupError):
    """A metadata filter naming no field of the kind."""
