"""Each callback's documented (Keras 3) behaviour, including the classic pitfalls."""

from __future__ import annotations

import csv
import json
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import zoo
from zoo.training.callbacks import (
    BaseLogger,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    RemoteMonitor,
    TensorBoard,
    TerminateOnNaN,
)
from zoo.training.callbacks.monitor_callback import UnknownDirectionError
from zoo.training.metrics import Accuracy, Metric

#: The models here output logits (make_mlp ends in a Linear), so the cross-entropy is told so.
CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


class Feed(zoo.Callback):
    """Replaces the epoch logs' values with a scripted sequence (runs first, so others see them)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def run(model, data, callbacks, epochs=6, **kw):
    x, y = data
    kw.setdefault("optimizer", "sgd")
    return zoo.fit(
        model,
        x,
        y,
        loss=CE,
        epochs=epochs,
        batch_size=32,
        callbacks=callbacks,
        verbose=0,
        **kw,
    )


def _fake_trainer(lr=1.0, metrics=()):
    opt = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=lr)
    return SimpleNamespace(optimizer=opt, is_main=True, metrics=list(metrics), stop_training=False)


# -- EarlyStopping -------------------------------------------------------------------------------------
def test_early_stopping_patience_and_min_delta(mlp, data):
    es = EarlyStopping(monitor="val_x", mode="min", patience=2, min_delta=0.1)
    h = run(mlp, data, [Feed("val_x", [1.0, 0.95, 0.91, 0.5, 0.45, 0.44]), es])
    # 0.95 and 0.91 improve by < 0.1: wait 1, 2 -> stop at epoch 2
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 2


def test_early_stopping_restores_best_even_when_another_callback_stops(mlp, data):
    snapshots = []
    stopper = LambdaCallback(
        on_epoch_end=lambda epoch, logs: (
            snapshots.append({k: v.clone() for k, v in mlp.state_dict().items()}),
            setattr(stopper.trainer, "stop_training", epoch == 3),
        )
    )
    es = EarlyStopping(monitor="val_x", mode="min", patience=100, restore_best_weights=True)
    run(mlp, data, [Feed("val_x", [3.0, 1.0, 2.0, 2.5, 0, 0]), es, stopper])
    assert es.best_epoch == 1 and es.stopped_epoch == 0
    for key, value in mlp.state_dict().items():
        torch.testing.assert_close(value, snapshots[1][key])


def test_early_stopping_restores_best_at_train_end_when_not_stopped(mlp, data):
    snapshots = []
    snap = LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(mlp.state_dict()["0.weight"].clone())
    )
    es = EarlyStopping(monitor="val_x", mode="min", patience=100, restore_best_weights=True)
    run(mlp, data, [Feed("val_x", [3.0, 2.0, 0.5, 1.0]), es, snap], epochs=4)
    torch.testing.assert_close(mlp.state_dict()["0.weight"], snapshots[2])


def test_early_stopping_baseline_and_start_from_epoch(mlp, data):
    values = [0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    es = EarlyStopping(monitor="val_x", mode="max", patience=2, baseline=0.9)
    h = run(mlp, data, [Feed("val_x", values), es])
    # below the baseline, improvements do not reset the wait (Keras 3): stop at epoch 2, not 3
    assert len(h.history["loss"]) == 3
    h = run(mlp, data, [Feed("val_x", values), EarlyStopping(monitor="val_x", mode="max", patience=2)])
    assert len(h.history["loss"]) == 4
    es = EarlyStopping(monitor="val_x", mode="min", patience=0, start_from_epoch=3)
    h = run(mlp, data, [Feed("val_x", [1, 2, 3, 4, 5, 6]), es])
    assert len(h.history["loss"]) == 5  # epochs 0-2 ignored; epoch 3 sets best, epoch 4 stops


def test_early_stopping_auto_mode(mlp, data):
    trainer = _fake_trainer(metrics=[Accuracy()])
    es = EarlyStopping(monitor="val_accuracy")
    es.set_trainer(trainer)
    es.on_train_begin()
    es.on_epoch_end(0, {"val_accuracy": 0.5})
    assert es.direction == "up" and es.best == 0.5
    es = EarlyStopping(monitor="val_loss")
    es.set_trainer(trainer)
    es.on_epoch_end(0, {"val_loss": 0.5})
    assert es.direction == "down"
    es = EarlyStopping(monitor="val_weird")
    es.set_trainer(trainer)
    with pytest.raises(ValueError, match="mode='max'"):
        es.on_epoch_end(0, {"val_weird": 1.0})


# -- the direction rule shared by EarlyStopping, ReduceLROnPlateau, ModelCheckpoint ------------------------
class MyScore(Metric):
    """A user's metric: lower is better, declared as such."""

    direction = "down"


class AUC(Metric):
    direction = "up"


WATCHERS = {
    "EarlyStopping": lambda monitor, **kw: EarlyStopping(monitor=monitor, **kw),
    "ReduceLROnPlateau": lambda monitor, **kw: ReduceLROnPlateau(monitor=monitor, **kw),
    "ModelCheckpoint": lambda monitor, **kw: ModelCheckpoint(
        "m.pt", monitor=monitor, save_best_only=True, **kw
    ),
}


def _direction_after_first_epoch(make, monitor, metrics, **kw):
    trainer = _fake_trainer(metrics=metrics)
    trainer.request_save = lambda path, weights_only=False: None
    callback = make(monitor, **kw)
    callback.set_trainer(trainer)
    callback.on_train_begin()
    callback.on_epoch_end(0, {monitor: 0.5})
    return callback.direction


@pytest.mark.parametrize("make", WATCHERS.values(), ids=WATCHERS.keys())
@pytest.mark.parametrize(
    ("monitor", "metrics", "expected"),
    [
        ("val_loss", [], "down"),
        ("loss", [Accuracy()], "down"),
        ("accuracy", [Accuracy()], "up"),
        ("val_auc", [AUC(name="auc")], "up"),
        ("val_my_score", [MyScore(), Accuracy()], "down"),
    ],
)
def test_auto_mode_is_one_rule_for_all_monitoring_callbacks(make, monitor, metrics, expected):
    assert _direction_after_first_epoch(make, monitor, metrics) == expected


@pytest.mark.parametrize("make", WATCHERS.values(), ids=WATCHERS.keys())
def test_auto_mode_on_an_undeclared_quantity_asks_for_mode(make):
    # "val_auc" without a compiled metric of that name: no guessing from the name, in any of the three.
    with pytest.raises(UnknownDirectionError, match="mode='max'.*mode='min'"):
        _direction_after_first_epoch(make, "val_auc", [Accuracy()])
    assert _direction_after_first_epoch(make, "val_auc", [], mode="max") == "up"
    assert _direction_after_first_epoch(make, "val_accuracy", [Accuracy()], mode="min") == "down"


# -- ReduceLROnPlateau ----------------------------------------------------------------------------------
def test_reduce_lr_on_plateau_cooldown_min_lr_and_logs():
    trainer = _fake_trainer(lr=1.0)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=2, min_lr=0.3, min_delta=0.0)
    cb.set_trainer(trainer)
    cb.on_train_begin()
    lrs = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": value}
        cb.on_epoch_end(epoch, logs)
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        assert "learning_rate" in logs
    # reduce at epoch 1; Keras counts the cooldown down before checking it, so cooldown=2 skips only
    # epoch 2; reduce at 3 (0.25 -> min_lr 0.3); then nothing goes below min_lr
    assert lrs == [1.0, 0.5, 0.5, 0.3, 0.3, 0.3]


def test_reduce_lr_auto_mode_maximises_acc():
    trainer = _fake_trainer(lr=1.0, metrics=[Accuracy(name="acc")])
    cb = ReduceLROnPlateau(monitor="val_acc", factor=0.1, patience=1)
    cb.set_trainer(trainer)
    cb.on_train_begin()
    for epoch, value in enumerate([0.5, 0.6, 0.7]):
        cb.on_epoch_end(epoch, {"val_acc": value})
    assert trainer.optimizer.param_groups[0]["lr"] == 1.0  # rising accuracy is improvement
    cb.on_epoch_end(3, {"val_acc": 0.7})
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)


# -- ModelCheckpoint ------------------------------------------------------------------------------------
def test_model_checkpoint_format_best_only_and_auto_mode(tmp_path, mlp, data):
    pattern = str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.pt")
    ckpt = ModelCheckpoint(pattern, save_best_only=True, save_weights_only=True)
    run(mlp, data, [Feed("val_loss", [0.5, 0.7, 0.25, 0.3]), ckpt], epochs=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01-0.50.pt", "m-03-0.25.pt"]
    acc = ModelCheckpoint(tmp_path / "acc-{epoch}.pt", monitor="val_acc", save_best_only=True)
    run(mlp, data, [Feed("val_acc", [0.5, 0.4, 0.6]), acc], epochs=3, metrics=["acc"])
    assert acc.direction == "up"
    assert sorted(p.name for p in tmp_path.glob("acc-*")) == ["acc-1.pt", "acc-3.pt"]
    state = torch.load(tmp_path / "acc-3.pt", weights_only=True)
    assert state["epoch"] == 2 and "optimizer" in state and "rng" in state


def test_model_checkpoint_batch_frequency_and_missing_key(tmp_path, mlp, data):
    x, y = data
    zoo.fit(
        mlp,
        x,
        y,
        optimizer="sgd",
        loss=CE,
        batch_size=8,
        epochs=1,
        callbacks=[ModelCheckpoint(tmp_path / "b{epoch}-{batch}.pt", save_freq=3, save_weights_only=True)],
        verbose=0,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1-3.pt", "b1-6.pt"]
    with pytest.raises(KeyError, match="val_auc") as info:
        run(mlp, data, [ModelCheckpoint(tmp_path / "{val_auc}.pt")], epochs=1)
    assert isinstance(info.value, zoo.MissingKeyError)  # a zoo.ZooError too
    assert str(info.value).startswith("ModelCheckpoint filepath")  # the message, not KeyError's quoted repr


# -- CSVLogger ------------------------------------------------------------------------------------------
def test_csv_logger_columns_fixed_at_first_epoch_and_append(tmp_path, mlp, data):
    path = tmp_path / "log.csv"
    x, y = data
    extra = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({"late": 1.0} if epoch else {}))
    zoo.fit(
        mlp,
        x[:48],
        y[:48],
        optimizer="sgd",
        loss=CE,
        epochs=2,
        validation_data=(x[48:], y[48:]),
        validation_freq=2,
        callbacks=[extra, CSVLogger(path)],
        verbose=0,
    )
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss"]  # 'late' appeared later: ignored; val_ expected
    assert rows[1][0] == "0" and rows[1][2] == "NA" and rows[2][2] != "NA"
    zoo.fit(
        mlp,
        x,
        y,
        optimizer="sgd",
        loss=CE,
        epochs=1,
        callbacks=[CSVLogger(path, append=True)],
        verbose=0,
    )
    rows = list(csv.reader(path.open()))
    assert len(rows) == 4 and rows[3][0] == "0" and rows.count(rows[0]) == 1  # no second header


# -- TerminateOnNaN, LR scheduler, Lambda, BaseLogger ---------------------------------------------------
def test_terminate_on_nan_stops_mid_epoch(data):
    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            out = self.lin(x)
            return out * float("nan") if self.calls == 2 else out

    model = Exploding()
    x, y = data
    h = zoo.fit(
        model,
        x,
        y,
        optimizer="sgd",
        loss=CE,
        batch_size=8,
        epochs=3,
        callbacks=[TerminateOnNaN()],
        verbose=0,
    )
    assert model.calls == 2 and math.isnan(h.history["loss"][0]) and len(h.history["loss"]) == 1
    model.calls = 0
    with pytest.raises(zoo.NonFiniteLossError, match="NaN or Inf loss.*Lower the learning rate") as info:
        zoo.fit(
            model,
            x,
            y,
            optimizer="sgd",
            loss=CE,
            batch_size=8,
            callbacks=[TerminateOnNaN(raise_error=True)],
            verbose=0,
        )
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, zoo.ZooError)  # Keras' type still


def test_learning_rate_scheduler_sets_and_logs(mlp, data):
    h = run(mlp, data, [LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else 0.2)], epochs=3)
    assert h.history["learning_rate"] == pytest.approx([0.2, 0.1, 0.05])
    h = run(mlp, data, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], epochs=2)
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.02])


def test_lambda_callback_and_base_logger(mlp, data):
    seen = []
    extra = LambdaCallback(on_train_batch_end=lambda batch, logs: logs.__setitem__("seen", float(batch)))
    h = run(
        mlp,
        data,
        [extra, BaseLogger(), LambdaCallback(on_train_begin=lambda logs: seen.append("b"))],
        epochs=2,
    )
    assert seen == ["b"]
    assert h.history["seen"] == [1.0, 1.0]  # BaseLogger carried the batch-level key into the epoch logs
    with pytest.raises(TypeError, match="unknown hook"):
        LambdaCallback(on_epoch_finish=print)


def test_callbacks_by_name_and_dict(tmp_path, mlp, data):
    h = run(
        mlp, data, ["terminate_on_nan", {"name": "CSVLogger", "filename": str(tmp_path / "l.csv")}], epochs=1
    )
    assert (tmp_path / "l.csv").exists() and len(h.history["loss"]) == 1


# -- TensorBoard ----------------------------------------------------------------------------------------
def test_tensorboard_writes_train_and_validation_scalars(tmp_path, mlp, data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = data
    zoo.fit(
        mlp,
        x[:48],
        y[:48],
        optimizer="sgd",
        loss=CE,
        epochs=2,
        batch_size=16,
        validation_data=(x[48:], y[48:]),
        verbose=0,
        callbacks=[TensorBoard(tmp_path, update_freq="batch", histogram_freq=1)],
    )
    train = EventAccumulator(str(tmp_path / "train")).Reload()
    val = EventAccumulator(str(tmp_path / "validation")).Reload()
    assert "epoch_loss" in train.Tags()["scalars"] and "epoch_loss" in val.Tags()["scalars"]
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1]
    assert [e.step for e in train.Scalars("batch_loss")] == [1, 2, 3, 4, 5, 6]
    assert "0.weight" in train.Tags()["histograms"]


# -- RemoteMonitor (a real HTTP server) -----------------------------------------------------------------
def test_remote_monitor_posts_form_and_json(httpserver, mlp, data):
    httpserver.expect_request("/publish/epoch/end/", method="POST").respond_with_data("ok")
    httpserver.expect_request("/json", method="POST").respond_with_data("ok")
    root = httpserver.url_for("/").rstrip("/")
    run(
        mlp,
        data,
        [RemoteMonitor(root=root), RemoteMonitor(root=root, path="/json", send_as_json=True)],
        epochs=2,
    )
    form = [r for r, _ in httpserver.log if r.path == "/publish/epoch/end/"]
    sent = [json.loads(r.form["data"]) for r in form]
    assert [s["epoch"] for s in sent] == [0, 1] and isinstance(sent[0]["loss"], float)
    as_json = [r.get_json() for r, _ in httpserver.log if r.path == "/json"]
    assert [s["epoch"] for s in as_json] == [0, 1]


def test_remote_monitor_unreachable_warns_and_bad_url_raises(mlp, data):
    with pytest.warns(UserWarning, match="Could not reach"):
        run(mlp, data, [RemoteMonitor(root="http://127.0.0.1:9", timeout=2)], epochs=1)
    with pytest.raises(ValueError, match="http"):
        RemoteMonitor(root="ftp://example.com")
    with pytest.raises(ValueError, match="host"):
        RemoteMonitor(root="http://localhost:9000", path="@evil.com/")
