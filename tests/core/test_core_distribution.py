"""zoo's distribution is ``zoo-platform`` (``zoo`` on PyPI is an unrelated RPC framework): a plugin package
installed into a fresh environment gets this checkout and nothing foreign."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import tomllib

import zoo
import zoo.plugin

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())


def test_the_distribution_and_every_in_tree_plugin_use_the_name_of_our_own(venvs):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == zoo.plugin.DISTRIBUTION == "zoo-platform"
    for extra in project["optional-dependencies"].values():  # 'all' names the extras of this distribution
        assert not any(venvs.requirement_name(r) == "zoo" for r in extra)
    for plugin in PLUGINS:
        deps = [
            venvs.requirement_name(r)
            for r in tomllib.loads((plugin / "pyproject.toml").read_text())["project"]["dependencies"]
        ]
        assert "zoo-platform" in deps and "zoo" not in deps, (plugin.name, deps)


def test_example_plugin_installs_into_a_fresh_venv_with_nothing_foreign(venvs):
    env = venvs.new()
    installed = env.install(ROOT, ROOT / "plugins" / "zoo-example", names=["zoo-example"])
    assert installed == {"zoo-platform", "zoo-example"}  # the plugin's "zoo-platform" is this checkout
    python, site = env.python, env.site

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
    out = json.loads(subprocess.check_output([python, "-c", probe], text=True, cwd=env.folder))
    assert "zoo" not in {venvs.normalized(d) for d in out["dists"]}  # PyPI's unrelated zoo is nowhere
    assert Path(out["zoo_file"]).is_relative_to(site)  # the wheel's zoo, not this checkout's
    assert out["version"] == zoo.__version__
    assert out["example"] == ["ok", "zoo-example"]
    assert out["activation"] == "Squareplus" and out["layer"] == "SquareplusDense"
    version = subprocess.check_output([python.parent / "zoo", "--version"], text=True).strip()
    assert version == f"zoo-platform {zoo.__version__}"
