"""Output paths are checked before work starts, and a URL given as a model name says how to load one."""

from __future__ import annotations

import pytest

import zoo
from zoo.cli import main


def test_benchmark_output_in_a_missing_folder_fails_before_running(tmp_path, capsys, monkeypatch):
    import zoo.applications.benchmark as bench

    def never(*args, **kwargs):
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(bench, "benchmark", never)
    target = tmp_path / "missing" / "x.csv"
    assert main(["benchmark", "toy_cnn", "--output", str(target)]) == 1
    err = capsys.readouterr().err
    assert "does not exist; create it first" in err and "unexpected" not in err
    assert main(["benchmark", "toy_cnn", "--output", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_new_plugin_refuses_an_output_folder_whose_parent_is_missing(tmp_path, capsys):
    assert main(["new-plugin", "ok", "-o", str(tmp_path / "nonexistent" / "x")]) == 1
    assert "its parent" in (err := capsys.readouterr().err) and "does not exist; create it first" in err
    assert not (tmp_path / "nonexistent").exists()
    assert main(["new-plugin", "ok", "-o", str(tmp_path / "made")]) == 0  # one new level is made
    assert (tmp_path / "made" / "zoo-ok" / "pyproject.toml").is_file()


@pytest.mark.parametrize("url", ["http://x/y.pt", "https://example.com/weights.pth"])
def test_a_url_as_a_model_name_says_how_to_load_weights_from_it(url):
    with pytest.raises(zoo.OptionError, match=r"not a URL.*zoo.load\('resnet50', weights="):
        zoo.load(url)
