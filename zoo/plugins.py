"""The plugin manager: built-in plugins first, then installed ones, each isolated from the others.

Built-in plugins go through exactly the same hooks as third-party ones. A plugin that fails to import,
fails pluggy's validation or raises inside a register hook is reported with a warning naming it and the
cause, listed as failed by ``zoo plugins``, and left out; everything else keeps working.
``ZOO_STRICT_PLUGINS=1`` turns those warnings into a :class:`zoo.PluginError`.

Environment (read when the manager is built):

* ``ZOO_LOAD_PLUGINS=a,b`` loads only these installed plugins (empty string: none at all);
* ``ZOO_DISABLE_PLUGINS=a,b`` blocks these (installed or built-in);
* ``ZOO_STRICT_PLUGINS=1`` makes any plugin failure an error.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo import hookspecs
from zoo import metadata as entry_metadata
from zoo._gc import without_gc
from zoo._version import DISTRIBUTION, __version__
from zoo.errors import PluginError, ZooError
from zoo.registry import Entry, Registry

#: Modules holding the built-in plugins, registered under the name after the last dot's package.
BUILTIN_PLUGINS: dict[str, str] = {
    "applications": "zoo.applications.plugin",
    "datasets": "zoo.datasets.plugin",
    "layers": "zoo.layers.plugin",
    "training": "zoo.training.plugin",
    "exporters": "zoo.exporters.plugin",
    "hub": "zoo.hub.plugin",
}


class PluginWarning(UserWarning):
    """A plugin was left out because it failed; the message names it and says why."""


@dataclass
class PluginInfo:
    """What ``zoo plugins`` shows about one plugin."""

    name: str
    builtin: bool
    version: str | None = None
    distribution: str | None = None
    status: str = "ok"  # "ok", "failed" or "disabled"
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.builtin:  # a built-in plugin ships inside zoo's own distribution
            self.version, self.distribution = __version__, DISTRIBUTION


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


class ZooPluginManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that records failures instead of letting one plugin break zoo."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self.strict = os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0", "false", "False")

    # -- failures -------------------------------------------------------------------------------------
    def fail(self, name: str, cause: str, *, builtin: bool = False) -> None:
        """Record a failed plugin, then warn (or raise in strict mode)."""
        info = self.info.setdefault(name, PluginInfo(name=name, builtin=builtin))
        info.status, info.error = "failed", cause
        if self.has_plugin(name):
            self.unregister(name=name)
        message = f"zoo plugin {name!r} was not loaded: {cause}"
        if self.strict:
            raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
        warnings.warn(message, PluginWarning, stacklevel=3)

    # -- registering ----------------------------------------------------------------------------------
    def add_plugin(self, plugin: Any, name: str, *, builtin: bool = False, **info: Any) -> bool:
        """Register ``plugin`` under ``name``, validating its hooks; a bad one is recorded, not raised."""
        self.info[name] = PluginInfo(name=name, builtin=builtin, **info)
        try:
            self.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            if self.has_plugin(name):
                self.unregister(name=name)
            self.fail(name, f"invalid hook: {exc}", builtin=builtin)
            return False
        except ValueError as exc:  # already registered under another name
            self.fail(name, str(exc), builtin=builtin)
            return False
        return True

    def load_builtins(self, builtins: dict[str, str] = BUILTIN_PLUGINS) -> None:
        for name, module_name in builtins.items():
            if self.is_blocked(name):
                self.info[name] = PluginInfo(name=name, builtin=True, status="disabled")
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self.fail(name, f"import of {module_name} failed: {type(exc).__name__}: {exc}", builtin=True)
                continue
            self.add_plugin(module, name, builtin=True)

    def load_entrypoints(self, group: str = hookspecs.PROJECT_NAME) -> None:
        """Load installed plugins from entry points, honouring the allow and deny lists."""
        allow = _env_list("ZOO_LOAD_PLUGINS")
        for dist in metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != group or ep.name in self.info:
                    continue
                version, dist_name = dist.version, dist.metadata["Name"]
                if self.is_blocked(ep.name) or (allow is not None and ep.name not in allow):
                    self.info[ep.name] = PluginInfo(
                        name=ep.name,
                        builtin=False,
                        version=version,
                        distribution=dist_name,
                        status="disabled",
                    )
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:  # noqa: BLE001
                    self.info[ep.name] = PluginInfo(
                        name=ep.name, builtin=False, version=version, distribution=dist_name
                    )
                    self.fail(ep.name, f"import of {ep.value} failed: {type(exc).__name__}: {exc}")
                    continue
                self.add_plugin(plugin, ep.name, version=version, distribution=dist_name)

    # -- registration hooks -> registry ---------------------------------------------------------------
    @without_gc  # thousands of small objects (zoo/_gc.py says why)
    def build_registry(self) -> Registry:
        """Call every plugin's register hooks one plugin at a time, so one failure stays contained."""
        registry = Registry()
        for kind in hookspecs.KINDS:
            caller = getattr(self.hook, f"zoo_register_{kind}")
            for impl in reversed(caller.get_hookimpls()):  # registration order
                name = impl.plugin_name
                if self.info.get(name) and self.info[name].status == "failed":
                    continue
                staged: list[Entry] = []
                try:
                    impl.function(register=_make_register(kind, name, staged))
                    registry.add_all(staged)
                except Exception as exc:  # noqa: BLE001
                    cause = exc if isinstance(exc, ZooError) else f"{type(exc).__name__}: {exc}"
                    self.fail(name, f"zoo_register_{kind} raised {cause}")
                    continue
                info = self.info.setdefault(name, PluginInfo(name=name, builtin=False))
                info.counts[kind] = info.counts.get(kind, 0) + len(staged)
        failed = {n for n, i in self.info.items() if i.status == "failed"}
        if failed:  # drop what a plugin registered for other kinds before it failed
            registry = _without(registry, failed)
        return registry


def _without(registry: Registry, plugins: set[str]) -> Registry:
    cleaned = Registry()
    for kind in hookspecs.KINDS:
        by_plugin: dict[str, list[Entry]] = {}
        for entry in registry.entries(kind):
            if entry.plugin not in plugins:
                by_plugin.setdefault(entry.plugin, []).append(entry)
        for entries in by_plugin.values():
            cleaned.add_all(entries)
    return cleaned


def _make_register(kind: str, plugin: str, staged: list[Entry]):
    def register(
        name: str,
        target: Any,
        *,
        aliases: Iterable[str] = (),
        fallback: bool | int = False,
        **meta: Any,
    ) -> None:
        if isinstance(aliases, str):
            aliases = (aliases,)
        typed = entry_metadata.parse(kind, meta.pop("meta") if set(meta) == {"meta"} else meta,
                               f"plugin {plugin!r} registers {kind} {name!r}")  # fmt: skip
        staged.append(
            Entry(
                kind=kind,
                name=name,
                target=target,
                plugin=plugin,
                aliases=tuple(aliases),
                meta=typed,
                fallback=fallback,
            )
        )

    return register


def create_plugin_manager(*, builtins: bool = True, entrypoints: bool = True) -> ZooPluginManager:
    """A new manager: built-ins first, then installed plugins, with the ``ZOO_*`` lists applied."""
    pm = ZooPluginManager()
    for name in _env_list("ZOO_DISABLE_PLUGINS") or ():
        pm.set_blocked(name)
    if builtins:
        pm.load_builtins()
    if entrypoints:
        pm.load_entrypoints()
    return pm


_lock = threading.RLock()
_state: dict[str, Any] = {"pm": None, "registry": None}


def get_plugin_manager() -> ZooPluginManager:
    """The process-wide manager, built on first use."""
    with _lock:
        if _state["pm"] is None:
            _state["pm"] = create_plugin_manager()
        return _state["pm"]


def get_registry() -> Registry:
    """The process-wide registry, built from the manager on first use."""
    with _lock:
        if _state["registry"] is None:
            _state["registry"] = get_plugin_manager().build_registry()
        return _state["registry"]


def use(pm: ZooPluginManager | None) -> None:
    """Make ``pm`` the process-wide manager (tests pass a fresh one); ``None`` rebuilds from scratch."""
    with _lock:
        _state["pm"], _state["registry"] = pm, None
