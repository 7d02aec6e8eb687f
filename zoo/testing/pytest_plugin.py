"""zoo's pytest plugin (entry point ``pytest11``): the ``check_plugin`` fixture for a plugin's own tests.

Loaded by pytest in any environment where zoo is installed; importing it imports neither torch nor the
plugins (the fixture does, when a test asks for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def check_plugin() -> Callable[..., Any]:
    """:func:`zoo.testing.check_plugin`: ``check_plugin("myplugin")`` checks every entry of the installed
    plugin ``myplugin`` and fails the test listing every problem. The plugin manager is built fresh for the
    test (and again after it), so the plugins installed now are the ones checked."""
    import zoo.plugins
    from zoo.testing import check_plugin as check

    zoo.plugins.use(None)
    yield check
    zoo.plugins.use(None)
