"""zoo-videoqa's own CI check with zoo's plugin kit (zoo.testing, the check_plugin fixture)."""


def test_every_entry_works_as_zoo_promises(check_plugin):
    # video_qa's frozen backbone would be downloaded by default: the kit never downloads
    report = check_plugin("videoqa", configs={"video_qa": {"backbone": "toy_cnn", "backbone_weights": None}})
    assert set(report.checked["applications"]) == {"video_qa", "toy_cnn"}
    assert report.options["toy_cnn"] == ["include_top", "pooling", "num_classes", "trainable"]
    assert set(report.checked["datasets"]) >= {"toy_video_qa"}
    assert report.built_on_cpu == ["video_qa"]  # its functional model probes shapes while it builds
