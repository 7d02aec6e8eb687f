"""zoo-surgery's own CI check with zoo's plugin kit (zoo.testing, the check_plugin fixture)."""


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("surgery")
    assert report.checked["applications"] == ["lenet_300_100", "lenet5"]
    assert report.options["lenet5"] == ["num_classes", "input_shape", "trainable"]
    assert report.checked["callbacks"] == ["dynamic_network_surgery"]  # survived one tiny fit
