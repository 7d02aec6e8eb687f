"""What ``zoo.export`` hands back: where the file went and how closely it matches the PyTorch model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExportResult:
    """The written artefact and its check. ``max_abs_diff``/``tolerance`` are None when ``check=False``."""

    path: Path
    format: str
    model: str
    files: tuple[Path, ...]
    size_bytes: int
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dynamic_batch: bool
    batch_sizes: tuple[int, ...]
    max_abs_diff: float | None
    tolerance: float | None
    seconds: float

    @property
    def checked(self) -> bool:
        return self.max_abs_diff is not None

    def __str__(self) -> str:
        size = f"{self.size_bytes / 2**20:.1f} MiB"
        head = f"exported {self.model} to {self.format}: {self.path} ({size}, {self.seconds:.1f} s)"
        if not self.checked:
            return f"{head}; not checked"
        batches = ", ".join(map(str, self.batch_sizes))
        return (
            f"{head}; checked against PyTorch at batch size {batches}: max abs diff {self.max_abs_diff:.3g} "
            f"<= tolerance {self.tolerance:.3g}"
        )
