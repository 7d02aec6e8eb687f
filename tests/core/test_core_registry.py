from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.metadata import parse
from zoo.registry import Entry, Registry, normalize


def entry(name, plugin="p", kind="applications", aliases=(), fallback=False, **meta):
    return Entry(
        kind=kind,
        name=name,
        target=lambda *a, **k: (name, a, k),
        plugin=plugin,
        aliases=aliases,
        meta=parse(kind, meta, f"test entry {name!r}"),
        fallback=fallback,
    )


def test_spellings_resolve_to_one_entry():
    reg = Registry()
    reg.add_all([entry("resnet50"), entry("inception_v3"), entry("early_stopping", kind="callbacks")])
    for spelling in ("ResNet50", "resnet50", "resnet-50", "RESNET_50", " resnet50 "):
        assert reg.lookup("applications", spelling).name == "resnet50"
    assert reg.lookup("application", "InceptionV3").name == "inception_v3"
    assert reg.lookup("callbacks", "EarlyStopping").name == "early_stopping"


def test_separator_between_digits_is_kept():
    # torchvision has both; dropping every separator would merge them.
    reg = Registry()
    reg.add_all([entry("regnet_x_1_6gf"), entry("regnet_x_16gf")])
    assert reg.lookup("applications", "RegNet-X-1.6GF").name == "regnet_x_1_6gf"
    assert reg.lookup("applications", "regnetx16gf").name == "regnet_x_16gf"


def test_one_plugin_cannot_register_two_names_that_read_the_same():
    reg = Registry()
    with pytest.raises(zoo.RegistrationError, match="reads the same"):
        reg.add_all([entry("resnet50"), entry("ResNet_50")])
    assert reg.entries("applications") == []  # all or nothing


def test_duplicate_across_plugins_is_ambiguous_but_qualified_names_work():
    reg = Registry()
    reg.add_all([entry("foo", plugin="alpha")])
    reg.add_all([entry("Foo", plugin="beta")])
    with pytest.raises(zoo.AmbiguousNameError) as err:
        reg.lookup("applications", "foo")
    assert "alpha:foo" in str(err.value) and "beta:Foo" in str(err.value)
    assert reg.lookup("applications", "alpha:foo").plugin == "alpha"
    assert reg.lookup("applications", "beta:FOO").plugin == "beta"
    assert reg.names("applications") == ["alpha:foo", "beta:Foo"]


def test_fallback_entry_yields_the_bare_name():
    reg = Registry()
    reg.add_all(
        [entry("resnet50", plugin="timm", fallback=True), entry("xception", plugin="timm", fallback=True)]
    )
    reg.add_all([entry("resnet50", plugin="applications")])
    assert reg.lookup("applications", "resnet50").plugin == "applications"
    assert reg.lookup("applications", "timm:resnet50").plugin == "timm"
    assert reg.lookup("applications", "xception").plugin == "timm"
    assert reg.names("applications") == ["resnet50", "timm:resnet50", "xception"]


def test_fallback_ranks_last_resort_yields_to_fallbacks_too():
    """zoo-keras (fallback=2) beside zoo-timm (fallback=True) and the built-ins: the lowest rank wins a bare
    name, two of one rank are ambiguous, and listing qualifies every name that is not what it resolves to."""
    reg = Registry()
    reg.add_all([entry("ConvNeXtXLarge", plugin="keras", fallback=2), entry("NASNetMobile", plugin="keras", fallback=2),
                 entry("ResNet50", plugin="keras", fallback=2)])  # fmt: skip
    reg.add_all(
        [
            entry("convnext_xlarge", plugin="timm", fallback=True),
            entry("resnet50", plugin="timm", fallback=True),
        ]
    )
    reg.add_all([entry("resnet50", plugin="applications")])
    assert reg.lookup("applications", "ConvNeXtXLarge").plugin == "timm"
    assert reg.lookup("applications", "NASNetMobile").plugin == "keras"
    assert reg.lookup("applications", "ResNet50").plugin == "applications"
    assert reg.lookup("applications", "keras:ResNet50").plugin == "keras"
    assert reg.names("applications") == ["convnext_xlarge", "keras:ConvNeXtXLarge", "NASNetMobile", "resnet50",
                                         "timm:resnet50", "keras:ResNet50"]  # by bare name, then rank  # fmt: skip
    reg.add_all([entry("NASNetMobile", plugin="other", fallback=2)])
    with pytest.raises(zoo.AmbiguousNameError, match="keras:NASNetMobile, other:NASNetMobile"):
        reg.lookup("applications", "NASNetMobile")


def test_unknown_name_names_kind_and_close_matches():
    reg = Registry()
    reg.add_all([entry("resnet50"), entry("resnet101"), entry("vgg16")])
    with pytest.raises(zoo.UnknownNameError) as err:
        reg.lookup("applications", "resnet51")
    message = str(err.value)
    assert "applications" in message and "resnet50" in message and "zoo list applications" in message
    assert isinstance(err.value, zoo.ZooError)


def test_unknown_name_of_another_kind_names_that_kind():
    reg = Registry()
    reg.add_all([entry("resnet50"), entry("mnist", kind="datasets")])
    with pytest.raises(zoo.UnknownNameError, match=r"one of the datasets: zoo.get\('datasets', 'MNIST'\)"):
        reg.lookup("applications", "MNIST")


def test_unknown_plugin_and_unknown_kind():
    reg = Registry()
    reg.add_all([entry("resnet50", plugin="applications")])
    with pytest.raises(zoo.UnknownNameError, match="no plugin 'nope'"):
        reg.lookup("applications", "nope:resnet50")
    with pytest.raises(zoo.UnknownNameError, match="Did you mean applications"):
        reg.lookup("aplications", "resnet50")


def test_listing_patterns_filters_and_natural_sort():
    reg = Registry()
    reg.add_all(
        [
            entry("resnet101", pretrained=True),
            entry("resnet18", pretrained=True),
            entry("resnet50", pretrained=True),
            entry("vgg16", pretrained=False),
            entry("mystery"),
        ]
    )
    assert reg.names("applications", "resnet*") == ["resnet18", "resnet50", "resnet101"]
    assert reg.names("applications", pretrained=True) == ["resnet18", "resnet50", "resnet101"]
    assert reg.names("applications", pretrained=False) == ["mystery", "vgg16"]
    assert reg.names("applications", "RESNET1*") == ["resnet18", "resnet101"]


def test_invalid_registrations_are_rejected():
    reg = Registry()
    with pytest.raises(zoo.RegistrationError, match="module:attribute"):
        reg.add_all([Entry(kind="layers", name="x", target="not a path", plugin="p")])
    with pytest.raises(zoo.RegistrationError, match="callable"):
        reg.add_all([Entry(kind="layers", name="x", target=42, plugin="p")])
    with pytest.raises(zoo.RegistrationError, match="invalid name"):
        reg.add_all([Entry(kind="layers", name="bad:name", target="a:b", plugin="p")])


def test_lazy_target_is_imported_only_on_resolve():
    e = Entry(kind="datasets", name="od", target="collections:OrderedDict", plugin="p")
    assert e.resolve().__name__ == "OrderedDict"
    assert e(a=1) == {"a": 1}


names = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12).filter(
    lambda s: s[0].isalpha()
)


def spelling_variants(name):
    """Strategy: the same name with random case and separators inserted between letters."""

    def build(flags):
        out = []
        for i, ch in enumerate(name):
            upper, sep = flags[i]
            out.append(ch.upper() if upper else ch)
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if sep and nxt and not (ch.isdigit() and nxt.isdigit()):
                out.append(sep)
        return "".join(out)

    flag = st.tuples(st.booleans(), st.sampled_from(["", "", "_", "-", " ", "."]))
    return st.lists(flag, min_size=len(name), max_size=len(name)).map(build)


@settings(max_examples=200, deadline=None)
@given(st.lists(names, min_size=1, max_size=8, unique_by=normalize), st.data())
def test_property_any_spelling_resolves_and_distinct_names_never_collapse(registered, data):
    reg = Registry()
    reg.add_all([entry(n) for n in registered])
    for name in registered:
        variant = data.draw(spelling_variants(name))
        assert reg.lookup("applications", variant).name == name


mixed_names = st.text(alphabet="aAbB1_2-", min_size=1, max_size=5).filter(lambda s: s[0].isalnum())


@settings(max_examples=300, deadline=None)
@given(st.lists(mixed_names, min_size=2, max_size=6, unique=True))
def test_property_colliding_spellings_are_refused_not_merged(registered):
    reg = Registry()
    collide = len({normalize(n) for n in registered}) < len(registered)
    if collide:
        with pytest.raises(zoo.RegistrationError):
            reg.add_all([entry(n) for n in registered])
    else:
        reg.add_all([entry(n) for n in registered])
        assert sorted(reg.names("applications")) == sorted(registered)
