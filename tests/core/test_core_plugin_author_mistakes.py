"""Mistakes a plugin author makes once: each is refused where it is made, naming the plugin and the fix,
and none breaks zoo for the other plugins."""

from __future__ import annotations

import dataclasses

import pytest

import zoo
import zoo.plugins
from zoo.errors import PluginError
from zoo.plugins import PluginWarning
from zoo.testing import PluginCheckError, check_plugin


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_a_plugin_needs_a_name(make_pm, loss_plugin, name):
    pm = make_pm()
    with pytest.raises(PluginError, match="a plugin's name must be a non-empty string"):
        pm.add_plugin(loss_plugin.good(), name)


def test_an_unhashable_plugin_object_fails_alone(make_pm, loss_plugin):
    @dataclasses.dataclass  # eq=True sets __hash__ = None
    class DataPlugin:
        size: int = 1

        @zoo.hookimpl
        def zoo_register_losses(self, register):
            register("data_loss", "builtins:abs")

    with pytest.warns(PluginWarning, match=r"cannot be hashed.*@dataclass\(eq=False\)"):
        make_pm({"good": loss_plugin.good(), "data": DataPlugin()})
    assert zoo.list("losses") == ["good_loss"]  # pluggy's set of plugins would have broken this call
    assert zoo.plugins.get_plugin_manager().info["data"].status == "failed"


def test_register_called_after_its_hook_returned_is_refused(make_pm, loss_plugin):
    kept = []
    make_pm({"keeper": loss_plugin(lambda register: (register("first", "builtins:abs"), kept.append(register)))})
    assert zoo.list("losses") == ["first"]
    with pytest.raises(zoo.ZooError, match="after zoo_register_losses returned.*inside the hook"):
        kept[0]("late", "builtins:abs")
    assert zoo.list("losses") == ["first"]


def test_meta_and_field_keywords_together_are_refused(make_pm, loss_plugin):
    body = lambda r: r("odd", "builtins:abs", meta={"description": "a"}, license="MIT")  # noqa: E731
    make_pm({"good": loss_plugin.good(), "bad": loss_plugin(body)})
    with pytest.warns(PluginWarning, match=r"meta= and field keywords \(license\); give one of them"):
        assert zoo.list("losses") == ["good_loss"]


def test_a_field_hidden_in_extra_is_refused(make_pm, loss_plugin):
    body = lambda r: r("odd", "builtins:abs", extra={"license": "MIT", "paper": "ok"})  # noqa: E731
    make_pm({"good": loss_plugin.good(), "bad": loss_plugin(body)})
    with pytest.warns(PluginWarning, match=r"extra holds 'license', a field of its own; give it as the field"):
        assert zoo.list("losses") == ["good_loss"]


@pytest.mark.parametrize("name", ["loss\n", "ok\nbad"])
def test_a_name_with_a_newline_is_invalid(make_pm, loss_plugin, name):
    make_pm({"good": loss_plugin.good(), "bad": loss_plugin(lambda r: r(name, "builtins:abs"))})
    with pytest.warns(PluginWarning, match="invalid name"):
        assert zoo.list("losses") == ["good_loss"]


def test_a_lazy_target_with_a_trailing_newline_is_invalid(make_pm, loss_plugin):
    make_pm({"good": loss_plugin.good(), "bad": loss_plugin(lambda r: r("odd", "builtins:abs\n"))})
    with pytest.warns(PluginWarning):
        assert zoo.list("losses") == ["good_loss"]


def test_a_hex_digest_with_a_trailing_newline_is_not_hex():
    from zoo.hub.store import is_hex

    assert is_hex("a" * 64) and not is_hex("a" * 64 + "\n")  # `$` matches before a final newline, \Z does not


def _two_losses(loss_plugin, make_pm):
    def body(register):
        register("first_loss", "torch.nn:L1Loss")
        register("second_loss", "torch.nn:MSELoss")

    make_pm({"two": loss_plugin(body)})


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"skip": ["frist_loss"]}, "skip=\\['frist_loss'\\]: 'frist_loss' names no entry of plugin 'two'. Did you mean 'first_loss'"),
        ({"only": ["zzz*"]}, "'zzz\\*' names no entry of plugin 'two'"),
        ({"configs": {"secnod_loss": {}}}, "configs key 'secnod_loss' names no entry.*Did you mean 'second_loss'"),
    ],
)
def test_kit_patterns_and_configs_that_name_no_entry_are_typos(loss_plugin, make_pm, kwargs, said):
    _two_losses(loss_plugin, make_pm)
    with pytest.raises(PluginCheckError, match=said):
        check_plugin("two", **kwargs)


def test_kit_takes_a_bare_string_as_one_pattern_and_ignores_case(loss_plugin, make_pm):
    _two_losses(loss_plugin, make_pm)
    report = check_plugin("two", only="FIRST_loss")  # a str was iterated letter by letter: 'f', 'i', ...
    assert report.checked == {"losses": ["first_loss"]}
    report = check_plugin("two", skip="Second*")
    assert report.checked == {"losses": ["first_loss"]}


def _plugin(**hooks):
    """A plugin object with the given ``zoo_register_<kind>`` bodies."""
    namespace = {
        f"zoo_register_{kind}": zoo.hookimpl(lambda self, register, body=body: body(register))
        for kind, body in hooks.items()
    }
    return type("Plugin", (), namespace)()


def test_a_plugin_activation_function_is_an_activation_everywhere(make_pm):
    import torch

    make_pm({"acts": _plugin(activations=lambda r: r("my_silu", "torch.nn.functional:silu"))}, builtins=True)
    x = torch.linspace(-2, 2, 5)
    act = zoo.get("activations", "my_silu")  # was silu() called with no tensor: a raw TypeError
    assert torch.equal(act(x), torch.nn.functional.silu(x))
    assert torch.equal(zoo.get("activations", "my_silu", x), torch.nn.functional.silu(x))
    layer = zoo.layers.Dense(3, activation="my_silu")
    layer(torch.zeros(1, 2))
    assert torch.equal(layer.activation(x), torch.nn.functional.silu(x))
    with pytest.raises(zoo.ZooError, match="slope"):
        zoo.get("activations", "my_silu", slope=2)


def test_a_plugin_activation_module_class_is_instantiated(make_pm):
    import torch

    make_pm({"acts": _plugin(activations=lambda r: r("my_tanh", "torch.nn:Tanh"))})
    assert isinstance(zoo.get("activations", "my_tanh"), torch.nn.Tanh)
    assert torch.equal(zoo.get("activations", "my_tanh", torch.ones(2)), torch.tanh(torch.ones(2)))


def _boom(weights=None):
    raise ValueError("inner bad")


def test_an_application_builder_error_names_its_entry_and_plugin(make_pm):
    make_pm({"apps": _plugin(applications=lambda r: r("boom", _boom))})
    with pytest.raises(ValueError, match="inner bad") as err:
        zoo.load("boom", weights=None)
    assert "(raised by applications 'apps:boom', from plugin 'apps')" in err.value.__notes__


def _no_include_top(weights=None, num_classes=None):
    import torch

    return torch.nn.Linear(2, num_classes or 2)


def test_a_declared_option_the_builder_does_not_take_blames_the_plugin(make_pm):
    make_pm({"apps": _plugin(applications=lambda r: r("decl", _no_include_top, options=("include_top",)))})
    with pytest.raises(PluginError, match="declares option 'include_top' in its metadata 'options', but its builder"):
        zoo.load("decl", include_top=False)  # said "takes no option 'include_top'. Did you mean 'include_top'?"


def test_a_word_index_that_does_not_import_names_its_plugin(make_pm):
    make_pm({"text": _plugin(datasets=lambda r: r("words", "builtins:len", word_index="no_such_module_xyz:index"))})
    with pytest.raises(zoo.ZooError, match="plugin 'text' registers datasets 'words' with word_index 'no_such_module_xyz"):
        zoo.datasets.get_word_index("words")  # was a raw ModuleNotFoundError


@pytest.mark.parametrize(
    ("kind", "field", "value", "said"),
    [
        ("datasets", "word_index", "not a target", "'package.module:function'"),
        ("applications", "gflops", float("nan"), "a finite number >= 0"),
        ("applications", "file_size_mb", -1, "a finite number >= 0"),
        ("applications", "top1", 200, r"a percentage in \[0, 100\]"),
        ("applications", "top1", float("inf"), "a finite number"),
    ],
)
def test_metadata_figures_and_word_index_are_checked(make_pm, loss_plugin, kind, field, value, said):
    make_pm({"good": loss_plugin.good(), "bad": _plugin(**{kind: lambda r: r("x", "builtins:len", **{field: value})})})
    with pytest.warns(PluginWarning, match=f"field '{field}' must be {said}"):
        assert zoo.list("losses") == ["good_loss"]
