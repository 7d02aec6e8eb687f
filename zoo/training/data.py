"""Turn whatever the user passed as data into batches ``(x, y, sample_weight)``, one epoch at a time.

Accepted: tensors or numpy arrays (``x`` may be a tuple/list/dict of them for multi-input models), a
map-style or iterable ``torch.utils.data.Dataset``, a ``DataLoader``, a re-iterable of batches, a one-shot
iterator/generator of batches (streamed, never held in memory: Keras' ``fit_generator`` case), or a
zero-argument callable returning a fresh iterator each epoch. A batch is ``(x, y)``, ``(x, y,
sample_weight)`` or ``(x,)``/``x``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, IterableDataset, RandomSampler

from zoo.errors import ArgumentError, DataError, OptionError

Batch = tuple[Any, Any, Any]


# -- structures of tensors ----------------------------------------------------------------------------
def numbers_list(data: Any) -> bool:
    """A Python list of numbers (``y = [0, 1, 1, ...]``) is one array, as Keras takes it, not a structure of
    one-number arrays (each of which has no sample axis)."""
    return (
        isinstance(data, list) and bool(data)
        and all(isinstance(v, (numbers.Number, np.generic)) and not isinstance(v, (str, bytes)) for v in data)
    )  # fmt: skip


def map_structure(fn: Callable[[Any], Any], data: Any) -> Any:
    if isinstance(data, (list, tuple)) and not numbers_list(data):
        return type(data)(map_structure(fn, d) for d in data)
    if isinstance(data, dict):
        return {k: map_structure(fn, v) for k, v in data.items()}
    if data is None:
        return None
    return fn(data)


def first_leaf(data: Any) -> Any:
    if isinstance(data, (list, tuple)):
        return first_leaf(data[0]) if data else None
    if isinstance(data, dict):
        return first_leaf(next(iter(data.values()))) if data else None
    return data


def to_tensor(value: Any) -> Any:
    """numpy -> torch (float64 becomes float32, Keras' floatx), a list of numbers too; tensors and other
    objects pass."""
    if numbers_list(value):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(value))
        return tensor.float() if tensor.dtype == torch.float64 else tensor
    return value


def to_device(data: Any, device: torch.device, dtype: torch.dtype | None = None) -> Any:
    """``data`` on ``device``; with ``dtype`` (a model whose weights are all float64 or bfloat16), its
    floating tensors in that dtype too, as Keras casts inputs to a layer's dtype (integer tensors, token ids
    and labels, stay as they are)."""
    if isinstance(data, torch.Tensor) and (dtype is None or data.dtype == dtype or not data.is_floating_point()):
        return data if data.device == device else data.to(device, non_blocking=True)  # the hot path
    if data is None:
        return None

    def move(t: Any) -> Any:
        if isinstance(t, np.ndarray):
            t = to_tensor(t)
        if not isinstance(t, torch.Tensor):
            return t
        if dtype is not None and t.is_floating_point() and t.dtype != dtype:
            return t.to(device, dtype, non_blocking=True)
        return t.to(device, non_blocking=True)

    return map_structure(move, data)


def input_dtype(model: torch.nn.Module) -> torch.dtype | None:
    """The dtype to give a model's floating inputs: its weights' one floating dtype when that is not
    float32 (a ``model.double()`` or ``model.to(torch.bfloat16)``), else None (inputs as they come)."""
    dtypes = {p.dtype for p in model.parameters() if p.is_floating_point()}
    return next(iter(dtypes)) if len(dtypes) == 1 and dtypes != {torch.float32} else None


def unpack(batch: Any) -> Batch:
    """Keras' ``unpack_x_y_sample_weight``: a tuple/list of 1, 2 or 3 items, or ``x`` alone."""
    if isinstance(batch, (list, tuple)):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        raise DataError(
            f"a data batch must be (x,), (x, y) or (x, y, sample_weight), got a {type(batch).__name__} of "
            f"{len(batch)} items; wrap several model inputs in a tuple: ((x1, x2), y)."
        )
    if isinstance(batch, dict) and {"x", "y"} <= set(batch):
        return batch["x"], batch["y"], batch.get("sample_weight")
    return batch, None, None


def batch_size_of(x: Any) -> int:
    leaf = first_leaf(x)
    return int(leaf.shape[0]) if hasattr(leaf, "shape") and len(leaf.shape) else 1


# -- sources ------------------------------------------------------------------------------------------
class Source:
    """Data that can be iterated once per epoch; ``num_batches`` is ``None`` when unknown."""

    num_batches: int | None = None
    one_shot = False  # an iterator that cannot be restarted
    needs_join = False  # ranks may see different batch counts (DDP must use join())

    def iterate(self, epoch: int) -> Iterator[Any]:
        raise NotImplementedError


class ArraySource(Source):
    """In-memory tensors: batches by indexing (no per-sample collate), shuffled per epoch."""

    def __init__(self, x, y, sample_weight, batch_size: int, shuffle: bool, rank: int = 0, world: int = 1):
        self.n = _num_samples(x, y, sample_weight)
        self.x, self.y, self.sw = (map_structure(to_tensor, d) for d in (x, y, sample_weight))
        self.batch_size, self.shuffle, self.rank, self.world = batch_size, shuffle, rank, world
        per_rank = math.ceil(self.n / world) if world > 1 else self.n
        self.num_batches = math.ceil(per_rank / batch_size)

    def _indices(self, epoch: int) -> torch.Tensor | None:
        if self.world > 1:
            sampler = DistributedSampler(
                range(self.n), num_replicas=self.world, rank=self.rank, shuffle=self.shuffle, seed=0
            )
            sampler.set_epoch(epoch)
            return torch.tensor(list(sampler))
        return torch.randperm(self.n) if self.shuffle else None

    def iterate(self, epoch: int) -> Iterator[Any]:
        index = self._indices(epoch)
        size = self.n if index is None else len(index)
        for start in range(0, size, self.batch_size):
            rows = (
                slice(start, start + self.batch_size)
                if index is None
                else index[start : start + self.batch_size]
            )
            yield tuple(map_structure(lambda t, rows=rows: t[rows], d) for d in (self.x, self.y, self.sw))


def _leaves(data: Any, label: str) -> Iterator[tuple[str, Any]]:
    """``(label, array)`` for each array of a structure: ``x``, ``x[1]``, ``x['question']``; a list of strings
    is one leaf (class names, for ``check_numbers``)."""
    if isinstance(data, (list, tuple)) and not (data and isinstance(data[0], (str, bytes))) and not numbers_list(data):
        for i, item in enumerate(data):
            yield from _leaves(item, f"{label}[{i}]")
    elif isinstance(data, dict):
        for key, item in data.items():
            yield from _leaves(item, f"{label}[{key!r}]")
    elif data is not None:
        yield label, data


def check_numbers(name: str, leaf: Any) -> None:
    """Strings (class names, text) and Python objects cannot become tensors: torch's ``TypeError`` lists
    numpy dtypes and says nothing of the fix, so refuse them here, by name, saying how to map classes to
    integers (Keras takes no string labels either)."""
    if isinstance(leaf, (list, tuple)) and leaf and isinstance(leaf[0], (str, bytes)):
        first: Any = leaf[0]
    elif isinstance(leaf, (str, bytes)):
        first = leaf
    elif isinstance(leaf, np.ndarray) and leaf.dtype.kind in "USO":
        first = next(iter(leaf.flat), None)
    else:
        return
    kind = "Python objects" if getattr(getattr(leaf, "dtype", None), "kind", "") == "O" else "strings"
    example = first.item() if isinstance(first, np.generic) else first  # 'cat', not np.str_('cat')
    raise DataError(
        f"{name} holds {kind} (e.g. {example!r}); zoo trains on numbers. If these are class labels, map each "
        "class to an integer 0..n-1 first: classes, y = np.unique(y, return_inverse=True), or sklearn's "
        "LabelEncoder().fit_transform(y) (keep the classes to decode predictions); text inputs need a "
        "tokenizer that gives integer ids. Numbers stored as objects: np.asarray(data, dtype='float32')."
    )


def check_weights(name: str, weights: Any) -> None:
    """Sample weights must be finite and >= 0, checked once over the whole array when the data is set up
    (no cost per step): a NaN or inf turns the loss into NaN/inf and ruins the weights with no word, and a
    negative weight makes ``fit`` *raise* that sample's loss (Keras takes both silently)."""
    values = torch.as_tensor(weights).detach()
    if values.dtype == torch.bool or values.is_complex():
        return
    values = values.reshape(-1).double()
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        at = int(bad.nonzero()[0])
        raise DataError(
            f"{name} holds {float(values[at])} (at flat index {at}, {int(bad.sum())} non-finite in all): weights "
            "must be finite numbers, or the loss becomes NaN/inf. Replace them, e.g. np.nan_to_num(w, nan=0.0), "
            "or find where the weights were computed (a division by zero?)."
        )
    if values.numel() and float(values.min()) < 0:
        at = int(values.argmin())
        raise DataError(
            f"{name} holds negative weights (the lowest, {float(values[at]):.4g}, at flat index {at}): a negative "
            "weight makes training increase that sample's loss. Give weights >= 0 (0 leaves a sample out), e.g. "
            "np.clip(w, 0, None) or np.abs(w) if the sign is an artefact."
        )


def _num_samples(x: Any, y: Any = None, sample_weight: Any = None) -> int:
    """The number of samples in array data, after refusing what cannot be trained on as given: strings
    (``check_numbers``), bad sample weights (``check_weights``), arrays of unequal lengths."""
    sizes: dict[str, int] = {}
    for data, label in ((x, "x"), (y, "y"), (sample_weight, "sample_weight")):
        for name, leaf in _leaves(data, label):
            check_numbers(name, leaf)
            if numbers_list(leaf):
                leaf = np.asarray(leaf)
            if label == "sample_weight" and hasattr(leaf, "shape"):
                check_weights(name, leaf)
            if not hasattr(leaf, "shape") or not len(leaf.shape):
                raise ArgumentError(f"array data must have a first (sample) axis, got {type(leaf).__name__}.")
            sizes[name] = int(leaf.shape[0])
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in sizes.items())
        raise DataError(
            f"x, y and sample_weight must have the same number of samples (the first axis); {listed}. "
            "Check that the targets belong to these inputs (and that no split or filter was applied to one "
            "side only)."
        )
    return next(iter(sizes.values()), 0)


def check_batch_size(value: Any, what: str = "batch_size") -> int | None:
    """A positive int (numpy ints too) or None; anything else is an ``ArgumentError`` (Keras takes no
    fractional batch size either)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ArgumentError(
            f"{what} must be a positive int (samples per batch), got {value!r} ({type(value).__name__}); "
            f"e.g. {what}=32."
        )
    return int(value)


class LoaderSource(Source):
    """A ``DataLoader`` (given, or built around a ``Dataset``); re-iterable, sharded under DDP."""

    def __init__(self, loader: DataLoader, rank: int = 0, world: int = 1):
        self.loader = loader
        self.needs_join = False
        if world > 1 and not isinstance(loader.dataset, IterableDataset):
            if not isinstance(loader.sampler, DistributedSampler) and loader.batch_sampler is not None:
                self.loader = _distributed_copy(loader, rank, world)
        elif world > 1:
            self.needs_join = True  # an IterableDataset must shard itself (get_worker_info / rank)
        try:
            self.num_batches = len(self.loader)
        except TypeError:
            self.num_batches = None

    def iterate(self, epoch: int) -> Iterator[Any]:
        sampler = getattr(self.loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        return iter(self.loader)


def _distributed_copy(loader: DataLoader, rank: int, world: int) -> DataLoader:
    shuffle = isinstance(loader.sampler, RandomSampler)
    sampler = DistributedSampler(loader.dataset, num_replicas=world, rank=rank, shuffle=shuffle)
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        worker_init_fn=loader.worker_init_fn,
        persistent_workers=loader.persistent_workers,
    )


class IterableSource(Source):
    """Batches from a re-iterable, a one-shot iterator, or a callable giving a fresh iterator per epoch.

    Under DDP each rank keeps every ``world``-th batch; ranks may then run out at different steps, so the
    loop trains inside ``DistributedDataParallel.join()``.
    """

    def __init__(self, data: Any, rank: int = 0, world: int = 1):
        self.data, self.rank, self.world = data, rank, world
        self.factory = callable(data) and not hasattr(data, "__iter__")
        self.one_shot = not self.factory and iter(data) is data
        self.needs_join = world > 1
        self.num_batches = None
        if not self.factory and not self.one_shot and hasattr(data, "__len__"):
            self.num_batches = math.ceil(len(data) / world)

    def iterate(self, epoch: int) -> Iterator[Any]:
        iterator = iter(self.data()) if self.factory else iter(self.data)
        if self.world == 1:
            return iterator
        return (b for i, b in enumerate(iterator) if i % self.world == self.rank)


def make_source(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None = 32,
    shuffle: bool = False,
    rank: int = 0,
    world: int = 1,
    what: str = "x",
) -> Source:
    if x is None:
        raise DataError(
            f"{what} is None; pass arrays/tensors, a Dataset, a DataLoader or a generator of batches."
        )
    batch_size = check_batch_size(batch_size, "validation_batch_size" if what == "validation_data" else "batch_size")
    if is_arrays(x):
        if batch_size is None:
            raise ArgumentError("batch_size must be a positive int for array data, got None; e.g. batch_size=32.")
        return ArraySource(x, y, sample_weight, batch_size, shuffle, rank, world)
    if y is not None or sample_weight is not None:
        raise DataError(
            f"y/sample_weight can only be given with array {what}; a {type(x).__name__} must yield "
            "(x, y) or (x, y, sample_weight) batches itself."
        )
    if isinstance(x, DataLoader):
        return LoaderSource(x, rank, world)
    if isinstance(x, Dataset) and not isinstance(x, IterableDataset):
        if world > 1:
            sampler = DistributedSampler(x, num_replicas=world, rank=rank, shuffle=shuffle)
            return LoaderSource(DataLoader(x, batch_size=batch_size, sampler=sampler), rank, world)
        return LoaderSource(DataLoader(x, batch_size=batch_size, shuffle=shuffle))
    if isinstance(x, IterableDataset):
        return LoaderSource(DataLoader(x, batch_size=batch_size), rank, world)
    if callable(x) or hasattr(x, "__iter__"):
        return IterableSource(x, rank, world)
    raise ArgumentError(
        f"cannot read {what} of type {type(x).__name__}: pass tensors/numpy arrays, a torch Dataset, a "
        "DataLoader, an iterable/generator of batches, or a callable returning one."
    )


def is_arrays(x: Any) -> bool:
    """In-memory data rather than batches: a tensor/array, a tuple or dict of such (several inputs), or a
    list of tensors/arrays (Keras' multi-input list). A list of tuples is a list of batches."""
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return True
    if isinstance(x, dict):
        return bool(x) and all(is_arrays(v) for v in x.values())
    if isinstance(x, tuple):
        return bool(x) and all(is_arrays(v) for v in x)
    if isinstance(x, list):
        return bool(x) and all(isinstance(v, (torch.Tensor, np.ndarray)) for v in x)
    return False


class EpochIterator:
    """Steps of one epoch: ``steps_per_epoch`` caps them, and then the iterator carries over to the next
    epoch (as Keras 3's ``EpochIterator``); a source that runs dry mid-epoch ends the epoch with a
    warning, and a one-shot generator that runs dry ends training (``exhausted``)."""

    def __init__(self, source: Source, steps: int | None = None):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1):
            raise ArgumentError(f"steps must be a positive int or None, got {steps!r} ({type(steps).__name__}).")
        self.source, self.steps = source, steps
        self._iterator: Iterator[Any] | None = None
        self.exhausted = False
        self._epoch_for_iterator = 0

    @property
    def num_steps(self) -> int | None:
        if self.steps is not None:
            return self.steps
        return self.source.num_batches

    def epoch(self, epoch: int) -> Iterator[Any]:
        if self._iterator is None or self.steps is None:
            self._iterator = self.source.iterate(epoch)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if self.source.one_shot:
                    self.exhausted = True
                if self.steps is not None:
                    warnings.warn(
                        f"the input ran out of data after {step} of steps={self.steps} steps; "
                        + (
                            "training stops. Give a generator that does not end, or a callable returning "
                            "a fresh one each epoch."
                            if self.source.one_shot
                            else "the epoch ends early and the next one starts the data again."
                        ),
                        stacklevel=4,
                    )
                return
            yield batch
            step += 1


# -- fit's validation data and predict's outputs --------------------------------------------------------
def unpack_validation(data: Any) -> Batch:
    """``validation_data`` as ``(x, y, sample_weight)``: an ``(x, y[, sw])`` tuple of arrays (a list too, as
    Keras 3 takes it, when its first item is one array), or batches."""
    if isinstance(data, list) and len(data) in (2, 3) and hasattr(data[0], "shape"):
        data = tuple(data)
    if isinstance(data, tuple) and len(data) in (2, 3) and is_arrays(data[0]):
        return data[0], data[1], data[2] if len(data) == 3 else None
    return data, None, None


def split_validation(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple[Any, Any, Any, Batch]:
    """Keras' ``train_validation_split``: the *last* ``fraction`` of the samples, taken before shuffling."""
    if not 0.0 < fraction < 1.0:
        raise OptionError(f"validation_split must be in (0, 1), got {fraction!r}.")
    if not is_arrays(x):
        raise OptionError(
            "validation_split works only with array/tensor data; for a Dataset, DataLoader or generator pass "
            "validation_data instead."
        )
    n = _num_samples(x, y, sample_weight)  # strings and unequal lengths named before anything is sliced
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise DataError(
            f"validation_split={fraction} leaves an empty training or validation set with {n} samples; "
            "use more data or another fraction."
        )

    def head(t: Any) -> Any:
        return to_tensor(t)[:split_at]

    def tail(t: Any) -> Any:
        return to_tensor(t)[split_at:]

    return (
        map_structure(head, x),
        map_structure(head, y),
        map_structure(head, sample_weight),
        (map_structure(tail, x), map_structure(tail, y), map_structure(tail, sample_weight)),
    )


def concat_outputs(outputs: list[Any]) -> Any:
    """Per-batch model outputs joined along the batch dimension, keeping their tuple/dict structure."""
    first = outputs[0]
    if isinstance(first, (tuple, list)):
        return type(first)(concat_outputs([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: concat_outputs([o[k] for o in outputs]) for k in first}
    return torch.cat(outputs) if torch.is_tensor(first) else outputs
