"""The reproduction script runs end to end (tiny iteration counts) and writes its results."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "surgery_lenet.py"


def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("surgery_lenet_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_reproduction_script_smoke(tmp_path, capsys, monkeypatch):
    script = _script(monkeypatch)
    out = tmp_path / "runs.json"
    args = [
        "--seeds",
        "1",
        "--dense-iters",
        "46",
        "--surgery-iters",
        "46",
        "--iter-stop",
        "23",
        "--c-rate",
        "fc1=1.0",
        "--c-rate",
        "fc2=1.0",
        "--c-rate",
        "fc3=0.5",
        "--json",
        str(out),
    ]
    assert script.main(args) == 0
    printed = capsys.readouterr().out
    for needle in ("fc1", "fc2", "fc3", "compression (x)", "test error pruned (%)", "splice events", "+-"):
        assert needle in printed
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 1 and set(runs[0]) == {"dense", "surgery", "prune-only", "prune-only matched"}
    assert runs[0]["surgery"]["compression"] > 1.5
    assert runs[0]["prune-only"]["splices"] == 0


def test_reproduction_script_rejects_bad_options(monkeypatch):
    script = _script(monkeypatch)
    with pytest.raises(SystemExit):
        script.main(["--model", "lenet5"])  # digits are too small for LeNet-5
    with pytest.raises(SystemExit, match="LAYER=VALUE"):
        script.main(["--c-rate", "conv9=3", "--seeds", "1"])


def test_mnist_lenet5_path_with_stand_in_data(monkeypatch, capsys):
    """--dataset mnist --model lenet5 runs the same code on 28x28 images (here random stand-ins: no network)."""
    import torch

    import zoo

    def fake_load(name):
        assert name == "mnist"
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (64, 1, 28, 28), generator=g, dtype=torch.uint8)
        y = torch.randint(0, 10, (64,), generator=g)
        return (x, y), (x[:32], y[:32])

    monkeypatch.setattr(zoo.datasets, "load", fake_load)
    script = _script(monkeypatch)
    args = [
        "--dataset",
        "mnist",
        "--model",
        "lenet5",
        "--seeds",
        "1",
        "--dense-iters",
        "2",
        "--surgery-iters",
        "2",
        "--iter-stop",
        "1",
    ]
    assert script.main(args) == 0
    printed = capsys.readouterr().out
    assert "conv1" in printed and "conv2" in printed and "108" in printed  # the paper's LeNet-5 column
    assert "prune-only matched" not in printed  # calibrated only for digits
