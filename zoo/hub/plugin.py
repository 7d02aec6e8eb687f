"""Built-in plugin: registers zoo's own hub (filled in by the hub work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
