"""Callback arguments refused when the callback is made (not after an epoch, and never read by their
truthiness), and callbacks reused across fit calls starting afresh where Keras 3's do."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.training.callbacks import (
    BaseLogger,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    PlotCallback,
    ProgbarLogger,
    ReduceLROnPlateau,
    RemoteMonitor,
    TensorBoard,
    TerminateOnNaN,
)
from zoo.training.callbacks.monitor_callback import spelled_as
from zoo.utils.plot import PlotError

from .test_training_callbacks import Feed, _fake_trainer, run

# -- reuse across fit calls (Keras 3) ---------------------------------------------------------------------


def test_a_reused_early_stopping_starts_afresh_in_each_fit(mlp, data):
    es = EarlyStopping(monitor="loss", mode="min", patience=1, restore_best_weights=True)
    h = run(mlp, data, [Feed("loss", [0.1, 0.2, 0.3, 0.4]), es], epochs=4)
    assert len(h.history["loss"]) == 2 and es.stopped_epoch == 1 and es.best == 0.1
    # Still improving every epoch: with the first fit's best (0.1) kept it would stop after two epochs.
    h = run(mlp, data, [Feed("loss", [1.0, 0.9, 0.8, 0.7]), es], epochs=4)
    assert len(h.history["loss"]) == 4
    assert es.best == 0.7 and es.best_epoch == 3 and es.stopped_epoch == 0 and es.wait == 0


def test_a_reused_reduce_lr_on_plateau_starts_afresh_in_each_fit():
    trainer = _fake_trainer(lr=1.0)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=0.0)
    cb.set_trainer(trainer)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_loss": 0.1})
    cb.on_train_begin()  # a second fit
    cb.on_epoch_end(0, {"val_loss": 1.0})  # its first value is its best so far, not a plateau after 0.1
    assert cb.best == 1.0 and cb.wait == 0 and trainer.optimizer.param_groups[0]["lr"] == 1.0


def test_a_reused_model_checkpoint_keeps_its_best_as_keras_does(tmp_path, mlp, data):
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch}-{val_loss:.1f}.pt", save_best_only=True, save_weights_only=True)
    run(mlp, data, [Feed("val_loss", [0.2]), ckpt], epochs=1)
    run(mlp, data, [Feed("val_loss", [0.5, 0.1]), ckpt], epochs=2)
    # 0.5 is worse than the first fit's 0.2, so it does not overwrite the best file with a worse model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1-0.2.pt", "m-2-0.1.pt"]


# -- bools, ints and verbose, checked at construction ----------------------------------------------------

BOOLS = [
    (lambda v: CSVLogger("log.csv", append=v), "append"),
    (lambda v: EarlyStopping(restore_best_weights=v), "restore_best_weights"),
    (lambda v: ModelCheckpoint("c.pt", save_best_only=v), "save_best_only"),
    (lambda v: ModelCheckpoint("c.pt", save_weights_only=v), "save_weights_only"),
    (lambda v: TerminateOnNaN(raise_error=v), "raise_error"),
    (lambda v: RemoteMonitor(send_as_json=v), "send_as_json"),
]


@pytest.mark.parametrize("make, name", BOOLS)
@pytest.mark.parametrize("value", ["False", "no", None, 2, 0.0])
def test_a_bool_option_given_anything_else_is_refused(make, name, value):
    with pytest.raises(zoo.OptionError, match=f"{name} must be True or False, got {value!r}"):
        make(value)


@pytest.mark.parametrize("make, name", BOOLS)
def test_a_bool_option_takes_bools_numpy_bools_and_0_or_1(make, name):
    for value, expected in ((True, True), (False, False), (np.bool_(True), True), (0, False), (1, True)):
        stored = getattr(make(value), name)
        assert stored is expected


def test_a_truthy_string_says_why_it_is_refused():
    with pytest.raises(zoo.OptionError, match="string is truthy"):
        CSVLogger("log.csv", append="no")


VERBOSE = [
    lambda v: EarlyStopping("loss", verbose=v),
    lambda v: ReduceLROnPlateau(verbose=v),
    lambda v: ModelCheckpoint("c.pt", verbose=v),
    lambda v: LearningRateScheduler(lambda epoch: 0.1, verbose=v),
]


@pytest.mark.parametrize("make", VERBOSE)
@pytest.mark.parametrize("value", ["yes", "1", -1, 1.5, None])
def test_a_verbose_that_is_not_a_whole_number_is_refused(make, value):
    with pytest.raises(zoo.OptionError, match=r"verbose must be 0 \(silent\) or 1"):
        make(value)


@pytest.mark.parametrize("make", VERBOSE)
def test_verbose_takes_0_1_bools_and_fits_2(make):
    assert [make(v).verbose for v in (0, 1, 2, True, False, np.int64(1))] == [0, 1, 2, 1, 0, 1]


def test_early_stopping_verbose_true_prints_at_train_end(mlp, data, capsys):
    run(mlp, data, [Feed("loss", [1.0, 2.0, 3.0]), EarlyStopping("loss", verbose=True)], epochs=3)
    assert "Epoch 2: early stopping" in capsys.readouterr().out


@pytest.mark.parametrize("value", [True, False, 0, -3, 1.5, "3", "batch"])
def test_model_checkpoint_save_freq_is_epoch_or_a_positive_whole_number(value):
    with pytest.raises(zoo.OptionError, match="save_freq must be 'epoch' or a positive whole number"):
        ModelCheckpoint("c.pt", save_freq=value)


def test_model_checkpoint_save_freq_takes_a_numpy_int():
    assert ModelCheckpoint("b{batch}.pt", save_freq=np.int64(4)).save_freq == 4


@pytest.mark.parametrize("value", [-1, True, 1.5, "1"])
def test_tensorboard_histogram_freq_is_a_whole_number_0_or_more(tmp_path, value):
    with pytest.raises(zoo.OptionError, match="histogram_freq must be"):
        TensorBoard(tmp_path, histogram_freq=value)
    assert TensorBoard(tmp_path, histogram_freq=0).histogram_freq == 0


@pytest.mark.parametrize("value", [True, 0, 1.5, "epochs"])
def test_tensorboard_update_freq_refuses_bools_and_non_positive(tmp_path, value):
    with pytest.raises(zoo.OptionError, match="update_freq must be 'epoch', 'batch' or a positive"):
        TensorBoard(tmp_path, update_freq=value)
    assert TensorBoard(tmp_path, update_freq="batch").update_freq == 1


def test_other_numbers_and_kinds_are_checked_when_made(tmp_path):
    with pytest.raises(PlotError, match="number of epochs"):
        PlotCallback(tmp_path / "c.png", every=True)
    with pytest.raises(zoo.OptionError, match="refresh_seconds must be a finite number"):
        ProgbarLogger(refresh_seconds="0.5")
    with pytest.raises(zoo.OptionError, match="timeout"):
        RemoteMonitor(timeout=0)
    with pytest.raises(zoo.OptionError, match="timeout must be a finite number"):
        RemoteMonitor(timeout="10")
    with pytest.raises(zoo.ArgumentError, match="headers must be a dict"):
        RemoteMonitor(headers=[("a", "b")])
    with pytest.raises(zoo.ArgumentError, match="root must be a str"):
        RemoteMonitor(root=9000)
    assert RemoteMonitor(timeout=None).timeout is None
    assert BaseLogger(stateful_metrics="acc").stateful_metrics == {"acc"}  # a name, not its letters


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda p: ModelCheckpoint(p), "filepath"),
        (lambda p: CSVLogger(p), "filename"),
        (lambda p: TensorBoard(log_dir=p), "log_dir"),
        (lambda p: PlotCallback(to_file=p), "to_file"),
    ],
)
def test_a_path_argument_that_is_not_a_path_is_refused(make, name):
    with pytest.raises(zoo.ArgumentError, match=f"{name} must be a path"):
        make(None)
    with pytest.raises(zoo.OptionError, match=f"{name} is an empty path"):
        make("")


# -- ModelCheckpoint's path --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, message",
    [
        ("{epoch:.2f}-{loss:d}.pt", r"cannot format field 'loss' with a float \(Unknown format code 'd'"),
        ("{val_loss:%Y}.pt", "cannot format field 'val_loss'"),
        ("{epoch:q}.pt", "cannot format field 'epoch' with an int"),
        ("{}.pt", "positional field"),
        ("{0}.pt", "positional field"),
        ("ckpt-{epoch.pt", "not a valid format template"),
        ("ckpt-{epoch}-{batch}.pt", r"uses \{batch\}, which is only filled when saving every N batches"),
    ],
)
def test_a_path_template_that_cannot_format_is_refused_when_made(template, message):
    with pytest.raises(zoo.OptionError, match=message) as info:
        ModelCheckpoint(template)
    assert repr(template) in str(info.value)


def test_the_compiled_metrics_template_fields_are_checked_before_the_first_epoch(tmp_path, mlp, data):
    epochs = []
    counter = LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch))
    ckpt = ModelCheckpoint(tmp_path / "{epoch}-{accuracy:d}.pt")  # accuracy is unknown until fit compiles it
    with pytest.raises(zoo.OptionError, match="cannot format field 'accuracy' with a float"):
        run(mlp, data, [counter, ckpt], epochs=2, metrics=["accuracy"])
    assert epochs == [] and list(tmp_path.iterdir()) == []


def test_a_field_another_callback_logs_as_an_int_may_use_an_int_format(tmp_path, mlp, data):
    run(mlp, data, [Feed("step", [7]), ModelCheckpoint(tmp_path / "s{step:03d}.pt", save_weights_only=True)],
        epochs=1)  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["s007.pt"]


def test_a_logged_value_the_template_cannot_format_names_the_field(tmp_path, mlp, data):
    with pytest.raises(zoo.OptionError, match=r"cannot format field 'tag' with the logged 'abc' \(str\)") as info:
        run(mlp, data, [Feed("tag", ["abc"]), ModelCheckpoint(tmp_path / "{tag:.2f}.pt")], epochs=1)
    assert "{tag:.2f}.pt" in str(info.value)


def test_a_folder_is_refused_as_a_checkpoint_path(tmp_path, mlp, data):
    with pytest.raises(zoo.OptionError, match="is a folder; give the path of a file in it"):
        ModelCheckpoint(tmp_path)
    with pytest.raises(zoo.OptionError, match="is a folder"):
        ModelCheckpoint(str(tmp_path / "new") + "/")
    (tmp_path / "ckpt" / "1").mkdir(parents=True)  # what {epoch} formats to in the first epoch
    with pytest.raises(zoo.OptionError, match="is an existing folder; give a file path"):
        run(mlp, data, [ModelCheckpoint(tmp_path / "ckpt" / "{epoch}")], epochs=1)


@pytest.mark.parametrize("name", ["m.h5", "m.keras", "m.weights.h5", "m-{epoch}.H5", "m.hdf5"])
def test_keras_file_names_are_refused_as_model_save_refuses_them(name):
    with pytest.raises(zoo.OptionError, match=r"zoo does not write Keras' \.keras/\.h5 files.*ckpt\.pt"):
        ModelCheckpoint(name, save_weights_only=name.endswith(".weights.h5"))


# -- LearningRateScheduler's schedule -------------------------------------------------------------------


@pytest.mark.parametrize("schedule", [0.01, "exponential", None])
def test_a_schedule_that_is_not_callable_is_refused_when_made(schedule):
    with pytest.raises(zoo.OptionError, match="schedule must be a function of \\(epoch, lr\\) or \\(epoch\\)"):
        LearningRateScheduler(schedule)


@pytest.mark.parametrize("schedule", [lambda e, lr, z: lr, lambda: 0.1, lambda *, epoch: 0.1])
def test_a_schedule_with_the_wrong_arguments_is_refused_when_made(schedule):
    with pytest.raises(zoo.OptionError, match=r"cannot be called as schedule\(epoch, lr\) or schedule\(epoch\)"):
        LearningRateScheduler(schedule)


def test_schedules_of_either_form_and_callable_objects_work(mlp, data):
    class Halve:
        def __call__(self, epoch, lr):
            return lr * 0.5

    h = run(mlp, data, [LearningRateScheduler(Halve())], epochs=2, optimizer={"name": "sgd", "learning_rate": 0.4})
    assert h.history["learning_rate"] == pytest.approx([0.2, 0.1])
    h = run(mlp, data, [LearningRateScheduler(lambda epoch, lr=None: 0.3 if lr is None else lr / 4)], epochs=1,
            optimizer={"name": "sgd", "learning_rate": 0.4})  # fmt: skip
    assert h.history["learning_rate"] == pytest.approx([0.1])  # called as (epoch, lr), as Keras does first


def test_a_type_error_inside_a_schedule_is_not_retried_as_schedule_epoch(mlp, data):
    def schedule(epoch, lr):
        raise TypeError("inside the schedule")

    with pytest.raises(TypeError, match="inside the schedule"):
        run(mlp, data, [LearningRateScheduler(schedule)], epochs=1)


# -- monitored names: Keras' short aliases ---------------------------------------------------------------


def test_a_monitor_spelled_with_keras_short_alias_suggests_the_logged_name(mlp, data):
    x, y = data
    with pytest.raises(zoo.OptionError, match="no 'acc' in the logs.*Did you mean 'accuracy'\\?"):
        run(mlp, data, [EarlyStopping("acc")], epochs=1, metrics=["accuracy"])
    with pytest.raises(zoo.OptionError, match="Did you mean 'val_accuracy'\\?.*different keys"):
        run(mlp, data, [ModelCheckpoint("c.pt", monitor="val_acc", save_best_only=True)], epochs=1,
            metrics=["accuracy"], validation_data=(x, y))  # fmt: skip
    with pytest.raises(zoo.OptionError, match="Did you mean 'acc'\\?"):
        run(mlp, data, [ReduceLROnPlateau("accuracy")], epochs=1, metrics=["acc"])


def test_spelled_as_maps_every_registered_alias_and_keeps_the_prefix():
    assert spelled_as("val_mse", ["loss", "val_mean_squared_error"]) == "val_mean_squared_error"
    assert spelled_as("mean_absolute_error", ["mae", "val_mae"]) == "mae"
    assert spelled_as("val_acc", ["accuracy"]) is None  # no validation logged: not the same quantity
    assert spelled_as("val_los", ["val_loss"]) is None  # a misspelling is difflib's to suggest

