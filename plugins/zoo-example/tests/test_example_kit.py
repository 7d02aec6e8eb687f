"""The example plugin checks itself with zoo's plugin kit, as the guide tells every plugin to."""


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("example")
    assert report.checked["activations"] == ["squareplus"]
