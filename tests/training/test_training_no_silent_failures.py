"""Keras habits and wrong arguments in the training area: each works as meant or is a zoo.ZooError saying
what to change (the newcomer review's list; every test here fails without its fix)."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import ArgumentError, DataError, ModelError, OptionError, ZooError
from zoo.training import initializers as inits
from zoo.training.callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)

CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def _fit(model, x, y, **kw):
    kw.setdefault("optimizer", {"name": "sgd", "lr": 0.5})
    kw.setdefault("loss", CE)
    kw.setdefault("verbose", 0)
    kw.setdefault("batch_size", 16)
    return zoo.fit(model, x, y, **kw)


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module):
    return {k for k, v in module.state_dict().items() if not torch.equal(before[k], v)}


# -- 1. `sub.trainable = False` on plain torch modules -------------------------------------------------
def test_trainable_false_on_a_submodule_of_a_zoo_load_model_freezes_it_in_fit():
    torch.manual_seed(0)
    m = zoo.load("resnet18", weights=None, classes=3)
    m.layer1.trainable = False  # layer1 is a plain nn.Sequential: only an attribute until fit
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    before = _snapshot(m)
    _fit(m, x, y, batch_size=8, optimizer={"name": "sgd", "lr": 0.1})
    changed = _changed(before, m)
    assert not {k for k in changed if k.startswith("layer1.")}  # weights and BN statistics kept
    assert any(k.startswith("layer2.") for k in changed) and "fc.weight" in changed
    assert m.layer1.trainable is False
    assert not any(p.requires_grad for p in m.layer1.parameters())


def test_trainable_false_on_a_plain_linear_given_to_fit(mlp, data):
    x, y = data
    mlp[0].trainable = False
    before = _snapshot(mlp)
    _fit(mlp, x, y)
    assert _changed(before, mlp) == {"2.weight", "2.bias"}
    assert mlp[0].trainable is False


def test_trainable_false_on_the_whole_plain_module_says_nothing_is_left_to_train(mlp, data):
    mlp.trainable = False
    with pytest.raises(OptionError, match="every parameter of the model .* is frozen"):
        _fit(mlp, *data)  # torch's backward raised a RuntimeError here before
    assert mlp.trainable is False and not any(p.requires_grad for p in mlp.parameters())
    zoo.evaluate(mlp, *data, loss=CE, verbose=0)  # a frozen model still evaluates


def test_trainable_attribute_that_is_not_a_bool_is_refused(mlp, data):
    mlp[0].trainable = "no"
    with pytest.raises(ModelError, match=r"model\.0\.trainable must be True or False"):
        _fit(mlp, *data)


def test_trainable_false_works_through_compile():
    from zoo.layers import Dense

    model = zoo.Sequential([zoo.Input((4,)), Dense(8, activation="tanh"), Dense(3)])
    inner = nn.Linear(3, 3)
    model.add(inner)
    inner.trainable = False
    model.compile(optimizer={"name": "sgd", "lr": 0.5}, loss=CE)
    before = _snapshot(inner)
    model.fit(torch.randn(32, 4), torch.randint(0, 3, (32,)), verbose=0)
    assert _changed(before, inner) == set()


# -- 2. an optimizer over another model's parameters --------------------------------------------------
def test_optimizer_on_parameters_of_another_model_is_refused(make_mlp, data):
    model, other = make_mlp(), make_mlp()
    with pytest.raises(OptionError, match="none of which is a trainable parameter of the model"):
        _fit(model, *data, optimizer=torch.optim.SGD(other.parameters(), lr=0.5))


def test_optimizer_from_compile_on_other_parameters_is_refused(make_mlp, data):
    from zoo.layers import Dense

    model = zoo.Sequential([zoo.Input((4,)), Dense(3)])
    model.compile(optimizer=torch.optim.SGD(make_mlp().parameters(), lr=0.1), loss=CE)
    with pytest.raises(OptionError, match="model.parameters"):
        model.fit(*data, verbose=0)


def test_optimizer_on_part_of_the_model_is_fine(mlp, data):
    before = _snapshot(mlp)
    _fit(mlp, *data, optimizer=torch.optim.SGD(mlp[2].parameters(), lr=0.5))
    assert _changed(before, mlp) == {"2.weight", "2.bias"}


# -- 3. Keras-style custom loss functions -------------------------------------------------------------
def _asymmetric_check(calls):
    def keras_loss(y_true, y_pred):
        calls.append((y_true.dtype, y_pred.dtype))
        return nn.functional.cross_entropy(y_pred, y_true)

    return keras_loss


def test_keras_named_loss_function_gets_y_true_first(mlp, data):
    calls = []
    _fit(mlp, *data, loss=_asymmetric_check(calls), epochs=1)
    assert calls and all(c == (torch.int64, torch.float32) for c in calls)


def test_torch_order_and_other_names_keep_torch_order(mlp, data):
    seen = []

    def torch_loss(y_pred, y_true):
        seen.append(y_pred.dtype)
        return nn.functional.cross_entropy(y_pred, y_true)

    def other(a, b):
        seen.append(a.dtype)
        return nn.functional.cross_entropy(a, b)

    _fit(mlp, *data, loss=torch_loss)
    _fit(mlp, *data, loss=other)
    assert set(seen) == {torch.float32}


def test_keras_named_metric_function_gets_y_true_first(mlp, data):
    def keras_metric(y_true, y_pred):
        assert not y_true.is_floating_point()
        return (y_pred.argmax(-1) == y_true).float()

    h = _fit(mlp, *data, metrics=[keras_metric])
    assert 0.0 <= h.history["keras_metric"][0] <= 1.0


# -- 4. from_logits=True / CrossEntropyLoss on a softmax output -----------------------------------------
def _softmax_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Softmax(-1))


@pytest.mark.parametrize(
    "loss",
    [
        CE,
        {"name": "categorical_crossentropy", "from_logits": True},
        "torch",
    ],
)
def test_from_logits_loss_given_softmax_outputs_is_a_data_error(data, loss):
    x, y = data
    if loss == "torch":
        loss = nn.CrossEntropyLoss()
    elif loss["name"] == "categorical_crossentropy":
        y = nn.functional.one_hot(y, 3).float()
    with pytest.raises(DataError, match="already are probabilities"):
        _fit(_softmax_model(), x, y, loss=loss)


def test_logits_models_never_trip_the_softmax_check(make_mlp, data):
    x, y = data
    for seed in range(5):  # small, near-uniform logits at initialisation
        model = make_mlp(seed=seed)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(0.01)
        _fit(model, x, y, loss=CE)
        _fit(model, x, y, loss=nn.CrossEntropyLoss())
    _fit(_softmax_model(), x, y, loss="sparse_categorical_crossentropy")  # the right pairing works


# -- 5. class_weight -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("class_weight", "match"),
    [
        ({0: 1, 1: 1, 2: 1, 7: 5}, r"class\(es\) \[7\].*3 classes"),
        ({"0": 1.0}, "integers >= 0"),
        ([1, 2, 3], r"must be a dict.*\{0: 1, 1: 2, 2: 3\}"),
        ({0: -1.0}, "finite number >= 0"),
        ({}, "empty"),
    ],
)
def test_bad_class_weight_is_an_option_error(mlp, data, class_weight, match):
    with pytest.raises(OptionError, match=match):
        _fit(mlp, *data, class_weight=class_weight)


def test_class_weight_missing_classes_weigh_one(make_mlp, make_data):
    x, y = make_data(32)  # labels 0..2
    assert int(y.max()) == 2
    model = make_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    h = _fit(model, x, y, class_weight={0: 3.0}, batch_size=32, optimizer=opt)
    with torch.no_grad():
        per = nn.functional.cross_entropy(model(x), y, reduction="none")
    weights = torch.where(y == 0, 3.0, 1.0)
    assert h.history["loss"][0] == pytest.approx((per * weights).mean().item(), rel=1e-6)


def test_class_weight_labels_beyond_the_outputs_are_a_data_error(mlp):
    x, y = torch.randn(16, 4), torch.full((16,), 5)  # 3 outputs, label 5: an index error before
    with pytest.raises(DataError, match=r"class_weight: the labels range over \[5, 5\].*3 classes"):
        _fit(mlp, x, y, class_weight={0: 1.0})


# -- 6. binary_crossentropy labels ---------------------------------------------------------------------
@pytest.mark.parametrize("labels", [[0.0, 2.0], [-1.0, 1.0]])
def test_binary_crossentropy_refuses_labels_outside_0_1(labels):
    x = torch.randn(16, 4)
    y = torch.tensor(labels).repeat(8)[:, None]
    model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    with pytest.raises(DataError, match=r"labels in \[0, 1\]"):
        _fit(model, x, y, loss="binary_crossentropy")
    with pytest.raises(DataError, match=r"labels in \[0, 1\]"):
        _fit(nn.Linear(4, 1), x, y, loss={"name": "binary_crossentropy", "from_logits": True})


def test_binary_crossentropy_takes_soft_labels():
    x, y = torch.randn(16, 4), torch.rand(16, 1)
    _fit(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()), x, y, loss="binary_crossentropy")


# -- 7. learning rates -----------------------------------------------------------------------------------
def test_learning_rate_scheduler_refuses_a_negative_rate(mlp, data):
    with pytest.raises(OptionError, match="finite number >= 0"):
        _fit(mlp, *data, callbacks=[LearningRateScheduler(lambda e, lr: -1.0)])
    with pytest.raises(OptionError, match="finite number >= 0"):
        _fit(mlp, *data, callbacks=[LearningRateScheduler(lambda e: float("nan"))])


@pytest.mark.parametrize(
    ("options", "match"),
    [({"learning_rate": -1}, "learning_rate must be"), ({"lr": "0.1"}, "lr must be"),
     ({"betas": (2.0, 0.9)}, "Invalid beta")],
)  # fmt: skip
def test_bad_optimizer_options_are_option_errors(mlp, data, options, match):
    with pytest.raises(OptionError, match=match):
        _fit(mlp, *data, optimizer={"name": "adam", **options})


# -- 8. monitored quantities -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("callback", "validation", "match"),
    [
        (lambda: EarlyStopping(monitor="val_los"), True, "Did you mean 'val_loss'"),
        (lambda: EarlyStopping(monitor="val_acc"), False, "need validation data"),
        (lambda: ReduceLROnPlateau(monitor="los"), False, "Did you mean 'loss'"),
        (lambda: ModelCheckpoint("{epoch}.pt", save_best_only=True), False, "need validation data"),
    ],
)
def test_monitoring_an_absent_quantity_is_an_option_error(tmp_path, mlp, data, callback, validation, match):
    x, y = data
    kw = {"validation_data": (x[:16], y[:16])} if validation else {}
    with pytest.raises(OptionError, match=rf"there is no .* in the logs at the end of epoch 1.*{match}") as info:
        _fit(mlp, x, y, epochs=3, callbacks=[callback()], metrics=["accuracy"], **kw)
    assert "hold: loss, accuracy" in str(info.value)
    assert not list(tmp_path.iterdir())


def test_val_monitor_with_validation_every_other_epoch_still_works(mlp, data):
    x, y = data
    es = EarlyStopping(monitor="val_loss", patience=10)
    _fit(mlp, x, y, epochs=4, validation_data=(x, y), validation_freq=2, callbacks=[es])
    assert es.best is not None and es.best < float("inf")


def test_checkpoint_every_n_batches_monitoring_a_val_quantity_is_refused(tmp_path, mlp, data):
    cb = ModelCheckpoint(str(tmp_path / "c.pt"), save_best_only=True, save_freq=2)
    with pytest.raises(OptionError, match="Batch logs hold training quantities"):
        _fit(mlp, *data, validation_data=data, callbacks=[cb])


@pytest.mark.parametrize("make", [EarlyStopping, ReduceLROnPlateau, lambda **kw: ModelCheckpoint("c.pt", **kw)])
def test_unknown_mode_is_an_option_error(make):
    with pytest.raises(OptionError, match=r"'min', 'max' or 'auto'.*Did you mean 'min'"):
        make(mode="minimum")


# -- 9. raw errors in fit's arguments ---------------------------------------------------------------------
def test_sample_weight_of_the_wrong_shape_is_a_data_error(mlp, data):
    x, y = data
    with pytest.raises(DataError, match=r"sample_weight of shape \(16, 3\)"):
        _fit(mlp, x, y, sample_weight=torch.ones(64, 3))
    with pytest.raises(DataError, match="sample_weight of shape"):  # a torch loss, weighted by zoo
        _fit(mlp, x, y, loss=nn.CrossEntropyLoss(), sample_weight=torch.ones(64, 3))
    _fit(mlp, x, y, sample_weight=torch.ones(64, 1))  # (N, 1) is one weight per sample


def test_validation_freq_zero_is_an_option_error(mlp, data):
    with pytest.raises(OptionError, match="validation_freq"):
        _fit(mlp, *data, validation_data=data, validation_freq=0)


@pytest.mark.parametrize("shuffle", ["False", "batch", None])
def test_shuffle_that_is_not_a_bool_is_an_option_error(mlp, data, shuffle):
    with pytest.raises(OptionError, match=f"shuffle must be True or False, got {shuffle!r}"):
        _fit(mlp, *data, shuffle=shuffle)


def test_validation_data_as_a_list_is_taken_as_keras_3_takes_it(mlp, data):
    x, y = data
    history = _fit(mlp, x, y, validation_data=[x, y])
    assert "val_loss" in history.history


@pytest.mark.parametrize("device", ["gpu", "cuda:7", "tpu:0", 3.5])
def test_bad_devices_are_option_errors(mlp, data, device):
    if device == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    with pytest.raises(OptionError) as info:
        _fit(mlp, *data, device=device)
    if device == "gpu":
        assert "'cuda'" in str(info.value)


def test_unknown_fit_keyword_suggests_the_right_one(mlp, data):
    with pytest.raises(ArgumentError, match="takes no keyword 'epoch'. Did you mean 'epochs'"):
        _fit(mlp, *data, epoch=3)
    with pytest.raises(ArgumentError, match="Did you mean 'batch_size'"):
        zoo.evaluate(mlp, *data, loss=CE, batchsize=8)
    with pytest.raises(ArgumentError, match="Did you mean 'batch_size'"):
        zoo.predict(mlp, data[0], batch_sise=8)


@pytest.mark.parametrize(
    "make",
    [
        lambda: EarlyStopping(patience="2"),
        lambda: EarlyStopping(min_delta="0.1"),
        lambda: EarlyStopping(start_from_epoch=-1),
        lambda: ReduceLROnPlateau(patience=1.5),
        lambda: ReduceLROnPlateau(factor="0.5"),
        lambda: ReduceLROnPlateau(cooldown=-1),
    ],
)
def test_bad_numeric_callback_arguments_fail_at_construction(make):
    with pytest.raises(OptionError):
        make()


def test_csv_logger_bad_separator_and_missing_folder(tmp_path, mlp, data):
    with pytest.raises(OptionError, match="one character"):
        CSVLogger(tmp_path / "log.csv", separator=",,")
    with pytest.raises(OptionError, match="does not exist; create it first"):
        _fit(mlp, *data, callbacks=[CSVLogger(tmp_path / "missing" / "log.csv")])
    CSVLogger(tmp_path / "log.csv", separator="\t")


def test_every_error_here_is_a_zoo_error():
    for cls in (ArgumentError, DataError, ModelError, OptionError):
        assert issubclass(cls, ZooError)


def test_callbacks_constructed_directly_check_their_keywords():
    from zoo.training.callbacks import EarlyStopping, ModelCheckpoint

    with pytest.raises(zoo.ArgumentError, match="EarlyStopping takes no keyword 'patiance'. Did you mean 'patience'"):
        EarlyStopping(patiance=3)
    with pytest.raises(zoo.ArgumentError, match="ModelCheckpoint takes no keyword 'period'.*save_freq"):
        ModelCheckpoint("a.pt", period=2)

    class Mine(zoo.Callback):
        def __init__(self, every=1):
            self.every = every

    assert Mine(every=2).every == 2
    with pytest.raises(zoo.ArgumentError, match="Mine takes no keyword 'evry'. Did you mean 'every'"):
        Mine(evry=2)


def test_a_torch_loss_class_given_as_a_metric_is_instantiated(mlp, data):
    x, y = data
    history = _fit(mlp, x, y, epochs=1, metrics=[nn.CrossEntropyLoss])
    (key,) = [k for k in history.history if k != "loss"]
    assert "cross_entropy" in key and history.history[key][0] > 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: inits.RandomNormal(stddev=-0.1), "stddev must be >= 0"),
        (lambda: inits.TruncatedNormal(stddev="0.1"), "stddev must be a number"),
        (lambda: inits.RandomUniform(minval=1.0, maxval=0.0), "minval .* must be <= maxval"),
        (lambda: inits.Constant(value="1"), "value must be a number"),
        (lambda: inits.Constant(value=True), "value must be a number"),
        (lambda: inits.GlorotUniform(seed="0"), "seed must be an int or None"),
        (lambda: inits.Orthogonal(gain=float("nan")), "gain must be a number"),
        (lambda: inits.VarianceScaling(scale="2"), "scale must be a number"),
    ],
)
def test_bad_initializer_arguments_fail_at_construction(make, message):
    with pytest.raises(OptionError, match=message):
        make()


def test_good_initializer_arguments_still_work():
    w = torch.empty(64, 32)
    inits.RandomUniform(minval=0.0, maxval=0.0)(w)
    assert torch.count_nonzero(w) == 0
    inits.RandomNormal(mean=1, stddev=0)(w)
    assert torch.all(w == 1.0)
    inits.Constant(3)(w)
    assert torch.all(w == 3.0)


@pytest.mark.parametrize(
    ("kind", "name", "options", "said"),
    [
        ("losses", "binary_crossentropy", {"from_logits": "False"}, "from_logits must be True or False"),  # was True
        ("losses", "categorical_crossentropy", {"label_smoothing": 2.0}, "label_smoothing must be a number in [0, 1]"),
        ("losses", "categorical_crossentropy", {"label_smoothing": -0.5}, "label_smoothing must be a number in [0, 1]"),
        ("losses", "huber", {"delta": -1.0}, "delta must be a finite number > 0"),  # a negative loss
        ("losses", "huber", {"delta": "1"}, "delta must be a finite number > 0"),  # a raw TypeError
        ("losses", "sparse_categorical_crossentropy", {"ignore_class": 1.5}, "ignore_class must be a class index"),
        ("losses", "sparse_categorical_crossentropy", {"ignore_class": "1"}, "ignore_class must be a class index"),
        ("losses", "cosine_similarity", {"axis": 1.0}, "axis must be a whole number"),
        ("metrics", "top_k_categorical_accuracy", {"k": 0}, "k must be a whole number >= 1"),
        ("metrics", "binary_accuracy", {"threshold": float("nan")}, "threshold must be a finite number"),
    ],
)
def test_loss_and_metric_options_are_checked_when_built(kind, name, options, said):
    with pytest.raises(OptionError, match=re.escape(said)):
        zoo.get(kind, name, **options)


@pytest.mark.parametrize(
    ("name", "options", "said"),
    [
        ("sgd", {"momentum": 0.9, "nesterov": "no"}, "nesterov must be True or False"),  # trained with Nesterov
        ("adam", {"amsgrad": "yes"}, "amsgrad must be True or False"),  # a raw TypeError in fit
        ("adamw", {"weight_decay": "0.01"}, "weight_decay must be a finite number"),
        ("rmsprop", {"centered": "False"}, "centered must be True or False"),
    ],
)
def test_optimizer_flags_and_numbers_are_checked_when_built(make_mlp, name, options, said):
    with pytest.raises(OptionError, match=re.escape(said)):
        zoo.get("optimizers", name, make_mlp().parameters(), **options)
    with pytest.raises(OptionError, match=re.escape(said)):  # a compile-style dict too
        zoo.fit(make_mlp(), torch.rand(8, 4), torch.randint(0, 3, (8,)), optimizer={"name": name, **options},
                loss=CE, verbose=0)  # fmt: skip


def test_right_options_still_mean_what_they_say(make_mlp):
    p, t = torch.tensor([[0.9], [0.2], [0.7]]), torch.tensor([[1.0], [0.0], [1.0]])
    bce = torch.nn.functional.binary_cross_entropy
    assert zoo.get("losses", "binary_crossentropy", from_logits=1)(p.logit(), t).item() == pytest.approx(bce(p, t).item(), rel=1e-5)
    assert zoo.get("losses", "binary_crossentropy", from_logits=False).kwargs["from_logits"] is False
    sgd = zoo.get("optimizers", "sgd", make_mlp().parameters(), momentum=0.9, nesterov=True)
    assert sgd.param_groups[0]["nesterov"] is True
    assert zoo.get("losses", "huber", delta=2).kwargs["delta"] == 2
