"""The plugin manager: built-in plugins first, then installed ones, each isolated from the others.

Built-in plugins go through exactly the same hooks as third-party ones. Every hook is called through pluggy
(so ``@hookimpl(wrapper=True)`` and ``add_hookcall_monitoring`` work), one plugin at a time
(:meth:`ZooPluginManager.call_plugin`): a plugin's wrapper wraps its own implementations, and one plugin's
failure cannot reach another's. The order is explicit (:meth:`ZooPluginManager.plugin_order`): built-ins in
:data:`BUILTIN_PLUGINS` order, then installed plugins by entry-point name, then any added later.

A plugin that fails to import, fails pluggy's validation or raises inside a register hook (``SystemExit``
too: only :data:`NOT_CONTAINED` passes through) is reported with a warning naming it and the cause, listed
as failed by ``zoo plugins`` (with nothing counted), and left out; everything else keeps working. Plugin
names are unique ignoring case, as the plugin half of ``plugin:name`` is read. A behaviour hook that raises (``zoo_download_mirrors``, ``zoo_model_built``) is reported once and
skipped from then on. A ``zoo_*`` function that no hook has (``zoo_register_loss``) or that lacks the
``@zoo.hookimpl`` marker is a warning naming the closest hook. ``ZOO_STRICT_PLUGINS=1`` turns all of these
into a :class:`zoo.PluginError`.

Environment (read when the manager is built):

* ``ZOO_LOAD_PLUGINS=a,b`` loads only these installed plugins (empty string: none at all);
* ``ZOO_DISABLE_PLUGINS=a,b`` blocks these (installed or built-in); a name in either list that is no plugin
  is a warning suggesting the closest;
* ``ZOO_STRICT_PLUGINS=1`` makes any plugin failure or warning an error.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo import hookspecs
from zoo import metadata as entry_metadata
from zoo._gc import without_gc
from zoo._version import DISTRIBUTION, __version__
from zoo.errors import PluginError, RegistrationError, TargetImportError, ZooError
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


#: What a plugin's code may still raise through zoo: the user's Ctrl-C, and the generator protocol. Anything
#: else, ``SystemExit`` included (a plugin module calling ``sys.exit()`` at import), fails that plugin only.
NOT_CONTAINED: tuple[type[BaseException], ...] = (KeyboardInterrupt, GeneratorExit)


class PluginWarning(UserWarning):
    """A plugin was left out, or part of it is ignored; the message names it and says why."""


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
    #: What zoo ignores of a plugin that still loaded (a misspelled hook, a behaviour hook that raised).
    warnings: list[str] = field(default_factory=list)
    #: kind -> ordinary names this plugin claims that an earlier plugin already claims (now ambiguous).
    shadows: dict[str, list[str]] = field(default_factory=dict)
    #: Lazy targets that do not import (filled by :func:`check_targets`): "kind 'name' -> target: error".
    broken_targets: list[str] = field(default_factory=list)

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
        self._added: list[str] = []  # plugin names in the order they were added
        self._skipped: set[tuple[str, str]] = set()  # (plugin, behaviour hook) that raised: not called again
        self._hook_names = sorted(n for n, caller in vars(self.hook).items() if caller.has_spec())

    # -- failures -------------------------------------------------------------------------------------
    def fail(self, name: str, cause: str, *, builtin: bool = False) -> None:
        """Record a failed plugin, then warn (or raise in strict mode)."""
        info = self.info.setdefault(name, PluginInfo(name=name, builtin=builtin))
        info.status, info.error = "failed", cause
        info.counts, info.shadows = {}, {}  # its entries are dropped: counting them would say they are there
        if self.has_plugin(name):
            self.unregister(name=name)
        message = f"zoo plugin {name!r} was not loaded: {cause}"
        if self.strict:
            raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
        warnings.warn(message, PluginWarning, stacklevel=3)

    def _refuse(self, message: str) -> None:
        """A plugin zoo does not load for a reason that is no fault of a loaded one (so none is failed)."""
        if self.strict:
            raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
        warnings.warn(message, PluginWarning, stacklevel=3)

    def warn(self, name: str, problem: str) -> None:
        """Something of plugin ``name`` that zoo ignores: a warning, recorded for ``zoo plugins``; in strict
        mode the plugin fails."""
        if self.strict:
            self.fail(name, problem)
        info = self.info.setdefault(name, PluginInfo(name=name, builtin=False))
        info.warnings.append(problem)
        warnings.warn(f"zoo plugin {name!r}: {problem}", PluginWarning, stacklevel=3)

    # -- registering ----------------------------------------------------------------------------------
    def add_plugin(self, plugin: Any, name: str, *, builtin: bool = False, **info: Any) -> bool:
        """Register ``plugin`` under ``name``, validating its hooks; a bad one is recorded, not raised. A
        name already in use is refused, leaving the plugin that has it alone; so is one differing only in
        case, since ``plugin:name`` ignores the plugin's case (``PQ:x`` must not be ``pq:x``)."""
        if not isinstance(name, str) or not name.strip():
            raise PluginError(f"a plugin's name must be a non-empty string (its entry-point name), got {name!r}.")
        taken = self.loaded_as(name)
        if taken is not None:
            holder = self.info.get(taken)
            builtin = holder is not None and holder.builtin
            whose = "a built-in plugin's" if builtin else "the name of a plugin already loaded"
            if holder and holder.distribution and not builtin:
                whose += f" (from {holder.distribution})"
            same = f"{name!r} is {whose}" if taken == name else f"{name!r} is {taken!r}, {whose}, once case is ignored"
            self._refuse(f"zoo plugin {name!r} was not loaded: {same}; give the plugin another name.")
            return False
        self.info[name] = PluginInfo(name=name, builtin=builtin, **info)
        try:
            hash(plugin)
        except TypeError:  # pluggy holds the other plugins in a set around each call: every one would fail
            self.fail(name, f"its plugin object ({type(plugin).__name__}) cannot be hashed, and zoo keeps plugins "
                            "in sets; a @dataclass sets __hash__ = None: use @dataclass(eq=False), or register a "
                            "module or a plain class instance.", builtin=builtin)  # fmt: skip
            return False
        try:
            self.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            if self.has_plugin(name):
                self.unregister(name=name)
            one_line = " ".join(str(exc).split())  # pluggy's message spans lines
            self.fail(name, f"invalid hook: {one_line}", builtin=builtin)
            return False
        except ValueError as exc:  # already registered under another name
            self.fail(name, str(exc), builtin=builtin)
            return False
        self._check_hook_names(plugin, name)
        return self.has_plugin(name)

    def loaded_as(self, name: str) -> str | None:
        """The loaded plugin whose name is ``name`` ignoring case (plugin names are compared so), if any."""
        wanted = name.lower()
        return next((n for n, p in self.list_name_plugin() if p is not None and n.lower() == wanted), None)

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """pluggy's ``register``, remembering the order (pluggy itself calls the last registered first)."""
        registered = super().register(plugin, name)
        if registered is not None:
            self._added.append(registered)
        return registered

    def _check_hook_names(self, plugin: Any, name: str) -> None:
        """pluggy ignores a marked function no hook has (until ``check_pending``) and never sees an unmarked
        one: both are almost always a typo or a forgotten ``@zoo.hookimpl``, so say so."""
        for attr in dir(plugin):
            opts = self.parse_hookimpl_opts(plugin, attr)
            if opts is not None:
                hook = opts.get("specname") or attr
                if hook not in self._hook_names:
                    self.warn(
                        name, f"{hook!r} is not a zoo hook, so zoo never calls it.{self._closest(hook)}"
                    )
                elif ("register" in getattr(self.hook, hook).spec.argnames
                      and "register" not in _argnames(getattr(plugin, attr))):  # fmt: skip
                    self.warn(
                        name, f"{attr!r} takes no 'register' argument, so it registers nothing; define it as "
                              f"def {hook}(register): ..."
                    )  # fmt: skip
            elif attr.startswith("zoo_") and inspect.isroutine(_static_attr(plugin, attr)):
                if attr in self._hook_names:
                    self.warn(
                        name, f"{attr!r} lacks the @zoo.hookimpl marker, so zoo never calls it; mark it."
                    )
                else:
                    self.warn(name, f"{attr!r} lacks the @zoo.hookimpl marker and is not a zoo hook."
                                    f"{self._closest(attr)}")  # fmt: skip

    def _closest(self, hook: str) -> str:
        close = difflib.get_close_matches(hook, self._hook_names, n=1, cutoff=0.6)
        return f" Did you mean {close[0]!r}?" if close else f" zoo's hooks: {', '.join(self._hook_names)}."

    def load_builtins(self, builtins: dict[str, str] = BUILTIN_PLUGINS) -> None:
        for name, module_name in builtins.items():
            if self.is_blocked(name):
                self.info[name] = PluginInfo(name=name, builtin=True, status="disabled")
                continue
            try:
                module = importlib.import_module(module_name)
            except NOT_CONTAINED:
                raise
            except BaseException as exc:  # noqa: BLE001 - isolation is the point
                self.fail(name, f"import of {module_name} failed: {type(exc).__name__}: {exc}", builtin=True)
                continue
            self.add_plugin(module, name, builtin=True)

    def load_entrypoints(self, group: str = hookspecs.PROJECT_NAME) -> None:
        """Load installed plugins from entry points, by name, honouring the allow and deny lists (first: a
        plugin the user left out clashes with nothing, so two distributions publishing it are no problem)."""
        allow = _env_list("ZOO_LOAD_PLUGINS")
        found: dict[str, tuple[metadata.EntryPoint, metadata.Distribution]] = {}
        builtins = {n.lower(): n for n, i in self.info.items() if i.builtin}
        for dist in metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != group:
                    continue
                builtin = builtins.get(ep.name.lower())
                if builtin is not None:
                    same = "" if builtin == ep.name else f" ({builtin!r}, once case is ignored)"
                    self._refuse(
                        f"zoo plugin {ep.name!r} of {dist.metadata['Name']} was not loaded: {ep.name!r} is a "
                        f"built-in plugin's name{same}; rename its entry point (pyproject.toml, "
                        '[project.entry-points.zoo]) and reinstall.'
                    )
                    continue
                if ep.name in self.info:  # disabled just now (a second distribution of it), or added before
                    continue
                if self.is_blocked(ep.name) or (allow is not None and ep.name not in allow):
                    self.info[ep.name] = PluginInfo(
                        name=ep.name, builtin=False, version=dist.version, distribution=dist.metadata["Name"],
                        status="disabled",
                    )
                    continue
                first = found.setdefault(ep.name, (ep, dist))[1].metadata["Name"]
                if first != dist.metadata["Name"]:  # the same distribution twice on sys.path is no conflict
                    message = (
                        f"zoo plugin name {ep.name!r} is claimed by the distributions {first} and "
                        f"{dist.metadata['Name']}; only {first}'s is loaded. Uninstall one of them."
                    )
                    if self.strict:
                        raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
                    warnings.warn(message, PluginWarning, stacklevel=2)
        for ep_name in sorted(found):
            ep, dist = found[ep_name]
            version, dist_name = dist.version, dist.metadata["Name"]
            try:
                plugin = ep.load()
            except NOT_CONTAINED:
                raise
            except BaseException as exc:  # noqa: BLE001 - isolation is the point
                self.info[ep.name] = PluginInfo(
                    name=ep.name, builtin=False, version=version, distribution=dist_name
                )
                self.fail(ep.name, f"import of {ep.value} failed: {type(exc).__name__}: {exc}")
                continue
            self.add_plugin(plugin, ep.name, version=version, distribution=dist_name)

    # -- calling hooks, one plugin at a time ----------------------------------------------------------
    def plugin_order(self) -> list[str]:
        """Registered plugins in the order zoo calls them: built-ins first, then the others as added."""
        live = [n for n in dict.fromkeys(self._added) if self.has_plugin(n)]
        builtin = {n for n, i in self.info.items() if i.builtin}
        return sorted(live, key=lambda n: n not in builtin)  # a stable sort: keeps the order within each

    def implementers(self, hook_name: str) -> list[str]:
        """The plugins implementing ``hook_name``, in :meth:`plugin_order`."""
        names = {impl.plugin_name for impl in getattr(self.hook, hook_name).get_hookimpls()}
        return [n for n in self.plugin_order() if n in names]

    def call_plugin(self, plugin: str, hook_name: str, /, **kwargs: Any) -> list[Any]:
        """Call plugin ``name``'s implementations of ``hook_name`` (through pluggy: its wrappers wrap them,
        hook-call monitoring sees the call) and no other plugin's. The hook's arguments are keywords
        (a hook may well take ``name``)."""
        others = [p for n, p in self.list_name_plugin() if n != plugin and p is not None]
        return self.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)

    def call_each(
        self, hook_name: str, check: Callable[[Any], Any] | None = None, /, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """``(plugin, result)`` for every plugin implementing a behaviour hook, each called on its own
        (``check``, if given, turns each result into what the caller uses, raising if it cannot). A plugin
        whose implementation raises, or returns what ``check`` refuses, is reported once (a
        :class:`PluginWarning` naming it; an error in strict mode) and not called for this hook again, so one
        broken plugin cannot break every download or every ``zoo.load``."""
        out: list[tuple[str, Any]] = []
        for name in self.implementers(hook_name):
            if (name, hook_name) in self._skipped:
                continue
            try:
                results = self.call_plugin(name, hook_name, **kwargs)
                out += [(name, check(r) if check else r) for r in results]
            except NOT_CONTAINED:
                raise
            except BaseException as exc:  # noqa: BLE001 - isolation is the point
                self._skipped.add((name, hook_name))
                self.warn(name, f"{hook_name} raised {type(exc).__name__}: {exc}; zoo skips it from now on.")
        return out

    # -- registration hooks -> registry ---------------------------------------------------------------
    @without_gc  # thousands of small objects (zoo/_gc.py says why)
    def build_registry(self) -> Registry:
        """Call every plugin's register hooks one plugin at a time, so one failure stays contained."""
        registry = Registry()
        for kind in hookspecs.KINDS:
            hook_name = f"zoo_register_{kind}"
            for name in self.implementers(hook_name):
                staged: list[Entry] = []
                register = _make_register(kind, name, staged)
                try:
                    self.call_plugin(name, hook_name, register=register)
                    registry.add_all(staged)
                except NOT_CONTAINED:
                    raise
                except BaseException as exc:  # noqa: BLE001 - isolation is the point
                    cause = exc if isinstance(exc, ZooError) else f"{type(exc).__name__}: {exc}"
                    self.fail(name, f"{hook_name} raised {cause}")
                    continue
                finally:
                    register.closed = True  # type: ignore[attr-defined]
                info = self.info.setdefault(name, PluginInfo(name=name, builtin=False))
                info.counts[kind] = info.counts.get(kind, 0) + len(staged)
        failed = {n for n, i in self.info.items() if i.status == "failed"}
        if failed:  # drop what a plugin registered for other kinds before it failed
            registry = _without(registry, failed)
        for name, kinds in registry.shadows(self.plugin_order()).items():
            self.info[name].shadows = {
                kind: sorted(spelling for spelling, _ in found) for kind, found in kinds.items()
            }
        return registry


def _argnames(function: Any) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return ["register"]  # no signature to read: pluggy's validation has the last word


def _static_attr(obj: Any, attr: str) -> Any:
    try:
        return inspect.getattr_static(obj, attr)
    except AttributeError:
        return None


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
        *positional: Any,
        aliases: Iterable[str] = (),
        fallback: bool | int = False,
        **meta: Any,
    ) -> None:
        where = f"plugin {plugin!r} registers {kind} {name!r}"
        if register.closed:  # a register kept and called later: the registry was built without it
            raise RegistrationError(
                f"{where} after zoo_register_{kind} returned; zoo reads the entries while the hook runs, so "
                "call register(...) inside the hook."
            )
        if positional:
            raise RegistrationError(
                f"{where} with {len(positional)} more positional arguments; register(name, target) takes the "
                "rest as keywords: aliases=, fallback=, meta=... or the metadata's fields (description=...)."
            )
        if isinstance(aliases, str):
            aliases = (aliases,)
        if not isinstance(aliases, Iterable):
            raise RegistrationError(f"{where} with aliases={aliases!r}; give a name or a list of names.")
        if "meta" in meta and len(meta) > 1:
            fields = ", ".join(sorted(set(meta) - {"meta"}))
            raise RegistrationError(
                f"{where} with meta= and field keywords ({fields}); give one of them: the fields inside meta=, "
                "or all of them as keywords."
            )
        if set(meta) == {"meta"}:
            meta = meta.pop("meta")
            if not isinstance(meta, (entry_metadata.EntryMeta, Mapping)):
                cls = entry_metadata.meta_type(kind).__name__
                raise RegistrationError(
                    f"{where} with meta={meta!r:.60} ({type(meta).__name__}); give meta={cls}(...) or the "
                    "metadata as field keywords (description=...), or leave meta= out."
                )
        typed = entry_metadata.parse(kind, meta, where)
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

    register.closed = False  # type: ignore[attr-defined]
    return register


def check_targets(pm: ZooPluginManager, registry: Registry) -> dict[str, list[str]]:
    """Import every lazy target now (``zoo plugins --check``): ``{plugin: [problem]}`` for those that do not
    import, also recorded as each plugin's ``broken_targets``."""
    problems: dict[str, list[str]] = {}
    for kind in hookspecs.KINDS:
        for entry in registry.entries(kind):
            if isinstance(entry.target, str):
                try:
                    entry.resolve()
                except TargetImportError as exc:
                    cause = exc.__cause__
                    problems.setdefault(entry.plugin, []).append(
                        f"{kind} {entry.name!r} -> {entry.target}: {type(cause).__name__}: {cause}"
                    )
    for name, found in problems.items():
        pm.info.setdefault(name, PluginInfo(name=name, builtin=False)).broken_targets = found
    return problems


def _check_env_lists(pm: ZooPluginManager) -> None:
    """A name in ``ZOO_LOAD_PLUGINS``/``ZOO_DISABLE_PLUGINS`` that no plugin has is a typo that would
    otherwise go unnoticed (the plugin meant stays loaded, or stays out)."""
    known = sorted(set(BUILTIN_PLUGINS) | set(pm.info))
    for variable in ("ZOO_LOAD_PLUGINS", "ZOO_DISABLE_PLUGINS"):
        for name in _env_list(variable) or ():
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            message = (
                f"{variable} names {name!r}, which is no plugin here.{hint} Plugins: {', '.join(known)}."
            )
            if pm.strict:
                raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
            warnings.warn(message, PluginWarning, stacklevel=3)


def create_plugin_manager(*, builtins: bool = True, entrypoints: bool = True) -> ZooPluginManager:
    """A new manager: built-ins first, then installed plugins, with the ``ZOO_*`` lists applied (a name in
    them that is no plugin is a warning, once the installed plugins are known)."""
    pm = ZooPluginManager()
    for name in _env_list("ZOO_DISABLE_PLUGINS") or ():
        pm.set_blocked(name)
    if builtins:
        pm.load_builtins()
    if entrypoints:
        pm.load_entrypoints()
        _check_env_lists(pm)
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
