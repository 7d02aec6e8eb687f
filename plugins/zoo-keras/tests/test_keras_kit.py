"""zoo-keras' own CI check with zoo's plugin kit, on a sample of keras.applications."""


def test_a_sample_works_as_zoo_promises(check_plugin):
    report = check_plugin("keras", only=["MobileNet", "NASNetMobile"])
    assert sorted(report.checked["applications"]) == ["MobileNet", "NASNetMobile"]
