"""Built-in plugin: the ``zoo cache`` and ``zoo download`` commands."""

from __future__ import annotations

import argparse

from zoo.plugin import hookimpl


@hookimpl
def zoo_register_commands(subparsers: argparse._SubParsersAction) -> None:
    from zoo.hub.cli import register

    register(subparsers)
