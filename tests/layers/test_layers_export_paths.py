"""The trace-friendly paths layers take while exported: same results as eager, and traceable for real.

Recurrent layers pack masked batches eagerly; torch.export, ONNX and torch.jit.trace cannot follow packing,
so there they run step by step. These tests force that path (by patching the layers' ``is_tracing``) and
compare it with the packed one on padded batches, then trace real models with torch.export and torch.jit.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from zoo.layers import GRU, LSTM, Bidirectional, Concatenate, Embedding, SimpleRNN
from zoo.layers import recurrent as recurrent_module


def _mask(n: int, t: int, padding: str, generator: torch.Generator) -> torch.Tensor:
    """Random lengths 0..t (one sample fully padded, one unpadded), padded at the front, back or between."""
    lengths = torch.randint(1, t, (n,), generator=generator)
    lengths[0], lengths[1] = 0, t
    steps = torch.arange(t)
    if padding == "post":
        return steps[None] < lengths[:, None]
    if padding == "pre":
        return steps[None] >= (t - lengths)[:, None]
    holes = torch.rand(n, t, generator=generator) < 0.6  # padding anywhere
    holes[0], holes[1] = False, True
    return holes


def _both_paths(layer: nn.Module, monkeypatch: pytest.MonkeyPatch, *args, **kwargs):
    """(packed eager result, step-by-step trace-path result) of one call; the second must not pack."""
    packed = layer(*args, **kwargs)

    def no_packing(*args, **kwargs):
        raise AssertionError("the trace path packed the sequence (its lengths would be baked into a trace)")

    with monkeypatch.context() as patch:
        patch.setattr(recurrent_module, "is_tracing", lambda: True)
        patch.setattr(recurrent_module._PackedLayout, "of", no_packing)
        stepwise = layer(*args, **kwargs)
    return packed, stepwise


def _assert_same(a, b) -> None:
    a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(y, x, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("padding", ["pre", "post", "holes"])
@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize(
    ("return_sequences", "return_state", "go_backwards"),
    [(False, False, False), (True, True, False), (False, True, True), (True, False, True)],
)
def test_trace_path_equals_packed_path(
    monkeypatch, cls, padding, return_sequences, return_state, go_backwards
):
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x, mask = torch.randn(6, 5, 3, generator=g), _mask(6, 5, padding, g)
    layer = cls(4, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
    layer(x)  # materialise the lazy input weight
    packed, stepwise = _both_paths(layer, monkeypatch, x, mask=mask)
    _assert_same(packed, stepwise)
    if return_sequences:  # padded steps are zeros, the (processing-order) mask travels on
        seq = stepwise[0] if return_state else stepwise
        expected_mask = mask.flip(1) if go_backwards else mask
        assert torch.equal(seq._zoo_mask, expected_mask)
        assert not seq[~expected_mask].any()
    states = stepwise[1:] if return_state else ()
    for s in states:  # the fully padded sample keeps the (zero) initial state
        assert not s[0].any()


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_trace_path_equals_packed_path_with_initial_state(monkeypatch, padding):
    g = torch.Generator().manual_seed(1)
    x, mask = torch.randn(5, 6, 3, generator=g), _mask(5, 6, padding, g)
    h0, c0 = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    layer = LSTM(4, return_sequences=True, return_state=True, input_size=3)
    packed, stepwise = _both_paths(layer, monkeypatch, x, mask=mask, initial_state=[h0, c0])
    _assert_same(packed, stepwise)
    torch.testing.assert_close(stepwise[1][0], h0[0])  # fully padded: the state given, untouched
    torch.testing.assert_close(stepwise[2][0], c0[0])


@pytest.mark.parametrize("padding", ["pre", "post", "holes"])
@pytest.mark.parametrize(
    ("merge_mode", "return_sequences"), [("concat", True), ("sum", False), (None, False)]
)
def test_bidirectional_trace_path_equals_packed_path(monkeypatch, padding, merge_mode, return_sequences):
    g = torch.Generator().manual_seed(2)
    x, mask = torch.randn(6, 5, 3, generator=g), _mask(6, 5, padding, g)
    layer = Bidirectional(
        LSTM(4, return_sequences=return_sequences, return_state=True, input_size=3), merge_mode=merge_mode
    )
    packed, stepwise = _both_paths(layer, monkeypatch, x, mask=mask)
    _assert_same(packed, stepwise)


class _Question(nn.Module):
    """Embedding(mask_zero=True) -> LSTM with states, then Concatenate: the masked text half of video QA."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = Embedding(12, 5, mask_zero=True)
        self.lstm = LSTM(4, return_state=True, input_size=5)
        self.backwards = Bidirectional(GRU(3, input_size=5), merge_mode="ave")
        self.concatenate = Concatenate()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(ids)
        out, h, c = self.lstm(embedded)
        return self.concatenate(out, c, self.backwards(embedded))


def _padded_ids(n: int, t: int, padding: str, generator: torch.Generator) -> torch.Tensor:
    mask = _mask(n, t, padding, generator)
    return torch.randint(1, 12, (n, t), generator=generator) * mask


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masked_model_traces_with_torch_export_and_jit(padding):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    model = _Question().eval()
    example = _padded_ids(4, 6, padding, g)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},), strict=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated
        traced = torch.jit.trace(model, (example,), check_trace=False)
    for n in (1, 7):  # batch sizes other than the traced one, other padding than the example's
        ids = _padded_ids(n, 6, padding, g) if n > 1 else torch.tensor([[0, 0, 3, 0, 4, 0]])
        with torch.no_grad():
            expected = model(ids)
            torch.testing.assert_close(program.module()(ids), expected, atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(traced(ids), expected, atol=1e-6, rtol=1e-5)


def test_eager_checks_still_raise():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 12\)"):
        Embedding(12, 5)(torch.tensor([[1, 12]]))
    with pytest.raises(ValueError, match="must match on every axis except -1"):
        Concatenate()(torch.zeros(2, 3), torch.zeros(3, 3))
