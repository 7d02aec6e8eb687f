"""Built-in plugin: registers zoo's own applications (filled in by the applications work)."""

from zoo.hookspecs import hookimpl  # noqa: F401
