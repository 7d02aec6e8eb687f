"""Plugin isolation, allow/deny lists, strict mode, entry points, the built-ins' hook names."""

from __future__ import annotations

import sys
import textwrap
import warnings

import pytest

import zoo
import zoo.plugins
from zoo.plugins import BUILTIN_PLUGINS, PluginWarning, create_plugin_manager


class Good:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("good_loss", "builtins:abs")


class RaisesInRegister:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("half_registered", "builtins:abs")
        raise RuntimeError("boom inside register")

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        register("other_kind", "builtins:abs")


class BadSignature:
    @zoo.hookimpl
    def zoo_register_losses(self, register, extra_argument):
        pass


class Misspelled:
    @zoo.hookimpl
    def zoo_register_lossses(self, register):
        pass


def test_exception_in_register_is_isolated(make_pm):
    make_pm({"good": Good(), "bad": RaisesInRegister()})
    with pytest.warns(PluginWarning, match=r"'bad'.*boom inside register"):
        names = zoo.list("losses")
    assert names == ["good_loss"]
    assert zoo.list("metrics") == []  # nothing of the failed plugin survives, in any kind
    pm = zoo.plugins.get_plugin_manager()
    assert pm.info["bad"].status == "failed" and "boom" in pm.info["bad"].error
    assert pm.info["good"].counts == {"losses": 1}


def test_bad_hook_signature_is_isolated(make_pm):
    with pytest.warns(PluginWarning, match=r"'bad'.*invalid hook"):
        pm = make_pm({"bad": BadSignature(), "good": Good()})
    assert not pm.has_plugin("bad")
    assert zoo.list("losses") == ["good_loss"]


def test_check_pending_catches_misspelled_hooks(make_pm):
    with pytest.warns(PluginWarning, match="'zoo_register_lossses' is not a zoo hook"):  # said at load already
        pm = make_pm({"typo": Misspelled()})
    with pytest.raises(Exception, match="zoo_register_lossses"):
        pm.check_pending()


def test_builtin_plugins_implement_only_real_hooks():
    pm = create_plugin_manager(entrypoints=False)
    assert set(BUILTIN_PLUGINS) <= set(pm.info)
    assert all(pm.info[name].status == "ok" for name in BUILTIN_PLUGINS), pm.info
    pm.check_pending()


def test_strict_mode_raises(monkeypatch, make_pm):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    make_pm({"bad": RaisesInRegister()})
    with pytest.raises(zoo.PluginError, match="boom inside register"):
        zoo.list("losses")


@pytest.fixture
def installed_plugins(tmp_path, monkeypatch):
    """Two real installed distributions on sys.path: one fine, one whose module fails to import."""
    for dist, ep_name, module, body in (
        (
            "zoo_fine",
            "fine",
            "zoo_fine_plugin",
            "import zoo\n\n@zoo.hookimpl\ndef zoo_register_metrics(register):\n    register('fine_metric', 'builtins:abs')\n",
        ),
        ("zoo_broken", "broken", "zoo_broken_plugin", "import this_module_does_not_exist\n"),
    ):
        info = tmp_path / f"{dist}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[zoo]\n{ep_name} = {module}\n")
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for module in ("zoo_fine_plugin", "zoo_broken_plugin"):
        sys.modules.pop(module, None)


def test_entry_point_plugins_load_and_broken_import_is_isolated(installed_plugins):
    with pytest.warns(PluginWarning, match=r"'broken'.*this_module_does_not_exist"):
        pm = create_plugin_manager(builtins=False)
    zoo.plugins.use(pm)
    assert "fine_metric" in zoo.list("metrics")  # (other installed plugins, zoo-example, add theirs)
    assert zoo.plugins.get_registry().lookup("metrics", "fine_metric").plugin == "fine"
    assert pm.info["fine"].version == "1.2.3" and pm.info["fine"].distribution == "zoo_fine"
    assert pm.info["broken"].status == "failed"


def test_allow_list(installed_plugins, monkeypatch):
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "fine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the broken plugin is never imported
        pm = create_plugin_manager(builtins=False)
    assert pm.has_plugin("fine")
    assert pm.info["broken"].status == "disabled"


def test_empty_allow_list_loads_no_third_party_plugin(installed_plugins, monkeypatch):
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "")
    pm = create_plugin_manager()
    assert not pm.has_plugin("fine") and not pm.has_plugin("example")
    assert all(pm.has_plugin(name) for name in BUILTIN_PLUGINS)


def test_deny_list_blocks_installed_and_builtin(installed_plugins, monkeypatch):
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "broken, datasets")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pm = create_plugin_manager()
    assert pm.has_plugin("fine")
    assert pm.info["broken"].status == "disabled"
    assert not pm.has_plugin("datasets") and pm.info["datasets"].status == "disabled"


def test_example_plugin_is_found_through_its_entry_point():
    pm = create_plugin_manager()
    assert pm.info["example"].distribution == "zoo-example"
    zoo.plugins.use(pm)
    assert "squareplus" in zoo.list("activations")
    assert zoo.info("example:SquareplusDense", kind="layers")["plugin"] == "example"


def test_example_plugin_with_a_fresh_manager():
    """The pattern the plugin author's guide recommends."""
    torch = pytest.importorskip("torch")
    from zoo_example import plugin

    pm = create_plugin_manager(builtins=False, entrypoints=False)
    pm.add_plugin(plugin, "example")
    pm.check_pending()
    zoo.plugins.use(pm)
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert torch.equal(zoo.get("activations", "square-plus", b=0.0)(x), torch.relu(x))
    assert torch.allclose(zoo.get("activations", "squareplus")(x), (x + torch.sqrt(x * x + 4)) / 2)
    layer = zoo.get("layers", "SquareplusDense", 3, 2)
    assert layer(x).shape == (2,) and bool((layer(x) > 0).all())


def test_a_plugin_activation_resolves_by_name_in_layers():
    """Plugin entries are first-class: Dense(activation=...) finds the example plugin's squareplus."""
    torch = pytest.importorskip("torch")
    from zoo.layers import Dense

    layer = Dense(2, input_dim=3, activation="squareplus")
    with torch.no_grad():
        layer.linear.weight.zero_()
        layer.linear.bias.zero_()
    assert torch.allclose(layer(torch.ones(1, 3)), torch.ones(1, 2))  # squareplus(0) = sqrt(4) / 2


def test_registering_runs_with_the_garbage_collector_paused(make_pm):
    """Thousands of registrations would each trigger collections that walk torch's objects (zoo/_gc.py)."""
    import gc

    seen = []

    class Spy:
        @zoo.hookimpl
        def zoo_register_layers(self, register):
            seen.append(gc.isenabled())

    make_pm({"spy": Spy()}).build_registry()
    assert seen == [False] and gc.isenabled()
