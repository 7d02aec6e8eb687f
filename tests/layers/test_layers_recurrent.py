"""Recurrent layers: values against a hand-written cell loop, Keras return semantics, masking."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN


def _lstm_loop(rnn, x):
    """Reference LSTM (torch gate order i, f, g, o) written step by step."""
    w_ih, w_hh, b = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0
    n, h = x.shape[0], rnn.hidden_size
    hs, c, outs = torch.zeros(n, h), torch.zeros(n, h), []
    for t in range(x.shape[1]):
        i, f, g, o = (x[:, t] @ w_ih.T + hs @ w_hh.T + b).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        hs = torch.sigmoid(o) * torch.tanh(c)
        outs.append(hs)
    return torch.stack(outs, 1), hs, c


def test_lstm_matches_step_loop_and_keras_return_semantics():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 4)
    layer = LSTM(6, return_sequences=True, return_state=True)
    seq, h, c = layer(x)
    ref_seq, ref_h, ref_c = _lstm_loop(layer.rnn, x)
    assert seq.shape == (3, 5, 6) and h.shape == c.shape == (3, 6)
    torch.testing.assert_close(seq, ref_seq)
    torch.testing.assert_close(h, ref_h)
    torch.testing.assert_close(c, ref_c)
    last = LSTM(6, input_size=4)
    last.rnn.load_state_dict(layer.rnn.state_dict())
    torch.testing.assert_close(last(x), ref_h)  # default: last output only
    out, h_only = GRU(7, return_state=True)(x)
    assert out.shape == h_only.shape == (3, 7) and torch.equal(out, h_only)


def test_gru_matches_reset_after_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3)
    layer = GRU(5, return_sequences=True)
    seq = layer(x)
    r = layer.rnn
    h = torch.zeros(2, 5)
    for t in range(4):
        xr, xz, xn = (x[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0).chunk(3, -1)
        hr, hz, hn = (h @ r.weight_hh_l0.T + r.bias_hh_l0).chunk(3, -1)
        reset, update = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        h = (1 - update) * torch.tanh(xn + reset * hn) + update * h  # reset applied after the matmul
        torch.testing.assert_close(seq[:, t], h)


def test_simple_rnn_matches_formula_and_go_backwards_reverses():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3)
    layer = SimpleRNN(5, activation="relu", return_sequences=True)
    seq = layer(x)
    r = layer.rnn
    h = torch.zeros(2, 5)
    for t in range(4):
        h = torch.relu(x[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T + r.bias_hh_l0)
        torch.testing.assert_close(seq[:, t], h)
    back = SimpleRNN(5, activation="relu", return_sequences=True, go_backwards=True)
    back(x)
    back.rnn.load_state_dict(r.state_dict())
    # Keras: go_backwards processes x reversed and returns outputs in processing order.
    torch.testing.assert_close(back(x), layer(x.flip(1)))
    drop = SimpleRNN(5, activation="relu", return_sequences=True, dropout=0.5)
    drop(x)
    drop.rnn.load_state_dict(r.state_dict())
    torch.manual_seed(1)
    dropped = drop(torch.ones(2, 4, 3))
    torch.manual_seed(1)
    keep = torch.empty(2, 1, 3).bernoulli_(0.5)  # the same draw: one mask per sample for every step
    torch.testing.assert_close(dropped, layer(torch.ones(2, 4, 3) * keep / 0.5))
    torch.testing.assert_close(drop.eval()(x), layer(x))
    with pytest.raises(TypeError, match="recurrent_dropout is not supported"):
        LSTM(3, recurrent_dropout=0.2)
    with pytest.raises(ValueError, match="SimpleRNN.*activation"):
        SimpleRNN(3, activation="sigmoid")


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masked_padding_equals_unpadded(cls, padding):
    torch.manual_seed(0)
    emb = Embedding(20, 8, mask_zero=True)
    layer = cls(6, return_sequences=True, return_state=True)
    questions = [[3, 7, 2], [5, 1, 9, 4, 11], [8]]
    width = 6
    padded = torch.zeros(len(questions), width, dtype=torch.long)
    for i, q in enumerate(questions):
        if padding == "post":
            padded[i, : len(q)] = torch.tensor(q)
        else:
            padded[i, width - len(q) :] = torch.tensor(q)
    seq, *states = layer(emb(padded))
    mask = padded != 0
    assert torch.all(seq[~mask] == 0)
    for i, q in enumerate(questions):
        ref_seq, *ref_states = layer(emb(torch.tensor([q])))
        for s, r in zip(states, ref_states, strict=True):
            torch.testing.assert_close(s[i], r[0])
        torch.testing.assert_close(seq[i][mask[i]], ref_seq[0])
    # The mask passes on with return_sequences, so a stacked layer also ignores the padding.
    stacked = cls(4)
    out = stacked(seq)
    for i, q in enumerate(questions):
        torch.testing.assert_close(out[i], stacked(layer(emb(torch.tensor([q])))[0])[0])


def test_explicit_lengths_and_fully_padded_sample():
    torch.manual_seed(0)
    layer = LSTM(3, return_state=True)
    x = torch.randn(2, 4, 2)
    out, h, c = layer(x, lengths=torch.tensor([2, 0]))
    torch.testing.assert_close(out[0], layer(x[:1, :2])[0][0])
    assert torch.all(h[1] == 0) and torch.all(c[1] == 0)


def test_bidirectional_merge_modes_and_masking():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3)
    bi = Bidirectional(LSTM(4, return_sequences=True))
    y = bi(x)
    assert y.shape == (2, 5, 8)
    fw = bi.forward_layer(x)
    bw = bi.backward_layer.run(x.flip(1), None, None, reverse=False)[0].flip(1)
    torch.testing.assert_close(y, torch.cat([fw, bw], -1))
    assert Bidirectional(GRU(4), merge_mode="sum")(x).shape == (2, 4)
    out = Bidirectional(LSTM(4, return_state=True))(x)
    assert len(out) == 5 and out[0].shape == (2, 8)
    # masked backward direction starts at each sample's last valid step
    bi2 = Bidirectional(GRU(4))
    full = bi2(x[:1, :3])
    padded = torch.cat([torch.zeros(1, 2, 3), x[:1, :3]], 1)
    torch.testing.assert_close(
        bi2(padded, lengths=None, mask=torch.tensor([[False, False, True, True, True]])), full
    )
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(2), merge_mode="max")


def test_lazy_input_size_optimizer_after_dry_run_and_rank_errors():
    torch.manual_seed(0)
    model = torch.nn.Sequential(LSTM(4), Dense(2))
    model(torch.randn(2, 3, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    model(torch.randn(2, 3, 5)).sum().backward()
    opt.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert model[0].rnn.weight_ih_l0.shape == (16, 5)
    fresh = torch.nn.Sequential(LSTM(4), Dense(2))
    fresh.load_state_dict(model.state_dict())  # materialises the lazy weights from the file's shapes
    x = torch.randn(2, 3, 5)
    torch.testing.assert_close(fresh(x), model(x))
    moved = LSTM(3).to(torch.float64)  # .to() before the first call moves the placeholder too
    assert moved(torch.randn(2, 4, 5, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ValueError, match=r"LSTM expects a 3-D input.*\(2, 5\)"):
        model[0](torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"LSTM\(4\) was built for 5 features.*\(2, 3, 6\)"):
        model[0](torch.randn(2, 3, 6))


@pytest.mark.parametrize("lazy", [False, True])
def test_lstm_unit_forget_bias_and_keras_single_bias(lazy):
    def build(**kw):
        layer = LSTM(3, **({} if lazy else {"input_dim": 2}), **kw)
        layer(torch.randn(1, 4, 2))  # a lazy one materialises here: its biases must survive that
        return layer.rnn

    rnn = build()  # Keras' default: unit_forget_bias=True, bias zeros
    assert rnn.bias_ih_l0.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6  # gates i, f, c, o
    assert not rnn.bias_hh_l0.any()
    assert not build(unit_forget_bias=False).bias_ih_l0.any()
    ones = build(unit_forget_bias=False, bias_initializer="ones")  # Keras has one bias: ih + hh is it
    assert (ones.bias_ih_l0 + ones.bias_hh_l0).tolist() == [1.0] * 12
    recurrent = rnn.weight_hh_l0  # Keras' orthogonal recurrent kernel, kept through materialisation
    torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(3), atol=1e-5, rtol=0)
    assert LSTM(3, unit_forget_bias=False).get_config() == {"units": 3, "unit_forget_bias": False}
    with pytest.raises(zoo.ArgumentError, match="unit_forget_bias must be True or False"):
        LSTM(3, unit_forget_bias="yes")


def test_gru_keeps_both_biases_of_keras_reset_after():
    rnn = GRU(3, input_dim=2, bias_initializer="ones").rnn
    assert rnn.bias_ih_l0.tolist() == [1.0] * 9 and rnn.bias_hh_l0.tolist() == [1.0] * 9


def test_a_masked_run_scatters_outputs_back_only_when_they_are_returned(monkeypatch):
    from zoo.layers import recurrent

    monkeypatch.setattr(recurrent, "_PADDED_MIN_VALID", 2.0)  # the packed path, whatever the share of valid steps
    calls = []
    real = recurrent._PackedLayout.unpack
    monkeypatch.setattr(recurrent._PackedLayout, "unpack", lambda self, *a: calls.append(1) or real(self, *a))
    x, mask = torch.randn(3, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]).bool()
    last = recurrent.LSTM(6, input_size=4)
    both = recurrent.Bidirectional(recurrent.GRU(6, input_size=4))
    assert last(x, mask=mask).shape == (3, 6) and both(x, mask=mask).shape == (3, 12) and calls == []
    full = recurrent.LSTM(6, input_size=4, return_sequences=True)
    full.load_state_dict(last.state_dict())
    seq = full(x, mask=mask)
    assert calls == [1] and torch.equal(seq[0, 3:], torch.zeros(2, 6))
    torch.testing.assert_close(seq[1, -1], last(x, mask=mask)[1])  # the last valid step's output is the state


def _masked_run(layer, x, mask, h0):
    """Output, final states and the gradients of their sum w.r.t. x, h0 and the layer's weights."""
    x, h0 = x.clone().requires_grad_(), [s.clone().requires_grad_() for s in h0]
    result = layer(x, mask=mask, initial_state=h0 if len(h0) > 1 else h0[0])
    results = result if isinstance(result, tuple) else (result,)
    sum(r.sum() for r in results).backward()
    grads = [x.grad, *(s.grad for s in h0), *(p.grad.clone() for p in layer.parameters())]
    layer.zero_grad()
    return results, grads


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_padded_and_packed_masked_runs_agree_with_the_step_loop(monkeypatch, cls, go_backwards, return_sequences):
    """The CPU's padded fused run (most steps valid) gives the packed path's and the step loop's numbers,
    outputs and gradients, with padding in front, between and behind, and a fully padded sample."""
    from zoo.layers import _tracing, recurrent

    torch.manual_seed(0)
    layer = cls(5, input_size=3, return_sequences=return_sequences, go_backwards=go_backwards)
    x = torch.randn(4, 6, 3)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]]).bool()
    h0 = [torch.randn(4, 5) for _ in range(layer._n_states)]
    taken = []
    real = recurrent._Recurrent._run_padded
    monkeypatch.setattr(recurrent._Recurrent, "_run_padded", lambda self, *a: taken.append(1) or real(self, *a))
    padded = _masked_run(layer, x, mask, h0)
    assert taken == [1]  # 14 of 24 steps valid: over _PADDED_MIN_VALID
    monkeypatch.setattr(recurrent, "_PADDED_MIN_VALID", 2.0)
    packed = _masked_run(layer, x, mask, h0)
    monkeypatch.setattr(_tracing, "is_tracing", lambda: True)
    monkeypatch.setattr(recurrent, "is_tracing", lambda: True)
    stepwise = _masked_run(layer, x, mask, h0)
    assert taken == [1]
    for other in (packed, stepwise):
        for a, b in zip(padded[0] + tuple(padded[1]), other[0] + tuple(other[1]), strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert torch.equal(padded[0][0][3], (h0[0][3] if not return_sequences else torch.zeros(6, 5)))


def test_the_masked_run_takes_the_padded_kernel_only_where_it_pays(monkeypatch):
    from zoo.layers import recurrent

    taken = []
    real = recurrent._Recurrent._run_padded
    monkeypatch.setattr(recurrent._Recurrent, "_run_padded", lambda self, *a: taken.append(1) or real(self, *a))
    x = torch.randn(4, 10, 3)
    mostly = torch.arange(10)[None] < torch.tensor([10, 9, 8, 6])[:, None]  # 33 of 40 valid
    few = torch.arange(10)[None] < torch.tensor([10, 1, 1, 1])[:, None]  # 13 of 40 valid
    LSTM(5, input_size=3)(x, mask=mostly)
    GRU(5, input_size=3, return_state=True)(x, mask=mostly)  # a GRU's one state is its output
    assert taken == [1, 1]
    LSTM(5, input_size=3)(x, mask=few)
    LSTM(5, input_size=3, return_state=True)(x, mask=mostly)  # the final cell state is not among the outputs
    with torch.no_grad():  # inference: packed
        LSTM(5, input_size=3)(x, mask=mostly)
    assert taken == [1, 1]


def _kernels(run) -> set[str]:
    from torch.profiler import profile

    with profile() as prof:
        run()
    return {e.name for e in prof.events()}


def test_a_wide_input_trains_by_the_native_kernel_and_the_onednn_flag_comes_back():
    torch.manual_seed(0)
    wide, narrow = LSTM(4, input_size=16), LSTM(4, input_size=8)
    x = torch.randn(2, 3, 16)
    onednn = "aten::mkldnn_rnn_layer"
    if onednn not in _kernels(lambda: narrow(x[..., :8])):
        pytest.skip("this torch build runs no LSTM by oneDNN")
    assert onednn not in _kernels(lambda: wide(x).sum().backward())  # 16 features >= 4 per unit: native
    assert onednn in _kernels(lambda: narrow(x[..., :8]).sum().backward())
    assert torch.backends.mkldnn.enabled
    with torch.no_grad():
        assert onednn in _kernels(lambda: wide(x))  # inference stays oneDNN's
        expected = wide(x)
    torch.testing.assert_close(wide(x), expected)  # the two kernels agree


@pytest.mark.parametrize("return_sequences", [False, True])
def test_nan_at_padded_steps_stays_out_of_outputs_and_gradients(return_sequences):
    """Padding marked by NaN: the padded training run must not let it reach anything (0 * NaN is NaN)."""
    torch.manual_seed(0)
    layer = LSTM(4, input_size=3, return_sequences=return_sequences)
    x = torch.randn(3, 6, 3)
    mask = torch.tensor([[0, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0], [1, 1, 1, 1, 0, 0]]).bool()
    x[~mask] = float("nan")
    x.requires_grad_()
    out = layer(x, mask=mask)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad[mask]).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


def test_wrong_lengths_and_masks_are_data_errors():
    layer, x = LSTM(4, input_size=3), torch.randn(2, 5, 3)
    for lengths, message in (([6, 2], r"lengths must lie in 0..5 .*\[6\] among them"),
                             ([-1, 2], r"lengths must lie in 0..5 .*\[-1\]"),
                             ([2.5, 2], "whole numbers of steps"), ([2], "one length per sample")):  # fmt: skip
        with pytest.raises(zoo.DataError, match=message):
            layer(x, lengths=lengths)
    with pytest.raises(zoo.DataError, match=r"mask shape \(2, 4\) does not match"):
        layer(x, mask=torch.ones(2, 4, dtype=torch.bool))
    assert layer(x, lengths=[5, 0]).shape == (2, 4)  # the bounds themselves are fine
