"""Hooks are called through pluggy, one plugin at a time: wrappers and hook-call monitoring work, the order is
built-ins first, and hook names zoo would silently ignore (a typo, a missing marker) are reported."""

from __future__ import annotations

import warnings

import pytest

import zoo
import zoo.plugins
from zoo.cli import build_parser, main
from zoo.plugins import BUILTIN_PLUGINS, PluginWarning, create_plugin_manager


def _monitor(pm):
    """``[(hook name, [plugin of each impl called])]`` for every hook call pluggy makes."""
    calls = []
    pm.add_hookcall_monitoring(lambda hook, impls, kwargs: calls.append((hook, [i.plugin_name for i in impls])),
                               lambda outcome, hook, impls, kwargs: None)  # fmt: skip
    return calls


LOG: list[str] = []


class Wrapped:
    """A register hook and a new-style wrapper around it, in one plugin."""

    @zoo.hookimpl
    def zoo_register_losses(self, register):
        LOG.append("wrapped impl")
        register("inner_loss", "builtins:abs")

    @zoo.hookimpl(wrapper=True, specname="zoo_register_losses")
    def wrap_losses(self, register):
        LOG.append("before")
        result = yield
        LOG.append("after")
        register("added_by_wrapper", "builtins:abs")
        return result


class OtherLosses:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        LOG.append("other impl")
        register("other_loss", "builtins:abs")


def test_a_wrapper_wraps_its_own_plugins_registration(make_pm):
    LOG.clear()
    make_pm({"other": OtherLosses(), "wrapped": Wrapped()})
    assert zoo.list("losses") == ["added_by_wrapper", "inner_loss", "other_loss"]
    assert LOG == ["other impl", "before", "wrapped impl", "after"]  # around its own impl, not the other's
    assert zoo.plugins.get_plugin_manager().info["wrapped"].counts == {"losses": 2}


def test_an_old_style_hookwrapper_works_too(make_pm):
    seen = []

    class OldStyle:
        @zoo.hookimpl
        def zoo_register_metrics(self, register):
            register("m", "builtins:abs")

        @zoo.hookimpl(hookwrapper=True, specname="zoo_register_metrics")
        def around(self, register):
            outcome = yield
            seen.append(outcome.get_result())

    make_pm({"old": OldStyle()})
    assert zoo.list("metrics") == ["m"] and seen == [[]]  # the impl returns None: pluggy drops it


def test_a_wrapper_that_is_not_a_generator_is_refused_at_load_naming_the_plugin(make_pm):
    class NotAGenerator:
        @zoo.hookimpl(wrapper=True)
        def zoo_register_losses(self, register):
            register("x", "builtins:abs")

    with pytest.warns(PluginWarning, match=r"'nogen' was not loaded: invalid hook.*not a generator"):
        pm = make_pm({"nogen": NotAGenerator(), "other": OtherLosses()})
    assert pm.info["nogen"].status == "failed" and zoo.list("losses") == ["other_loss"]


def test_a_wrapper_that_raises_fails_only_its_plugin(make_pm):
    class BadWrapper:
        @zoo.hookimpl(wrapper=True)
        def zoo_register_losses(self, register):
            yield
            raise RuntimeError("wrapper broke")

    with pytest.warns(PluginWarning, match=r"'bad'.*zoo_register_losses raised RuntimeError: wrapper broke"):
        make_pm({"bad": BadWrapper(), "other": OtherLosses()})
        assert zoo.list("losses") == ["other_loss"]


def test_hook_call_monitoring_sees_register_command_and_behaviour_calls(make_pm):
    class Everything(OtherLosses):
        @zoo.hookimpl
        def zoo_register_commands(self, subparsers):
            subparsers.add_parser("everything-cmd")

        @zoo.hookimpl
        def zoo_model_built(self, model, name, options):
            pass

    pm = make_pm({"every": Everything(), "other": OtherLosses()})
    calls = _monitor(pm)
    pm.build_registry()
    build_parser()
    pm.call_each("zoo_model_built", model=object(), name="m", options={})
    assert calls == [
        ("zoo_register_losses", ["every"]),  # one call per plugin, each with only its own impls
        ("zoo_register_losses", ["other"]),
        ("zoo_register_commands", ["every"]),
        ("zoo_model_built", ["every"]),
    ]


def test_order_is_builtins_first_then_plugins_as_added_not_pluggys_lifo():
    pm = create_plugin_manager(entrypoints=False)
    pm.add_plugin(OtherLosses(), "zzz")
    pm.add_plugin(OtherLosses(), "aaa")
    assert pm.plugin_order() == [*BUILTIN_PLUGINS, "zzz", "aaa"]
    calls = _monitor(pm)
    pm.build_registry()
    assert [impls for hook, impls in calls if hook == "zoo_register_losses"] == [
        ["training"],
        ["zzz"],
        ["aaa"],
    ]
    # pluggy itself would call the last registered first
    assert [i.plugin_name for i in pm.hook.zoo_register_losses.get_hookimpls()][::-1][:2] == ["aaa", "zzz"]


class Misspelled:
    @zoo.hookimpl
    def zoo_register_loss(self, register):
        register("never", "builtins:abs")

    @zoo.hookimpl
    def zoo_register_metrics(self, register):
        register("still_here", "builtins:abs")


class Unmarked:
    def zoo_register_losses(self, register):
        register("never", "builtins:abs")

    def zoo_register_lossez(self, register):
        pass


def test_a_misspelled_hook_is_a_warning_naming_plugin_name_and_closest_hook(make_pm, capsys):
    with pytest.warns(PluginWarning) as record:
        pm = make_pm({"typo": Misspelled()})
    [message] = [str(w.message) for w in record]
    assert "'typo'" in message and "'zoo_register_loss' is not a zoo hook" in message
    assert "Did you mean 'zoo_register_losses'?" in message
    assert pm.info["typo"].status == "ok" and zoo.list("metrics") == ["still_here"]
    assert main(["plugins"]) == 0
    assert "zoo_register_loss' is not a zoo hook" in capsys.readouterr().out  # shown beside its status


def test_a_hook_function_without_the_marker_is_a_warning(make_pm):
    with pytest.warns(PluginWarning) as record:
        make_pm({"nomark": Unmarked()})
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2 and all("'nomark'" in m for m in messages)
    assert "'zoo_register_losses' lacks the @zoo.hookimpl marker, so zoo never calls it" in messages[0]
    assert "'zoo_register_lossez' lacks the @zoo.hookimpl marker and is not a zoo hook" in messages[1]
    assert "Did you mean 'zoo_register_losses'?" in messages[1]


@pytest.mark.parametrize("plugin", [Misspelled(), Unmarked()], ids=["misspelled", "unmarked"])
def test_strict_mode_makes_an_ignored_hook_an_error(monkeypatch, plugin):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    pm = create_plugin_manager(builtins=False, entrypoints=False)
    with pytest.raises(
        zoo.PluginError, match=r"'bad' was not loaded: 'zoo_register_loss.*ZOO_STRICT_PLUGINS"
    ):
        pm.add_plugin(plugin, "bad")
    assert pm.info["bad"].status == "failed" and not pm.has_plugin("bad")


def test_builtin_plugins_and_the_example_raise_no_hook_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pm = create_plugin_manager(entrypoints=False)
        from zoo_example import plugin

        pm.add_plugin(plugin, "example")
    assert all(not i.warnings for i in pm.info.values())
