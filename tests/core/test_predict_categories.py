"""``zoo predict --categories`` names the model's existing outputs: it never swaps in a random head, and a
value that looks like a file but is not one is an error, not one class named after it."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from zoo.cli import main


@pytest.fixture
def red(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (32, 32), (255, 0, 0)).save(path)
    return str(path)


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_too_few_categories_for_the_pretrained_head_says_both_counts(red, capsys):
    assert main(["predict", "toy_cnn", red, "--categories", "a,b,c"]) == 1
    err = _err(capsys)
    assert "has 15 classes but --categories names 3" in err


def test_categories_with_a_checkpoint_of_another_head_size_are_refused(red, capsys):
    assert main(["predict", "toy_cnn", red, "--weights", "toy_shapes", "--categories", "a,b,c"]) == 1
    assert "has 15 classes, but --categories asks for 3" in _err(capsys)
    assert main(["predict", "toy_cnn", red, "--num-classes", "3"]) == 1
    assert "has 15 classes, but --num-classes asks for 3" in _err(capsys)


@pytest.mark.parametrize("value", ["cat.txt", "names.json", "some/dir/names"])
def test_a_missing_categories_file_is_an_error(red, capsys, value):
    assert main(["predict", "toy_cnn", red, "--categories", value]) == 1
    assert f"--categories {value!r}: no such file" in _err(capsys)


def test_categories_that_name_every_output_rename_them(red, tmp_path, capsys):
    names = [f"class{i}" for i in range(15)]
    for path, text in ((tmp_path / "names.txt", "\n".join(names)), (tmp_path / "names.json", json.dumps(names))):
        path.write_text(text)
        assert main(["predict", "toy_cnn", red, "--categories", str(path), "--top", "1"]) == 0
        out = capsys.readouterr().out
        assert "class" in out.splitlines()[-1]
    assert main(["predict", "toy_cnn", red, "--categories", ",".join(names), "--top", "1"]) == 0
    long = [f"a_rather_long_category_name_{i}" for i in range(15)]  # longer than a file name may be
    assert main(["predict", "toy_cnn", red, "--categories", ",".join(long), "--top", "1"]) == 0
