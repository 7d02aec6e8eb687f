"""Sequential, compile/fit/evaluate/predict/summary on zoo models, and the trainable property."""

import copy
import pickle

import pytest
import torch
from torch import nn

import zoo
from zoo.layers import Dense
from zoo.models.trainable import with_trainable


def _data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    return x, (x[:, 0] > 0).long()


def test_sequential_add_pop_and_build_from_input():
    model = zoo.Sequential([zoo.Input((4,)), Dense(8)])
    assert isinstance(model, nn.Sequential) and isinstance(model, zoo.Model)
    assert model[0].linear.weight.shape == (8, 4)  # built at once, no data
    model.add(Dense(3))
    assert model[1].linear.weight.shape == (3, 8)
    last = model.pop()
    assert last.units == 3 and len(model) == 1
    model.add(Dense(5))
    model.add(Dense(6))
    first = model.pop(0)
    assert first.units == 8 and [m.units for m in model] == [5, 6]
    with pytest.raises(zoo.ModelError, match="not an nn.Module"):
        zoo.Sequential([Dense])


def test_sequential_builds_from_first_layer_input_shape_attribute():
    first = Dense(8)
    first.input_shape = (4,)  # what the layer's input_shape= keyword sets
    model = zoo.Sequential([first, Dense(2)])
    assert sum(p.numel() for p in model.parameters()) == 4 * 8 + 8 + 8 * 2 + 2
    assert model.summary(print_fn=None).total_params == 58


def test_compile_fit_evaluate_predict_keep_the_optimizer():
    x, y = _data()
    model = zoo.Sequential([zoo.Input((4,)), Dense(16, activation="relu"), Dense(2)])
    with pytest.raises(zoo.ModelError, match="compile"):
        model.fit(x, y)
    with pytest.raises(zoo.ModelError, match="torch.compile"):
        model.compile(backend="inductor")
    model.compile(optimizer={"name": "adam", "lr": 0.02}, loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
                  metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    optimizer = model._zoo_optimizer
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model._zoo_optimizer is optimizer and optimizer.state  # Adam state carried over, as in Keras
    loss, acc = model.evaluate(x, y, verbose=0)
    assert loss < before[0] and acc > 0.8
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}
    assert set(history.history) >= {"loss", "accuracy"}
    assert model.predict(x, verbose=0).shape == (64, 2)
    with pytest.warns(DeprecationWarning, match="fit_generator"):
        model.fit_generator([(x, y)], epochs=1, verbose=0)


def test_multi_output_losses_and_weights():
    x, y = _data()
    inp = zoo.Input((4,))
    h = Dense(8, activation="relu")(inp)
    model = zoo.Model(inp, [Dense(2)(h), Dense(1)(h)])
    model.compile("adam", loss=[{"name": "sparse_categorical_crossentropy", "from_logits": True}, "mse"],
                  loss_weights=[1.0, 0.0])
    loss = model.evaluate(x, (y, torch.full((64, 1), 100.0)), verbose=0)
    ce = nn.functional.cross_entropy(model(x)[0], y).item()
    assert loss == pytest.approx(ce, rel=1e-4)  # the mse output weighs 0
    with pytest.raises(zoo.ModelError, match="3 losses for 2 outputs"):
        model.compile(loss=["mse"] * 3)
        model.fit(x, (y, y), verbose=0)


def _two_named_outputs():
    inp = zoo.Input((4,))
    return zoo.Model(inp, {"cls": Dense(2, name="cls")(inp), "reg": Dense(1, name="reg")(inp)})


CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def test_multi_output_targets_are_checked_by_output_name():
    x, y = _data()
    model = _two_named_outputs()
    model.compile("sgd", loss={"cls": CE, "reg": "mse"})
    targets = {"cls": y, "reg": torch.zeros(64, 1)}
    with pytest.raises(zoo.ModelError, match="y names 'regg', which is no output of the model. Did you mean 'reg'"):
        model.fit(x, {"cls": y, "regg": targets["reg"]}, verbose=0)
    with pytest.raises(zoo.ModelError, match="y has no target for output 'reg', which has a loss"):
        model.fit(x, {"cls": y}, verbose=0)
    with pytest.raises(zoo.ModelError, match="outputs are a dict .*give y as a dict"):
        model.fit(x, [y, targets["reg"]], verbose=0)
    model.fit(x, targets, verbose=0)


def test_a_loss_for_some_outputs_trains_those_and_needs_no_other_target():
    x, y = _data()
    model = _two_named_outputs()
    model.compile("sgd", loss={"cls": CE})
    reg_before = [p.detach().clone() for p in model.get_layer("reg").parameters()]
    model.fit(x, {"cls": y}, verbose=0)  # no target for the output without a loss
    model.fit(x, {"cls": y, "reg": torch.zeros(64, 1)}, verbose=0)  # one given anyway is fine
    assert all(torch.equal(a, b) for a, b in zip(model.get_layer("reg").parameters(), reg_before, strict=True))


def test_one_sample_weight_weighs_every_outputs_loss():
    x, y = _data()
    model = _two_named_outputs()
    model.compile("sgd", loss={"cls": CE, "reg": "mse"})
    targets = {"cls": y, "reg": torch.randn(64, 1, generator=torch.Generator().manual_seed(1))}
    weight = torch.zeros(64)
    weight[:16] = 4.0
    with torch.no_grad():
        out = model(x)
    ce = nn.functional.cross_entropy(out["cls"], y, reduction="none")
    se = ((out["reg"] - targets["reg"]) ** 2).squeeze(1)
    expected = ((ce + se) * weight).mean().item()
    assert model.evaluate(x, targets, sample_weight=weight, batch_size=64, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_subclassing_with_call_or_forward():
    class WithCall(zoo.Model):
        def __init__(self):
            super().__init__(name="mine")
            self.dense = Dense(2, input_dim=4)

        def call(self, x):
            return self.dense(x) * 2

    class WithForward(zoo.Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2, input_dim=4)

        def forward(self, x):
            return self.dense(x)

    x = torch.randn(3, 4)
    a, b = WithCall(), WithForward()
    assert a.name == "mine" and torch.allclose(a(x), a.dense(x) * 2)
    assert torch.allclose(b(x), b.dense(x))
    inp = zoo.Input((4,))
    assert zoo.Model(inp, a(inp))(x).shape == (3, 2)


def test_trainable_property_freezes_like_zoo_freeze():
    bn = nn.BatchNorm1d(4)
    backbone = with_trainable(nn.Sequential(nn.Linear(4, 4), bn))
    assert backbone.trainable is True
    backbone.trainable = False
    model = nn.Sequential(backbone, nn.Linear(4, 2))
    model.train()
    assert backbone.trainable is False and not bn.training
    assert not any(p.requires_grad for p in backbone.parameters())
    backbone.trainable = True
    assert all(p.requires_grad for p in backbone.parameters())
    with pytest.raises(zoo.ModelError, match="True or False"):
        backbone.trainable = "no"
    clone = pickle.loads(pickle.dumps(backbone))
    assert type(clone).__name__ == "Sequential" and clone.trainable is True
    assert copy.deepcopy(backbone).trainable is True


def test_trainable_on_models_and_summary_column():
    model = zoo.Sequential([zoo.Input((4,)), Dense(3), Dense(2)])
    model[0].requires_grad_(False)
    rows = model.summary(print_fn=None).rows
    assert [r.trainable for r in rows if r.params] == ["N", "Y"]
    model.trainable = False
    assert model.trainable is False
    assert {r.trainable for r in model.summary(print_fn=None).rows if r.params} == {"N"}


def test_metrics_per_output_as_keras_3():
    x, y = _data()
    target = x[:, :1] * 3
    inp = zoo.Input((4,))
    h = Dense(8, activation="relu")(inp)
    model = zoo.Model(inp, [Dense(2, name="cls")(h), Dense(1, name="reg")(h)])
    ce = {"name": "sparse_categorical_crossentropy", "from_logits": True}
    model.compile("adam", loss=[ce, "mse"], metrics=[["accuracy"], ["mae", "mse"]])
    history = model.fit(x, (y, target), epochs=2, verbose=0, validation_data=(x, (y, target)))
    assert list(history.history) == ["loss", "cls_accuracy", "reg_mae", "reg_mse",
                                     "val_loss", "val_cls_accuracy", "val_reg_mae", "val_reg_mse"]  # fmt: skip
    logs = model.evaluate(x, (y, target), verbose=0, return_dict=True)
    logits, value = model(x)
    assert logs["cls_accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert logs["reg_mae"] == pytest.approx((value - target).abs().mean().item(), rel=1e-5)
    # a dict by output name; None or a missing output has no metric
    named = zoo.Model(inp, {"a": Dense(2)(h), "b": Dense(1)(h)})
    named.compile("sgd", loss={"a": ce, "b": "mse"}, metrics={"a": "accuracy"})
    assert named.evaluate(x, {"a": y, "b": target}, verbose=0, return_dict=True).keys() == {"loss", "a_accuracy"}
    model.compile("sgd", loss=[ce, "mse"], metrics=[None, "mae"])
    assert model.evaluate(x, (y, target), verbose=0, return_dict=True).keys() == {"loss", "reg_mae"}
    # Keras 3's rule: a flat list must have one entry per output
    with pytest.raises(zoo.ModelError, match=r"2 outputs, so metrics given as a list need one entry per output"):
        model.compile("sgd", loss=[ce, "mse"], metrics=["accuracy"])
        model.fit(x, (y, target), verbose=0)
    with pytest.raises(zoo.ModelError, match=r"metrics name outputs \['c'\]"):
        named.compile("sgd", loss={"a": ce, "b": "mse"}, metrics={"c": "accuracy"})
        named.evaluate(x, {"a": y, "b": target}, verbose=0)
    # EarlyStopping knows an output's accuracy goes up
    stop = zoo.training.callbacks.EarlyStopping(monitor="val_cls_accuracy", patience=0)
    model.compile("sgd", loss=[ce, "mse"], metrics=[["accuracy"], None])
    model.fit(x, (y, target), epochs=1, verbose=0, validation_data=(x, (y, target)), callbacks=[stop])
    assert stop.direction == "up"


def test_a_sequential_of_unsized_layers_builds_at_its_first_fit_evaluate_and_predict():
    """Keras builds at the first fit; zoo's build step once imported from a module that had moved."""
    x, y = _data()
    model = zoo.Sequential([Dense(8, activation="relu"), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model[0].linear.weight.shape == (8, 4)
    assert model.evaluate(x, y, verbose=0) > 0
    assert zoo.Sequential([Dense(3)]).predict(x, verbose=0).shape == (64, 3)


def test_build_takes_the_batch_axis_and_the_model_keeps_its_input():
    model = zoo.Sequential([Dense(8), Dense(3)])
    with pytest.raises(zoo.ZooError, match=r"batch axis first, as Keras: build\(\(None, 16\)\)"):
        model.build((10,))
    model.build((None, 10))
    assert model[0].linear.weight.shape == (8, 10)
    assert "(None, 10)" in str(model.summary())


def test_get_layer_finds_a_sequential_layer_by_its_given_name():
    model = zoo.Sequential([zoo.Input((4,)), Dense(3, name="a"), Dense(2, name="b")])
    assert model.get_layer("b") is model[1] and model.get_layer("1") is model[1]
    with pytest.raises(zoo.ZooError, match="Did you mean b"):
        model.get_layer("bb")


def test_a_misspelled_loss_weights_key_is_refused():
    x, y = _data()
    inp = zoo.Input((4,))
    h = Dense(8, activation="relu")(inp)
    model = zoo.Model(inp, {"cls": Dense(2)(h), "reg": Dense(1)(h)})
    model.compile("adam", loss={"cls": {"name": "sparse_categorical_crossentropy", "from_logits": True}, "reg": "mse"},
                  loss_weights={"clss": 0.0, "reg": 1.0})  # fmt: skip
    with pytest.raises(zoo.ModelError, match="loss_weights names 'clss'.*Did you mean 'cls'"):
        model.fit(x, {"cls": y, "reg": torch.zeros(64, 1)}, verbose=0)


def test_count_params_get_weights_and_set_weights_as_keras():
    from zoo.layers import BatchNormalization

    model = zoo.Sequential([zoo.Input((4,)), Dense(3), BatchNormalization()])
    assert model.count_params() == 4 * 3 + 3 + 3 + 3
    weights = model.get_weights()
    assert [w.shape for w in weights] == [tuple(t.shape) for t in model.state_dict().values()]
    weights[0][:] = 1.5  # a copy: the model is unchanged until set_weights
    assert not torch.all(model.state_dict()[next(iter(model.state_dict()))] == 1.5)
    model.set_weights(weights)
    assert torch.all(next(iter(model.state_dict().values())) == 1.5)
    with pytest.raises(zoo.ModelError, match="has 6 weights .*got 1"):
        model.set_weights(weights[:1])
    with pytest.raises(zoo.ModelError, match=r"has shape \(3, 4\), got \(4, 3\)"):
        model.set_weights([weights[0].T, *weights[1:]])
    with pytest.raises(zoo.ModelError, match="count_params: .*unknown input size; build it first"):
        zoo.Sequential([Dense(2)]).count_params()


def test_on_batch_methods_train_one_step_with_the_kept_optimizer():
    x, y = _data(32)
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    model.compile({"name": "sgd", "lr": 0.5}, loss=CE, metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    loss, accuracy = model.train_on_batch(x, y)
    optimizer = model._zoo_optimizer
    logs = model.train_on_batch(x, y, return_dict=True)
    assert model._zoo_optimizer is optimizer and set(logs) == {"loss", "accuracy"}
    assert loss == pytest.approx(before[0], rel=1e-5)  # measured during the step, before the update
    assert model.test_on_batch(x, y)[0] < before[0]
    assert torch.equal(model.predict_on_batch(x), model.eval()(x).detach())
    with pytest.raises(zoo.ModelError, match="takes one batch of arrays"):
        model.train_on_batch(iter([x]), y)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "M.HDF5"])
def test_saving_under_a_keras_file_name_is_refused(tmp_path, name):
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    with pytest.raises(zoo.OptionError, match="does not write Keras' .keras/.h5 files.*'m.zip'"):
        model.save(tmp_path / name)
    with pytest.raises(zoo.OptionError, match="name it 'm.safetensors'"):
        model.save_weights(tmp_path / ("w." + name))
    assert list(tmp_path.iterdir()) == []


def test_input_takes_keras_batch_shape():
    assert tuple(zoo.Input(batch_shape=(None, 3, 8, 8)).shape) == (None, 3, 8, 8)
    model = zoo.Model(inp := zoo.Input(batch_shape=(None, 4)), Dense(2)(inp))
    assert model(torch.zeros(5, 4)).shape == (5, 2)
    with pytest.raises(zoo.ModelError, match="not both"):
        zoo.Input((4,), batch_shape=(None, 4))
    with pytest.raises(zoo.ModelError, match="needs shape="):
        zoo.Input()
    with pytest.raises(zoo.ModelError, match="batch_size must be a positive int"):
        zoo.Input((4,), batch_size=0)


def test_compile_weighted_metrics_alone_see_sample_weight() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    model = zoo.Sequential([zoo.layers.Dense(3)])
    model.compile(optimizer="sgd", loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
                  metrics=["accuracy"], weighted_metrics=["accuracy"])  # fmt: skip
    pred = model.predict(x, verbose=0).argmax(-1)
    y = torch.stack([pred[0], (pred[1] + 1) % 3, (pred[2] + 1) % 3, pred[3]])  # right on samples 0 and 3
    logs = model.evaluate(x, y, sample_weight=torch.tensor([1.0, 1.0, 1.0, 5.0]), return_dict=True, verbose=0)
    assert logs["accuracy"] == pytest.approx(0.5)  # Keras 3: metrics= are unweighted
    assert logs["weighted_accuracy"] == pytest.approx(6 / 8)  # weighted_metrics= are weighted
    history = model.fit(x, y, sample_weight=torch.ones(4), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "weighted_accuracy"}


def test_a_layer_has_keras_weight_arrays_too():
    layer = Dense(3)
    with pytest.raises(zoo.ModelError, match="get_weights: Dense has weights of unknown input size"):
        layer.get_weights()  # was AttributeError: 'Dense' object has no attribute 'get_weights'
    layer(torch.zeros(1, 4))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and layer.count_params() == 15  # torch's layout: (units, inputs)
    layer.set_weights([kernel * 0 + 2, bias * 0 - 1])
    assert torch.equal(layer(torch.ones(1, 4)), torch.full((1, 3), 7.0))
    with pytest.raises(zoo.ModelError, match=r"has shape \(3, 4\), got \(4, 3\)"):
        layer.set_weights([kernel.T, bias])
    with pytest.raises(zoo.ModelError, match="takes a list of arrays"):
        layer.set_weights(torch.zeros(3, 4))


def test_model_optimizer_is_the_compiled_one_and_can_be_given():
    x, y = _data(32)
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    assert model.optimizer is None  # not compiled: Keras' None, not an AttributeError
    model.compile({"name": "sgd", "lr": 0.5}, loss=CE)
    sgd = model.optimizer
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["lr"] == 0.5
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer is sgd  # the one fit stepped
    mine = torch.optim.Adam(model.parameters(), lr=0.01)
    model.optimizer = mine
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer is mine and mine.state  # fit used it
    with pytest.raises(zoo.ModelError, match="takes a torch.optim.Optimizer"):
        model.optimizer = "adam"


def test_save_never_replaces_a_folder_of_other_files_and_takes_keras_overwrite(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    precious = tmp_path / "results"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(zoo.ZooError, match=r"results is a folder holding other files \(thesis.tex\); saving replaces"):
        model.save(precious)  # replaced the folder whole: thesis.tex was deleted
    assert (precious / "thesis.tex").read_text() == "years of work"
    (tmp_path / "empty").mkdir()
    model.save(tmp_path / "empty")  # an empty folder is fine
    model.save(tmp_path / "m")
    model.save(tmp_path / "m")  # overwrite=True, Keras' default, replaces a saved model
    with pytest.raises(zoo.ZooError, match="already holds a saved model; pass overwrite=True"):
        model.save(tmp_path / "m", overwrite=False)
    with pytest.raises(zoo.ArgumentError, match="overwrite must be True or False"):
        model.save(tmp_path / "m2", overwrite="no")
    import zipfile

    with zipfile.ZipFile(tmp_path / "data.zip", "w") as zf:
        zf.writestr("table.csv", "a,b\n")
    with pytest.raises(zoo.ZooError, match="is a zip holding other files"):
        model.save(tmp_path / "data.zip")


def test_input_takes_keras_3s_arguments_in_its_order():
    assert zoo.Input((4,), 8).fake.shape[0] == 8  # Keras 3: Input(shape, batch_size, dtype, ...)
    assert zoo.Input((4,), sparse=False).shape == (None, 4)
    for keywords, said in [
        ({"sparse": True}, r"sparse=True.*x.to_dense\(\)"),
        ({"ragged": True}, r"ragged=True.*mask_zero=True"),
        ({"tensor": torch.zeros(2, 4)}, r"tensor=...\): zoo does not wrap"),
        ({"optional": True}, "optional=True"),
    ]:
        with pytest.raises(zoo.ModelError, match=said):
            zoo.Input((4,), **keywords)


def test_keras_namespaces_losses_metrics_callbacks_optimizers():
    x, y = _data(64)
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    model.compile(
        optimizer=zoo.optimizers.Adam(1e-2),  # Keras' positional learning_rate
        loss=zoo.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[zoo.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[zoo.callbacks.EarlyStopping(patience=5)])  # fmt: skip
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2)
    assert set(history.history) >= {"loss", "sparse_categorical_accuracy", "val_loss"}
    sgd = zoo.optimizers.SGD(model.parameters(), lr=0.1)  # torch's order works too
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["lr"] == 0.1
    with pytest.raises(zoo.ArgumentError, match="learning rate was given twice"):
        zoo.optimizers.Adam(1e-3, learning_rate=1e-2)
    assert zoo.initializers.GlorotUniform and zoo.regularizers.L2 and zoo.constraints.MaxNorm
    import importlib

    from zoo.losses import BinaryCrossentropy  # Keras' import forms work too (they were ModuleNotFoundErrors)
    from zoo.training import losses, optimizers

    assert BinaryCrossentropy is losses.BinaryCrossentropy
    assert importlib.import_module("zoo.optimizers") is optimizers and zoo.optimizers is optimizers
    assert zoo.activations.get("relu")(torch.tensor([-1.0])).item() == 0


def test_trainable_and_non_trainable_weights_as_keras_counts_them():
    from zoo.layers import BatchNormalization

    model = zoo.Sequential([zoo.Input((4,)), Dense(3), BatchNormalization()])
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2  # BN's moving stats
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    assert [tuple(w.shape) for w in model.layers[0].non_trainable_weights] == [(3, 4), (3,)]


def test_optimizer_positional_forms_and_the_small_keras_habits(tmp_path):
    params = [nn.Parameter(torch.zeros(2))]
    assert zoo.optimizers.SGD(params, 0.1).param_groups[0]["lr"] == 0.1  # torch.optim.SGD(params, 0.1)
    for args, said in [((True,), "takes the parameters or the learning rate first"),
                       ((1e-3, 0.9), "give the options after the learning rate as keywords"),
                       ((params, 0.1, 0.9), "got 1 more positional")]:  # fmt: skip
        with pytest.raises(zoo.ArgumentError, match=said):
            zoo.optimizers.Adam(*args)
    model = zoo.Sequential([zoo.Input((4,)), Dense(2)])
    model.optimizer = zoo.optimizers.Adam(1e-3)  # Keras' own optimizer object: built on the model's weights
    assert isinstance(model.optimizer, torch.optim.Adam)
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(zoo.ModelError, match="exists; pass overwrite=True"):
        model.save_weights(tmp_path / "w.safetensors", overwrite=False)
    with pytest.raises(zoo.ModelError, match="trainable_weights: .*build it first"):
        zoo.Sequential([Dense(3)]).trainable_weights  # noqa: B018 - was [<UninitializedParameter>, ...]
    assert zoo.Input((4,), optional=None).shape == (None, 4)
    model.save(tmp_path / "m")
    (tmp_path / "m" / "notes.txt").write_text("mine")
    with pytest.raises(zoo.ZooError, match=r"holding a saved model and other files \(notes.txt\)"):
        model.save(tmp_path / "m")


def _two_list_outputs():
    torch.manual_seed(0)
    inputs = zoo.Input((4,))
    hidden = Dense(8)(inputs)
    return zoo.Model(inputs, [Dense(3, name="cls")(hidden), Dense(1, name="reg")(hidden)])


def test_a_list_output_model_takes_dicts_by_output_layer_name_as_keras():
    """compile(loss={"cls": ...}), y={"cls": ...}: ModelError 'the outputs are [0, 1]' before."""
    g = torch.Generator().manual_seed(1)
    x, y1, y2 = torch.randn(32, 4, generator=g), torch.randint(0, 3, (32,), generator=g), torch.randn(32, 1, generator=g)
    weights = torch.rand(32, generator=g)
    histories = []
    for by_name in (True, False):
        model = _two_list_outputs()
        key = (lambda name, i: name) if by_name else (lambda name, i: i)  # noqa: E731
        model.compile(optimizer={"name": "sgd", "lr": 0.1}, loss={key("cls", 0): CE, key("reg", 1): "mse"},
                      loss_weights={key("cls", 0): 1.0, key("reg", 1): 0.5}, metrics={key("cls", 0): ["accuracy"]})  # fmt: skip
        y = {"cls": y1, "reg": y2} if by_name else [y1, y2]
        sw = {key("cls", 0): weights, key("reg", 1): weights}
        histories.append(model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, sample_weight=sw,
                                   validation_data=(x, y)).history)  # fmt: skip
    assert histories[0] == histories[1] and "val_cls_accuracy" in histories[0]
    model = _two_list_outputs()
    model.compile(optimizer="sgd", loss={"cls": CE})  # a loss for one output: the other needs no target
    model.fit(x, {"cls": y1}, epochs=1, verbose=0)
    with pytest.raises(zoo.ModelError, match=r"loss names outputs \['clss'\]; the outputs are 0 \('cls'\), 1 \('reg'\)"):
        model.compile(optimizer="sgd", loss={"clss": CE})
        model.fit(x, {"cls": y1}, epochs=1, verbose=0)
