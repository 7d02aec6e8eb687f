"""What zoo shows about plugins: targets that do not import (``zoo plugins --check``, and at first use),
names a plugin shadows, ambiguous names listed qualified, and typos in the allow and deny lists."""

from __future__ import annotations

import json

import pytest

import zoo
import zoo.plugins
from zoo.cli import main
from zoo.errors import TargetImportError
from zoo.plugins import PluginWarning, create_plugin_manager


class Good:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("good_loss", "builtins:abs")


class BrokenTargets:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("broken_loss", "zoo_no_such_module:thing")

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        register("broken_metric", "builtins:no_such_attribute")
        register("fine_metric", "builtins:abs")


def _row(out, plugin):
    [row] = [line for line in out.splitlines() if line.split()[:1] == [plugin]]
    return row


def test_plugins_check_imports_every_target_and_reports_per_plugin(make_pm, capsys):
    make_pm({"good": Good(), "broken": BrokenTargets()})
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "do not import" not in out  # without --check nothing is imported
    assert main(["plugins", "--check"]) == 0
    out = capsys.readouterr().out
    broken = _row(out, "broken")
    assert (
        "2 targets do not import" in broken
        and "zoo_no_such_module" in broken
        and "no_such_attribute" in broken
    )
    assert "fine_metric" not in broken
    assert "every target imports" in _row(out, "good")
    assert main(["plugins", "--check", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows["broken"]["broken_targets"]) == 2 and rows["good"]["broken_targets"] == []


def test_plugins_check_is_an_error_in_strict_mode(monkeypatch, capsys):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    pm = create_plugin_manager(builtins=False, entrypoints=False)
    pm.add_plugin(BrokenTargets(), "broken")
    zoo.plugins.use(pm)
    assert main(["plugins", "--check"]) == 1
    assert "2 lazy targets do not import, of plugins broken" in capsys.readouterr().err
    pm = create_plugin_manager(builtins=False, entrypoints=False)
    pm.add_plugin(Good(), "good")
    zoo.plugins.use(pm)
    assert main(["plugins", "--check"]) == 0


def test_a_target_that_does_not_import_names_its_plugin_at_first_use(make_pm):
    make_pm({"broken": BrokenTargets()})
    with pytest.raises(
        TargetImportError, match=r"plugin 'broken' registers losses 'broken_loss'.*zoo_no_such_module"
    ):
        zoo.get("losses", "broken_loss")
    with pytest.raises(
        ImportError, match=r"plugin 'broken' registers metrics.*AttributeError"
    ):  # also an ImportError
        zoo.get("metrics", "broken_metric")
    assert zoo.plugins.get_registry().lookup("metrics", "fine_metric").resolve() is abs


class Claims:
    """Claims two of the built-in losses, one through an alias, and yields a third as a fallback."""

    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("poisson", "builtins:abs")
        register("my_hinge", "builtins:abs", aliases=("hinge",))
        register("huber", "builtins:abs", fallback=True)


def test_plugins_marks_a_plugin_that_shadows_names_of_another(make_pm, capsys):
    make_pm({"claims": Claims()}, builtins=True)
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "shadows 2 losses: hinge, poisson" in _row(out, "claims")  # the fallback 'huber' does not count
    assert "shadows" not in _row(out, "training")  # the built-in was there first
    assert zoo.plugins.get_plugin_manager().info["claims"].shadows == {"losses": ["hinge", "poisson"]}


def test_fallback_entries_never_shadow(make_pm):
    class Catalogue:
        @zoo.hookimpl
        def zoo_register_losses(self, register):
            register("poisson", "builtins:abs", fallback=2)

    make_pm({"catalogue": Catalogue()}, builtins=True)
    zoo.list("losses")
    pm = zoo.plugins.get_plugin_manager()
    assert pm.info["catalogue"].shadows == {} and pm.info["training"].shadows == {}


def test_list_shows_an_ambiguous_name_qualified_and_every_shown_name_resolves(make_pm, capsys):
    make_pm({"claims": Claims()}, builtins=True)
    names = zoo.list("losses")
    assert {
        "training:poisson",
        "claims:poisson",
        "training:hinge",
        "my_hinge",
        "claims:huber",
        "huber",
    } <= set(names)
    assert "poisson" not in names and "hinge" not in names  # bare, they are ambiguous ('hinge' via an alias)
    registry = zoo.plugins.get_registry()
    for shown in names:
        registry.lookup("losses", shown)  # raises if a shown name does not mean one entry
    with pytest.raises(zoo.AmbiguousNameError, match="claims:my_hinge, training:hinge"):
        registry.lookup("losses", "hinge")
    assert main(["list"]) == 0
    assert "training:hinge" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("variable", "value", "suggestion"),
    [("ZOO_DISABLE_PLUGINS", "exampel", "example"), ("ZOO_LOAD_PLUGINS", "example, timn", "timm")],
)
def test_a_typo_in_the_allow_or_deny_list_is_a_warning_with_a_suggestion(
    monkeypatch, variable, value, suggestion
):
    monkeypatch.setenv(variable, value)
    with pytest.warns(PluginWarning) as record:
        pm = create_plugin_manager()
    messages = [str(w.message) for w in record if "which is no plugin here" in str(w.message)]
    assert len(messages) == 1 and f"Did you mean {suggestion!r}?" in messages[0] and variable in messages[0]
    assert pm.has_plugin("example")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(zoo.PluginError, match="which is no plugin here"):
        create_plugin_manager()


def test_known_names_in_the_lists_are_not_warned_about(monkeypatch, recwarn):
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "datasets, keras")
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "example")
    create_plugin_manager()
    assert not [w for w in recwarn if "no plugin here" in str(w.message)]


def test_two_distributions_claiming_one_plugin_name_is_a_warning(tmp_path, monkeypatch):
    for dist in ("zoo_twin_a", "zoo_twin_b"):
        info = tmp_path / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[zoo]\ntwin = builtins\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(
        PluginWarning, match=r"'twin' is claimed by the distributions zoo_twin_. and zoo_twin_."
    ):
        pm = create_plugin_manager(builtins=False)
    assert pm.info["twin"].distribution in ("zoo_twin_a", "zoo_twin_b")
