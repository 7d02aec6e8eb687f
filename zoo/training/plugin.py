"""Built-in plugin: registers zoo's own training (filled in by the training work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
