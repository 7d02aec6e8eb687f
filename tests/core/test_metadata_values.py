"""Metadata values a plugin registers are checked for what they mean, not only for their type: plain data
that `zoo info --json` can write, counts that can be, and category names that fit the class count."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

import zoo
import zoo.plugins
from zoo.metadata import ApplicationMeta, WeightsVariant, parse
from zoo.plugins import PluginWarning

WHERE = "plugin 'p' registers applications 'tiny'"


def _plugin(kind="applications", **meta):
    class Plugin:
        @zoo.hookimpl
        def zoo_register_applications(self, register):
            if kind == "applications":
                register("tiny", "builtins:print", **meta)

        @zoo.hookimpl
        def zoo_register_datasets(self, register):
            if kind == "datasets":
                register("tiny_set", "builtins:print", **meta)

    return Plugin()


def _fails(make_pm, message, kind="applications", **meta):
    make_pm({"bad": _plugin(kind, **meta)})
    with pytest.warns(PluginWarning, match=r"plugin 'bad' was not loaded: .*" + message):
        assert zoo.list(kind) == []
    assert zoo.plugins.get_plugin_manager().info["bad"].status == "failed"


# -- plain data -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"f": object()}, r"field 'extra' must be plain data .*the value at \['f'\] is <object object"),
        ({"f": [1, {"g": {1, 2}}]}, r"field 'extra' must be plain data .*the value at \['f'\]\[1\]\['g'\] is \{1, 2\} \(set\)"),
        ({"f": {1: "one"}}, r"field 'extra' must be plain data .*the value at \['f'\] has the key 1: use str\(1\)"),
        ({"f": int}, r"field 'extra' must be plain data .*\(type\)"),
    ],
)
def test_extra_that_json_cannot_write_fails_the_plugin_naming_field_and_place(make_pm, extra, message):
    _fails(make_pm, r"'tiny': " + message, extra=extra)


def test_strict_mode_makes_unplain_extra_an_error(make_pm, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    make_pm({"bad": _plugin(extra={"f": object()})})
    with pytest.raises(zoo.PluginError, match=r"plugin 'bad'.*'tiny': field 'extra' must be plain data"):
        zoo.list("applications")


def test_plain_extra_loads_and_info_dumps_as_json(make_pm):
    extra = {"paper": "https://x", "n": 3, "ratio": 0.5, "ok": True, "none": None,
             "nested": {"a": [1, (2, 3)], "b": {"c": "d"}}}  # fmt: skip
    make_pm({"good": _plugin(extra=extra)})
    info = json.loads(json.dumps(zoo.info("tiny")))
    assert info["nested"] == {"a": [1, [2, 3]], "b": {"c": "d"}} and info["ratio"] == 0.5 and info["none"] is None


@pytest.mark.parametrize("field", ["extra", "metrics", "preprocessing", "build"])
def test_a_variant_mapping_field_must_be_plain_data_too(make_pm, field):
    weights = {"v1": {"url": "https://x/a.pth", field: {"bad": {1}}}}
    _fails(make_pm, rf"'tiny' weights\['v1'\]: field '{field}' must be plain data", weights=weights)


def test_a_dataset_shapes_field_must_be_plain_data(make_pm):
    _fails(make_pm, r"'tiny_set': field 'shapes' must be plain data", kind="datasets", shapes={"x": object()})


def test_a_dataclass_built_by_the_plugin_is_checked_as_keywords_are():
    """``meta=ApplicationMeta(...)`` skips the dataclass' own field checks; registration runs them."""
    with pytest.raises(zoo.RegistrationError, match=r"'tiny': field 'extra' must be plain data"):
        parse("applications", ApplicationMeta(extra={"f": object()}), WHERE)
    with pytest.raises(zoo.RegistrationError, match=r"'tiny': field 'num_classes' must be an int >= 0"):
        parse("applications", ApplicationMeta(num_classes=-1), WHERE)
    variant = WeightsVariant(url="https://x/a.pth", extra={"f": {1}})
    with pytest.raises(zoo.RegistrationError, match=r"weights\['v1'\]: field 'extra' must be plain data"):
        parse("applications", ApplicationMeta(weights={"v1": variant}), WHERE)
    good = parse("applications", ApplicationMeta(min_size=[32, 32], options=["include_top"]), WHERE)
    assert good.min_size == (32, 32) and good.options == ("include_top",)  # normalised as keywords are


def test_a_plugin_built_dataclass_with_disagreeing_fields_is_a_zoo_error():
    with pytest.raises(zoo.RegistrationError, match=r"field 'categories' \(2 names\) and field 'num_classes' \(3\)"):
        ApplicationMeta(categories=("a", "b"), num_classes=3)


# -- options: a bare string is one option, as for every list-of-strings field --------------------------
def test_a_bare_options_string_is_one_option(make_pm):
    make_pm({"good": _plugin(options="include_top")})
    meta = zoo.plugins.get_registry().lookup("applications", "tiny").meta
    assert meta.options == ("include_top",)  # not ("i", "n", "c", ...)
    assert zoo.info("tiny")["options"] == ["include_top"]
    # the same rule as the other list-of-strings fields
    assert parse("datasets", {"options": "seed", "classes": "cat"}, "d").options == ("seed",)
    assert WeightsVariant.parse({"url": "https://x/a", "mirrors": "https://y/a"}, "v").mirrors == ("https://y/a",)


@pytest.mark.parametrize("options", [["include_top", 3], 3, {"include_top": True}])
def test_options_that_are_not_strings_are_refused(make_pm, options):
    _fails(make_pm, r"'tiny': field 'options' must be a list of strings", options=options)


# -- counts and sizes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"num_classes": -1}, r"field 'num_classes' must be an int >= 0 \(0: the weights have no classifier\)"),
        ({"num_classes": True}, r"field 'num_classes' must be an int >= 0"),
        ({"num_classes": 2.0}, r"field 'num_classes' must be an int >= 0"),
        ({"min_size": (0, 0)}, r"field 'min_size' must be \(height, width\), two positive ints"),
        ({"min_size": (0, 32)}, r"field 'min_size' must be \(height, width\), two positive ints"),
        ({"min_size": -1}, r"field 'min_size' must be \(height, width\), two positive ints"),
        ({"min_size": (True, 32)}, r"field 'min_size' must be \(height, width\)"),
        ({"min_size": (32, 32, 3)}, r"field 'min_size' must be \(height, width\)"),
        ({"input_size": (True, 8, 8)}, r"field 'input_size' must be a positive int or a tuple of them"),
    ],
)
def test_impossible_counts_and_sizes_fail_the_plugin(make_pm, meta, message):
    _fails(make_pm, r"'tiny': " + message, **meta)


def test_a_variant_count_is_checked_as_the_entry_one(make_pm):
    weights = {"v1": {"url": "https://x/a.pth", "min_size": (0, 0)}}
    _fails(make_pm, r"'tiny' weights\['v1'\]: field 'min_size' must be \(height, width\), two positive", weights=weights)
    weights = {"v1": {"url": "https://x/a.pth", "num_classes": -3}}
    _fails(make_pm, r"'tiny' weights\['v1'\]: field 'num_classes' must be an int >= 0", weights=weights)


def test_sizes_that_make_sense_are_kept():
    meta = parse("applications", {"min_size": 32, "num_classes": 10, "input_size": (1, 8, 8)}, WHERE)
    assert meta.min_size == (32, 32) and meta.num_classes == 10 and meta.input_size == (1, 8, 8)
    # 0 outputs is timm's mark of weights without a classifier (zoo.load then asks for num_classes=N)
    assert parse("applications", {"num_classes": 0}, WHERE).num_classes == 0


@pytest.mark.parametrize("num_classes", [0, -1])
def test_a_dataset_without_classes_leaves_num_classes_out(make_pm, num_classes):
    _fails(make_pm, r"'tiny_set': field 'num_classes' must be a positive int", kind="datasets", num_classes=num_classes)


# -- categories agree with num_classes ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            {"categories": ["a", "b"], "num_classes": 3},
            r"'tiny': field 'categories' \(2 names\) and field 'num_classes' \(3\) disagree: give one name per output",
        ),
        (
            {"weights": {"v1": {"url": "https://x/a.pth", "categories": ["a", "b"], "num_classes": 3}}},
            r"'tiny' weights\['v1'\]: field 'categories' \(2 names\) and field 'num_classes' \(3\) disagree",
        ),
        (  # the variant's names with the entry's count: model.zoo.categories would not fit the head
            {"num_classes": 3, "weights": {"v1": {"url": "https://x/a.pth", "categories": ["a", "b"]}}},
            r"'tiny' weights\['v1'\]: field 'categories' \(2 names\) and the entry's field 'num_classes' \(3\) "
            r"disagree: .*give the variant its own num_classes",
        ),
        (
            {"categories": ["a", "b", "c"], "weights": {"v1": {"url": "https://x/a.pth", "num_classes": 2}}},
            r"'tiny' weights\['v1'\]: the entry's field 'categories' \(3 names\) and field 'num_classes' \(2\) "
            r"disagree: .*give the variant its own categories",
        ),
    ],
)
def test_categories_that_do_not_fit_num_classes_fail_the_plugin(make_pm, meta, message):
    _fails(make_pm, message, **meta)


def test_dataset_classes_must_fit_num_classes(make_pm):
    _fails(make_pm, r"'tiny_set': field 'classes' \(1 name\) and field 'num_classes' \(2\) disagree",
           kind="datasets", classes=["cat"], num_classes=2)  # fmt: skip


def test_categories_that_fit_are_accepted(make_pm):
    weights = {
        "v1": {"url": "https://x/a.pth", "categories": ["a", "b", "c"]},  # the entry's num_classes
        "tuned": {"url": "https://x/b.pth", "categories": ["x", "y"], "num_classes": 2},  # its own head
        "shared": {"url": "https://x/c.pth", "categories": "imagenet1k", "num_classes": 3},  # a name: not counted
    }
    make_pm({"good": _plugin(num_classes=3, categories=["a", "b", "c"], weights=weights)})
    info = json.loads(json.dumps(zoo.info("tiny")))
    assert info["weights"]["tuned"]["num_classes"] == 2 and info["num_classes"] == 3


class _LazyTable(Mapping):
    """A catalogue read on demand (as zoo-timm's): its variants are checked when read."""

    def __init__(self, raw):
        self.raw = raw

    def __getitem__(self, tag):
        return self.raw[tag]

    def __iter__(self):
        return iter(self.raw)

    def __len__(self):
        return len(self.raw)


def test_a_lazy_weights_table_is_checked_against_the_entry_when_read():
    table = _LazyTable({"v1": {"url": "https://x/a.pth", "categories": ["a", "b"]}})
    meta = parse("applications", {"num_classes": 3, "weights": table}, WHERE)  # nothing read yet
    with pytest.raises(zoo.RegistrationError, match=r"weights\['v1'\]: field 'categories' \(2 names\) and the entry's"):
        meta.weights["v1"]
    table = _LazyTable({"v1": {"url": "https://x/a.pth", "extra": {"f": object()}}})
    with pytest.raises(zoo.RegistrationError, match=r"weights\['v1'\]: field 'extra' must be plain data"):
        parse("applications", {"weights": table}, WHERE).weights["v1"]
