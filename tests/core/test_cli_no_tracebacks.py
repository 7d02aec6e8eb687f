"""The CLI never prints a traceback: every subcommand, driven with fuzzed arguments in-process, ends in
output or a one-line error with status 1 (argparse's usage mistakes too); and the rough edges once reported."""

from __future__ import annotations

import argparse
import contextlib
import io
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo.cli import build_parser, main


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help (0); a usage mistake is a one-line error, not an exit
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def commands() -> dict[tuple[str, ...], list[str]]:
    """Every (sub)command path with its option strings, read from the parser (plugins' commands too)."""
    found: dict[tuple[str, ...], list[str]] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[(*path, name)] = [o for a in sub._actions for o in a.option_strings if o not in ("-h", "--help")]
                    walk(sub, (*path, name))

    walk(build_parser(), ())
    return found


COMMANDS = commands()
# Model names that fail fast (no export or benchmark of a real model inside a fuzz test), then values
# chosen to reach checks: numbers out of range, malformed pairs, odd text, paths that are not what is asked.
NAMES = ["nosuch", "mnist", "relu", "resnet", "-", "日本語"]
VALUES = ["none", "None", "-1", "0", "3", "abc", "1e999", "nan", "x=y", "=", "k=", "category=recurrent",
          "pretrained=True", "{", "[1,", "", " ", "all", "md5:zz", "0" * 8, "https://127.0.0.1:9/m-12345678.pth",
          "/nonexistent/file.pth", "3,224,224", "1,0", "onnx", "avg", "fp16"]  # fmt: skip


@pytest.fixture
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "notes.pth"
    path.write_text("<html>not weights</html>")
    return str(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_arguments_never_print_a_traceback(data, text_file, monkeypatch, tmp_path_factory):
    # commands that write where they run (``new-plugin nosuch`` makes ./zoo-nosuch) write in a fresh folder
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # no socket: downloads fail at once, and fast
    monkeypatch.setenv("ZOO_MAX_RETRIES", "0")
    path = data.draw(st.sampled_from(sorted(COMMANDS)))
    options = COMMANDS[path]
    token = st.one_of(st.sampled_from(NAMES + VALUES + [text_file]), st.sampled_from(options or ["--json"]),
                      st.text(max_size=6))  # fmt: skip
    argv = [*path, *data.draw(st.lists(token, max_size=6))]
    if path[0] in ("export", "benchmark", "predict") and "resnet18" in argv:
        return
    code, out, err = run(argv)
    assert "Traceback" not in out + err, argv
    assert code in (0, 1), (argv, code, err)
    if code == 1:
        assert err.strip(), argv  # a failure says why


def test_unexpected_exceptions_are_one_line_and_debug_shows_the_traceback(monkeypatch):
    import zoo.cli

    def boom(args):
        raise KeyError("something internal")

    monkeypatch.setattr(zoo.cli, "_cmd_info", boom)
    code, _, err = run(["info", "x"])
    assert code == 1 and len(err.strip().splitlines()) == 1 and "KeyError" in err and "--debug" in err
    code, _, err = run(["info", "x", "--debug"])
    assert code == 1 and "Traceback" in err
    monkeypatch.setenv("ZOO_DEBUG", "1")
    assert "Traceback" in run(["info", "x"])[2]


def test_warnings_are_one_readable_line_said_once(monkeypatch):
    import zoo.cli

    def warn_twice(args):
        for _ in range(2):
            warnings.warn("plugin 'x' failed:\n  details", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(zoo.cli, "_cmd_info", warn_twice)
    _, _, err = run(["info", "x"])
    assert err.splitlines() == ["zoo: warning: UserWarning: plugin 'x' failed: details"]


def test_list_takes_a_filter_in_place_of_the_pattern_and_python_booleans():
    code, out, _ = run(["list", "layers", "category=recurrent"])
    assert code == 0 and "LSTM" in out.split()
    code, _, err = run(["list", "layers", "category=nothing-like-this"])
    assert code == 1 and "no layers have category='nothing-like-this'. Their category values: " in err
    assert run(["list", "applications", "--where", "pretrained=True"])[1].split() == run(
        ["list", "applications", "--where", "pretrained=true"]
    )[1].split() != []


def test_plugins_json_gives_builtins_a_version():
    import json

    import zoo

    code, out, _ = run(["plugins", "--json"])
    assert code == 0
    builtins = [p for p in json.loads(out) if p["builtin"]]
    assert builtins and all(p["version"] == zoo.__version__ for p in builtins)
    assert {p["distribution"] for p in builtins} == {"zoo-platform"}


def test_export_option_and_tolerance_values_are_checked():
    code, _, err = run(["export", "resnet18", "--weights", "none", "--option", "opset_version=abc"])
    assert code == 1 and "opset_version must be an ONNX opset number" in err
    code, _, err = run(["export", "resnet18", "--weights", "none", "--atol", "-1"])
    assert code == 1 and "atol must be a finite number >= 0" in err


def test_predict_with_random_weights_and_a_fine_tuned_head(tmp_path):
    import torch
    from PIL import Image

    image = tmp_path / "cat.png"
    Image.new("RGB", (40, 40), (200, 120, 40)).save(image)
    code, _, err = run(["predict", "resnet18", str(image), "--weights", "none"])
    assert code == 1 and "--categories" in err and "Traceback" not in err
    torch.manual_seed(0)
    import torchvision

    checkpoint = tmp_path / "finetuned.pth"
    torch.save(torchvision.models.resnet18(num_classes=3).state_dict(), checkpoint)
    names = tmp_path / "classes.txt"
    names.write_text("cat\ndog\nfox\n")
    code, out, err = run(["predict", "resnet18", str(image), "--weights", str(checkpoint), "--categories", str(names),
                          "--top", "2"])  # fmt: skip
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]) == 2
    assert any(name in out for name in ("cat", "dog", "fox"))
    code, _, err = run(["predict", "resnet18", str(image), "--weights", str(checkpoint), "--categories", "a,b"])
    assert code == 1 and "Traceback" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weights=st.one_of(st.text(max_size=12), st.sampled_from(
    ["none", "NONE", "imagenet", "DEFAULT", "IMAGENET1K_V1", "ResNet18_Weights.X", "./missing.pth", "http://",
     "https://127.0.0.1:9/r-0000aaaa.pth", "file:///etc/hostname", "/", ".", "~"])))  # fmt: skip
def test_fuzzed_predict_weights_never_print_a_traceback(weights, tmp_path_factory, text_file, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    image = tmp_path_factory.getbasetemp() / "fuzz.png"
    if not image.exists():
        Image.new("RGB", (32, 32)).save(image)
    for value in (weights, text_file):
        code, out, err = run(["predict", "resnet18", str(image), "--weights", value])
        assert "Traceback" not in out + err and code in (0, 1, 2), (value, err)
