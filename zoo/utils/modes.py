"""Running a module in train or eval mode for a while and putting every submodule's own flag back.

``module.train(was)`` afterwards would not do: it sets every submodule to ``was``, so a backbone a user
had put in eval mode inside a training model (frozen batch norms) would silently train again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def in_mode(module: nn.Module, training: bool) -> Iterator[nn.Module]:
    """``module.train(training)`` inside the block; each submodule's flag as it was after it."""
    modes = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield module
    finally:
        for m, mode in modes:
            m.training = mode
