"""Callbacks duck-typed as in Keras 3: any object with ``on_*`` hooks works in ``zoo.fit``; a registered
callback that cannot work fails when ``zoo.get`` builds it, naming its plugin."""

from __future__ import annotations

import pytest
import torch

import zoo
import zoo.plugins


class Recorder:
    """Not a zoo.Callback: hooks, set_model and set_params only, no state of the base class."""

    def __init__(self):
        self.events = []

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, "loss" in logs))

    def on_batch_end(self, batch, logs=None):  # the Keras 2 spelling of on_train_batch_end
        self.events.append(("batch_end", batch))


class Stopper:
    """Only a hook and no setters: stops training through the model it was never given."""

    def __init__(self):
        self.calls = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.calls += 1


def _data():
    torch.manual_seed(0)
    return torch.randn(8, 2), torch.randn(8, 1)


def test_a_duck_typed_callback_gets_its_hooks_model_and_params():
    x, y = _data()
    model, rec, stop = torch.nn.Linear(2, 1), Recorder(), Stopper()
    zoo.fit(model, x, y, loss="mse", epochs=2, batch_size=4, callbacks=[rec, stop], verbose=0)
    assert rec.model is model and rec.params["epochs"] == 2 and rec.params["steps"] == 2
    assert rec.events == ["train_begin", ("batch_end", 0), ("batch_end", 1), ("epoch_end", 0, True),
                          ("batch_end", 0), ("batch_end", 1), ("epoch_end", 1, True)]  # fmt: skip
    assert stop.calls == 2
    evaluated = Recorder()
    zoo.evaluate(model, x, y, loss="mse", callbacks=[evaluated], verbose=0)  # evaluate takes them too
    assert evaluated.model is model


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        (object(), "with none"),
        (Recorder, "is a class, not a callback"),
        (type("Typo", (), {"on_epoch_ends": lambda self, epoch, logs=None: None})(), "did you mean 'on_epoch_end'"),
        (type("NoArgs", (), {"on_epoch_end": lambda self: None})(), r"cannot take the loop's arguments \(epoch, logs\)"),
        (type("NotCallable", (), {"on_train_end": 3})(), "not a method"),
    ],
)
def test_objects_that_cannot_work_are_refused_before_training(callback, message):
    x, y = _data()
    model = torch.nn.Linear(2, 1)
    before = model.weight.detach().clone()
    with pytest.raises(zoo.ArgumentError, match=message):
        zoo.fit(model, x, y, loss="mse", epochs=1, callbacks=[callback], verbose=0)
    assert torch.equal(model.weight, before)


class Broken:
    def __init__(self, every=1):
        self.every = every

    def on_epoch_end(self):  # takes no epoch, no logs
        pass


class Plugin:
    @zoo.hookimpl
    def zoo_register_callbacks(self, register):
        register("recorder", Recorder)
        register("broken", Broken)


def test_a_registered_callback_is_checked_when_built_naming_the_plugin():
    pm = zoo.plugins.create_plugin_manager(entrypoints=False)
    pm.add_plugin(Plugin(), "cbplug")
    zoo.plugins.use(pm)
    assert isinstance(zoo.get("callbacks", "recorder"), Recorder)
    with pytest.raises(zoo.ArgumentError, match="callbacks 'broken' of plugin 'cbplug'.*cannot take the loop's"):
        zoo.get("callbacks", "broken", every=2)
    x, y = _data()
    model = torch.nn.Linear(2, 1)
    history = zoo.fit(model, x, y, loss="mse", epochs=1, callbacks=["recorder"], verbose=0)
    assert history.history["loss"]
