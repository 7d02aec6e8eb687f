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
    for needle in ("fc1", "fc2", "fc3", "compression (x)", "test error pruned (%)", "splice events"):
        assert needle in printed
    runs = json.loads(out.read_text())["runs"]
    assert script._ms([1.0, 3.0]) == "2.00 +- 1.41" and script._ms([2.0]) == "2.00"  # one seed: no spread
    assert len(runs) == 1
    assert set(runs[0]) == {"dense", "surgery", "prune-only", "prune-only matched", "torch-prune"}
    assert runs[0]["surgery"]["compression"] > 1.5
    assert runs[0]["prune-only"]["splices"] == 0
    matched, surgery = runs[0]["prune-only matched"], runs[0]["surgery"]
    for layer, share in surgery["kept"].items():  # one-shot to surgery's final share, masks fixed after
        assert abs(matched["kept"][layer] - share) < 0.002, (layer, matched["kept"], surgery["kept"])


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
    assert "prune-only matched" in printed and "torch-prune" in printed


def test_runs_are_written_as_they_finish_and_a_rerun_resumes(tmp_path, capsys, monkeypatch):
    script = _script(monkeypatch)
    out, work = tmp_path / "results", tmp_path / "work"
    args = ["--seeds", "1", "--dense-iters", "30", "--surgery-iters", "30", "--iter-stop", "20"]
    args += ["--out", str(out), "--work", str(work), "--variants", "surgery", "torch-prune"]
    assert script.main(args) == 0
    first = capsys.readouterr().out
    folder = out / "digits-lenet_300_100"
    assert sorted(p.name for p in folder.iterdir()) == [
        "seed0-dense.json",
        "seed0-surgery.json",
        "seed0-torch-prune.json",
    ]
    record = json.loads((folder / "seed0-surgery.json").read_text())
    assert record["budget"]["surgery_iters"] == 30 and record["iterations"] == 30
    torch_prune = json.loads((folder / "seed0-torch-prune.json").read_text())
    assert abs(torch_prune["compression"] - record["compression"]) / record["compression"] < 0.05  # matched

    assert script.main(args) == 0  # everything is read back: nothing trains, the same table comes out
    second = capsys.readouterr().out
    assert "seed 0 surgery:" in first and "seed 0 surgery:" not in second
    assert (
        first.split("kept share")[1].split("wall time")[0]
        == second.split("kept share")[1].split("wall time")[0]
    )
    assert script.main([*args, "--table-only"]) == 0
    assert "compression (x)" in capsys.readouterr().out


def test_inv_learning_rate_is_caffes_policy(monkeypatch):
    script = _script(monkeypatch)
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    cb = script.InvLearningRate(0.01, gamma=1e-4, power=0.75)
    cb.trainer = type("T", (), {"optimizer": opt})()
    for _ in range(10001):
        cb.on_train_batch_begin(0)
    assert abs(opt.param_groups[0]["lr"] - 0.01 * (1 + 1e-4 * 10000) ** -0.75) < 1e-12
