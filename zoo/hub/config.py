"""Settings of the download cache, read from ``ZOO_*`` environment variables at call time.

Reading at call time (not import time) lets a user or a test change the environment between two calls.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import ZooError

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 5

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ZooError(f"{name}={os.environ[name]!r} is not a boolean; use 1 or 0.")


def _env_number(name: str, default: float, kind: type = float, *, positive: bool = False) -> float:
    """A number from the environment; ``positive``: > 0 and finite (a timeout of 0, nan or inf cannot wait)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ZooError(f"{name}={raw!r} is not a {kind.__name__}; e.g. {name}={kind(default)}.") from None
    if positive and not 0 < value < math.inf:
        raise ZooError(f"{name}={raw!r} must be a number of seconds > 0; e.g. {name}={kind(default)}.")
    if value < 0 or value != value:
        raise ZooError(f"{name}={raw!r} must not be negative.")
    return value


def home() -> Path:
    """The cache folder: ``$ZOO_HOME``, else the platform's user cache folder for ``zoo``."""
    env = os.environ
    return _home_for(env.get("ZOO_HOME", "").strip(), env.get("HOME", ""), env.get("XDG_CACHE_HOME", ""), os.getcwd())


@functools.lru_cache(maxsize=16)
def _home_for(raw: str, user_home: str, xdg_cache: str, cwd: str) -> Path:
    """The variable read each call, the path made once per value (every warm ``fetch`` asks)."""
    if raw:
        folder = Path(raw).expanduser().absolute()
    else:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("zoo"))
    if folder.exists() and not folder.is_dir():  # else every cache read fails as a bare NotADirectoryError
        where = f"ZOO_HOME={raw}" if raw else f"zoo's default cache folder {folder}"
        raise ZooError(f"{where} is a file, not a folder; set ZOO_HOME to a folder (it is created if missing).")
    return folder


def torch_hub_checkpoints() -> Path:
    """``torch.hub.get_dir()/checkpoints`` computed the way torch does, without importing torch.

    When torch is already imported its own answer is used, so ``torch.hub.set_dir`` is honoured too.
    """
    hub = getattr(sys.modules.get("torch"), "hub", None)
    if hub is not None and hasattr(hub, "get_dir"):
        return Path(hub.get_dir()) / "checkpoints"
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        torch_home = os.path.join(xdg, "torch")
    return Path(torch_home).expanduser() / "hub" / "checkpoints"


@dataclass(frozen=True)
class Settings:
    """Everything a download needs to know about its environment."""

    home: Path
    offline: bool
    quiet: bool
    connect_timeout: float
    read_timeout: float
    max_retries: int
    mirrors: str
    locks: bool
    allow_http: bool
    name_hash: bool

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=home(),
            offline=env_flag("ZOO_OFFLINE"),
            quiet=env_flag("ZOO_QUIET"),
            connect_timeout=_env_number("ZOO_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, positive=True),
            read_timeout=_env_number("ZOO_READ_TIMEOUT", DEFAULT_READ_TIMEOUT, positive=True),
            max_retries=int(_env_number("ZOO_MAX_RETRIES", DEFAULT_MAX_RETRIES, int)),
            mirrors=os.environ.get("ZOO_MIRRORS", ""),
            locks=env_flag("ZOO_LOCKS", True),
            allow_http=env_flag("ZOO_ALLOW_HTTP"),
            name_hash=env_flag("ZOO_NAME_HASH", True),
        )
