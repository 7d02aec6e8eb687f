"""Built-in plugin: registers zoo's own datasets (filled in by the datasets work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
