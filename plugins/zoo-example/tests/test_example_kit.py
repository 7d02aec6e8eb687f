"""The example plugin checks itself with zoo's plugin kit, as the guide tells every plugin to, and its
application's packaged weights do what their metadata says."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

import zoo


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("example")
    assert len(report.checked) == len(zoo.plugin.KINDS)  # one entry of every kind
    assert report.options["tiny_digits"] == ["include_top", "pooling", "num_classes", "trainable"]


def test_tiny_digits_weights_reach_their_recorded_accuracy():
    sklearn = pytest.importorskip("sklearn.datasets")  # the example's own test data, not a zoo dependency
    digits = sklearn.load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).div(16).unsqueeze(1).expand(-1, 3, -1, -1)
    model = zoo.load("tiny_digits")
    assert model.zoo.weights == "v1" and model.zoo.categories == [str(d) for d in range(10)]
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == torch.tensor(digits.target)).float().mean().item()
    assert accuracy > 0.97  # all 1797 images; 99.44% on the 360 held out (variants.py metrics)


def test_new_head_stays_trainable_and_predict_reads_the_metadata(tmp_path):
    model = zoo.load("tiny_digits", num_classes=3, trainable=False)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.weight", "classifier.bias"}
    image = torch.zeros(8, 8, dtype=torch.uint8)
    image[1:7, 3:5] = 255  # a white vertical bar: a "1"
    Image.fromarray(image.numpy()).convert("RGB").save(tmp_path / "one.png")
    zoo_command = Path(sys.executable).with_name("zoo")  # the console script, as a user runs it
    run = subprocess.run([zoo_command, "predict", "tiny_digits", str(tmp_path / "one.png"), "--top", "1"],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0 and "(tiny_digits, v1)" in run.stdout, run.stderr


def test_the_other_kinds_work_where_zoo_uses_them(tmp_path):
    x, y = zoo.datasets.load("xor_blobs", n=40, seed=1)["train"]
    model = zoo.Sequential([
        zoo.layers.Dense(8, activation="squareplus", kernel_initializer="scaled_uniform",
                         kernel_regularizer="l_half", kernel_constraint="clip_value"),
        zoo.layers.Dense(2),
    ])  # fmt: skip
    history = zoo.fit(model, x, y, loss="focal", metrics=["top_k_hit"], optimizer={"name": "sign_sgd", "lr": 0.5},
                      callbacks=["epoch_timer"], epochs=2, batch_size=8, verbose=0)  # fmt: skip
    assert {"epoch_seconds", "regularization_loss", "top_k_hit"} <= set(history.history)
    assert model[0].linear.weight.abs().max() <= 1.0  # clip_value's default limit, applied after every step
    result = zoo.export(zoo.load("tiny_digits"), "pt2_static", tmp_path / "m.pt2", input_shape=(3, 8, 8),
                        dynamic_batch=False, batch_sizes=(1,))  # fmt: skip
    assert (tmp_path / "m.pt2").is_file() and result
