"""Features of a frozen encoder, computed once and memory-mapped from disk afterwards.

Transfer learning with a frozen backbone recomputes the same features every epoch; computing them once
(inference mode, batched) turns an epoch into a pass over a small array. The cache key is a hash of

* the encoder's state (every parameter and buffer, so a preprocessing module's mean/std count too),
* its structure (:func:`structure_digest`: each submodule's qualified name, class and ``extra_repr()``,
  torch's own summary of the settings its forward uses, and its forward hooks), since an activation
  swapped for another or a ``negative_slope`` changed leaves the state dict as it was,
* an ``identity`` the caller adds (weights variant and file hash, preprocessing, pooling ...),
* the data's ``fingerprint`` (what would change the pixels: dataset config, file sizes and times),
* the ``transform``'s fingerprint (:func:`callable_fingerprint`: a function's module, qualified name,
  bytecode, constants, defaults and closure values, recursively; a module's state; an object's type and
  repr). Its limit: globals a function reads and state hidden in an object's attributes are not seen; a
  transform whose repr shows only its address (``<... at 0x...>``) cannot be fingerprinted and needs
  ``identity={"transform": ...}`` saying what it does,

so changing any of them computes afresh. Files live in ``$ZOO_HOME/features/<key>.npy``, are written to
a temporary name, fsynced and renamed (a reader never sees half a file), under a per-key file lock (N
processes compute once), and are read back with ``np.load(mmap_mode="r")``, so a cache larger than
memory is paged in as batches touch it. The ``<key>.json`` beside each file records its size and sha256,
written before the file takes its name; a process hashes a file in full the first time it opens it
(:func:`_verified`), and a file that does not match its record is computed again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
import types
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.atomic import atomic_path, write_text_atomic
from zoo.errors import ArgumentError, DataError, OptionError
from zoo.training.arguments import check_bool
from zoo.utils.progress import progress

__all__ = ["FeatureCache", "callable_fingerprint", "state_digest", "structure_digest"]


def state_digest(module: nn.Module) -> str:
    """sha256 of a module's class and state dict (names, dtypes, shapes and bytes)."""
    digest = hashlib.sha256(f"{type(module).__module__}.{type(module).__qualname__}".encode())
    for name, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


_PLAIN = (type(None), bool, int, float, complex, str, bytes)


def structure_digest(module: nn.Module) -> str:
    """sha256 of what a module's forward does beyond its state: each submodule's qualified name, class
    (with its module path) and ``extra_repr()``, and each one's forward hooks and pre-hooks.

    The state dict cannot tell ``nn.ReLU`` from ``nn.Tanh`` (neither holds a tensor), nor
    ``LeakyReLU(0.01)`` from ``LeakyReLU(0.5)``; ``extra_repr()`` is torch's own one-line summary of such
    settings (``negative_slope``, ``kernel_size``, ``stride``, ``eps``, ``inplace`` ...), kept by every
    built-in module. Not seen: a custom module's settings its ``extra_repr()`` leaves out, and edits to a
    class's code (its name stays the same); say those in ``identity=``."""
    digest = hashlib.sha256()
    for name, m in module.named_modules(remove_duplicate=False):
        cls = type(m)
        try:
            extra = m.extra_repr()
        except Exception as exc:  # a custom extra_repr's own bug: the key cannot say what the module does
            raise ArgumentError(
                f"FeatureCache cannot describe the encoder's submodule {name or '(root)'!r} ({cls.__name__}): its "
                f"extra_repr() raised {type(exc).__name__}: {exc}. Fix its extra_repr (print(encoder) fails the same way)."
            ) from None
        digest.update(f"{name}|{cls.__module__}.{cls.__qualname__}|{extra}|".encode())
        for hook in (*m._forward_pre_hooks.values(), *m._forward_hooks.values()):
            digest.update(f"hook:{_hook_summary(hook)}|".encode())
    return digest.hexdigest()


def _hook_summary(hook: Any) -> str:
    """A hook's qualified name, and a callable object's plain attributes (``ClassifierActivation``'s
    ``name``, an ``InputSizeCheck``'s sizes). Not :func:`callable_fingerprint`: zoo's own hook objects have
    address-only reprs (it would refuse every ``zoo.load`` model), and a closure over the model would
    hash its whole state again."""
    fn = getattr(hook, "__func__", hook)  # a bound method: its function
    if hasattr(fn, "__code__"):
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', '')}"
    if isinstance(hook, functools.partial):
        return f"partial({_hook_summary(hook.func)}, {hook.args!r}, {sorted(hook.keywords.items())!r})"
    plain = sorted(
        (k, repr(v)) for k, v in getattr(hook, "__dict__", {}).items()
        if isinstance(v, _PLAIN) or (isinstance(v, tuple) and all(isinstance(i, _PLAIN) for i in v))
    )  # fmt: skip
    return f"{type(hook).__module__}.{type(hook).__qualname__}{plain}"


def callable_fingerprint(fn: Any) -> str | None:
    """A sha256 of what a callable does, for a cache key: None for None; a function's module, qualified
    name and code (bytecode, constants, names, recursively through nested code), its defaults and closure
    values (plain values by repr, functions recursively, modules by state); a ``functools.partial`` its
    function and arguments; an ``nn.Module`` its class and state; another object its type and repr.

    Raises ``zoo.ArgumentError`` for a value it cannot fingerprint (an object whose repr is only its
    address). Not seen: globals the function reads, attributes an object's repr leaves out."""
    if fn is None:
        return None
    digest = hashlib.sha256()
    _feed(digest, fn, depth=0)
    return digest.hexdigest()


def _feed(digest: Any, value: Any, depth: int) -> None:
    if depth > 8:
        digest.update(b"<deep>")
        return
    if isinstance(value, _PLAIN):
        digest.update(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, (tuple, list, frozenset, set)):
        digest.update(f"{type(value).__name__}[".encode())
        for item in sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value:
            _feed(digest, item, depth + 1)
        digest.update(b"]")
    elif isinstance(value, dict):
        digest.update(b"dict{")
        for k in sorted(value, key=repr):
            _feed(digest, k, depth + 1)
            _feed(digest, value[k], depth + 1)
        digest.update(b"}")
    elif isinstance(value, type(_feed.__code__)):
        digest.update(value.co_code)
        digest.update(repr(value.co_names).encode())
        for const in value.co_consts:
            _feed(digest, const, depth + 1)
    elif isinstance(value, functools.partial):
        digest.update(b"partial")
        _feed(digest, value.func, depth + 1)
        _feed(digest, value.args, depth + 1)
        _feed(digest, value.keywords, depth + 1)
    elif isinstance(value, nn.Module):
        digest.update(state_digest(value).encode())
    elif isinstance(value, torch.Tensor):
        digest.update(state_digest(_TensorHolder(value)).encode())
    elif hasattr(value, "__code__"):  # a function or lambda (a bound method: its function and its object)
        digest.update(f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}".encode())
        _feed(digest, value.__code__, depth + 1)
        _feed(digest, getattr(value, "__defaults__", None), depth + 1)
        _feed(digest, getattr(value, "__kwdefaults__", None), depth + 1)
        for cell in getattr(value, "__closure__", None) or ():
            try:
                _feed(digest, cell.cell_contents, depth + 1)
            except ValueError:  # an empty cell
                digest.update(b"<empty>")
    elif isinstance(value, (types.BuiltinFunctionType, type)):  # torch.mul, np.asarray's kin, a class
        owner = getattr(value, "__module__", None) or type(getattr(value, "__self__", None)).__qualname__
        digest.update(f"{owner}.{getattr(value, '__qualname__', value.__name__)}".encode())
    elif hasattr(value, "__func__") and hasattr(value, "__self__"):
        _feed(digest, value.__func__, depth + 1)
        _feed(digest, value.__self__, depth + 1)
    else:
        text = repr(value)
        if " at 0x" in text:
            raise ArgumentError(
                f"FeatureCache cannot fingerprint the transform (or a value it uses), {text[:80]}: its repr is "
                "only its address. Give it a __repr__ that shows its settings, or pass identity={'transform': "
                "'what it does, v1'} (then the transform is not fingerprinted: change that text when it changes)."
            )
        digest.update(f"{type(value).__module__}.{type(value).__qualname__}:{text}".encode())


class _TensorHolder(nn.Module):
    def __init__(self, tensor: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("t", tensor.detach())


def _walk(module: nn.Module) -> tuple[list[torch.Tensor], list[Any]]:
    """(every parameter and buffer, every part) of ``module`` and its submodules, in a fixed order (a
    shared one may come twice). The parts are each submodule, the values of its ``__dict__`` (settings such
    as ``negative_slope``, and its containers) and its forward hooks, so that a submodule replaced, added or
    removed, a setting assigned or a hook registered changes the list. Walks ``_modules`` directly:
    ``module.modules()`` builds each submodule's qualified name, 0.26 of a 0.49 ms cache hit for
    inception_v3."""
    found: list[torch.Tensor | None] = []
    parts: list[Any] = []
    stack: list[nn.Module | None] = [module]
    add_parts, add_tensors, push = parts.extend, found.extend, stack.extend  # bound once: 0.15, not 0.18 ms
    while stack:
        m = stack.pop()
        if m is None:  # a submodule slot set to None
            continue
        d = m.__dict__
        parts.append(m)
        add_parts(d.values())
        if hooks := d["_forward_pre_hooks"]:
            add_parts(hooks.values())
        if hooks := d["_forward_hooks"]:
            add_parts(hooks.values())
        if tensors := d["_parameters"]:
            add_tensors(tensors.values())
        if tensors := d["_buffers"]:
            add_tensors(tensors.values())
        if children := d["_modules"]:
            push(children.values())
    return [t for t in found if t is not None], parts


def _same_parts(now: list[Any], before: list[Any]) -> bool:
    try:
        return now == before  # each item by identity first (a pointer compare), then by ==
    except Exception:  # a value whose == is elementwise (a tensor or array attribute replaced): it moved
        return False


class _EncoderMemo:
    """``(state_digest(module), structure_digest(module))``, each computed in full only when what it covers
    may have changed.

    Hashing inception_v3's 580 tensors (100 MB) took 90 ms, on every cache hit. Every in-place change of a
    tensor that autograd can see (an optimizer step, ``load_state_dict``, ``p.add_()`` under ``no_grad``,
    a BatchNorm's running statistics) bumps its version counter, and replacing a parameter, buffer or
    submodule changes which tensor objects the module holds: the memo keeps the versions and weak references
    to the tensors of the last full hash, and compares those (about 0.2 ms for inception_v3). An edit through
    ``tensor.data`` bypasses the version counter; inference-mode tensors have none: with one of those the
    state is hashed in full every time.

    The structure (about 1 ms for inception_v3) is recomputed when the module's parts (:func:`_walk`) are
    not those of its last computation. Compared as lists, an unchanged part costs one pointer compare (about
    0.05 ms for inception_v3's 7,000 parts); a part that is another object is compared by ``==``, so a setting
    assigned an equal value counts as unchanged. The memo holds the parts (strongly: an id could be reused
    by a new object) until the next check, so a replaced submodule stays alive until then. Not seen between
    two calls: a change inside a mutable setting (a list attribute appended to) and a hook object's own
    attributes set anew; a new FeatureCache (another process) hashes the structure afresh and sees them.
    """

    def __init__(self) -> None:
        self._tensors: list[weakref.ref[torch.Tensor]] = []
        self._versions: list[int] | None = None
        self._module: weakref.ref[nn.Module] | None = None
        self._parts: list[Any] = []
        self._state = ""
        self._structure = ""

    def digests(self, module: nn.Module) -> tuple[str, str]:
        tensors, parts = _walk(module)
        same_module = self._module is not None and self._module() is module
        try:
            versions = [t._version for t in tensors]
        except RuntimeError:  # an inference-mode tensor: no version counter to trust
            state = state_digest(module)
            self._versions, self._tensors = None, []  # None matches no list: the next call hashes again
        else:
            if not (
                same_module
                and versions == self._versions
                and len(tensors) == len(self._tensors)
                and all(ref() is t for ref, t in zip(self._tensors, tensors, strict=True))
            ):
                self._state = state_digest(module)
                self._versions, self._tensors = versions, [weakref.ref(t) for t in tensors]
            state = self._state
        if not (same_module and _same_parts(parts, self._parts)):
            self._structure = structure_digest(module)
            self._parts = parts
        self._module = weakref.ref(module)
        return state, self._structure


def _as_input(batch: Any) -> torch.Tensor:
    """A batch without a transform: a tensor or array of inputs, not an (inputs, labels) pair."""
    arrays = isinstance(batch, (tuple, list)) and batch and all(
        isinstance(b, torch.Tensor) or hasattr(b, "__array__") for b in batch
    )
    if arrays and len({tuple(b.shape) for b in batch}) > 1:
        raise DataError(
            f"FeatureCache batches must be input batches only; got a {type(batch).__name__} of {len(batch)} "
            "(inputs and labels?). Yield only the inputs, or pass transform=lambda b: b[0]."
        )
    try:
        return torch.as_tensor(batch)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"FeatureCache cannot make a tensor of a batch of type {type(batch).__name__} ({exc}); yield tensors or "
            "arrays, or pass transform= to turn each batch into the encoder's input."
        ) from None


#: Not batches, though iterable: iterating them yields single samples, characters or keys.
_NOT_BATCHES = (str, bytes, Mapping, torch.Tensor, np.ndarray)


def _check_batches(batches: Any, *, returned: bool = False) -> None:
    """Refuse what ``features`` cannot iterate as batches before a hit can hide it: a wrong argument
    must fail the same way whether or not the features are cached already. Only type checks: ``iter()``
    would start a DataLoader's workers on every hit."""
    if isinstance(batches, _NOT_BATCHES) or not (
        isinstance(batches, Iterable) or hasattr(type(batches), "__getitem__")
    ):
        got = f"the function given as batches returned {_describe(batches)}" if returned else (
            f"got {_describe(batches)}"
        )
        hint = " For one batch pass [x]; for many, a list or generator of them." if isinstance(
            batches, (torch.Tensor, np.ndarray)
        ) else ""
        raise ArgumentError(
            "FeatureCache.features takes batches as an iterable of input batches (a list, a generator, a "
            f"DataLoader) or a function returning one; {got}.{hint}"
        )


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _describe(value: Any) -> str:
    """What a value is, for a message: a tensor's shape, a tuple's items, a dict's keys."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return f"{_a(value)} of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        items = ", ".join(
            f"a tensor {tuple(v.shape)}" if isinstance(v, torch.Tensor) else _a(v) for v in value[:4]
        )
        return f"{_a(value)} of {len(value)} ({items}{', ...' if len(value) > 4 else ''})"
    if isinstance(value, Mapping):
        return f"{_a(value)} with keys {list(value)[:6]}"
    return _a(value)


def _rows(y: Any, x: torch.Tensor, index: int) -> np.ndarray:
    """The encoder's output for batch ``index`` as float32 rows: one tensor, one row per input sample."""
    if not isinstance(y, torch.Tensor):
        raise DataError(
            f"FeatureCache's encoder must return one tensor per batch, one row per sample; for batch {index} it "
            f"returned {_describe(y)}. Give FeatureCache a module whose forward returns the one output to cache "
            "(e.g. one that returns self.encoder(x)[0])."
        )
    if y.dim() == 0 or (x.dim() > 0 and y.shape[0] != x.shape[0]):
        raise DataError(
            f"FeatureCache's encoder returned an output of shape {tuple(y.shape)} for batch {index} of "
            f"{x.shape[0] if x.dim() else 1} samples (input {tuple(x.shape)}); it must return one row per "
            "sample, the batch axis first."
        )
    return y.float().cpu().numpy()


def _file_id(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)  # a new file (atomic rename) has another inode


#: The feature files this process has hashed: path -> ((inode, size, mtime) then, whether it matched its
#: record). A hit stats its file anyway; hashing the whole file instead would cost far more than the 1 ms
#: a hit may take (sha256 ran at about 0.8 GB/s here: 3 ms for 2 MB of features, 13 s for 10 GB).
_CHECKED: dict[Path, tuple[tuple[int, int, int], bool]] = {}


def _record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _verified(path: Path, stat: os.stat_result) -> bool:
    """Whether the file at ``path`` has the size and sha256 its ``.json`` recorded when it was written.

    Hashed in full once per process and file (inode, size and modification time: an in-place edit changes
    the time, a replacement the inode, a cut the size); after that a hit compares the stat only. An edit
    that restores the old modification time is seen by the next process, not by this one."""
    ident = _file_id(stat)
    checked = _CHECKED.get(path)
    if checked is not None and checked[0] == ident:
        return checked[1]
    from zoo.hub.hashes import hash_file

    record = _record(path)
    if record is None or "sha256" not in record:
        problem = f"has no record of its size and sha256 ({path.with_suffix('.json').name} missing or unreadable)"
    elif record.get("size") != stat.st_size:
        problem = f"is {stat.st_size} bytes, not the {record.get('size')} recorded when it was written"
    else:
        try:
            digest = hash_file(path)
        except OSError:
            return False  # gone or unreadable: the caller computes it again
        problem = None if digest == record["sha256"] else "does not have the sha256 recorded when it was written"
    if problem is not None:
        warnings.warn(
            f"FeatureCache: {path} {problem} (damaged, or replaced outside zoo); computing its features again.",
            stacklevel=4,
        )
    _CHECKED[path] = (ident, problem is None)
    return problem is None


def _default_root() -> Path:
    try:
        from zoo.hub.config import home
    except ImportError:  # pragma: no cover - the hub ships with zoo; this only guards partial installs
        return Path(os.environ.get("ZOO_HOME", "~/.cache/zoo")).expanduser() / "features"
    return home() / "features"


class FeatureCache:
    """``FeatureCache(encoder).features(batches, fingerprint=..., count=N)`` -> (N, ...) memory-mapped array.

    ``encoder`` maps one input batch to one output row per sample (for video: (B, T, 3, H, W) ->
    (B, T, F)). It is run in eval mode under ``torch.inference_mode``; it is not moved or changed,
    except ``channels_last=True`` converts its 4-D weights to the channels-last memory format (often
    faster for convolutions on CPU and GPU). ``transform`` turns each raw batch (e.g. uint8 numpy
    frames) into the encoder's input tensor. ``dtype="float16"`` halves the disk size. ``progress``: the
    extraction bar, by default only on a terminal (``zoo.utils.progress``); ``True`` even in a log.

    The encoder must return one tensor per batch: a model with several outputs (a tuple, a dict) needs a
    module around it that returns the one to cache, since which one is meant is the caller's choice.
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        identity: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | None = None,
        transform: Callable[[Any], torch.Tensor] | None = None,
        channels_last: bool = False,
        dtype: str = "float32",
        progress: bool | None = None,
    ):
        if dtype not in ("float32", "float16"):
            raise OptionError(f"FeatureCache stores float32 or float16 features; got dtype={dtype!r}.")
        if not isinstance(encoder, nn.Module):
            hint = (
                f" To use an application, load it first: zoo.load({encoder!r}, include_top=False, pooling='avg')."
                if isinstance(encoder, str) else ""
            )
            raise ArgumentError(
                f"FeatureCache needs the encoder as a torch module (e.g. model.encoder); got a "
                f"{type(encoder).__name__}.{hint}"
            )
        if identity is not None and not isinstance(identity, Mapping):
            raise ArgumentError(
                f"FeatureCache identity must be a dict of plain JSON data, such as {{'weights': 'toy_shapes'}}; got "
                f"a {type(identity).__name__}."
            )
        if transform is not None and not callable(transform):
            raise ArgumentError(f"FeatureCache transform must be a function of a batch; got a {type(transform).__name__}.")
        if root is not None:
            if not isinstance(root, (str, os.PathLike)):
                raise ArgumentError(f"FeatureCache root must be a folder path; got a {type(root).__name__}.")
            if Path(root).expanduser().exists() and not Path(root).expanduser().is_dir():
                raise OptionError(f"FeatureCache root={os.fspath(root)!r} is a file, not a folder; give a folder path.")
        self.encoder = encoder
        self.identity = dict(identity or {})
        self.root = Path(root).expanduser() if root is not None else None
        self.transform = transform
        # what transform= does is part of the key, unless the caller names it in identity["transform"]
        self._transform_key = callable_fingerprint(transform) if "transform" not in self.identity else None
        self.channels_last = check_bool("FeatureCache", "channels_last", channels_last)
        self.dtype = dtype
        self.progress = None if progress is None else check_bool("FeatureCache", "progress", progress)
        self.hits = 0
        self.misses = 0
        self._memo = _EncoderMemo()
        #: The last file read: (path, its (inode, size, mtime) then, the mapped array), so that a hit on an
        #: unchanged file costs one stat instead of opening and mapping it again (0.4-0.5 ms).
        self._last: tuple[Path, tuple[int, int, int], np.ndarray] | None = None
        try:
            json.dumps(self.identity, sort_keys=True)
        except TypeError as exc:
            raise ArgumentError(f"FeatureCache identity must be plain JSON data: {exc}") from None

    # -- keys -----------------------------------------------------------------------------------------
    @property
    def directory(self) -> Path:
        return self.root if self.root is not None else _default_root()

    def key(self, fingerprint: str) -> str:
        """The cache key of this encoder's features of the data with ``fingerprint``.

        The encoder's state and structure are checked on every call (not once per cache object): an encoder
        trained, edited in place or given another submodule between two calls must not get its old features
        back (``_EncoderMemo``).
        """
        return self._key(fingerprint, self._memo.digests(self.encoder))

    def path(self, fingerprint: str) -> Path:
        return self._path(fingerprint, self._memo.digests(self.encoder))

    def _key(self, fingerprint: str, encoder: tuple[str, str]) -> str:
        if not isinstance(fingerprint, str) or not fingerprint:
            raise OptionError("FeatureCache needs the data's fingerprint as a non-empty string.")
        blob = json.dumps(
            {"encoder": encoder[0], "structure": encoder[1], "identity": self.identity, "data": fingerprint,
             "dtype": self.dtype, **({"transform": self._transform_key} if self._transform_key is not None else {})},
            sort_keys=True,
        )  # fmt: skip
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _path(self, fingerprint: str, encoder: tuple[str, str]) -> Path:
        return self.directory / f"{self._key(fingerprint, encoder)}.npy"

    # -- reading and computing ------------------------------------------------------------------------
    def features(
        self, batches: Iterable[Any] | Callable[[], Iterable[Any]], *, fingerprint: str, count: int
    ) -> np.ndarray:
        """The features of ``count`` samples, read from the cache or computed from ``batches``.

        ``batches`` (or a function returning them, so that a hit does not even start a generator)
        yields input batches in sample order; together they must hold exactly ``count`` samples.
        """
        if not callable(batches):
            _check_batches(batches)
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 1:
            raise OptionError(f"FeatureCache needs count >= 1 samples (an integer: the number of samples); got count={count!r}.")
        count = int(count)
        encoder = self._memo.digests(self.encoder)
        path = self._path(fingerprint, encoder)
        cached = self._read(path, count)
        if cached is not None:
            self.hits += 1
            return cached
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OptionError(
                f"FeatureCache cannot make its folder {path.parent}: a file is in the way; give root= a folder."
            ) from None
        with self._lock(path):
            cached = self._read(path, count)  # another process may have written it meanwhile
            if cached is not None:
                self.hits += 1
                return cached
            self.misses += 1
            if callable(batches):
                batches = batches()
                _check_batches(batches, returned=True)
            self._compute(batches, path, count, fingerprint, encoder)
        result = self._read(path, count)
        if result is None:  # replaced or damaged between the write and this read, by something outside zoo
            raise DataError(f"FeatureCache wrote {path} but could not read it back; check the disk and run again.")
        return result

    def _read(self, path: Path, count: int) -> np.ndarray | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        ident = _file_id(stat)
        if self._last is not None and self._last[:2] == (path, ident):
            array = self._last[2]
        else:
            if not _verified(path, stat):
                return None
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
                moved = _file_id(os.stat(path)) != ident
            except (ValueError, OSError, EOFError):
                return None  # unreadable (e.g. a disk filled up mid-copy by another tool): compute again
            if moved:  # replaced between the hash and the mapping: read it again under the lock
                return None
            self._last = (path, ident, array)
        return array if array.shape[:1] == (count,) else None

    @staticmethod
    def _lock(path: Path):
        try:
            from filelock import FileLock
        except ImportError:  # pragma: no cover - filelock is a zoo dependency
            return contextlib.nullcontext()
        return FileLock(str(path) + ".lock")

    def _compute(
        self, batches: Iterable[Any], path: Path, count: int, fingerprint: str, encoder_key: tuple[str, str]
    ) -> None:
        encoder = self.encoder
        if self.channels_last:
            encoder = encoder.to(memory_format=torch.channels_last)
        was_training = encoder.training
        encoder.eval()
        device = next((p.device for p in encoder.parameters()), torch.device("cpu"))
        start, written, out, first = time.perf_counter(), 0, None, ()
        bar = self._bar(count)
        try:
            with atomic_path(path, fsync=True) as tmp:
                with torch.inference_mode():
                    for index, batch in enumerate(batches):
                        x = self.transform(batch) if self.transform is not None else _as_input(batch)
                        if not isinstance(x, torch.Tensor):
                            raise DataError(
                                f"FeatureCache's transform must return the encoder's input tensor; it returned a "
                                f"{type(x).__name__}."
                            )
                        x = x.to(device)
                        if self.channels_last and x.dim() == 4:
                            x = x.contiguous(memory_format=torch.channels_last)
                        y = _rows(encoder(x), x, index)
                        if out is None:
                            out = np.lib.format.open_memmap(
                                tmp, mode="w+", dtype=self.dtype, shape=(count, *y.shape[1:])
                            )
                            first = y.shape
                        elif y.shape[1:] != out.shape[1:]:
                            raise DataError(
                                f"FeatureCache's encoder gave an output of shape {y.shape} for batch {index} "
                                f"(samples {written}-{written + len(y) - 1}) but {first} for batch 0: every batch must "
                                "give rows of one shape. Pad or crop the inputs to one size (e.g. as many frames per "
                                "clip in every batch)."
                            )
                        if written + len(y) > count:
                            raise DataError(
                                f"FeatureCache was told count={count} but the batches hold more samples."
                            )
                        out[written : written + len(y)] = y
                        written += len(y)
                        bar.update(len(y))
                if written != count:
                    raise DataError(
                        f"FeatureCache was told count={count} but the batches held {written} samples."
                    )
                out.flush()
                del out  # closes the memmap before the temp file takes the name
                # the record first, then the file: a reader that finds the file finds its record too
                from zoo.hub.hashes import hash_file

                meta = {
                    "fingerprint": fingerprint,
                    "identity": self.identity,
                    "encoder_state_sha256": encoder_key[0],
                    "encoder_structure_sha256": encoder_key[1],
                    "transform_sha256": self._transform_key,
                    "count": count,
                    "size": os.path.getsize(tmp),
                    "sha256": hash_file(tmp),
                    "seconds": round(time.perf_counter() - start, 3),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
                write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2))
        finally:
            bar.close()
            encoder.train(was_training)
        with contextlib.suppress(OSError):
            _CHECKED[path] = (_file_id(os.stat(path)), True)  # hashed just now: the first read need not again

    def _bar(self, count: int):
        return progress(total=count, desc="features", unit="sample", show=self.progress)

    def __repr__(self) -> str:
        return f"FeatureCache(directory={str(self.directory)!r}, hits={self.hits}, misses={self.misses})"
