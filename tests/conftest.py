"""Fixtures shared by the whole suite.

Every test runs with its own ``ZOO_HOME`` and torch hub directory, no inherited ``ZOO_*`` settings, and a
fresh process-wide plugin manager, so no test sees another's cache, plugins or environment.
"""

from __future__ import annotations

import os

import pytest

import zoo.plugins


@pytest.fixture(autouse=True)
def isolated_zoo(tmp_path_factory, monkeypatch):
    for key in list(os.environ):
        if key.startswith("ZOO_"):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("zoo_home")
    monkeypatch.setenv("ZOO_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    zoo.plugins.use(None)
    yield home
    zoo.plugins.use(None)
