"""zoo.naming.snake_case is the one rule turning class names into default names, wherever zoo makes one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zoo.naming import snake_case

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cls", "name"),
    [("AUC", "auc"), ("MeanSquaredError", "mean_squared_error"), ("Conv2D", "conv2d"),
     ("SimpleRNN", "simple_rnn"), ("TopKCategoricalAccuracy", "top_k_categorical_accuracy"),
     ("VideoQAModel", "video_qa_model"), ("KLDivergence", "kl_divergence")],
)  # fmt: skip
def test_snake_case_keeps_acronyms_whole(cls, name):
    assert snake_case(cls) == name


def test_models_and_layers_name_themselves_by_the_rule():
    import zoo
    from zoo.layers import Dense

    class VideoQAModel(zoo.Model):
        def call(self, x):
            return x

    class MLPHead(Dense):
        pass

    assert VideoQAModel().name == "video_qa_model"
    assert MLPHead(3).name.startswith("mlp_head")


def test_no_other_snake_case_rule():
    """A second copy of the regex (zoo had four: one turned AUC into a_u_c) is what this test stops."""
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in [*ROOT.glob("zoo/**/*.py"), *ROOT.glob("plugins/*/*/**/*.py")]
        if path.name != "naming.py" and "([a-z])([A-Z])" in path.read_text()
    ]
    assert copies == [], f"use zoo.naming.snake_case instead of: {copies}"


@pytest.mark.parametrize(
    ("spelled", "default"),
    [("imagenet", True), ("DEFAULT", True), (" Default ", True), ("ResNet50_Weights.DEFAULT", True),
     ("resnet50.imagenet", True), ("IMAGENET1K_V2", False), ("./imagenet", False), ("w/x.default", False),
     ("imagenet.pt", False), ("", False)],
)  # fmt: skip
def test_default_weights_spellings(spelled, default):
    from zoo.naming import means_default_weights

    assert means_default_weights(spelled) is default


def test_every_builder_reads_the_one_spelling_table():
    """torchvision's table, ApplicationMeta.variant (zoo download), zoo-timm and zoo-keras agree on it."""
    from zoo.applications.table import find_variant
    from zoo.plugin import ApplicationMeta, WeightsVariant

    assert find_variant("resnet50", " ResNet50_Weights.DEFAULT ") == find_variant("resnet50", "imagenet")
    variants = {"a": WeightsVariant(url="u", sha256="0" * 64), "b": WeightsVariant(url="v", sha256="1" * 64)}
    meta = ApplicationMeta(weights=variants, default_weights="b")
    assert [meta.variant(w) for w in ("ImageNet", "x.DEFAULT", "A", "nope")] == ["b", "b", "a", None]
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in [*ROOT.glob("zoo/**/*.py"), *ROOT.glob("plugins/*/*/**/*.py")]
        if path.name != "naming.py" and re.search(r"[{(]\"(imagenet|default)\", \"(imagenet|default)\"", path.read_text())
    ]
    assert copies == [], f"use zoo.plugin.means_default_weights instead of a spelling set in: {copies}"
