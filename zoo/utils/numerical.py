"""Keras' array helpers ``to_categorical`` and ``normalize``, for numpy arrays and torch tensors alike
(the result has the input's kind)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import DataError


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> Any:
    """Class ids -> one-hot rows: shape ``y.shape + (num_classes,)`` (a trailing axis of size 1 is
    dropped first, as in Keras). ``num_classes`` defaults to ``max(y) + 1``."""
    tensor = _is_tensor(y)
    array = y.detach().cpu().numpy() if tensor else np.asarray(y)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise DataError(f"to_categorical expects integer class ids, got values of dtype {array.dtype}.")
        array = array.astype(np.int64)
    if array.ndim and array.shape[-1] == 1 and array.ndim > 1:
        array = array[..., 0]
    if num_classes is None:
        num_classes = int(array.max()) + 1 if array.size else 0
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise DataError(
            f"to_categorical: class ids must lie in [0, {num_classes}), got values in [{array.min()}, {array.max()}]."
        )
    out = np.zeros((*array.shape, num_classes), dtype=dtype)
    np.put_along_axis(out, array[..., None].astype(np.int64), 1, axis=-1)
    if tensor:
        import torch

        return torch.from_numpy(out).to(y.device)
    return out


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """Scale ``x`` to unit ``order``-norm along ``axis`` (rows of zeros stay zero)."""
    if _is_tensor(x):
        import torch

        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    array = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))
    norm = np.atleast_1d(np.linalg.norm(array, order, axis))
    norm[norm == 0] = 1
    return array / np.expand_dims(norm, axis)
