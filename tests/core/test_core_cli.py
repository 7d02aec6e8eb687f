"""The ``zoo`` command: output, exit codes, one-line errors; and that the core stays free of torch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo.cli import main

ZOO = str(Path(sys.executable).with_name("zoo"))


class Plugin:
    @zoo.hookimpl
    def zoo_register_losses(self, register):
        register("huberish", "builtins:abs", aliases=("hub",), extra={"reference": "made up for the test"})
        register("squared_thing", "builtins:abs")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"zoo-platform {zoo.__version__}"  # the name on PyPI


def test_list_info_and_json(make_pm, capsys):
    make_pm({"mine": Plugin()})
    assert main(["list", "losses"]) == 0
    assert capsys.readouterr().out.split() == ["huberish", "squared_thing"]
    assert main(["list", "loss", "squared*", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == ["squared_thing"]
    assert main(["info", "HUB", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "huberish" and data["qualified_name"] == "mine:huberish"
    assert data["reference"] == "made up for the test"
    assert main(["info", "huberish"]) == 0
    assert "made up for the test" in capsys.readouterr().out


def test_plugins_table_shows_failures(make_pm, capsys):
    class Broken:
        @zoo.hookimpl
        def zoo_register_losses(self, register):
            raise ValueError("no losses today")

    make_pm({"mine": Plugin(), "broken": Broken()})
    assert main(["plugins"]) == 0
    out, err = capsys.readouterr()
    assert "zoo: warning: PluginWarning: zoo plugin 'broken' was not loaded" in err  # one line, no source line
    assert "mine" in out and "2 losses" in out
    assert "FAILED" in out and "no losses today" in out


def test_unknown_name_is_one_line_and_exit_1(make_pm, capsys):
    make_pm({"mine": Plugin()})
    assert main(["info", "huberis"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Did you mean: huberish (losses)" in err
    assert main(["list", "lossess"]) == 1
    assert "unknown kind" in capsys.readouterr().err


def test_console_script_end_to_end():
    env = {**os.environ, "ZOO_LOAD_PLUGINS": "example"}
    out = subprocess.run([ZOO, "list", "activations"], capture_output=True, text=True, env=env, check=True)
    assert "squareplus" in out.stdout.split()
    bad = subprocess.run([ZOO, "list", "activations", "--where"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1  # a usage error is one line too
    err = subprocess.run([ZOO, "info", "no_such_thing"], capture_output=True, text=True, env=env)
    assert err.returncode == 1 and "Traceback" not in err.stderr and err.stderr.startswith("zoo: error:")


def test_import_zoo_and_listing_do_not_import_torch():
    code = (
        "import sys, zoo, zoo.cli\n"
        "for kind in ('applications', 'datasets', 'layers', 'losses', 'exporters'):\n"
        "    zoo.list(kind)\n"
        "zoo.cli.build_parser()\n"
        "heavy = sorted(m for m in ('torch', 'torchvision', 'numpy', 'timm') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing/listing pulled in: {out.stdout.strip()} {out.stderr}"


def test_a_plugin_whose_commands_fail_does_not_break_the_cli(make_pm, capsys):
    class BadCommands:
        @zoo.hookimpl
        def zoo_register_commands(self, subparsers):
            raise ImportError("no module named zoo_missing.cli")

    class GoodCommands:
        @zoo.hookimpl
        def zoo_register_commands(self, subparsers):
            p = subparsers.add_parser("hello")
            p.set_defaults(func=lambda args: print("hi") or 0)

    make_pm({"bad": BadCommands(), "good": GoodCommands()})
    assert main(["hello"]) == 0
    out, err = capsys.readouterr()
    assert out == "hi\n"
    assert re.search(r"^zoo: warning: PluginWarning: .*'bad'.*zoo_missing.*$", err, re.MULTILINE)


def test_closed_stdout_pipe_is_not_a_traceback():
    """`zoo list | head` closes the pipe before zoo is done writing."""
    proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", "list", "applications"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "Traceback" not in err and "BrokenPipe" not in err
