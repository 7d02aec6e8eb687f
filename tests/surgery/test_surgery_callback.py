"""The dynamic_network_surgery callback inside zoo.fit: any model, iteration counting, freezing, resuming."""

import pytest
import torch
from torch import nn
from zoo_surgery import bake, report
from zoo_surgery.callback import DynamicNetworkSurgery
from zoo_surgery.layers import MaskedConv2d, masked_layers
from zoo_surgery.models import lenet_300_100

import zoo
from zoo.training import Callback

LOSS = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def _fit(model, x, y, callbacks, **options):
    """zoo.fit with this file's defaults (plain SGD, one epoch of batches of 16, quiet)."""
    return zoo.fit(model, x, y, **{"optimizer": "sgd", "loss": LOSS, "epochs": 1, "batch_size": 16, "verbose": 0,
                                   "callbacks": callbacks, **options})  # fmt: skip


def _data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=g)
    y = (x.flatten(1)[:, :10].argmax(1)).long()  # learnable labels
    return x, y


class _Recorder(Callback):
    """Snapshots masks and weights after every training batch (runs after the surgery callback)."""

    def __init__(self):
        super().__init__()
        self.masks, self.weights, self.start = [], [], None

    def on_train_begin(self, logs=None):
        self.start = {n: m.weight.detach().clone() for n, m in masked_layers(self.model)}
        self.start_bias = {n: m.bias.detach().clone() for n, m in masked_layers(self.model)}

    def on_train_batch_end(self, batch, logs=None):
        self.masks.append({n: m.weight_mask.clone() for n, m in masked_layers(self.model)})
        self.weights.append({n: m.weight.detach().clone() for n, m in masked_layers(self.model)})


def test_callback_works_on_a_conv_net_from_zoo_load():
    torch.manual_seed(0)
    model = zoo.load("mobilenet_v3_small", weights=None, num_classes=4)
    x = torch.randn(8, 3, 32, 32)
    y = torch.randint(0, 4, (8,))
    callback = zoo.get("callbacks", "dynamic_network_surgery", c_rate=0.0, gamma=0.0, iter_stop=10)
    assert isinstance(callback, DynamicNetworkSurgery)
    history = _fit(model, x, y, [callback], batch_size=4)
    layers = dict(masked_layers(model))
    assert any(isinstance(m, MaskedConv2d) and m.groups > 1 for m in layers.values())  # depthwise too
    assert len(layers) == sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    assert callback.iteration == 2
    # theta = mu at c_rate 0: roughly half of every layer is cut.
    kept = history.history["surgery_kept"][-1]
    assert 0.2 < kept < 0.8
    rep = report(model)
    assert rep.compression == pytest.approx(rep.params / rep.nonzero) and rep.compression > 1.2
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(bake(model)(x), model(x))


def test_callback_by_name_in_fit_and_already_masked_model():
    torch.manual_seed(0)
    model = lenet_300_100(input_shape=(1, 8, 8), masked=True)
    x, y = _data()
    history = _fit(model, x, y, [{"name": "dynamic_network_surgery", "c_rate": 0.5, "iter_stop": 100}], epochs=2)
    assert len(history.history["surgery_kept"]) == 2
    assert model.fc1.weight_mask.mean() < 1  # the model's own masks were used, not new layers
    assert [n for n, _ in masked_layers(model)] == ["fc1", "fc2", "fc3"]


def test_iterations_thresholds_straight_through_and_freezing_inside_fit():
    torch.manual_seed(0)
    model = lenet_300_100(input_shape=(1, 8, 8))
    x, y = _data()
    surgery = DynamicNetworkSurgery(c_rate=0.5, gamma=0.0, iter_stop=6, layers={"fc3": None}, seed=1)
    recorder = _Recorder()
    opt = {"name": "sgd", "learning_rate": 0.5, "momentum": 0.9}
    _fit(model, x, y, [surgery, recorder], optimizer=opt, epochs=4)
    assert surgery.iteration == 12  # 3 batches x 4 epochs, counted across epochs
    assert [s.name for s in surgery.surgery.layers] == ["fc1", "fc2"]
    # The threshold comes from the weights fit started with (the "trained" ones), once.
    w, b = recorder.start["fc1"], recorder.start_bias["fc1"]
    values = torch.cat([w.flatten(), b.flatten()]).abs().double()
    theta = values.mean() + 0.5 * values.std(correction=0)
    assert surgery.surgery.layers[0].theta == pytest.approx(theta.item())
    # Before iter_stop (gamma 0: every batch) the mask used by batch it is set from the weights left by
    # batch it-1: cut at <= 0.9 theta, restored above 1.1 theta, unchanged in between.
    t = surgery.surgery.layers[0].theta
    for it in range(1, 6):
        before, previous = recorder.weights[it - 1]["fc1"].abs(), recorder.masks[it - 1]["fc1"]
        expected = torch.where(before <= 0.9 * t, 0.0, torch.where(before > 1.1 * t, 1.0, previous))
        assert torch.equal(recorder.masks[it]["fc1"], expected)
    assert not torch.equal(recorder.masks[0]["fc1"], recorder.masks[5]["fc1"])  # masks moved
    # ... after it they are frozen, while training continues and moves the pruned weights.
    for it in range(6, 12):
        assert torch.equal(recorder.masks[it]["fc1"], recorder.masks[5]["fc1"])
    pruned = recorder.masks[5]["fc1"] == 0
    assert not torch.equal(recorder.weights[11]["fc1"][pruned], recorder.weights[5]["fc1"][pruned])
    assert model.fc3.weight_mask.all()  # excluded layer untouched
    # A second fit keeps counting and keeps the threshold.
    _fit(model, x, y, [surgery])
    assert surgery.iteration == 15 and surgery.surgery.layers[0].theta == pytest.approx(theta.item())


def test_convert_false_needs_masked_layers():
    model = lenet_300_100(input_shape=(1, 8, 8))
    x, y = _data(16)
    with pytest.raises(ValueError, match="convert=False"):
        _fit(model, x, y, [DynamicNetworkSurgery(convert=False)])


def test_callback_state_resumes():
    torch.manual_seed(0)
    model = lenet_300_100(input_shape=(1, 8, 8), masked=True)
    x, y = _data()
    first = DynamicNetworkSurgery(c_rate=0.5, gamma=0.01, seed=3)
    _fit(model, x, y, [first])
    state = first.state_dict()
    second = DynamicNetworkSurgery(c_rate=0.5, gamma=0.01, seed=99)
    second.load_state_dict(state)
    _fit(model, x, y, [second])
    assert second.iteration == 6
    assert second.surgery.layers[0].theta == first.surgery.layers[0].theta
    # The resumed run drew what the first callback would have drawn next.
    _fit(model, x, y, [first])
    assert first.surgery.generator.get_state().equal(second.surgery.generator.get_state())


def test_surgery_on_digits_compresses_and_keeps_accuracy():
    """A short real run: LeNet-300-100 on sklearn digits, dense then surgery."""
    torch.manual_seed(0)
    (x, y), (xt, yt) = zoo.datasets.load("digits")
    x, xt = x.float() / 16, xt.float() / 16
    model = lenet_300_100(input_shape=(1, 8, 8))
    opt = {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
           "decoupled_weight_decay": False}  # fmt: skip
    zoo.fit(model, x, y, optimizer=opt, loss=LOSS, epochs=12, batch_size=64, verbose=0)
    dense_acc = zoo.evaluate(model, xt, yt, loss=LOSS, metrics=["accuracy"], verbose=0)["accuracy"]
    surgery = DynamicNetworkSurgery(c_rate=2.0, gamma=1e-3, iter_stop=250, seed=0)
    zoo.fit(model, x, y, optimizer=opt, loss=LOSS, epochs=20, batch_size=64, verbose=0, callbacks=[surgery])
    acc = zoo.evaluate(model, xt, yt, loss=LOSS, metrics=["accuracy"], verbose=0)["accuracy"]
    rep = report(model)
    assert dense_acc > 0.93
    assert rep.compression > 10
    assert acc > dense_acc - 0.04
    assert surgery.surgery.splice_events > 0


def test_resume_from_a_full_model_checkpoint(tmp_path):
    from zoo.training.callbacks import ModelCheckpoint

    torch.manual_seed(0)
    x, y = _data()
    path = tmp_path / "ckpt.pt"
    model = lenet_300_100(input_shape=(1, 8, 8))
    first = DynamicNetworkSurgery(c_rate=0.5, gamma=0.05, seed=3)
    _fit(model, x, y, [first, ModelCheckpoint(path, monitor="loss")])
    state = torch.load(path, weights_only=True)  # the callback state is plain, weights_only-loadable data
    assert state["callbacks"]["DynamicNetworkSurgery.0"]["iteration"] == 3
    assert torch.equal(state["model"]["fc1.weight_mask"], model.fc1.weight_mask)  # the masks travel too
    # Resume: the model is built with masked layers so the checkpoint's mask entries load into it.
    resumed_model = lenet_300_100(input_shape=(1, 8, 8), masked=True)
    second = DynamicNetworkSurgery(c_rate=0.5, gamma=0.05, seed=99)
    _fit(resumed_model, x, y, [second], epochs=2, resume_from=path)
    assert second.iteration == 6
    assert second.surgery.layers[0].theta == first.surgery.layers[0].theta
    # Continuing the original run gives the same draws as the resumed one.
    _fit(model, x, y, [first])
    assert first.surgery.generator.get_state().equal(second.surgery.generator.get_state())
