"""The exporter contract: what a format (built-in or from a plugin) provides to ``zoo.export``.

An exporter writes a model to a file and can load that file back into something callable, so that
``zoo.export`` can check every artefact against the PyTorch model before handing it to the user. A plugin
subclasses :class:`Exporter` and registers the class in ``zoo_register_exporters``; ``zoo.get("exporters",
name, **options)`` builds it with the user's format options.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.exporters.errors import MissingDependencyError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Signature:
    """Names of the model's inputs and (flattened) outputs, and whether axis 0 of each is a free batch."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dynamic_batch: bool = True


class Exporter:
    """Base class of an export format.

    Subclasses set ``name`` and ``suffix``, list optional packages in ``requires`` (import name -> pip
    requirement), may tighten or loosen the default check tolerances, and implement :meth:`save` and
    :meth:`load`. ``save`` may write side files next to ``path`` (ONNX external data): ``zoo.export`` moves
    everything the exporter wrote into place only after the check passed.
    """

    name: str = "exporter"
    suffix: str = ""
    #: Optional packages the format needs: import name -> what to ``pip install``.
    requires: Mapping[str, str] = {}
    #: The ``zoo`` extra that installs all of ``requires`` at once, if there is one.
    extra: str | None = None
    #: Default check tolerance: max |exported - eager| <= atol + rtol * max |eager|.
    atol: float = 1e-4
    rtol: float = 1e-4

    def check_requirements(self) -> None:
        """Raise :class:`MissingDependencyError` naming the first missing package and how to install it."""
        for module, requirement in self.requires.items():
            try:
                importlib.import_module(module)
            except ImportError as exc:
                how = f"pip install 'zoo-platform[{self.extra}]'" if self.extra else f"pip install {requirement}"
                raise MissingDependencyError(
                    f"exporting to {self.name} needs the package {requirement!r}, which is not installed "
                    f"({exc}). Install it with: {how}"
                ) from exc

    def save(
        self, model: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, signature: Signature
    ) -> None:
        """Write ``model`` (in eval mode, traced with ``inputs``) to ``path``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement save()")

    def load(self, path: Path, signature: Signature) -> Callable[..., Any]:
        """Load what :meth:`save` wrote; the result maps input tensors to outputs (tensors or arrays)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement load()")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
