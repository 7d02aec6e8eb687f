"""zoo-timm's own CI check with zoo's plugin kit, on a sample of its catalogue (every architecture would
take minutes)."""


def test_a_sample_of_the_catalogue_works_as_zoo_promises(check_plugin):
    report = check_plugin("timm", only=["resnet18", "efficientnet_b0", "vit_tiny_patch16_224", "convnext_atto"])
    assert sorted(report.checked["applications"]) == ["convnext_atto", "efficientnet_b0", "resnet18", "vit_tiny_patch16_224"]
    assert report.options["resnet18"] == ["include_top", "pooling", "num_classes", "trainable"]
    assert report.unverified  # timm's Hub files come without a sha256 in the catalogue: reported, not hidden
