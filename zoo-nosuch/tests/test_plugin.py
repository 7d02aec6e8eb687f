"""The plugin's own CI: zoo's plugin kit checks every entry as zoo's users will use it (pytest finds the
check_plugin fixture through zoo's pytest11 entry point)."""


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("nosuch")
    assert report.checked, report
