"""model.save / zoo.load_model give back what was saved: the same classes (a namesake of a zoo layer is not
zoo's layer), the same names, the same frozen state, or a zoo error that says what to do."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import SavedModelError
from zoo.layers import BatchNormalization, Dense


class Scale(zoo.layers.Layer):
    """A layer of the user's own, saved by its get_config() (inherited from zoo.layers.Layer)."""

    def __init__(self, factor: float = 2.0) -> None:
        super().__init__()
        self.factor = factor
        self.offset = nn.Parameter(torch.randn(3))

    def forward(self, x):
        return x * self.factor + self.offset


def _config(path):
    return json.loads((path / "config.json").read_text())["model"]


def test_layer_is_exported_as_the_base_of_zoo_layers():
    assert "Layer" in zoo.layers.__all__
    assert issubclass(Dense, zoo.layers.Layer)


def test_a_subclass_named_like_a_zoo_layer_is_not_loaded_as_zoo_s(tmp_path):
    class Dense(zoo.layers.Dense):  # noqa: N801 - the user's namesake is the point
        def forward(self, t):
            return super().forward(t) * 100

    model = zoo.Sequential([zoo.Input((4,)), Dense(3)]).eval()
    model.save(tmp_path / "d")
    assert _config(tmp_path / "d")["layers"][0]["custom"].endswith("Dense")
    with pytest.raises(SavedModelError, match=r"class of your own.*custom_objects=\{'Dense': Dense\}"):
        zoo.load_model(tmp_path / "d")
    loaded = zoo.load_model(tmp_path / "d", custom_objects={"Dense": Dense})
    x = torch.randn(2, 4)
    assert type(loaded[0]) is Dense and torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_custom_layer_round_trips_with_custom_objects(tmp_path, kind):
    if kind == "sequential":
        model = zoo.Sequential([zoo.Input((4,)), Dense(3), Scale(factor=3.0)]).eval()
    else:
        x = zoo.Input((4,))
        model = zoo.Model(x, Scale(0.5)(Dense(3)(x))).eval()
    model.save(tmp_path / "m")
    with pytest.raises(SavedModelError, match="custom_objects"):
        zoo.load_model(tmp_path / "m")
    loaded = zoo.load(tmp_path / "m", custom_objects={"Scale": Scale})  # zoo.load(DIR) takes it too
    x = torch.randn(5, 4)
    assert torch.equal(loaded(x), model(x))
    assert [type(m).__name__ for m in loaded.children()] == ["Dense", "Scale"]


class Shift(nn.Module):
    """Not a zoo layer: a torch module whose get_config() returns its constructor arguments."""

    def __init__(self, by: float) -> None:
        super().__init__()
        self.by = by

    def get_config(self):
        return {"by": self.by}

    def forward(self, x):
        return x + self.by


def test_a_torch_module_with_get_config_is_a_custom_layer_too(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), Shift(1.5), Dense(2)]).eval()
    model.save(tmp_path / "m")
    loaded = zoo.load_model(tmp_path / "m", custom_objects={"Shift": Shift})
    x = torch.randn(3, 4)
    assert loaded[0].by == 1.5 and torch.equal(loaded(x), model(x))


def test_custom_objects_that_cannot_be_used_are_refused(tmp_path):
    zoo.Sequential([zoo.Input((3,)), Scale()]).save(tmp_path / "m")
    with pytest.raises(zoo.ArgumentError, match="dict of layer classes"):
        zoo.load_model(tmp_path / "m", custom_objects=[Scale])
    with pytest.raises(zoo.ArgumentError, match=r"not a layer class.*model\.compile"):
        zoo.load_model(tmp_path / "m", custom_objects={"Scale": Scale, "my_loss": lambda y, p: (y - p).sum()})

    class Other(nn.Module):  # takes none of Scale's saved arguments
        def __init__(self) -> None:
            super().__init__()

    with pytest.raises(SavedModelError, match=r"could not be rebuilt.*get_config\(\) must return"):
        zoo.load_model(tmp_path / "m", custom_objects={"Scale": Other})


def test_a_module_without_get_config_still_saves_weights_only(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), nn.Linear(4, 2)])
    with pytest.warns(UserWarning, match="only the weights.*subclass zoo.layers.Layer"):
        model.save(tmp_path / "w")
    with pytest.raises(zoo.ModelError, match="load_weights"):
        zoo.load_model(tmp_path / "w")


def test_names_round_trip_in_both_model_kinds(tmp_path):
    seq = zoo.Sequential([zoo.Input((4,)), Dense(3, name="a"), Dense(2)]).eval()
    seq.save(tmp_path / "s")
    loaded = zoo.load_model(tmp_path / "s")
    assert [m.name for m in loaded] == [m.name for m in seq]  # given and generated names alike
    assert loaded.get_layer("a") is loaded[0]

    x = zoo.Input((4,), name="features")
    out = Dense(2, name="head")(Dense(3, name="hidden")(x))
    fn = zoo.Model(x, out).eval()
    fn.save(tmp_path / "f")
    loaded = zoo.load_model(tmp_path / "f")
    assert loaded.get_layer("head").name == "head" and loaded.input_names == ["features"]
    data = torch.randn(2, 4)
    assert torch.equal(loaded(data), fn(data))


def _grads(model):
    return {name: p.requires_grad for name, p in model.named_parameters()}


def test_a_frozen_layer_stays_frozen_and_an_unfrozen_one_trainable(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), Dense(3), Dense(2, trainable=False)])
    model[0].trainable = False
    model[1].trainable = True  # undoes the constructor's trainable=False
    model.save(tmp_path / "t")
    loaded = zoo.load_model(tmp_path / "t")
    assert _grads(loaded) == _grads(model)
    assert (loaded[0].trainable, loaded[1].trainable) == (False, True)


def test_a_frozen_whole_model_stays_frozen(tmp_path):
    x = zoo.Input((4,))
    model = zoo.freeze(zoo.Model(x, Dense(2)(Dense(3)(x))))
    model.save(tmp_path / "f")
    loaded = zoo.load_model(tmp_path / "f")
    assert loaded.trainable is False and not any(_grads(loaded).values())
    loaded.train()
    assert not loaded.training  # pinned in eval, as zoo.freeze pins it


def test_frozen_batchnorm_stays_in_eval_mode_after_train(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), Dense(3), BatchNormalization()])
    model.train()
    model(torch.randn(16, 4))  # running statistics that are not the initial ones
    zoo.freeze(model[1])
    model.save(tmp_path / "bn")
    loaded = zoo.load_model(tmp_path / "bn").train()
    assert loaded[0].training and not loaded[1].training
    assert _grads(loaded) == _grads(model)
    x = torch.randn(8, 4)
    assert torch.allclose(loaded(x), model.train()(x))  # running statistics, not the batch's


@pytest.mark.parametrize("name", ["u", "u.zip"])
def test_saving_an_unbuilt_model_says_how_to_build_it_and_writes_nothing(tmp_path, name):
    model = zoo.Sequential([Dense(3)])
    with pytest.raises(zoo.ModelError, match=r"lazy layers not built yet.*model\.build\(\(None, 4\)\).*zoo\.Input"):
        model.save(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_load_model_refuses_keras_keywords_it_cannot_honour(tmp_path):
    model = zoo.Sequential([zoo.Input((4,)), zoo.layers.Dense(3)])
    model.save(tmp_path / "m")
    assert isinstance(zoo.load_model(tmp_path / "m", compile=False), zoo.Sequential)
    with pytest.raises(zoo.ArgumentError, match=r"compile=True.*zoo saves no compile settings"):
        zoo.load_model(tmp_path / "m", compile=True)
    with pytest.raises(zoo.ArgumentError, match=r"safe_mode=False.*hold no code"):
        zoo.load_model(tmp_path / "m", safe_mode=False)
    assert issubclass(zoo.SavedModelError, zoo.ModelError)
