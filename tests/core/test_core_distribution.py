"""zoo's distribution is ``zoo-platform`` (``zoo`` on PyPI is an unrelated RPC framework): a plugin package
installed into a fresh environment gets this checkout and nothing foreign."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import tomllib

import zoo
import zoo.plugin

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _normalized(match.group(1))


def test_the_distribution_and_every_in_tree_plugin_use_the_name_of_our_own():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == zoo.plugin.DISTRIBUTION == "zoo-platform"
    for extra in project["optional-dependencies"].values():  # 'all' names the extras of this distribution
        assert not any(_requirement_name(r) == "zoo" for r in extra)
    for plugin in PLUGINS:
        deps = [
            _requirement_name(r)
            for r in tomllib.loads((plugin / "pyproject.toml").read_text())["project"]["dependencies"]
        ]
        assert "zoo-platform" in deps and "zoo" not in deps, (plugin.name, deps)


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
        name = _requirement_name(requirement)
        extras = re.match(r"[^\[;(<>=!~ ]*\[([^\]]*)\]", requirement.strip())
        wanted = {""} | (
            {_normalized(e) for e in extras.group(1).split(",") if e.strip()} if extras else set()
        )
        if all((name, e) in done for e in wanted):
            continue
        try:
            dist = found.get(name) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for req in dist.requires or ():
            marker = _EXTRA_MARKER.search(req)
            extra = _normalized(marker.group(1)) if marker else ""
            if extra in wanted and (name, extra) not in done:
                todo.append(req)
        done |= {(name, e) for e in wanted}
    return list(found.values())


def _link_dependencies(requirements: list[str], into: Path) -> None:
    """Make ``into`` a site directory holding exactly zoo's installed dependencies (torch ...), as symlinks:
    the fresh venv sees them, so ``--no-index`` needs to fetch nothing, but not whatever else this
    environment has installed (this checkout, other plugins, an old distribution named zoo)."""
    into.mkdir()
    for dist in _dependency_closure(requirements):
        for file in dist.files or ():
            top = file.parts[0]
            if top in ("..", "__pycache__") or (into / top).exists():
                continue
            source = Path(dist.locate_file(top))
            if source.exists():
                (into / top).symlink_to(source)


def _copy(source: Path, parts: list[str], scratch: Path) -> Path:
    """A copy of ``source``'s ``parts`` to build from (a setuptools build writes build/ and egg-info beside
    the sources)."""
    copy = scratch / source.name
    copy.mkdir()
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(
                source / part, copy / part, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
            )
        else:
            shutil.copy(source / part, copy / part)
    return copy


def test_example_plugin_installs_into_a_fresh_venv_with_nothing_foreign(tmp_path):
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wheels = tmp_path / "wheels"
    example = ROOT / "plugins" / "zoo-example"
    sources = [_copy(ROOT, ["pyproject.toml", "README.md", "zoo"], tmp_path),
               _copy(example, [p.name for p in example.iterdir()], tmp_path)]  # fmt: skip
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-index", "--no-build-isolation", "--wheel-dir", str(wheels), *map(str, sources)],
                   check=True)  # fmt: skip
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)  # the running pip installs into it (--python): faster than ensurepip
    python = env / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())  # fmt: skip
    _link_dependencies(requirements, tmp_path / "deps")
    (site / "zoo_test_deps.pth").write_text(str(tmp_path / "deps") + "\n")

    report = tmp_path / "report.json"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--no-index", "--no-compile", "--find-links", str(wheels),
                    "--report", str(report), "zoo-example"], check=True)  # fmt: skip
    installed = {_normalized(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert installed == {"zoo-platform", "zoo-example"}  # the plugin's "zoo-platform" is this checkout

    probe = """
import json, zoo, zoo.plugins
from importlib import metadata
pm = zoo.plugins.create_plugin_manager()
zoo.plugins.use(pm)
layer = zoo.get("layers", "example:SquareplusDense", 3, 2)
print(json.dumps({
    "dists": sorted(d.metadata["Name"] for d in metadata.distributions()),
    "zoo_file": zoo.__file__,
    "version": metadata.version("zoo-platform"),
    "example": [pm.info["example"].status, pm.info["example"].distribution],
    "activation": type(zoo.get("activations", "squareplus")).__name__,
    "layer": type(layer).__name__,
}))
"""
    out = json.loads(subprocess.check_output([python, "-c", probe], text=True, cwd=tmp_path))
    assert "zoo" not in {_normalized(d) for d in out["dists"]}  # PyPI's unrelated zoo is nowhere
    assert Path(out["zoo_file"]).is_relative_to(site)  # the wheel's zoo, not this checkout's
    assert out["version"] == zoo.__version__
    assert out["example"] == ["ok", "zoo-example"]
    assert out["activation"] == "Squareplus" and out["layer"] == "SquareplusDense"
    version = subprocess.check_output([env / "bin" / "zoo", "--version"], text=True).strip()
    assert version == f"zoo-platform {zoo.__version__}"
