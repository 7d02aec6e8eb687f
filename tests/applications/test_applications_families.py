"""The feature extractor of every architecture, checked on the meta device (shapes only, no compute)."""

from __future__ import annotations

import pytest
import torch
import torchvision

from zoo.applications import families, table
from zoo.applications.meta import empty_weights


def _smallest_per_family() -> list[str]:
    """One architecture per family (the smallest): every cut point is covered, the suite stays quick."""
    best: dict[str, str] = {}
    for name, facts in table.architectures().items():
        current = best.get(facts["family"])
        if current is None or facts["num_params"] < table.architecture(current)["num_params"]:
            best[facts["family"]] = name
    return sorted(best.values())


ARCHS = _smallest_per_family()


def test_every_family_in_the_table_is_known():
    assert {facts["family"] for facts in table.architectures().values()} == set(families.FAMILIES)


@pytest.mark.parametrize("arch", ARCHS)
def test_pooled_features_feed_the_classifier(arch):
    facts = table.architecture(arch)
    spec = families.family(facts["family"])
    variant = facts["weights"][facts["default_weights"]]
    with empty_weights(tensor_math_in_init=spec.tensor_math_in_init):
        model = getattr(torchvision.models, arch)(weights=None, **variant["build"]).eval()
    families.drop_aux(model, spec)
    head = model.get_submodule(spec.classifier)
    width = head.in_features if isinstance(head, torch.nn.Linear) else head.in_channels
    size = variant["preprocessing"]["crop"]
    x = torch.empty(2, 3, size, size, device="meta")
    with torch.no_grad():
        fmap = families.FeatureExtractor(model, facts["family"])(x)
        pooled = families.FeatureExtractor(model, facts["family"], "avg")(x)
        logits = model(x)
    assert fmap.ndim == 4 and fmap.shape[:2] == (2, pooled.shape[1]) and fmap.shape[2] >= 1
    # what the classifier consumes: the pooled width, after a family's own pre-logits layers
    assert pooled.shape == (2, width) or facts["family"] in ("alexnet", "vgg", "mobilenetv3", "maxvit")
    assert logits.shape == (2, variant["num_classes"] or 1000)
    new, dropped = families.replace_classifier(model, spec.classifier, 7)
    assert model(x).shape == (2, 7) and dropped and all(k.startswith(spec.classifier) for k in dropped)


@pytest.mark.parametrize("tensor_math_in_init", [False, True])
def test_empty_weights_skips_init_of_meta_tensors_only(tensor_math_in_init, monkeypatch):
    """Inside a build, ``torch.nn.init`` returns meta tensors untouched, yet a model another thread builds
    on the CPU meanwhile is initialised exactly as usual; afterwards ``torch.nn.init`` is torch's again."""
    import threading

    calls = {"meta": 0, "cpu": 0}
    real = torch.nn.init.kaiming_uniform_

    def counting(tensor, *args, **kwargs):
        calls["meta" if tensor.is_meta else "cpu"] += 1
        return real(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.nn.init, "kaiming_uniform_", counting)
    originals = {name: getattr(torch.nn.init, name) for name in ("kaiming_uniform_", "normal_", "trunc_normal_")}
    torch.manual_seed(3)
    reference = torch.nn.Linear(16, 8).state_dict()
    calls["cpu"] = 0
    inside, built = threading.Event(), {}

    def other_thread():
        inside.wait()
        torch.manual_seed(3)
        built["cpu"] = torch.nn.Linear(16, 8).state_dict()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with empty_weights(tensor_math_in_init=tensor_math_in_init):
        meta_model = torchvision.models.resnet18()  # its Linear head calls kaiming_uniform_
        inside.set()
        worker.join()
    assert calls == {"meta": 0, "cpu": 1}  # the other thread's Linear only
    assert all(p.is_meta for p in meta_model.parameters())
    assert all(torch.equal(built["cpu"][k], reference[k]) for k in reference)
    assert {name: getattr(torch.nn.init, name) for name in originals} == originals


def test_empty_weights_leaves_a_later_patch_of_torch_in_place():
    """Another library that patches ``torch.nn.init`` while zoo builds keeps its patch afterwards."""
    real = torch.nn.init.normal_

    def theirs(tensor, *args, **kwargs):
        return tensor

    try:
        with empty_weights():
            torch.nn.init.normal_ = theirs
        assert torch.nn.init.normal_ is theirs
    finally:
        torch.nn.init.normal_ = real
