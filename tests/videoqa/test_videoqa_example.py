"""examples/video_qa.py end to end, tiny: trains both variants, beats the majority baseline, answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "video_qa.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(EXAMPLE), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_tiny_run_then_ask(tmp_path):
    out, log = tmp_path / "run", tmp_path / "job.log"
    with log.open("w") as sink:  # the main job as a batch system runs it: stdout and stderr to a file
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, str(EXAMPLE), "--train-clips", "90", "--val-clips", "30", "--test-clips",
                               "60", "--frames", "6", "--epochs", "12", "--patience", "12", "--out", str(out)],
                              cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=300)  # fmt: skip
    text = log.read_text()
    assert done.returncode == 0, text[-3000:]
    assert "held-out test accuracy" in text and "majority" in text and "Epoch 2/12 - " in text
    assert "\r" not in text and "it/s" not in text and "%|" not in text, text[:2000]  # no progress-bar fragments
    result = json.loads((out / "video_qa.json").read_text())
    pretrained, baseline = result["accuracy"]["pretrained"], result["majority_baseline"]
    assert pretrained["overall"] > baseline["overall"] + 0.2, done.stdout
    assert pretrained["colour"] > baseline["colour"] + 0.3, done.stdout
    assert set(result["accuracy"]) == {"pretrained", "random"}
    assert result["head"] == "small"  # toy_cnn's default; ask below rebuilds the head from it
    assert pretrained["overall"] > result["accuracy"]["random"]["overall"], done.stdout
    for name in ("pretrained.pt", "random.pt", "pretrained.csv", "training_curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "pretrained.csv").read_text().splitlines()[0].startswith("epoch")

    answer = run("ask", "--clip", "3", "what colour is the object?", "--out", str(out), cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    lines = dict(line.split(": ", 1) for line in answer.stdout.splitlines() if ": " in line)
    predicted, truth = lines["answer"].split()[0], lines["truth"]
    assert predicted in {"red", "green", "blue", "yellow", "purple"} and truth.startswith("a ")

    empty = run("ask", "--clip", "3", "  ?  ", "--out", str(out), cwd=tmp_path)
    assert empty.returncode == 1 and "is empty" in empty.stderr
