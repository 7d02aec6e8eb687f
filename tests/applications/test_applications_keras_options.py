"""keras.applications' own options on zoo.load, handled by the core contract for every application:
classes=, classifier_activation=, input_shape=, unknown keywords, and channels-last batches."""

from __future__ import annotations

import warnings

import pytest
import torch

import zoo
from zoo.layers._keras import LayerWarning


def _load(name="resnet18", seed=0, **options):
    torch.manual_seed(seed)
    return zoo.load(name, weights=None, **options)


def test_classes_is_num_classes():
    assert _load(classes=7).fc.out_features == 7
    assert _load(classes=7, num_classes=7).fc.out_features == 7
    with pytest.raises(zoo.OptionError, match="not both"):
        _load(classes=7, num_classes=5)
    with pytest.raises(zoo.OptionError, match="num_classes must be a positive int"):
        _load(classes=0)


def test_classifier_activation_none_keeps_logits_and_a_name_adds_it():
    x = torch.randn(2, 3, 64, 64)
    logits = _load(classes=5)(x)
    assert float(logits.detach().min()) < 0  # the default: logits, as every zoo application outputs
    probs = _load(classes=5, classifier_activation="softmax")
    torch.testing.assert_close(probs(x), logits.softmax(-1))
    torch.testing.assert_close(_load(classes=5, classifier_activation="sigmoid")(x), logits.sigmoid())
    torch.testing.assert_close(_load(classes=5, classifier_activation=None)(x), logits)
    assert list(probs.state_dict()) == list(_load(classes=5).state_dict())  # same keys: nothing wrapped
    assert probs.zoo.load_options["classifier_activation"] == "softmax"


def test_classifier_activation_survives_save_pretrained(tmp_path):
    model = _load(classes=4, classifier_activation="softmax")
    zoo.save_pretrained(model, tmp_path / "m")
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(zoo.load(str(tmp_path / "m"))(x), model(x))


def test_classifier_activation_wrong_values():
    with pytest.raises(zoo.OptionError, match="Did you mean: sigmoid"):
        _load(classifier_activation="sigmoidd")
    with pytest.raises(zoo.OptionError, match="needs include_top=True"):
        _load(include_top=False, classifier_activation="softmax")
    with pytest.raises(zoo.OptionError, match="classifier_activation must be None"):
        _load(classifier_activation=3)


def test_input_shape_is_channels_first_and_checked_against_the_minimum():
    assert _load(input_shape=(3, 64, 64)) is not None
    with pytest.raises(zoo.OptionError, match=r"looks channels-last.*input_shape=\(3, 224, 224\)"):
        _load(input_shape=(224, 224, 3))
    with pytest.raises(zoo.OptionError, match="at least 75x75 pixels; input_shape=.*is 64x64"):
        _load("inception_v3", input_shape=(3, 64, 64))
    with pytest.raises(zoo.OptionError, match="takes 3-channel images"):
        _load(input_shape=(1, 64, 64))
    with pytest.raises(zoo.OptionError, match="no batch axis"):
        _load(input_shape=(1, 3, 64, 64))


def test_unknown_keywords_name_the_application_the_closest_match_and_what_it_takes(monkeypatch):
    from zoo.applications import models

    built = []
    monkeypatch.setattr(models, "resnet18", lambda *a, **k: built.append(k))
    with pytest.raises(zoo.OptionError, match=r"'applications:resnet18' takes no option 'clases'\. Did you mean "
                                               r"'classes'\?.*It takes: weights, include_top"):  # fmt: skip
        zoo.load("resnet18", weights=None, clases=3)
    assert built == []  # refused before anything is built or downloaded
    monkeypatch.undo()
    with pytest.raises(zoo.OptionError, match="takes no option 'dropuot'"):  # caught from the builder
        _load(dropuot=0.3)
    assert _load("mobilenet_v3_small", dropout=0.5) is not None  # a builder's own keyword passes


def test_a_channels_last_batch_is_refused_before_the_stem_fails():
    model = _load()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(zoo.DataError, match=r"\(1, 64, 64, 3\) looks channels-last.*x.permute\(0, 3, 1, 2\)"):
            model(torch.randn(1, 64, 64, 3))
        model(torch.randn(1, 3, 64, 64))  # channels-first: nothing said
        assert not caught
        # One that looks channels-last but fits the stem, or a model whose stem is unknown: warned, once.
        from zoo.layers._keras import ApplicationChannels

        fits, unknown = ApplicationChannels("a", channels=3), ApplicationChannels("b")
        for _ in range(2):
            fits(model, (torch.zeros(1, 3, 64, 1),))
            unknown(model, (torch.zeros(1, 64, 64, 3),))
    messages = [str(w.message) for w in caught if issubclass(w.category, LayerWarning)]
    assert len(messages) == 2 and all("x.permute(0, 3, 1, 2)" in m for m in messages)
    assert "(1, 3, 64, 1)" in messages[0] and "(1, 64, 64, 3)" in messages[1]
