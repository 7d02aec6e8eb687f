"""Export errors: every one says which model, which format, and what to do about it."""

from __future__ import annotations

from zoo.errors import ZooError


class ExportError(ZooError):
    """A model could not be exported to the format asked for; no file was left behind."""


class UnsupportedOperatorError(ExportError):
    """The model uses an operator the format's exporter cannot translate; ``op`` names it."""

    def __init__(self, message: str, *, op: str, format: str) -> None:
        super().__init__(message)
        self.op = op
        self.format = format


class ExportCheckError(ExportError):
    """The written artefact, loaded back, does not compute what the PyTorch model computes."""

    def __init__(self, message: str, *, max_abs_diff: float | None = None) -> None:
        super().__init__(message)
        self.max_abs_diff = max_abs_diff


class MissingDependencyError(ExportError, ImportError):
    """A format needs an optional package that is not installed; the message says what to install."""
