"""Fixtures for core tests: fresh plugin managers holding exactly the plugins a test defines, and fresh
venvs that packages built from this checkout install into."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
import tomllib

import zoo.plugins

ROOT = Path(__file__).resolve().parents[2]


class LossPlugin:
    """``loss_plugin(body)``: a plugin object whose ``zoo_register_losses`` hook runs ``body(register)``;
    ``loss_plugin.good()``: one that registers a single valid loss, ``good_loss``."""

    def __call__(self, body):
        class Plugin:
            @zoo.hookimpl
            def zoo_register_losses(self, register):
                body(register)

        return Plugin()

    def good(self):
        return self(lambda register: register("good_loss", "builtins:abs"))


@pytest.fixture
def loss_plugin() -> LossPlugin:
    return LossPlugin()


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


def normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalized(match.group(1))


_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _dependency_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``requirements`` need, transitively, with the extras they ask for
    (torch's ``cuda-toolkit[cublas,...]``); a requirement whose other markers do not hold here is simply not
    installed and skipped (pip says if it is needed)."""
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()  # (distribution, extra or "") already followed
    todo = [r for r in requirements if not _EXTRA_MARKER.search(r)]
    while todo:
        requirement = todo.pop()
        name = requirement_name(requirement)
        extras = re.match(r"[^\[;(<>=!~ ]*\[([^\]]*)\]", requirement.strip())
        wanted = {""} | ({normalized(e) for e in extras.group(1).split(",") if e.strip()} if extras else set())
        if all((name, e) in done for e in wanted):
            continue
        try:
            dist = found.get(name) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for req in dist.requires or ():
            marker = _EXTRA_MARKER.search(req)
            extra = normalized(marker.group(1)) if marker else ""
            if extra in wanted and (name, extra) not in done:
                todo.append(req)
        done |= {(name, e) for e in wanted}
    return list(found.values())


def _link_dependencies(requirements: list[str], into: Path) -> None:
    """Make ``into`` a site directory holding exactly ``requirements`` as installed here (torch ...), as
    symlinks: the fresh venv sees them, so ``--no-index`` needs to fetch nothing, but not whatever else this
    environment has installed (this checkout, other plugins, an old distribution named zoo). Works wherever
    torch lives: system-wide or in this project's own venv (as on CI)."""
    into.mkdir()
    for dist in _dependency_closure(requirements):
        for file in dist.files or ():
            top = file.parts[0]
            if top in ("..", "__pycache__") or (into / top).exists():
                continue
            source = Path(dist.locate_file(top))
            if source.exists():
                (into / top).symlink_to(source)


def _copy(source: Path, scratch: Path) -> Path:
    """A copy of the package at ``source`` to build from (a setuptools build writes build/ and egg-info
    beside the sources, which must not land in this checkout)."""
    copy = scratch / source.name
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", ".venv")
    if source == ROOT:  # the distribution itself: only what its wheel is built from
        copy.mkdir()
        for part in ("pyproject.toml", "README.md"):
            shutil.copy(source / part, copy / part)
        shutil.copytree(source / "zoo", copy / "zoo", ignore=ignore)
    else:
        shutil.copytree(source, copy, ignore=ignore)
    return copy


class FreshVenv:
    """A new venv holding zoo's dependencies from this environment and nothing else; packages go in as
    wheels built here (``--no-index``), so nothing is fetched and nothing needs building inside it."""

    def __init__(self, folder: Path, extra_requirements: tuple[str, ...] = ()):
        self.folder = folder
        venv.create(folder / "venv", with_pip=False)  # the running pip installs into it (--python)
        self.python = folder / "venv" / "bin" / "python"
        self.site = Path(subprocess.check_output(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip())  # fmt: skip
        requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        _link_dependencies([*requirements, *extra_requirements], folder / "deps")
        (self.site / "zoo_test_deps.pth").write_text(str(folder / "deps") + "\n")
        self.wheels = folder / "wheels"

    def install(self, *sources: Path, names: list[str]) -> set[str]:
        """Build wheels of ``sources`` (package folders) and install the distributions ``names`` from them;
        returns the normalised names pip installed."""
        scratch = self.folder / "src"
        scratch.mkdir(exist_ok=True)
        copies = [str(_copy(source, scratch)) for source in sources]
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--no-index", "--no-build-isolation", "--wheel-dir", str(self.wheels), *copies],
                       check=True)  # fmt: skip
        report = self.folder / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "--python", str(self.python), "--disable-pip-version-check",
                        "install", "--quiet", "--no-index", "--no-compile", "--find-links", str(self.wheels),
                        "--report", str(report), *names], check=True)  # fmt: skip
        return {normalized(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}


@pytest.fixture
def venvs(tmp_path):
    """``venvs.new(*extra_requirements)`` makes a :class:`FreshVenv` under ``tmp_path``; ``venvs.normalized``
    and ``venvs.requirement_name`` compare distribution names as pip does."""
    return SimpleNamespace(new=lambda *extra: FreshVenv(tmp_path / "fresh", extra), normalized=normalized,
                           requirement_name=requirement_name)  # fmt: skip
