"""The facts of every keras.applications name, read from the JSON table that
tools/generate_keras_table.py writes from the installed Keras (no Keras import here)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("applications.json")


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads(TABLE.read_text())


def applications() -> dict[str, dict[str, Any]]:
    return _data()["applications"]


def keras_version() -> str:
    """The Keras release the table was generated from."""
    return _data()["keras_version"]
