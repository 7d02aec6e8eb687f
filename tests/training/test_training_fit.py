"""The fit/evaluate/predict loop: data forms, logs, weighting, resume, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.training import Callback, Trainer
from zoo.training.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint

#: The models here output logits (make_mlp ends in a Linear), so the cross-entropy is told so.
CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def sgd(lr=0.1):
    return {"name": "sgd", "lr": lr}


def test_fit_arrays_returns_history_with_val_keys(mlp, data):
    x, y = data
    history = zoo.fit(
        mlp,
        x.numpy(),
        y.numpy(),
        optimizer="adam",
        loss=CE,
        metrics=["accuracy"],
        epochs=3,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_epoch_logs_are_sample_weighted_means(make_mlp, make_data):
    # lr=0: weights never change, so the epoch loss must equal the loss over all samples at once,
    # even though the last batch is smaller (10 = 4 + 4 + 2).
    model = make_mlp()
    x, y = make_data(10)
    history = zoo.fit(
        model,
        x,
        y,
        optimizer=sgd(0.0),
        loss=CE,
        metrics=["acc"],
        batch_size=4,
        shuffle=False,
        verbose=0,
    )
    with torch.no_grad():
        out = model(x)
    full = zoo.get("losses", "sparse_categorical_crossentropy", from_logits=True)(out, y).item()
    assert history.history["loss"][0] == pytest.approx(full, rel=1e-6)
    assert history.history["acc"][0] == pytest.approx((out.argmax(1) == y).float().mean().item())


def test_validation_split_takes_the_last_fraction_before_shuffling(make_mlp, make_data):
    model = make_mlp()
    x, y = make_data(40)
    history = zoo.fit(
        model,
        x,
        y,
        optimizer=sgd(0.0),
        loss=CE,
        validation_split=0.25,
        shuffle=True,
        verbose=0,
    )
    last = zoo.evaluate(model, x[30:], y[30:], loss=CE, verbose=0)
    first = zoo.evaluate(model, x[:10], y[:10], loss=CE, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(last["loss"], rel=1e-6)
    assert history.history["val_loss"][0] != pytest.approx(first["loss"], rel=1e-3)


def test_history_and_progbar_run_after_user_callbacks(mlp, data, capsys):
    seen = {}

    class AddKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = epoch * 10.0
            seen["order"] = [type(c).__name__ for c in self.trainer.callbacks]

    history = zoo.fit(
        mlp,
        *data,
        optimizer="sgd",
        loss=CE,
        epochs=2,
        callbacks=[AddKey()],
        verbose=2,
    )
    assert history.history["extra"] == [0.0, 10.0]
    assert seen["order"] == ["AddKey", "History", "ProgbarLogger"]
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 1/2") and "extra: 0.0000" in out[0]


def test_verbose_zero_is_silent(mlp, data, capsys):
    zoo.fit(mlp, *data, optimizer="sgd", loss=CE, verbose=0)
    zoo.evaluate(mlp, *data, loss=CE, verbose=0)
    assert capsys.readouterr().out == ""


def _endless(x, y, batch):
    for i in itertools.count():
        start = (i * batch) % len(x)
        yield x[start : start + batch], y[start : start + batch]


def test_fit_generator_with_steps_per_epoch_streams_batches(mlp, data):
    x, y = data
    pulled = []

    def gen():
        for xb, yb in _endless(x, y, 8):
            pulled.append(len(xb))
            yield xb, yb

    history = zoo.fit(
        mlp,
        gen(),
        optimizer="adam",
        loss=CE,
        epochs=3,
        steps_per_epoch=5,
        verbose=0,
    )
    assert len(history.history["loss"]) == 3
    assert len(pulled) == 15  # the iterator carries over across epochs; nothing is read ahead


def test_generator_factory_and_multi_input_model():
    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(5, 2)

        def forward(self, video, question):
            return self.a(video) + self.b(question)

    torch.manual_seed(0)
    video, question = torch.randn(24, 3), torch.randn(24, 5)
    answer = torch.randint(0, 2, (24,))
    calls = []

    def factory():
        calls.append(1)
        return (((video[i : i + 6], question[i : i + 6]), answer[i : i + 6]) for i in range(0, 24, 6))

    model = TwoInputs()
    history = zoo.fit(
        model,
        factory,
        optimizer="adam",
        loss=CE,
        metrics=["accuracy"],
        epochs=2,
        validation_data=factory,
        verbose=0,
    )
    assert len(calls) == 4  # a fresh iterator per epoch for training and for validation
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    batches = [((video[i : i + 6], question[i : i + 6]),) for i in range(0, 24, 6)]  # (x,) with x = inputs
    pred = zoo.predict(model, batches, verbose=0)
    assert pred.shape == (24, 2)
    pred_arrays = zoo.predict(model, (video, question), batch_size=5, verbose=0)
    torch.testing.assert_close(pred, pred_arrays)


def test_one_shot_generator_without_steps_trains_one_epoch_then_warns(mlp, data):
    x, y = data
    gen = ((x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = zoo.fit(
            mlp, gen, optimizer="sgd", loss=CE, epochs=3, verbose=0
        )
    assert len(history.history["loss"]) == 1


def test_dataset_and_dataloader_inputs(mlp, data):
    ds = torch.utils.data.TensorDataset(*data)
    h1 = zoo.fit(mlp, ds, optimizer="sgd", loss=CE, batch_size=16, verbose=0)
    loader = torch.utils.data.DataLoader(ds, batch_size=16)
    h2 = zoo.fit(mlp, loader, optimizer="sgd", loss=CE, verbose=0)
    assert len(h1.history["loss"]) == len(h2.history["loss"]) == 1
    res = zoo.evaluate(mlp, loader, loss=CE, metrics=["accuracy"], verbose=0)
    assert set(res) == {"loss", "accuracy"}


def test_sample_weight_and_class_weight(make_mlp, make_data):
    x, y = make_data(32)
    model = make_mlp()
    sw = torch.zeros(32)
    sw[:8] = 1.0
    h = zoo.fit(
        model,
        x,
        y,
        optimizer=sgd(0.0),
        loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
        metrics=["accuracy"],
        weighted_metrics=["accuracy"],
        sample_weight=sw,
        batch_size=32,
        verbose=0,
    )
    with torch.no_grad():
        per = nn.functional.cross_entropy(model(x), y, reduction="none")
        hits = (model(x).argmax(1) == y).float()
    assert h.history["loss"][0] == pytest.approx((per * sw).mean().item(), rel=1e-6)
    # Keras 3: metrics= ignore sample_weight (plain mean); only weighted_metrics= weigh by it, logged as
    # weighted_accuracy since the unweighted one already has the name.
    assert h.history["accuracy"][0] == pytest.approx(hits.mean().item(), rel=1e-6)
    assert h.history["weighted_accuracy"][0] == pytest.approx(hits[:8].mean().item(), rel=1e-6)
    assert hits[:8].mean() != hits.mean()  # the data tells the two apart
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    h = zoo.fit(
        model, x, y, optimizer=sgd(0.0), loss=nn.CrossEntropyLoss(), class_weight=cw, batch_size=32, verbose=0
    )
    weights = torch.tensor([cw[int(c)] for c in y])
    assert h.history["loss"][0] == pytest.approx((per * weights).mean().item(), rel=1e-6)


def test_sample_weight_never_changes_the_users_loss(make_mlp, make_data):
    """A torch loss is weighted through a per-element copy: the user's object keeps its reduction even
    while it is being computed (another thread, or the loss itself, may read it)."""
    x, y = make_data(16)
    reductions_seen = []

    class Watched(nn.CrossEntropyLoss):
        def forward(self, y_pred, target):
            reductions_seen.append(user_loss.reduction)
            return super().forward(y_pred, target)

    user_loss = Watched()
    h = zoo.fit(make_mlp(), x, y, optimizer=sgd(0.0), loss=user_loss, sample_weight=torch.ones(16), verbose=0)
    assert reductions_seen and set(reductions_seen) == {"mean"}
    assert user_loss.reduction == "mean"
    assert h.history["loss"][0] > 0


def test_callback_hooks_order_and_keras2_spellings(mlp, data):
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")
            assert self.params == {"epochs": 2, "steps": 2, "verbose": 0, "validation": True}

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin{epoch}")

        def on_batch_end(self, batch, logs=None):  # Keras 2 spelling
            events.append(f"batch{batch}:{self.trainer.global_step}")

        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end{epoch}:{sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = data
    zoo.fit(
        mlp,
        x[:32],
        y[:32],
        optimizer="sgd",
        loss=CE,
        epochs=2,
        batch_size=16,
        validation_data=(x[32:], y[32:]),
        callbacks=[Recorder()],
        verbose=0,
    )
    assert events == [
        "train_begin",
        "epoch_begin0",
        "batch0:1",
        "batch1:2",
        "test_begin",
        "epoch_end0:['loss', 'val_loss']",
        "epoch_begin1",
        "batch0:3",
        "batch1:4",
        "test_begin",
        "epoch_end1:['loss', 'val_loss']",
        "train_end",
    ]


def test_model_stop_training_attribute_is_honoured(mlp, data):
    stopper = LambdaCallback(on_batch_end=lambda batch, logs: setattr(mlp, "stop_training", batch == 1))
    h = zoo.fit(
        mlp,
        *data,
        optimizer="sgd",
        loss=CE,
        epochs=5,
        batch_size=8,
        callbacks=[stopper],
        verbose=0,
    )
    assert len(h.history["loss"]) == 1


def _resume_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def test_resume_equals_an_uninterrupted_run(tmp_path, make_data):
    x, y = make_data(48)
    common = dict(
        optimizer="adam",
        loss=CE,
        metrics=["accuracy"],
        batch_size=8,
        validation_split=0.25,
        verbose=0,
    )

    torch.manual_seed(123)
    full = _resume_model()
    torch.manual_seed(123)
    h_full = zoo.fit(full, x, y, epochs=4, callbacks=[EarlyStopping(monitor="loss", patience=10)], **common)

    torch.manual_seed(123)
    part = _resume_model()
    torch.manual_seed(123)
    ckpt = tmp_path / "ckpt" / "state-{epoch:02d}.pt"
    zoo.fit(
        part,
        x,
        y,
        epochs=2,
        callbacks=[EarlyStopping(monitor="loss", patience=10), ModelCheckpoint(ckpt)],
        **common,
    )
    assert sorted(p.name for p in ckpt.parent.iterdir()) == [
        "state-01.pt",
        "state-02.pt",
    ]  # no temp files left

    torch.manual_seed(999)  # a fresh process would have another RNG state: resume must restore it
    resumed = _resume_model()
    early = EarlyStopping(monitor="loss", patience=10)
    h_res = zoo.fit(
        resumed, x, y, epochs=4, callbacks=[early], resume_from=tmp_path / "ckpt" / "state-02.pt", **common
    )
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert h_res.history == h_full.history  # History is part of the training state
    assert early.best == min(h_full.history["loss"])


def test_weights_only_checkpoint_cannot_be_resumed(tmp_path, mlp, data):
    path = tmp_path / "w.pt"
    zoo.fit(
        mlp,
        *data,
        optimizer="sgd",
        loss=CE,
        callbacks=[ModelCheckpoint(path, save_weights_only=True)],
        verbose=0,
    )
    state = torch.load(path, weights_only=True)
    assert set(state) == set(mlp.state_dict())
    with pytest.raises(ValueError, match="not a zoo training-state checkpoint"):
        zoo.fit(
            mlp, *data, optimizer="sgd", loss=CE, resume_from=path, verbose=0
        )
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        zoo.fit(
            mlp,
            *data,
            optimizer="sgd",
            loss=CE,
            resume_from=tmp_path / "x.pt",
            verbose=0,
        )


def test_bad_inputs_give_clear_errors(mlp, data):
    x, y = data
    with pytest.raises(zoo.UnknownNameError, match="Did you mean: adam"):
        zoo.fit(mlp, x, y, optimizer="adamm", loss="mse", verbose=0)
    with pytest.raises(ValueError, match=r"input shape \(16, 3\) and target shape \(16,\)"):
        zoo.fit(mlp, x, y.float(), optimizer="sgd", loss="mse", batch_size=16, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        zoo.fit(mlp, x[:0], y[:0], optimizer="sgd", loss="mse", verbose=0)
    with pytest.raises(ValueError, match="no batches"):
        zoo.fit(mlp, iter([]), optimizer="sgd", loss="mse", verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        zoo.fit(mlp, x, optimizer="sgd", loss="mse", verbose=0)
    with pytest.raises(ValueError, match="needs a loss"):
        zoo.fit(mlp, x, y, optimizer="sgd", verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        zoo.fit(mlp, x, y[:10], optimizer="sgd", loss="mse", verbose=0)
    with pytest.raises(ValueError, match="validation_split works only"):
        zoo.fit(
            mlp,
            torch.utils.data.TensorDataset(x, y),
            optimizer="sgd",
            loss="mse",
            validation_split=0.2,
            verbose=0,
        )
    with pytest.raises(zoo.ArgumentError, match="callbacks must have Keras hook methods"):
        zoo.fit(
            mlp,
            x,
            y,
            optimizer="sgd",
            loss=CE,
            callbacks=[object()],
            verbose=0,
        )
    with pytest.raises(ValueError, match="fp16"):
        Trainer(mlp, device="cpu", precision="fp16")


def test_bf16_autocast_on_cpu_trains(mlp, data):
    h = zoo.fit(
        mlp,
        *data,
        optimizer="adam",
        loss=CE,
        precision="bf16",
        device="cpu",
        epochs=2,
        verbose=0,
    )
    assert np.isfinite(h.history["loss"]).all()
    assert next(mlp.parameters()).dtype == torch.float32


def test_lbfgs_uses_a_closure():
    x = torch.randn(32, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1)
    h = zoo.fit(
        model, x, y, optimizer={"name": "lbfgs", "lr": 1.0}, loss="mse", batch_size=32, epochs=3, verbose=0
    )
    assert h.history["loss"][-1] < 1e-4


def test_gradient_clipping_from_keras_argument():
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    zoo.fit(
        model,
        torch.ones(1, 1),
        torch.full((1, 1), 100.0),
        optimizer={"name": "sgd", "lr": 1.0, "clipnorm": 0.5},
        loss="mse",
        verbose=0,
    )
    assert model.weight.item() == pytest.approx(0.5)


def test_progress_bar_on_a_tty_and_lines_otherwise(mlp, data):
    import io

    from zoo.training.callbacks import ProgbarLogger

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        zoo.fit(
            mlp,
            *data,
            optimizer="sgd",
            loss=CE,
            epochs=2,
            batch_size=16,
            callbacks=[ProgbarLogger(stream=stream, refresh_seconds=0.0)],
            verbose=1,
        )
    assert "Epoch 1/2" in tty.getvalue() and "4/4" in tty.getvalue() and "loss=" not in tty.getvalue()
    assert "loss: " in tty.getvalue()  # the postfix carries the running logs
    lines = pipe.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - 4 steps") and "loss: " in lines[1]


def test_sparse_crossentropy_on_segmentation_logits_with_axis_1():
    logits = torch.randn(2, 3, 4, 5)
    target = torch.randint(0, 3, (2, 4, 5))
    loss = zoo.get("losses", "sparse_categorical_crossentropy", from_logits=True, axis=1)
    assert loss(logits, target).item() == pytest.approx(
        nn.functional.cross_entropy(logits, target).item(), rel=1e-6
    )


class DrawsRandomNumbers(Callback):
    """Records one draw from each RNG a user's code may use (torch, numpy, Python) at every epoch start."""

    def __init__(self):
        super().__init__()
        self.draws = {}

    def on_epoch_begin(self, epoch, logs=None):
        import random

        self.draws[epoch] = (torch.rand(1).item(), float(np.random.rand()), random.random())


def _seed_everything(seed):
    import random

    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def test_resume_restores_every_rng(tmp_path, make_mlp, make_data):
    x, y = make_data(32)
    common = dict(optimizer=sgd(), loss=CE, batch_size=16, verbose=0)
    _seed_everything(0)
    straight = DrawsRandomNumbers()
    zoo.fit(make_mlp(), x, y, epochs=4, callbacks=[straight], **common)
    _seed_everything(0)
    ckpt = tmp_path / "state.pt"
    zoo.fit(make_mlp(), x, y, epochs=2, callbacks=[DrawsRandomNumbers(), ModelCheckpoint(ckpt)], **common)
    _seed_everything(123)  # the resumed process starts from other RNG states: the checkpoint must win
    resumed = DrawsRandomNumbers()
    zoo.fit(make_mlp(), x, y, epochs=4, callbacks=[resumed], resume_from=ckpt, **common)
    assert sorted(resumed.draws) == [2, 3]
    for epoch in (2, 3):
        for rng, a, b in zip(
            ("torch", "numpy", "python"), resumed.draws[epoch], straight.draws[epoch], strict=True
        ):
            assert a == b, f"{rng} RNG not restored (epoch {epoch})"


class EpochsOnly(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class Keras2BatchEnd(Callback):
    def on_batch_end(self, batch, logs=None):
        pass


def test_a_callback_that_overrides_no_batch_hook_is_not_dispatched_per_batch(monkeypatch, mlp, data):
    from zoo.training import loop
    from zoo.training.callbacks.base import CallbackList

    assert not CallbackList([EpochsOnly()]).wants("on_train_batch_end")
    assert CallbackList([Keras2BatchEnd()]).wants("on_train_batch_end")  # the Keras 2 spelling counts
    built = []
    real = loop.LazyLogs
    monkeypatch.setattr(loop, "LazyLogs", lambda compute: built.append(1) or real(compute))
    x, y = data
    common = dict(loss=CE, batch_size=16, verbose=0, validation_data=(x, y))
    zoo.fit(mlp, x, y, callbacks=[EpochsOnly()], **common)
    assert built == []  # no batch logs made: no per-batch dispatch at all
    zoo.fit(mlp, x, y, callbacks=[Keras2BatchEnd()], **common)
    assert len(built) == -(-len(x) // 16)  # one per training batch (no test-batch observer)


def test_every_hook_gets_a_dict_of_logs(mlp, data):
    from collections.abc import Mapping

    seen = []

    class Records(Callback):
        pass

    hooks = [
        name
        for name in vars(Callback)
        if name.startswith("on_") and "_batch_" in name or name.endswith(("_begin", "_end"))
    ]
    for name in hooks:
        setattr(Records, name, lambda self, *args, _name=name: seen.append((_name, args[-1])))
    x, y = data
    model = mlp
    zoo.fit(
        model,
        x,
        y,
        loss=CE,
        batch_size=32,
        verbose=0,
        validation_data=(x, y),
        callbacks=[Records()],
    )
    zoo.evaluate(model, x, y, loss=CE, verbose=0, callbacks=[Records()])
    zoo.predict(model, x, verbose=0, callbacks=[Records()])
    called = {name for name, _ in seen}
    assert {
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_test_begin",
        "on_predict_begin",
        "on_predict_end",
        "on_train_end",
    } <= called
    not_dicts = [(name, logs) for name, logs in seen if not isinstance(logs, Mapping)]
    assert not_dicts == []
