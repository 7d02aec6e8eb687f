"""A plugin's mistakes fail that plugin only, said clearly: a module that exits, names differing only in case,
a commands hook that raises half way, duplicate distributions the user disabled, and register() arguments
that used to escape as raw errors."""

from __future__ import annotations

import json
import sys
import textwrap
import warnings

import pytest

import zoo
import zoo.plugins
from zoo import cli
from zoo.plugin import EntryMeta
from zoo.plugins import BUILTIN_PLUGINS, PluginWarning, create_plugin_manager
from zoo.scaffold import new_plugin


@pytest.fixture
def install(tmp_path, monkeypatch):
    """``install(dist, entry_point, module=None, body=None)`` puts a distribution publishing a zoo entry point
    on sys.path (as tests/core/test_core_plugins.py does), with the module ``module`` holding ``body``."""
    modules: list[str] = []

    def make(dist: str, ep_name: str, module: str | None = None, body: str | None = None) -> None:
        info = tmp_path / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[zoo]\n{ep_name} = {module or 'builtins'}\n")
        if module is not None:
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(body or ""))
            modules.append(module)

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for module in modules:
        sys.modules.pop(module, None)


_FINE = """
    import zoo

    @zoo.hookimpl
    def zoo_register_losses(register):
        register("fine_loss", "builtins:abs")
"""


# -- 1. SystemExit is a plugin's failure, not zoo's exit ----------------------------------------------------
def test_a_plugin_module_calling_sys_exit_at_import_fails_only_itself(install):
    install("zoo_quitter", "quitter", "zoo_quitter_plugin", "import sys\nsys.exit('quitter says bye')\n")
    install("zoo_fine", "fine", "zoo_fine_plugin", _FINE)
    with pytest.warns(PluginWarning, match=r"'quitter' was not loaded: import of .* SystemExit: quitter says bye"):
        pm = create_plugin_manager(builtins=False)
    zoo.plugins.use(pm)
    assert pm.info["quitter"].status == "failed" and pm.info["quitter"].distribution == "zoo_quitter"
    assert "fine_loss" in zoo.list("losses")


def test_zoo_plugins_and_zoo_list_survive_a_plugin_that_exits(install, capsys):
    install("zoo_quitter", "quitter", "zoo_quitter_plugin", "import sys\nsys.exit('quitter says bye')\n")
    zoo.plugins.use(None)  # the CLI builds the manager itself, with the built-ins and every installed plugin
    assert cli.main(["plugins"]) == 0
    shown = capsys.readouterr()
    assert "FAILED: import of zoo_quitter_plugin failed: SystemExit: quitter says bye" in shown.out
    assert "PluginWarning: zoo plugin 'quitter' was not loaded" in shown.err
    assert cli.main(["list", "losses"]) == 0 and "mean_squared_error" in capsys.readouterr().out.split()


def test_a_built_in_module_that_exits_fails_only_itself(install):
    install("zoo_unused", "unused_ep", "zoo_exit_builtin", "raise SystemExit(3)\n")
    pm = zoo.plugins.ZooPluginManager()
    with pytest.warns(PluginWarning, match=r"'exiting' was not loaded: import of zoo_exit_builtin failed: SystemExit: 3"):
        pm.load_builtins({"exiting": "zoo_exit_builtin", "training": BUILTIN_PLUGINS["training"]})
    assert pm.info["exiting"].status == "failed" and pm.has_plugin("training")


def test_a_register_hook_calling_sys_exit_fails_only_its_plugin(loss_plugin, make_pm):
    def body(register):
        register("early", "builtins:abs")
        sys.exit("no more")

    make_pm({"exits": loss_plugin(body), "good": loss_plugin.good()})
    with pytest.warns(PluginWarning, match="'exits' was not loaded: zoo_register_losses raised SystemExit: no more"):
        names = zoo.list("losses")
    assert names == ["good_loss"]


def test_a_behaviour_hook_calling_sys_exit_is_skipped(make_pm):
    class Mirror:
        @zoo.hookimpl
        def zoo_download_mirrors(self, url, filename, sha256):
            sys.exit(1)

    pm = make_pm({"mirror": Mirror()})
    with pytest.warns(PluginWarning, match="'mirror': zoo_download_mirrors raised SystemExit"):
        assert pm.call_each("zoo_download_mirrors", url="https://x/y", filename="y", sha256=None) == []


def test_ctrl_c_inside_a_plugin_still_stops_zoo(loss_plugin, make_pm):
    def body(register):
        raise KeyboardInterrupt

    make_pm({"interrupted": loss_plugin(body)})
    with pytest.raises(KeyboardInterrupt):
        zoo.list("losses")


# -- 2. plugin names are unique ignoring case -----------------------------------------------------------
def test_a_plugin_name_differing_only_in_case_is_refused(loss_plugin, make_pm):
    pm = make_pm({"pq": loss_plugin(lambda r: r("xx", "builtins:abs"))})
    with pytest.warns(PluginWarning, match="'PQ' was not loaded: 'PQ' is 'pq', the name of a plugin already loaded"):
        assert pm.add_plugin(loss_plugin(lambda r: r("xx", "builtins:len")), "PQ") is False
    assert not pm.has_plugin("PQ") and "PQ" not in pm.info
    assert zoo.plugins.get_registry().lookup("losses", "PQ:xx").target == "builtins:abs"  # pq's, the only one


def test_a_case_twin_is_an_error_in_strict_mode(loss_plugin, make_pm, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    pm = make_pm({"pq": loss_plugin.good()})
    with pytest.raises(zoo.PluginError, match="'PQ' is 'pq'.*ZOO_STRICT_PLUGINS"):
        pm.add_plugin(loss_plugin.good(), "PQ")


def test_a_built_in_name_in_another_case_is_refused(loss_plugin):
    pm = create_plugin_manager(entrypoints=False)
    with pytest.warns(PluginWarning, match="'Layers' is 'layers', a built-in plugin's, once case is ignored"):
        assert pm.add_plugin(loss_plugin.good(), "Layers") is False
    assert pm.get_plugin("layers") is not None and not pm.has_plugin("Layers")


def test_an_installed_plugin_named_like_a_built_in_in_another_case_is_not_imported(install):
    install("zoo_caps", "Layers", "zoo_caps_plugin", "raise RuntimeError('must not be imported')\n")
    with pytest.warns(PluginWarning, match=r"'Layers' of zoo_caps was not loaded: .*\('layers', once case is ignored\)"):
        pm = create_plugin_manager()
    assert "zoo_caps_plugin" not in sys.modules and "Layers" not in pm.info


def test_new_plugin_refuses_a_built_in_name_in_any_case_and_says_why(tmp_path):
    with pytest.raises(zoo.ZooError, match="is a built-in plugin's .*plugin names ignore case.*would not load"):
        new_plugin("Layers", kinds=["losses"], output=tmp_path)
    assert not any(tmp_path.iterdir())


# -- 3. a commands hook that raises takes its commands with it --------------------------------------------
class HalfCommands:
    @zoo.hookimpl
    def zoo_register_commands(self, subparsers):
        p = subparsers.add_parser("shiny", help="a command of a plugin that then fails")
        p.set_defaults(func=lambda args: print("shiny ran") or 0)
        raise RuntimeError("commands half done")


def test_a_failed_commands_hook_leaves_no_command_behind(loss_plugin, make_pm, capsys):
    pm = make_pm({"half": HalfCommands(), "good": loss_plugin.good()})
    with pytest.warns(PluginWarning, match="'half' was not loaded: zoo_register_commands raised RuntimeError"):
        parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "shiny" not in sub.choices and "shiny" not in parser.format_help()
    assert pm.info["half"].status == "failed"
    assert cli.main(["shiny"]) == 1
    assert "shiny ran" not in capsys.readouterr().out
    assert cli.main(["list", "losses"]) == 0 and capsys.readouterr().out.split() == ["good_loss"]


# -- 4. the allow and deny lists come before the clash check --------------------------------------------
@pytest.mark.parametrize("lists", [{"ZOO_DISABLE_PLUGINS": "probe"}, {"ZOO_LOAD_PLUGINS": ""}])
def test_a_disabled_name_two_distributions_publish_clashes_with_nothing(install, monkeypatch, lists):
    install("zoo_probe_a", "probe")
    install("zoo_probe_b", "probe")
    for variable, value in {"ZOO_STRICT_PLUGINS": "1", **lists}.items():
        monkeypatch.setenv(variable, value)
    pm = create_plugin_manager(builtins=False)  # strict: any warning would raise
    assert pm.info["probe"].status == "disabled"
    monkeypatch.delenv("ZOO_STRICT_PLUGINS")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_plugin_manager(builtins=False)


def test_an_enabled_name_two_distributions_publish_is_still_an_error_in_strict_mode(install, monkeypatch):
    install("zoo_probe_a", "probe")
    install("zoo_probe_b", "probe")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(zoo.PluginError, match="'probe' is claimed by the distributions"):
        create_plugin_manager(builtins=False)


# -- 5. an application builder returning no module ------------------------------------------------------
def test_an_application_builder_returning_no_module_is_a_plugin_error(make_pm):
    class Apps:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            register("notmodule", lambda **options: "a string")

    make_pm({"toys": Apps()})
    with pytest.raises(zoo.PluginError, match="'toys:notmodule' of plugin 'toys' built a str, not a torch.nn.Module"):
        zoo.load("notmodule")


# -- 6, 7, 8. register() arguments that escaped as raw errors or said the wrong thing ----------------
@pytest.mark.parametrize(
    ("kind", "register", "said"),
    [
        ("losses", lambda register: register("odd", "builtins:abs", meta=None),
         r"losses 'odd' with meta=None \(NoneType\); give meta=EntryMeta\(...\) or the metadata as field keywords"),
        ("layers", lambda register: register("odd", "builtins:abs", meta="text"),
         r"layers 'odd' with meta='text' \(str\); give meta=LayerMeta\(...\)"),
        ("applications", lambda register: register("odd", "builtins:abs", weights={1: {}}),
         r"applications 'odd': field 'weights' has the tag 1 \(int\); a variant's tag is a string"),
        ("losses", lambda register: (register("aa", "builtins:abs", aliases=("zz",)),
                           register("bb", "builtins:len", aliases=("zz",))),
         r"losses 'bb' gives the alias 'zz', which its entry 'aa' already has"),
    ],
)  # fmt: skip
def test_a_register_mistake_is_a_registration_error_naming_plugin_entry_and_fix(
    loss_plugin, make_pm, monkeypatch, kind, register, said
):
    class Plugin:
        pass

    setattr(Plugin, f"zoo_register_{kind}", staticmethod(zoo.hookimpl(register)))
    pm = make_pm({"sloppy": Plugin(), "good": loss_plugin.good()})
    with pytest.warns(PluginWarning, match=f"'sloppy' was not loaded: zoo_register_{kind} raised plugin 'sloppy'.*{said}"):
        assert zoo.list("losses") == ["good_loss"]
    assert pm.info["sloppy"].status == "failed"
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    make_pm({"sloppy": Plugin()})
    with pytest.raises(zoo.PluginError, match=said):
        zoo.list(kind)


def test_meta_given_as_metadata_or_a_mapping_still_registers(loss_plugin, make_pm):
    make_pm({"fine": loss_plugin(lambda r: (r("a", "builtins:abs", meta=EntryMeta(description="one")),
                                        r("b", "builtins:abs", meta={"description": "two"})))})  # fmt: skip
    assert [zoo.info(n, kind="losses")["description"] for n in ("a", "b")] == ["one", "two"]


def test_string_weights_tags_load(make_pm):
    class Apps:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            register("tagged", "builtins:abs", weights={"v1": {}})

    make_pm({"toys": Apps()})
    assert list(zoo.plugins.get_registry().lookup("applications", "tagged").meta.weights) == ["v1"]


# -- 9. a failed plugin counts nothing ------------------------------------------------------------------
class FailsLate:
    """Registers losses, then fails on metrics (registered after losses): the losses are dropped too."""

    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("dropped_loss", "builtins:abs")

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        raise RuntimeError("metrics broke")


def test_a_failed_plugin_shows_no_counts(loss_plugin, make_pm, capsys):
    pm = make_pm({"late": FailsLate(), "good": loss_plugin.good()})
    with pytest.warns(PluginWarning, match="'late' was not loaded"):
        assert "dropped_loss" not in zoo.list("losses")
    assert pm.info["late"].counts == {} and pm.info["good"].counts == {"losses": 1}
    assert cli.main(["plugins", "--json"]) == 0
    shown = {info["name"]: info for info in json.loads(capsys.readouterr().out)}
    assert shown["late"]["status"] == "failed" and shown["late"]["counts"] == {}
    assert cli.main(["plugins"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("late "))
    assert "1 losses" not in row and "FAILED: zoo_register_metrics raised RuntimeError: metrics broke" in row


# -- 10. zoo new-plugin writes only names pip installs --------------------------------------------------
@pytest.mark.parametrize("name", ["zoo-", "zoo_", "zoo-zoo-", "myplug-", "myplug_", "-", ""])
def test_new_plugin_refuses_a_name_pip_would_not_install(tmp_path, name):
    with pytest.raises(zoo.ZooError, match="starting with a letter and ending with a letter or digit.*PEP 508"):
        new_plugin(name, kinds=["losses"], output=tmp_path)
    assert not any(tmp_path.iterdir())


def test_new_plugin_keeps_names_with_inner_separators(tmp_path):
    root = new_plugin("zoo-my-plug2", kinds=["losses"], output=tmp_path)
    assert root.name == "zoo-my-plug2" and (root / "zoo_my_plug2" / "losses.py").is_file()
