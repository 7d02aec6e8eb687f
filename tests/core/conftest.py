"""Fixtures for core tests: fresh plugin managers holding exactly the plugins a test defines."""

from __future__ import annotations

import pytest

import zoo.plugins


@pytest.fixture
def make_pm():
    """Build a manager with no built-ins or entry points, add ``plugins`` (name -> object), install it."""

    def make(plugins=None, *, builtins=False, entrypoints=False):
        pm = zoo.plugins.create_plugin_manager(builtins=builtins, entrypoints=entrypoints)
        for name, plugin in (plugins or {}).items():
            pm.add_plugin(plugin, name)
        zoo.plugins.use(pm)
        return pm

    return make
