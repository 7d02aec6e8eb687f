"""The public plugin API (``zoo.plugin``): torch-free, complete, and all the in-tree plugins use of zoo."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
import zoo.plugin

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
#: The modules of zoo a plugin may import; anything else of zoo may move without notice.
PUBLIC_MODULES = {"zoo": set(zoo.__all__), "zoo.plugin": set(zoo.plugin.__all__)}


def _zoo_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every import of zoo in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "zoo"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "zoo":
            found += [(node.lineno, node.module, a.name) for a in node.names]
    return found


def private_imports(path: Path) -> list[str]:
    problems = []
    for line, module, name in _zoo_imports(path):
        if module not in PUBLIC_MODULES:
            problems.append(f"{path.relative_to(PLUGINS)}:{line} imports {module}")
        elif name is not None and name not in PUBLIC_MODULES[module]:
            problems.append(f"{path.relative_to(PLUGINS)}:{line} imports {module}.{name}, which is not public")
    return problems


def test_in_tree_plugins_use_only_the_public_plugin_api():
    sources = sorted(p for p in PLUGINS.glob("*/**/*.py") if ".egg-info" not in str(p))
    assert len(sources) > 20  # every plugin's modules are scanned, not none
    problems = [problem for path in sources for problem in private_imports(path)]
    assert problems == []


def test_built_in_plugins_hook_modules_import_only_the_plugin_api_and_their_own_area():
    hook_modules = sorted((PLUGINS.parent / "zoo").glob("*/plugin.py"))
    assert len(hook_modules) >= 6
    problems = []
    for path in hook_modules:
        area = f"zoo.{path.parent.name}"
        for line, module, name in _zoo_imports(path):
            own = module == area or module.startswith(area + ".")
            public = module in PUBLIC_MODULES and (name is None or name in PUBLIC_MODULES[module])
            if not (own or public):
                problems.append(f"{path.parent.name}/plugin.py:{line} imports {module}.{name}")
    assert problems == []


def test_the_scan_flags_private_modules_and_names(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path)
    bad = tmp_path / "p.py"
    bad.write_text("import zoo\nfrom zoo.plugin import hookimpl\nfrom zoo._gc import without_gc\n"
                   "from zoo.applications.loading import load_state_dict\nfrom zoo import _lazy\n")  # fmt: skip
    assert private_imports(bad) == [
        "p.py:3 imports zoo._gc",
        "p.py:4 imports zoo.applications.loading",
        "p.py:5 imports zoo._lazy, which is not public",
    ]


@pytest.mark.parametrize("name", sorted(zoo.plugin.__all__))
def test_every_public_name_resolves(name):
    assert getattr(zoo.plugin, name) is not None


def test_importing_the_plugin_api_does_not_import_torch():
    code = "import zoo.plugin, sys; zoo.plugin.lazy_exports; zoo.plugin.hookimpl; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hookimpl_is_the_one_zoo_exports():
    assert zoo.plugin.hookimpl is zoo.hookimpl
