"""The functional API: zoo.Input + zoo.Model record an fx graph without real compute."""

import gc

import pytest
import torch
from torch import fx, nn

import zoo
from zoo.layers import LSTM, BatchNormalization, Dense, Embedding, concatenate
from zoo.models.symbolic import recording_hook_active


def test_shapes_inferred_and_lazy_layers_materialised_without_compute():
    inp = zoo.Input((10,))
    dense = Dense(20)
    out = dense(inp)
    assert out.shape == (None, 20)
    assert dense.linear.weight.shape == (20, 10)  # real, initialised parameters
    assert not isinstance(dense.linear.weight, torch._subclasses.fake_tensor.FakeTensor)
    assert dense.linear.weight.abs().sum() > 0


def test_batchnorm_running_stats_untouched_by_recording():
    bn = BatchNormalization()
    bn(Dense(4)(zoo.Input((3,))))
    assert torch.equal(bn.bn.running_mean if hasattr(bn, "bn") else next(iter(bn.buffers())), torch.zeros(4))


def test_model_is_graph_module_running_the_calls():
    inp = zoo.Input((10,))
    d1, d2 = Dense(8, activation="relu"), Dense(3)
    model = zoo.Model(inp, d2(d1(inp)))
    assert isinstance(model, fx.GraphModule) and isinstance(model, zoo.Model)
    assert f"self.{d1.name}(" in model.code  # Keras' layer names: dense, dense_1 ... (global counter)
    x = torch.randn(4, 10)
    assert torch.allclose(model(x), d2(d1(x)))


def test_shared_layer_multiple_inputs_outputs_and_ops():
    a, b = zoo.Input((6,), name="a"), zoo.Input((6,), name="b")
    shared = Dense(4)
    ya, yb = shared(a), shared(b)
    merged = concatenate([ya, yb, a[:, :2] * 2])
    model = zoo.Model({"a": a, "b": b}, {"merged": merged, "ya": ya})
    assert len(list(model.parameters())) == 2  # one Dense, weights shared
    xa, xb = torch.randn(2, 6), torch.randn(2, 6)
    out = model(a=xa, b=xb)
    assert set(out) == {"merged", "ya"}
    expected = torch.cat([shared(xa), shared(xb), xa[:, :2] * 2], -1)
    assert torch.allclose(out["merged"], expected)
    assert model.code.count(f"self.{shared.name}(") == 2


def test_masks_travel_like_the_subclassed_layers():
    ids = torch.randint(1, 30, (3, 7))
    ids[:, :3] = 0
    emb, lstm = Embedding(30, 5, mask_zero=True), LSTM(4)
    q = zoo.Input((7,), dtype=torch.long)
    model = zoo.Model(q, lstm(emb(q))).eval()
    reference = nn.Sequential(emb, lstm).eval()
    assert torch.allclose(model(ids), reference(ids), atol=1e-6)
    unmasked = LSTM(4)
    unmasked.load_state_dict(lstm.state_dict())
    assert not torch.allclose(model(ids), unmasked(emb(ids).detach().clone()), atol=1e-4)


def test_models_nest_and_submodels_from_intermediate_tensors():
    inp = zoo.Input((5,))
    first = Dense(3)
    hidden = first(inp)
    out = Dense(2)(hidden)
    full = zoo.Model(inp, out)
    head = zoo.Model(hidden, out)  # starts at an intermediate tensor
    x = torch.randn(2, 5)
    assert torch.allclose(head(getattr(full, first.name)(x)), full(x))
    outer_in = zoo.Input((5,))
    outer = zoo.Model(outer_in, full(outer_in) + 1)
    assert torch.allclose(outer(x), full(x) + 1)


def test_any_module_and_torch_functions():
    inp = zoo.Input((3, 8, 8))
    features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())(inp)
    pooled = torch.flatten(features.mean((2, 3)), 1)
    model = zoo.Model(inp, pooled)
    assert pooled.shape == (None, 4)
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 4)


def test_errors_say_what_to_do():
    a, b = zoo.Input((4,)), zoo.Input((4,))
    out = Dense(2)(a) + Dense(2)(b)
    with pytest.raises(zoo.ModelError, match="not among inputs"):
        zoo.Model(a, out)
    with pytest.raises(zoo.ModelError, match="shape"):
        zoo.Input("ten")
    with pytest.raises(zoo.ModelError, match="not a symbolic tensor"):
        zoo.Model([a, torch.randn(2)], out)
    with pytest.raises(zoo.ModelError, match="no value"):
        bool(a)
    with pytest.raises(ValueError, match="Dense"):  # the layer's own check runs at graph-building time
        built = Dense(3, input_dim=5)
        built(a)


def test_hook_lives_only_while_symbolic_tensors_do():
    def make():
        inp = zoo.Input((4,))
        return zoo.Model(inp, Dense(2)(inp))

    model = make()
    gc.collect()
    assert not recording_hook_active()
    assert model(torch.randn(1, 4)).shape == (1, 2)


def test_compile_trace_and_export(tmp_path):
    inp = zoo.Input((6,))
    model = zoo.Model(inp, Dense(2)(Dense(4, activation="relu")(inp))).eval()
    x = torch.randn(3, 6)
    assert torch.allclose(torch.jit.trace(model, x)(x), model(x))
    result = zoo.export(model, "torch_export", tmp_path / "m.pt2")
    assert result is not None
