"""Wrong command lines and wrong ``zoo.list``/``zoo.info`` arguments: one-line errors saying what was wrong
and what was meant, never argparse's usage dump with status 2, an empty result with status 0, or a raw
Python error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo.cli import main

ZOO = str(Path(sys.executable).with_name("zoo"))


def fails(argv: list[str], capsys) -> str:
    """The one stderr line of ``zoo ARGV``, which must fail with status 1 and print nothing on stdout."""
    assert main(argv) == 1, argv
    out, err = capsys.readouterr()
    assert out == "", (argv, out)
    assert err.startswith("zoo: error: ") and err.count("\n") == 1, (argv, err)
    assert "usage:" not in err and "Traceback" not in err, (argv, err)
    return err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["export", "toy_cnn", "--pooling", "mean"], "invalid choice: 'mean' (choose from 'avg', 'max') (see 'zoo export --help')"),
        (["list", "applications", "--format", "xml"], "invalid choice: 'xml' (choose from 'table', 'csv', 'json') (see 'zoo list --help')"),
        (["benchmark", "resnet18", "--precision", "fp8"], "invalid choice: 'fp8'"),
        (["plugins", "--jsn"], "unrecognized arguments: --jsn. Did you mean '--json'? (see 'zoo plugins --help')"),
        (["cache", "lst"], "invalid choice: 'lst' (choose from 'dir', 'list', 'verify', 'remove', 'prune', 'add'). Did you mean 'list'? (see 'zoo cache --help')"),
        (["cache", "prune", "--older-than", "abc"], "unrecognized arguments: --older-than abc (see 'zoo cache prune --help')"),
        (["info"], "the following arguments are required: name (see 'zoo info --help')"),
        (["lst", "applications"], "invalid choice: 'lst'"),
        (["cache"], "the following arguments are required: ACTION (see 'zoo cache --help')"),
        (["export", "toy_cnn", "--atol", "abc"], "argument --atol: invalid float value: 'abc' (see 'zoo export --help')"),
    ],
)  # fmt: skip
def test_usage_mistakes_are_one_line_with_status_1(argv, said, capsys):
    assert said in fails(argv, capsys)


def test_a_misspelt_command_suggests_the_one_meant(capsys):
    assert "Did you mean 'list'? (see 'zoo --help')" in fails(["lst"], capsys)
    assert "Did you mean 'plugins'?" in fails(["plugin"], capsys)
    assert "Did you mean" not in fails(["zzzzzz"], capsys)  # nothing close: the choices are listed anyway


def test_help_and_version_still_exit_0(capsys):
    for argv in (["--help"], ["list", "--help"], ["cache", "prune", "--help"], ["--version"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0, argv
        assert capsys.readouterr().out.strip(), argv


def test_commands_that_plugins_add_get_the_same_errors(make_pm, capsys):
    class Commands:
        @zoo.hookimpl
        def zoo_register_commands(self, subparsers):
            p = subparsers.add_parser("greet")
            p.add_argument("--tone", choices=("warm", "cold"))
            nested = p.add_subparsers(dest="what", required=True)
            nested.add_parser("world").set_defaults(func=lambda args: print("hello", args.tone) or 0)

    make_pm({"mine": Commands()})
    assert "invalid choice: 'hot' (choose from 'warm', 'cold') (see 'zoo greet --help')" in fails(
        ["greet", "--tone", "hot", "world"], capsys
    )
    assert "Did you mean 'world'? (see 'zoo greet --help')" in fails(["greet", "wrld"], capsys)
    assert "unrecognized arguments: --lowd (see 'zoo greet world --help')" in fails(
        ["greet", "world", "--lowd"], capsys
    )
    assert main(["greet", "--tone", "warm", "world"]) == 0
    assert capsys.readouterr().out == "hello warm\n"


def test_number_types_for_plugin_commands(make_pm, capsys):
    from zoo.cli import finite_number, whole_number

    class Commands:
        @zoo.hookimpl
        def zoo_register_commands(self, subparsers):
            p = subparsers.add_parser("train")
            p.add_argument("--epochs", type=whole_number(1), default=1)
            p.add_argument("--lr", type=finite_number(0, strict=True), default=0.1)
            p.add_argument("--decay", type=finite_number(), default=0.0)
            p.set_defaults(func=lambda args: print(repr((args.epochs, args.lr, args.decay))) or 0)

    make_pm({"mine": Commands()})
    for argv, said in [
        (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),
        (["--epochs", "2.5"], "argument --epochs: expected a whole number >= 1, got '2.5'"),
        (["--epochs", "many"], "argument --epochs: expected a whole number >= 1, got 'many'"),
        (["--lr", "0"], "argument --lr: expected a finite number > 0, got '0'"),
        (["--lr", "nan"], "argument --lr: expected a finite number > 0, got 'nan'"),  # nan passes any bound
        (["--decay=-1e-4"], "argument --decay: expected a finite number >= 0, got '-1e-4'"),
        (["--decay", "inf"], "argument --decay: expected a finite number >= 0, got 'inf'"),
    ]:
        assert f"{said} (see 'zoo train --help')" in fails(["train", *argv], capsys)
    assert main(["train", "--epochs", "16e3", "--lr", "1e-3", "--decay", "0"]) == 0
    out = capsys.readouterr().out
    assert out == "(16000, 0.001, 0.0)\n"  # an integer also as 16e3, and an int


def test_the_console_script_says_it_in_one_line_with_status_1():
    bad = subprocess.run([ZOO, "list", "activations", "--where"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == "zoo: error: argument --where: expected one argument (see 'zoo list --help')\n"


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_listing_that_matches_nothing_fails_with_or_without_json(json_flag, capsys):
    err = fails(["list", "datasets", "mnst", *json_flag], capsys)
    assert "no datasets match pattern 'mnst'. Did you mean: mnist?" in err
    assert "Did you mean: mnist?" in fails(["list", "datasets", "mnst*", *json_flag], capsys)  # wildcards aside
    err = fails(["list", *json_flag, "applications", "zzz*"], capsys)
    assert "no applications match pattern 'zzz*'" in err and "Did you mean" not in err
    assert "no weights variant matches" in fails(["list", "applications", "--where", "acc1>101", *json_flag], capsys)
    assert main(["list", "datasets", "mnist", *json_flag]) == 0  # and a match is still a result
    out = capsys.readouterr().out
    assert (json.loads(out) if json_flag else out.split()) == ["mnist"]


def test_a_filter_value_no_entry_has_suggests_the_close_ones(capsys):
    err = fails(["list", "applications", "--where", "family=resnett"], capsys)
    assert "no applications have family='resnett'. Did you mean 'resnet'" in err
    assert "Did you mean 'recurrent'?" in fails(["list", "layers", "category=recurent"], capsys)
    assert "it is a str, and their pretrained is True or False" in fails(
        ["list", "applications", "--where", "pretrained=yes"], capsys
    )
    assert main(["list", "applications", "--where", "pretrained=False"]) == 0  # the command line's coercion
    assert "vgg16" not in capsys.readouterr().out.split()


def test_filters_in_python_take_values_of_the_fields_type():
    for wrong in ("False", "yes", 0, 1):  # the command line reads 'False' as False; Python passes False
        with pytest.raises(zoo.OptionError, match=f"filter pretrained={wrong!r} can match no applications"):
            zoo.list("applications", pretrained=wrong)
    with pytest.raises(zoo.OptionError, match="their num_params is a number"):
        zoo.list("applications", num_params="5")
    with pytest.raises(zoo.OptionError, match="their family is a string"):
        zoo.list("applications", family=5)
    assert "resnet18" not in zoo.list("applications", pretrained=False)
    assert "resnet18" in zoo.list("applications", pretrained=True)


def test_a_filter_value_no_entry_has_is_an_error_naming_close_values():
    with pytest.raises(zoo.OptionError, match=r"no applications have family='resnett'\. Did you mean 'resnet'"):
        zoo.list("applications", family="resnett")
    with pytest.raises(zoo.OptionError, match="Did you mean 'resnet'"):
        zoo.list("applications", family="ResNet")  # matching is exact; the suggestion ignores case
    with pytest.raises(zoo.OptionError, match=r"Did you mean 'recurrent'\? Their category values: .*pooling"):
        zoo.list("layers", category="recurent")
    assert "resnet50" in zoo.list("applications", family="resnet")
    assert zoo.list("applications", "vgg*", family="resnet") == []  # values that exist, together match nothing


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda: zoo.list("datasets", 5), "pattern must be an fnmatch pattern as a string.*got 5 \\(int\\)"),
        (lambda: zoo.list(None), "kind must be a kind's name as a string, got None"),
        (lambda: zoo.list(["datasets"]), "kind must be"),
        (lambda: zoo.info(5), "zoo.info takes an entry's name as a string.*got 5 \\(int\\)"),
        (lambda: zoo.info(None, kind="datasets"), "zoo.info takes an entry's name as a string"),
        (lambda: zoo.info("mnist", kind=3), "kind must be a kind's name as a string, got 3"),
    ],
)
def test_arguments_of_the_wrong_type_are_argument_errors(call, said):
    with pytest.raises(zoo.ArgumentError, match=said) as err:
        call()
    assert isinstance(err.value, TypeError)
