"""Built-in plugin: registers zoo's datasets with lazy targets and plain-data metadata.

Everything ``zoo list datasets`` and ``zoo info mnist`` show comes from :mod:`zoo.datasets.sources`
(plain data), so listing neither downloads nor imports torch.
"""

from __future__ import annotations

from zoo.datasets import sources
from zoo.plugin import hookimpl

_ALIASES = {"boston_housing": ("boston",), "digits": ("sklearn_digits",)}
_WORD_INDEX = "zoo.datasets.loaders:get_word_index"


def _files(name: str) -> list[dict]:
    """The hub's convention: url, sha256, size, filename, mirrors (plus md5 where upstream publishes one)."""
    return [
        {"role": role, **{k: spec[k] for k in ("url", "sha256", "md5", "size", "filename")},
         "mirrors": list(spec["mirrors"])}
        for role, spec in sources.FILES.get(name, {}).items()
    ]  # fmt: skip


@hookimpl
def zoo_register_datasets(register) -> None:
    for name, info in sources.INFO.items():
        meta = {**info, "files": _files(name), "size": sources.download_size(name)}
        if "word_index" in sources.FILES.get(name, {}):
            meta["word_index"] = _WORD_INDEX
        register(name, f"zoo.datasets.loaders:{name}", aliases=_ALIASES.get(name, ()), **meta)
