"""Built-in plugin: registers zoo's own layers (filled in by the layers work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
