"""Built-in plugin: registers zoo's own export (filled in by the export work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
