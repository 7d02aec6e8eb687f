"""Features of a frozen encoder, computed once and memory-mapped from disk afterwards.

Transfer learning with a frozen backbone recomputes the same features every epoch; computing them once
(inference mode, batched) turns an epoch into a pass over a small array. The cache key is a hash of

* the encoder's state (every parameter and buffer, so a preprocessing module's mean/std count too),
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
memory is paged in as batches touch it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.atomic import atomic_path, write_text_atomic
from zoo.errors import ArgumentError, DataError, OptionError
from zoo.utils.progress import progress

__all__ = ["FeatureCache", "callable_fingerprint", "state_digest"]


def state_digest(module: nn.Module) -> str:
    """sha256 of a module's class and state dict (names, dtypes, shapes and bytes)."""
    digest = hashlib.sha256(f"{type(module).__module__}.{type(module).__qualname__}".encode())
    for name, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


_PLAIN = (type(None), bool, int, float, complex, str, bytes)


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


def _state_tensors(module: nn.Module) -> list[torch.Tensor]:
    """Every parameter and buffer of ``module`` and its submodules, in a fixed order (a shared one may come
    twice). Walks ``_modules`` directly: ``module.modules()`` builds each submodule's qualified name, 0.26 of
    a 0.49 ms cache hit for inception_v3."""
    found: list[torch.Tensor | None] = []
    stack: list[nn.Module | None] = [module]
    while stack:
        m = stack.pop()
        if m is None:  # a submodule slot set to None
            continue
        if m._parameters:
            found.extend(m._parameters.values())
        if m._buffers:
            found.extend(m._buffers.values())
        if m._modules:
            stack.extend(m._modules.values())
    return [t for t in found if t is not None]


class _DigestMemo:
    """``state_digest(module)``, hashed in full only when one of the module's tensors may have changed.

    Hashing inception_v3's 580 tensors (100 MB) took 90 ms, on every cache hit. Every in-place change of a
    tensor that autograd can see (an optimizer step, ``load_state_dict``, ``p.add_()`` under ``no_grad``,
    a BatchNorm's running statistics) bumps its version counter, and replacing a parameter, buffer or
    submodule changes which tensor objects the module holds: the memo keeps the versions and weak references
    to the tensors of the last full hash, and compares those (about 0.2 ms for inception_v3). An edit through
    ``tensor.data`` bypasses the version counter; inference-mode tensors have none: with one of those the
    state is hashed in full every time.
    """

    def __init__(self) -> None:
        self._tensors: list[weakref.ref[torch.Tensor]] = []
        self._versions: list[int] = []
        self._module: weakref.ref[nn.Module] | None = None
        self._digest = ""

    def digest(self, module: nn.Module) -> str:
        tensors = _state_tensors(module)
        try:
            versions = [t._version for t in tensors]
        except RuntimeError:  # an inference-mode tensor: no version counter to trust
            return state_digest(module)
        if (
            self._module is not None
            and self._module() is module
            and versions == self._versions
            and len(tensors) == len(self._tensors)
            and all(ref() is t for ref, t in zip(self._tensors, tensors, strict=True))
        ):
            return self._digest
        self._digest = state_digest(module)
        self._module, self._versions = weakref.ref(module), versions
        self._tensors = [weakref.ref(t) for t in tensors]
        return self._digest


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
        self.channels_last = channels_last
        self.dtype = dtype
        self.progress = progress
        self.hits = 0
        self.misses = 0
        self._memo = _DigestMemo()
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

        The encoder's state is checked on every call (not once per cache object): an encoder trained or
        edited in place between two calls must not get its old features back (``_DigestMemo``).
        """
        return self._key(fingerprint, self._memo.digest(self.encoder))

    def path(self, fingerprint: str) -> Path:
        return self._path(fingerprint, self._memo.digest(self.encoder))

    def _key(self, fingerprint: str, state: str) -> str:
        if not isinstance(fingerprint, str) or not fingerprint:
            raise OptionError("FeatureCache needs the data's fingerprint as a non-empty string.")
        blob = json.dumps(
            {"encoder": state, "identity": self.identity, "data": fingerprint, "dtype": self.dtype,
             **({"transform": self._transform_key} if self._transform_key is not None else {})},
            sort_keys=True,
        )  # fmt: skip
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _path(self, fingerprint: str, state: str) -> Path:
        return self.directory / f"{self._key(fingerprint, state)}.npy"

    # -- reading and computing ------------------------------------------------------------------------
    def features(
        self, batches: Iterable[Any] | Callable[[], Iterable[Any]], *, fingerprint: str, count: int
    ) -> np.ndarray:
        """The features of ``count`` samples, read from the cache or computed from ``batches``.

        ``batches`` (or a function returning them, so that a hit does not even start a generator)
        yields input batches in sample order; together they must hold exactly ``count`` samples.
        """
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 1:
            raise OptionError(f"FeatureCache needs count >= 1 samples (an integer: the number of samples); got count={count!r}.")
        count = int(count)
        state = self._memo.digest(self.encoder)
        path = self._path(fingerprint, state)
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
            self._compute(batches() if callable(batches) else batches, path, count, fingerprint, state)
        result = self._read(path, count)
        assert result is not None
        return result

    def _read(self, path: Path, count: int) -> np.ndarray | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)  # a new file (atomic rename) has another inode
        if self._last is not None and self._last[:2] == (path, key):
            array = self._last[2]
        else:
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError):
                return None  # unreadable (e.g. a disk filled up mid-copy by another tool): compute again
            self._last = (path, key, array)
        return array if array.shape[:1] == (count,) else None

    @staticmethod
    def _lock(path: Path):
        try:
            from filelock import FileLock
        except ImportError:  # pragma: no cover - filelock is a zoo dependency
            return contextlib.nullcontext()
        return FileLock(str(path) + ".lock")

    def _compute(self, batches: Iterable[Any], path: Path, count: int, fingerprint: str, state: str) -> None:
        encoder = self.encoder
        if self.channels_last:
            encoder = encoder.to(memory_format=torch.channels_last)
        was_training = encoder.training
        encoder.eval()
        device = next((p.device for p in encoder.parameters()), torch.device("cpu"))
        start, written, out = time.perf_counter(), 0, None
        bar = self._bar(count)
        try:
            with atomic_path(path, fsync=True) as tmp:
                with torch.inference_mode():
                    for batch in batches:
                        x = self.transform(batch) if self.transform is not None else _as_input(batch)
                        if not isinstance(x, torch.Tensor):
                            raise DataError(
                                f"FeatureCache's transform must return the encoder's input tensor; it returned a "
                                f"{type(x).__name__}."
                            )
                        x = x.to(device)
                        if self.channels_last and x.dim() == 4:
                            x = x.contiguous(memory_format=torch.channels_last)
                        y = encoder(x).float().cpu().numpy()
                        if out is None:
                            out = np.lib.format.open_memmap(
                                tmp, mode="w+", dtype=self.dtype, shape=(count, *y.shape[1:])
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
        finally:
            bar.close()
            encoder.train(was_training)
        meta = {
            "fingerprint": fingerprint,
            "identity": self.identity,
            "encoder_state_sha256": state,
            "transform_sha256": self._transform_key,
            "count": count,
            "seconds": round(time.perf_counter() - start, 3),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2))

    def _bar(self, count: int):
        return progress(total=count, desc="features", unit="sample", show=self.progress)

    def __repr__(self) -> str:
        return f"FeatureCache(directory={str(self.directory)!r}, hits={self.hits}, misses={self.misses})"
