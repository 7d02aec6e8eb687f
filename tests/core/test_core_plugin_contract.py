"""The register() contract as documented, enforced: what a plugin gets wrong fails that plugin, names it and
says the fix, and never breaks zoo for the other plugins."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch

import zoo
import zoo.plugins
from zoo.plugin import LayerMeta
from zoo.plugins import PluginWarning, create_plugin_manager


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (lambda r: r("odd", "builtins:abs", fallback="yes"), "fallback='yes'; fallback= takes False"),
        (lambda r: r("odd", "builtins:abs", fallback=-1), "fallback=-1"),
        (lambda r: r("odd", "builtins:abs", fallback=5), "fallback=5"),
        (lambda r: r("odd", "builtins:abs", fallback=2.0), "fallback=2.0"),
        (lambda r: (r("twice", "builtins:abs"), r("twice", "builtins:len")), "registers losses 'twice' twice"),
        (lambda r: r("odd", "builtins:abs", aliases=None), "aliases=None; give a name or a list of names"),
        (lambda r: r("odd", "builtins:abs", "a summary"), "1 more positional arguments.*as keywords"),
        (lambda r: r("my loss", "builtins:abs"), "invalid name 'my loss'"),
        (lambda r: r("odd", "builtins:abs", meta=LayerMeta()), "with LayerMeta; losses take EntryMeta"),
    ],
)
def test_a_wrong_register_call_fails_only_its_plugin(loss_plugin, make_pm, body, said):
    make_pm({"good": loss_plugin.good(), "bad": loss_plugin(body)})
    with pytest.warns(PluginWarning, match=said):
        assert zoo.list("losses") == ["good_loss"]  # zoo keeps working: one plugin's error stays its own
    info = zoo.plugins.get_plugin_manager().info["bad"]
    assert info.status == "failed" and "'bad'" in info.error


def test_fallback_values_documented_rank_as_documented(loss_plugin, make_pm):
    def body(register):
        register("shared", "builtins:abs", fallback=2)
        register("other", "builtins:abs", fallback=True)

    make_pm({"good": loss_plugin(lambda r: r("shared", "builtins:len")), "cat": loss_plugin(body)})
    assert zoo.plugins.get_registry().lookup("losses", "shared").plugin == "good"


def test_a_plugin_name_in_use_is_refused_and_the_holder_kept(loss_plugin):
    import zoo.training.plugin

    pm = create_plugin_manager(entrypoints=False)
    with pytest.warns(PluginWarning, match="'training' is a built-in plugin's; give the plugin another name"):
        assert pm.add_plugin(loss_plugin.good(), "training") is False
    zoo.plugins.use(pm)
    assert pm.info["training"].status == "ok" and pm.info["training"].builtin
    assert zoo.get("losses", "mse") is not None and "good_loss" not in zoo.list("losses")
    assert pm.get_plugin("training") is zoo.training.plugin


def test_a_register_hook_without_register_is_said(make_pm):
    class NoArgument:
        @zoo.hookimpl
        def zoo_register_losses(self):
            pass

    with pytest.warns(PluginWarning, match="takes no 'register' argument, so it registers nothing"):
        make_pm({"quiet": NoArgument()})


def test_the_plugin_half_of_a_qualified_name_ignores_case(loss_plugin, make_pm):
    make_pm({"good": loss_plugin.good()})
    assert zoo.plugins.get_registry().lookup("losses", "Good:good_loss").plugin == "good"


def test_an_installed_plugin_named_like_a_built_in_is_said(tmp_path, monkeypatch):
    info = tmp_path / "zoo_layersx-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo_layersx\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[zoo]\nlayers = zoo_layersx_plugin\n")
    (tmp_path / "zoo_layersx_plugin.py").write_text(textwrap.dedent("""
        import zoo

        @zoo.hookimpl
        def zoo_register_losses(register):
            register("my_special_loss", "builtins:abs")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.warns(PluginWarning, match="'layers' of zoo_layersx was not loaded: 'layers' is a built-in"):
            create_plugin_manager()
        monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
        with pytest.raises(zoo.PluginError, match="rename its entry point"):
            create_plugin_manager()
    finally:
        sys.modules.pop("zoo_layersx_plugin", None)


def _returns(value):
    return lambda *args, **kwargs: value


def _raises(*args, **kwargs):
    raise RuntimeError("broken builder")


@pytest.mark.parametrize(
    ("kind", "target", "said"),
    [
        ("optimizers", _returns("hello"), "built a str .*not a torch.optim.Optimizer"),
        ("layers", _returns("oops"), "not a torch.nn.Module"),
        ("metrics", _returns("oops"), "not a callable metric"),
        ("losses", _returns(None), "built a NoneType"),
        ("activations", _returns("oops"), "not a callable tensor -> tensor"),
        ("exporters", _returns("hello"), "not a zoo.plugin.Exporter instance"),
    ],
)
def test_a_builder_returning_the_wrong_thing_is_named(make_pm, kind, target, said):
    class Plugin:
        pass

    def hook(register):
        register("odd", target)

    setattr(Plugin, f"zoo_register_{kind}", staticmethod(zoo.hookimpl(hook)))
    make_pm({"sloppy": Plugin()})
    # an activation's target is the function itself (hookspecs): what it returns for a tensor is checked
    args = (torch.ones(2),) if kind == "activations" else ()
    with pytest.raises(zoo.PluginError, match=f"{kind} 'sloppy:odd' of plugin 'sloppy' .*{said}"):
        zoo.get(kind, "odd", *args)


def test_a_builder_that_raises_keeps_its_error_and_names_its_plugin(loss_plugin, make_pm):
    make_pm({"sloppy": loss_plugin(lambda r: r("odd", _raises))})
    with pytest.raises(RuntimeError, match="broken builder") as info:
        zoo.get("losses", "odd")
    assert "(raised by losses 'sloppy:odd', from plugin 'sloppy')" in info.value.__notes__
