"""Shipped code reports a wrong input with a ``zoo.ZooError``, never a bare builtin.

The project's rule: every input that can be wrong either works as the user meant or fails with a
``zoo.ZooError`` that says what was wrong and how to fix it. So zoo/ and every plugins/*/zoo_*/ package
may not ``raise ValueError(...)``, ``TypeError(...)``, ``RuntimeError(...)`` or ``KeyError(...)`` of the
builtin names; each has a zoo.errors class that subclasses the same builtin (``DataError``,
``OptionError``, ``ModelError``; ``ArgumentError``; ``NonFiniteLossError``; ``MissingKeyError``), so
``except ValueError`` keeps working. The few raises that no user can trigger (internal invariants, or
errors caught before they escape) are listed below, each with its reason and an ``# invariant:`` comment
at the raise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = {"ValueError", "TypeError", "RuntimeError", "KeyError"}

#: (path from the repository root, enclosing function's qualified name, exception) -> why it stays builtin.
#: An entry covers every raise of that exception in that function; one that matches nothing is an error too.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("zoo/hub/hashes.py", "Hasher.hexdigest", "ValueError"):
        "invariant: fetch asks only for the algorithm the Hasher was built for",
    ("zoo/hub/sources.py", "_url_list", "TypeError"):
        "never escapes: call_each reports it as a PluginWarning naming the plugin (a PluginError in strict mode)",
    ("zoo/hub/store.py", "derived_record", "ValueError"):
        "invariant: every caller passes one of DERIVED_KINDS",
    ("zoo/atomic.py", "atomic_open", "ValueError"):
        "invariant: zoo's own callers pass mode 'w' or 'wb'",
    ("zoo/utils/graph_layout.py", "layered_layout", "ValueError"):
        "invariant: the edges come from a trace, numbered in execution order",
    ("zoo/applications/tensor_layout.py", "_cut", "TypeError"):
        "never escapes: load() catches it and reads the file in full",
    ("zoo/applications/tensor_layout.py", "_cut", "ValueError"):
        "never escapes: load() catches it and reads the file in full",
    ("zoo/applications/families.py", "family", "ValueError"):
        "invariant: every family in zoo's weights table is in FAMILIES (tested)",
    ("zoo/applications/families.py", "replace_classifier", "TypeError"):
        "invariant: every FAMILIES classifier is an nn.Linear or an nn.Conv2d",
    ("zoo/applications/table.py", "architecture", "KeyError"):
        "invariant: callers pass a registered entry's architecture, which comes from this table",
    ("plugins/zoo-timm/zoo_timm/catalogue.py", "architecture", "KeyError"):
        "invariant: callers pass a registered entry's architecture, which comes from this catalogue",
}


def shipped_files() -> list[Path]:
    roots = [ROOT / "zoo", *sorted((ROOT / "plugins").glob("*/zoo_*"))]
    return sorted(f for root in roots for f in root.rglob("*.py"))


def _rebinds(tree: ast.Module) -> set[str]:
    """Builtin names the module binds itself (``class ValueError``, ``from x import ValueError``, ...)."""
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return bound & BUILTINS


def builtin_raises(path: Path) -> list[tuple[int, str, str]]:
    """``(line, enclosing qualified name, exception)`` for each ``raise X(...)`` / ``raise X`` of a builtin
    in ``BUILTINS`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    shadowed = _rebinds(tree)
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Raise) and child.exc is not None:
                target = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                if isinstance(target, ast.Name) and target.id in BUILTINS and target.id not in shadowed:
                    found.append((child.lineno, ".".join(scope) or "<module>", target.id))
            visit(child, scope)

    visit(tree, [])
    return found


def _all_raises() -> dict[str, list[tuple[int, str, str]]]:
    return {f.relative_to(ROOT).as_posix(): builtin_raises(f) for f in shipped_files()}


def test_the_scan_covers_zoo_and_every_plugin_package() -> None:
    files = {f.relative_to(ROOT).as_posix() for f in shipped_files()}
    assert "zoo/errors.py" in files and "zoo/layers/_base.py" in files
    for plugin in ("zoo-keras/zoo_keras", "zoo-timm/zoo_timm", "zoo-surgery/zoo_surgery", "zoo-videoqa/zoo_videoqa"):
        assert any(f.startswith(f"plugins/{plugin}/") for f in files), plugin


def test_no_builtin_raise_for_a_wrong_input() -> None:
    offending = [
        f"{path}:{line}: raise {exc}(...) in {scope}"
        for path, raises in _all_raises().items()
        for line, scope, exc in raises
        if (path, scope, exc) not in ALLOWED
    ]
    assert not offending, (
        "raise the zoo.errors class that fits (DataError, OptionError, ModelError for a ValueError; "
        "ArgumentError for a TypeError; see zoo/errors.py), or, for an invariant no user can trigger, add "
        "an '# invariant: ...' comment and an entry with its reason to ALLOWED in this test:\n"
        + "\n".join(offending)
    )


def test_every_allowlist_entry_still_matches_a_raise() -> None:
    present = {(path, scope, exc) for path, raises in _all_raises().items() for _, scope, exc in raises}
    stale = sorted(key for key in ALLOWED if key not in present)
    assert not stale, f"these ALLOWED entries match no raise any more; remove them: {stale}"


def test_allowlisted_raises_say_why_at_the_raise() -> None:
    """Outside the file pending conversion, each allowed raise carries its ``# invariant:`` comment."""
    missing = []
    for path, raises in _all_raises().items():
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        for line, scope, exc in raises:
            if ALLOWED.get((path, scope, exc), "pending conversion") == "pending conversion":
                continue
            if "# invariant:" not in lines[line - 2] and "# invariant:" not in lines[line - 1]:
                missing.append(f"{path}:{line}")
    assert not missing, f"add an '# invariant: <why>' comment above these raises: {missing}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(x):\n    raise ValueError('bad')\n", [(2, "f", "ValueError")]),
        ("class A:\n    def m(self):\n        raise TypeError\n", [(3, "A.m", "TypeError")]),
        ("raise KeyError('k') from None\n", [(1, "<module>", "KeyError")]),
        ("def f():\n    if 1:\n        raise RuntimeError(f'{1}')\n", [(3, "f", "RuntimeError")]),
        ("from zoo.errors import DataError\nraise DataError('fine')\n", []),
        ("import zoo\nraise zoo.OptionError('fine')\n", []),
        ("def f():\n    try:\n        pass\n    except ValueError:\n        raise\n", []),
        ("class ValueError(Exception):\n    pass\nraise ValueError('its own class')\n", []),
    ],
)
def test_the_scan_finds_builtin_raises(tmp_path: Path, source: str, expected: list) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert builtin_raises(path) == expected
