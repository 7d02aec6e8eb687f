"""Keras recurrent layers (SimpleRNN, GRU, LSTM, Bidirectional) on torch's fused RNN kernels.

Inputs are batch-first ``(N, T, F)`` as in Keras. A mask (``mask=``, ``lengths=`` or the one an
``Embedding(mask_zero=True)`` attached) may mark padding anywhere (Keras' ``pad_sequences`` pads at the
front by default): the valid steps of each sample are gathered to the front, run as a
``PackedSequence`` through cuDNN/the fused kernel, and scattered back, so a padded sample gives exactly the
result of the unpadded one (in training on the CPU, where most steps are valid, the gathered batch runs
padded through the fused kernel instead and each sample's output is read at its last valid step: same
numbers, faster there). The final state is the state after the last valid step; with
``return_sequences=True`` the outputs at padded steps are zeros and the mask is passed on. While traced for
export (torch.export, ONNX, torch.jit.trace), which cannot follow packing, a masked run goes step by step
instead, keeping the state over padded steps: same result, no data-dependent shapes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter
from torch.nn.utils.rnn import PackedSequence

from zoo.errors import ArgumentError, DataError, OptionError
from zoo.layers._base import check_rank, float_input, resolve_mask, with_mask
from zoo.layers._keras import Layer, Weight
from zoo.layers._tracing import is_tracing

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _lazy_rnn(torch_cls: type[nn.RNNBase], units: int, input_size: int | None, **kwargs: Any) -> nn.RNNBase:
    """A batch-first single-layer torch RNN; without ``input_size`` its input weight is inferred lazily.

    Without a bias torch has no ``bias_ih_l0``/``bias_hh_l0`` attributes at all; they are registered as
    absent (``None``, as ``nn.Linear(bias=False)`` does) so that code reading the Keras ``bias`` weight
    (initializers, regularizers, constraints) finds "no bias" instead of an AttributeError."""
    rnn = torch_cls(input_size, units, batch_first=True, **kwargs) if input_size else _LAZY[torch_cls](units, **kwargs)
    if not rnn.bias:
        for name in ("bias_ih_l0", "bias_hh_l0"):
            rnn.register_parameter(name, None)
    return rnn


class _LazyRNNMixin(LazyModuleMixin):
    """nn.LSTM/GRU/RNN with ``weight_ih_l0`` left uninitialised until the first call (like nn.LazyLinear)."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(1, units, batch_first=True, **kwargs)
        self.weight_ih_l0 = UninitializedParameter()  # RNNBase.__setattr__ keeps _flat_weights in sync

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def flatten_parameters(self) -> None:  # ``.cuda()`` before the first call must not touch the placeholder
        if not self.has_uninitialized_params():
            super().flatten_parameters()

    def initialize_parameters(self, x: Any, *args: Any, **kwargs: Any) -> None:
        if not self.has_uninitialized_params():  # materialised by load_state_dict: adopt its size
            self.input_size = int(self.weight_ih_l0.shape[1])
            self._init_flat_weights()
            return
        data = x.data if isinstance(x, nn.utils.rnn.PackedSequence) else x
        with torch.no_grad():
            self.input_size = int(data.shape[-1])
            self.weight_ih_l0.materialize((_GATES[self.mode] * self.hidden_size, self.input_size))
            # torch's init for the new weight only: the others (biases the Keras initializers and
            # unit_forget_bias set at construction) keep their values
            bound = 1.0 / math.sqrt(self.hidden_size)
            nn.init.uniform_(self.weight_ih_l0, -bound, bound)
            self._init_flat_weights()


class _LazyLSTM(_LazyRNNMixin, nn.LSTM):
    cls_to_become = nn.LSTM


class _LazyGRU(_LazyRNNMixin, nn.GRU):
    cls_to_become = nn.GRU


class _LazyRNN(_LazyRNNMixin, nn.RNN):
    cls_to_become = nn.RNN


_LAZY = {nn.LSTM: _LazyLSTM, nn.GRU: _LazyGRU, nn.RNN: _LazyRNN}

# A masked training run on the CPU takes the padded fused kernel when at least this share of the steps up
# to the longest sample are valid, else the packed path. Measured here (LSTM, F=H=128 and F=256, H=128),
# padded / packed time for forward + backward: 0.63-0.86 at 50-73% valid with 2 threads, 0.82-1.00 with
# 1; 1.12-1.67 at 20%, 1.41-2.39 at 11%. Inference stays packed: 0.93-0.99 at 52-73% valid with 2 threads
# but 1.32 with 1. (On a GPU cuDNN runs packed sequences natively: always packed there.)
_PADDED_MIN_VALID = 0.5
# In training, a recurrent layer whose input has at least this many features per unit runs torch's native
# CPU kernel instead of oneDNN's (``_Recurrent._padded_kernel``). Measured here, native / oneDNN time for
# fwd + bwd of an LSTM(256), N=32, T=8: 1.21-1.47 at 32-256 features, 0.74-1.14 at 512, 0.57 at 1024,
# 0.44-0.61 at 2048.
_NATIVE_MIN_INPUT_RATIO = 4


def _valid_first(mask: torch.Tensor, reverse: bool) -> torch.Tensor | None:
    """Per sample, the time indices of the valid steps (in order, or reversed) followed by the padding;
    ``None`` when that is every sample's own order (forwards over a mask padded only at the end, the
    usual case), so that callers skip an argsort and a gather."""
    if not reverse and not bool((mask[:, 1:] > mask[:, :-1]).any()):  # no padded step before a valid one
        return None
    steps = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    key = torch.where(mask, -steps if reverse else steps, mask.shape[1] + steps)
    return key.argsort(dim=1)


@dataclass(frozen=True)
class _PackedLayout:
    """Where each row of a ``PackedSequence`` comes from in the padded ``(N, T, F)`` input.

    Built from the mask directly, so that packing is one ``index_select`` of the input's rows and
    unpacking one ``index_copy`` into zeros, instead of gather + ``pack_padded_sequence`` (which copies
    again) on the way in and ``pad_packed_sequence`` + scatter + a mask multiply on the way out: that took
    the masked path to 1.4x torch's own post-padded packed path. Rows are addressed by one flat index into
    ``(N*T, F)``: ``index_select`` takes 36 us where ``x[batch, time]`` took 236 (N=64, T=40, F=128, one
    thread). A fully padded sample is run for one (padding) step, as ``pack_padded_sequence`` needs a
    length of at least 1; its output is dropped and ``empty`` marks it.
    """

    rows: torch.Tensor  # per packed row: ``sample * T + time step`` in the padded input
    batch_sizes: torch.Tensor
    sorted_indices: torch.Tensor
    unsorted_indices: torch.Tensor
    empty: torch.Tensor | None  # (N,) bool on the mask's device, None when every sample has a valid step
    kept: torch.Tensor | None  # the packed rows that are valid steps (only when some sample is empty)

    @classmethod
    def of(cls, mask: torch.Tensor, reverse: bool) -> _PackedLayout:
        host = mask.cpu()  # the one device-to-host copy; packing needs the lengths on the host anyway
        t = host.shape[1]
        lengths = host.sum(1)
        sorted_lengths, sorted_indices = lengths.sort(descending=True, stable=True)
        any_empty = int(sorted_lengths[-1]) == 0
        sorted_lengths = sorted_lengths.clamp(min=1)
        live = torch.arange(t)[:, None] < sorted_lengths[None, :]  # (step, rank in the sorted batch)
        steps, rank = live.nonzero(as_tuple=True)
        batch = sorted_indices[rank]
        order = _valid_first(host, reverse)
        rows = batch * t + (steps if order is None else order[batch, steps])
        batch_sizes = live.sum(1)[: int(sorted_lengths[0])]
        device = mask.device
        empty = kept = None
        if any_empty:
            empty = (lengths == 0).to(device)
            kept = host.reshape(-1)[rows].nonzero().squeeze(1).to(device)
        return cls(rows.to(device), batch_sizes, sorted_indices.to(device), sorted_indices.argsort().to(device),
                   empty, kept)  # fmt: skip

    def pack(self, x: torch.Tensor) -> PackedSequence:
        flat = x.reshape(-1, x.shape[-1])
        return PackedSequence(flat.index_select(0, self.rows), self.batch_sizes, self.sorted_indices,
                              self.unsorted_indices)  # fmt: skip

    def unpack(self, outputs: torch.Tensor, t: int) -> torch.Tensor:
        """``(N, T, H)`` with each packed output row back at its time step, zeros at padded steps."""
        n = self.sorted_indices.shape[0]
        rows, outputs = (self.rows, outputs) if self.kept is None else (
            self.rows[self.kept], outputs.index_select(0, self.kept)
        )  # fmt: skip
        return outputs.new_zeros(n * t, outputs.shape[-1]).index_copy(0, rows, outputs).view(n, t, -1)


class _Recurrent(Layer):
    _torch_cls: type[nn.RNNBase] = nn.LSTM
    _n_states = 1
    _activations: tuple[str, ...] = ("tanh",)  # what the fused kernel computes
    keras_weights = {
        "kernel": Weight(("rnn.weight_ih_l0",), "glorot_uniform"),
        "recurrent": Weight(("rnn.weight_hh_l0",), "orthogonal"),
        "bias": Weight(("rnn.bias_ih_l0", "rnn.bias_hh_l0"), "zeros"),
    }
    keras_input_size = ("input_size", -1, 2)

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        use_bias: bool = True,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        stateful: bool = False,
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if stateful:
            raise ArgumentError(
                f"{name}: stateful=True is not supported: a zoo layer keeps no state between calls. Carry it "
                "yourself: return_state=True gives the final states, initial_state= takes them on the next call."
            )
        if recurrent_dropout:
            raise ArgumentError(
                f"{name}: recurrent_dropout is not supported (it would rule out the fused kernels); use "
                "dropout= (on the inputs, as in Keras) or a Dropout layer on the outputs."
            )
        if activation not in self._activations:
            raise OptionError(
                f"{name}: activation must be one of {self._activations} (the fused kernel), got {activation!r}."
            )
        if self._torch_cls is not nn.RNN and recurrent_activation != "sigmoid":
            raise OptionError(
                f"{name}: recurrent_activation must be 'sigmoid' (the fused kernel), got {recurrent_activation!r}."
            )
        if not 0.0 <= dropout < 1.0:
            raise OptionError(f"{name}: dropout must be in [0, 1), got {dropout!r}.")
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units <= 0:
            raise OptionError(f"{name}: units must be a positive int, got {units!r}.")
        self.units = units = int(units)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.dropout = float(dropout)
        options: dict[str, Any] = {"bias": use_bias}
        if self._torch_cls is nn.RNN:
            options["nonlinearity"] = activation
        self.rnn = _lazy_rnn(self._torch_cls, units, input_size, **options)

    def keras_post_init(self) -> None:
        """Keras' LSTM and SimpleRNN have one bias where torch adds two (``bias_ih + bias_hh``): the second
        starts at 0, so the effective bias is what ``bias_initializer`` made (GRU keeps both: Keras'
        ``reset_after`` GRU has an input and a recurrent bias too)."""
        if self._torch_cls is not nn.GRU and self.rnn.bias:
            with torch.no_grad():
                self.rnn.bias_hh_l0.zero_()

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        initial_state: torch.Tensor | list[torch.Tensor] | None = None,
        lengths: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        mask = resolve_mask(self, x, mask, lengths)
        sequences, states = self.run(
            x, mask, initial_state, reverse=self.go_backwards, sequences=self.return_sequences,
            all_states=self.return_state,
        )  # fmt: skip
        if self.return_sequences:
            if self.go_backwards:  # Keras returns the outputs in processing order
                sequences = sequences.flip(1)
                mask = None if mask is None else mask.flip(1)
            output = with_mask(sequences, mask)
        else:
            output = states[0]
        return (output, *states) if self.return_state else output

    def run(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        initial_state: torch.Tensor | list[torch.Tensor] | None,
        reverse: bool,
        *,
        sequences: bool = True,
        all_states: bool = True,
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Outputs aligned with the input's time axis ``(N, T, units)`` and the final states ``(N, units)``.

        ``sequences=False``: only the states are wanted, so a masked run skips scattering its outputs back
        (``None`` in their place). ``all_states=False``: only the final output is wanted (an LSTM's cell
        state is not), which lets a masked training run on the CPU take the padded fused kernel
        (``_run_padded``)."""
        check_rank(self, x, 3, "(batch, time, features)")
        if x.shape[1] == 0:  # Keras defines no output either (it reads the first step)
            raise DataError(
                f"{type(self).__name__}({self.units}) needs at least one time step, got input shape "
                f"{tuple(x.shape)} (batch, time, features); drop empty sequences or pad them to one step "
                "(and mask it)."
            )
        x = float_input(x, self.rnn.weight_hh_l0.dtype)
        in_size = getattr(self.rnn, "input_size", 0)
        if in_size and not isinstance(self.rnn, _LazyRNNMixin) and x.shape[-1] != in_size:
            raise DataError(
                f"{type(self).__name__}({self.units}) was built for {in_size} features per step, got input "
                f"shape {tuple(x.shape)}."
            )
        if self.training and self.dropout:  # Keras: one input-dropout mask per sample, shared by all steps
            keep = torch.empty(x.shape[0], 1, x.shape[2], device=x.device, dtype=x.dtype).bernoulli_(
                1 - self.dropout
            )
            x = x * keep / (1 - self.dropout)
        hx = self._initial_state(x, initial_state)
        n, t = x.shape[:2]
        if mask is None or n == 0:  # an empty batch: the kernel returns empty outputs, a mask has no lengths
            out, state = self._padded_kernel(x.flip(1) if reverse else x, hx)
            return (out.flip(1) if reverse else out), self._final(state)
        if is_tracing():
            return self._run_stepwise(x, mask, hx, reverse)
        if (self._n_states == 1 or not all_states) and x.device.type == "cpu" and torch.is_grad_enabled():
            lengths = mask.sum(1)
            longest = int(lengths.max())
            if longest and int(lengths.sum()) >= _PADDED_MIN_VALID * n * longest:
                return self._run_padded(x, mask, lengths, longest, hx, reverse, sequences)
        layout = _PackedLayout.of(mask, reverse)
        out, state = self.rnn(layout.pack(x), hx)
        aligned = layout.unpack(out.data, t) if sequences else None
        states = self._final(state)
        empty = layout.empty  # fully padded samples keep their initial state
        if empty is not None:
            initial = self._final(hx) if hx is not None else [torch.zeros_like(s) for s in states]
            states = [torch.where(empty[:, None], s0, s) for s0, s in zip(initial, states, strict=True)]
        return aligned, states

    def _padded_kernel(self, x: torch.Tensor, hx: Any) -> tuple[torch.Tensor, Any]:
        """``self.rnn`` on a padded batch, by torch's native kernel where oneDNN's is the slower one.

        On the CPU torch runs a float LSTM by oneDNN, whose backward pass is slow for wide inputs: an LSTM
        of 256 units over 2048 features (a CNN's pooled frame features) trained 2.2x faster (N=32, T=8)
        by the native kernel, which multiplies the whole input sequence by the input weights in one matrix
        product. Narrower inputs and inference are faster by oneDNN (0.94-1.5x native's time), so that stays
        torch's choice there. The switch is torch's process-wide oneDNN flag, held for this call only (other
        threads' convolutions run without oneDNN meanwhile: slower, not different)."""
        if not (
            self._torch_cls is nn.LSTM and x.device.type == "cpu" and x.shape[-1] >= _NATIVE_MIN_INPUT_RATIO * self.units
            and torch.is_grad_enabled() and torch.backends.mkldnn.enabled and not is_tracing()
        ):  # fmt: skip
            return self.rnn(x, hx)
        torch.backends.mkldnn.enabled = False
        try:
            return self.rnn(x, hx)
        finally:
            torch.backends.mkldnn.enabled = True

    def _run_padded(
        self, x: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor, longest: int, hx: Any, reverse: bool,
        sequences: bool,
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """The masked run as one padded call of the fused (oneDNN) kernel: each sample's valid steps are
        gathered to the front, the batch runs for the longest sample's steps, and each sample's output is
        read at its own last valid step. Steps past a sample's end are computed and dropped, so this pays
        only in training and when most steps are valid (``_PADDED_MIN_VALID``); only the final ``h`` comes out, since an
        LSTM's final cell state is not among the outputs. Same numbers as the packed path."""
        n, _, features = x.shape
        order = _valid_first(mask, reverse)
        valid = torch.arange(longest, device=x.device) < lengths[:, None]
        if order is None:  # the valid steps are already first
            gathered = x[:, :longest]
        else:
            order = order[:, :longest]
            gathered = x.gather(1, order[..., None].expand(-1, -1, features))
        # zeros at the padding: NaN there (padding marked by NaN) would reach the gradients through the
        # kernel's backward, although no output of a padded step is kept
        out, _ = self._padded_kernel(torch.where(valid[..., None], gathered, 0.0), hx)
        final = out[torch.arange(n, device=x.device), (lengths - 1).clamp(min=0)]
        empty = lengths == 0  # fully padded samples keep their initial state
        initial = self._final(hx)[0] if hx is not None else torch.zeros_like(final)
        final = torch.where(empty[:, None], initial, final)
        if not sequences:
            return None, [final]
        kept = torch.where(valid[..., None], out, 0.0)
        if order is None:
            return nn.functional.pad(kept, (0, 0, 0, mask.shape[1] - longest)), [final]
        aligned = out.new_zeros(n, mask.shape[1], out.shape[-1]).scatter(
            1, order[..., None].expand_as(out), kept
        )  # each valid output back at its time step; the rows of ``order`` hold distinct steps
        return aligned, [final]

    def _run_stepwise(
        self, x: torch.Tensor, mask: torch.Tensor, hx: Any, reverse: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The masked run without packing, for torch.export, ONNX and torch.jit.trace, which cannot follow
        ``pack_padded_sequence`` (its lengths are data). One fused-kernel step per time step; a padded step
        leaves the state as it was and outputs zeros, so wherever the padding is (front, back, between) the
        result is that of the packed path. Costs ``T`` kernel calls instead of one, hence export-only."""
        n, t = x.shape[:2]
        if hx is None:
            zeros = x.new_zeros(1, n, self.units)
            hx = (zeros,) * self._n_states if self._n_states > 1 else zeros
        states = list(hx) if isinstance(hx, tuple) else [hx]
        outputs: list[torch.Tensor] = [x.new_zeros(())] * t
        for step in range(t - 1, -1, -1) if reverse else range(t):
            out, new = self.rnn(x[:, step : step + 1], tuple(states) if self._n_states > 1 else states[0])
            valid = mask[:, step, None]
            outputs[step] = torch.where(valid, out[:, 0], torch.zeros_like(out[:, 0]))
            news = list(new) if isinstance(new, tuple) else [new]
            states = [torch.where(valid[None], s1, s0) for s0, s1 in zip(states, news, strict=True)]
        return torch.stack(outputs, 1), self._final(tuple(states))

    def _initial_state(self, x: torch.Tensor, initial_state: Any) -> Any:
        if initial_state is None:
            return None
        states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        if len(states) != self._n_states:
            raise DataError(
                f"{type(self).__name__} takes {self._n_states} initial state tensor(s), got {len(states)}."
            )
        for s in states:
            if s.shape != (x.shape[0], self.units):
                raise DataError(
                    f"{type(self).__name__}({self.units}): initial state must be (batch, units) = "
                    f"({x.shape[0]}, {self.units}), got {tuple(s.shape)}."
                )
        states = [s.unsqueeze(0).contiguous() for s in states]
        return tuple(states) if self._n_states > 1 else states[0]

    def _final(self, state: Any) -> list[torch.Tensor]:
        states = list(state) if isinstance(state, tuple) else [state]
        return [s[-1] for s in states]

    def extra_repr(self) -> str:
        return (
            f"units={self.units}, return_sequences={self.return_sequences}, return_state={self.return_state}"
            + (", go_backwards=True" if self.go_backwards else "")
        )


class LSTM(_Recurrent):
    """Keras ``LSTM``: returns the last output ``(N, units)``, or ``(N, T, units)`` with
    ``return_sequences``; with ``return_state`` a tuple ``(output, h, c)``.

    ``unit_forget_bias=True`` (Keras' default) starts the forget gate's bias at 1 (Jozefowicz et al., 2015),
    after ``bias_initializer``; the other gates keep the initializer's values."""

    _torch_cls = nn.LSTM
    _n_states = 2

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        use_bias: bool = True,
        *,
        unit_forget_bias: bool = True,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        stateful: bool = False,
        input_size: int | None = None,
    ) -> None:
        super().__init__(
            units, activation, recurrent_activation, use_bias, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, dropout=dropout,
            recurrent_dropout=recurrent_dropout, stateful=stateful, input_size=input_size,
        )  # fmt: skip
        if not isinstance(unit_forget_bias, bool):
            raise ArgumentError(f"LSTM: unit_forget_bias must be True or False, got {unit_forget_bias!r}.")
        self.unit_forget_bias = unit_forget_bias

    def keras_post_init(self) -> None:
        super().keras_post_init()
        if self.unit_forget_bias and self.rnn.bias:
            with torch.no_grad():  # torch's gate order is (input, forget, cell, output), as Keras'
                self.rnn.bias_ih_l0[self.units : 2 * self.units] = 1.0


class GRU(_Recurrent):
    """Keras ``GRU`` (``reset_after=True``, the cuDNN variant, as torch); ``return_state`` adds ``h``.

    ``reset_after`` is taken so that Keras code passing Keras' default runs as it is; ``False`` (the original
    GRU of Cho et al., 2014, which applies the reset gate before the recurrent matrix product; Keras' default
    before TensorFlow 2) is refused, since torch's fused kernel computes only the other one and the two
    give different numbers."""

    _torch_cls = nn.GRU

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        use_bias: bool = True,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        stateful: bool = False,
        reset_after: bool = True,
        input_size: int | None = None,
    ) -> None:
        if not reset_after:
            raise ArgumentError(
                "GRU: reset_after=False is not supported: torch's fused GRU kernel computes Keras' "
                "reset_after=True variant (Keras' default, the cuDNN one) only, and the two give different "
                "numbers. Leave reset_after=True, and retrain rather than load weights trained with reset_after=False."
            )
        super().__init__(
            units, activation, recurrent_activation, use_bias, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, dropout=dropout,
            recurrent_dropout=recurrent_dropout, stateful=stateful, input_size=input_size,
        )  # fmt: skip


class SimpleRNN(_Recurrent):
    """Keras ``SimpleRNN``: ``h_t = activation(W x_t + U h_{t-1} + b)`` with ``tanh`` or ``relu``."""

    _torch_cls = nn.RNN
    _activations = ("tanh", "relu")


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a fresh copy of it backwards over the valid steps, and merges.

    ``merge_mode`` is ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (a pair). With
    ``return_state`` the result is ``(output, *forward_states, *backward_states)``.
    """

    def __init__(
        self, layer: _Recurrent, merge_mode: str | None = "concat", backward_layer: _Recurrent | None = None
    ):
        super().__init__()
        if not isinstance(layer, _Recurrent):
            raise ArgumentError(
                f"Bidirectional wraps a zoo recurrent layer (LSTM, GRU, SimpleRNN), got {type(layer).__name__}."
            )
        if merge_mode not in _MERGE_MODES:
            raise OptionError(f"Bidirectional: merge_mode must be one of {_MERGE_MODES}, got {merge_mode!r}.")
        self.forward_layer = layer
        self.backward_layer = backward_layer if backward_layer is not None else type(layer)(**{k: v for k, v in layer.get_config().items() if k != "name"})
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        mask = resolve_mask(self, x, mask, lengths)
        wanted = {"sequences": self.return_sequences, "all_states": self.return_state}
        fw_seq, fw_states = self.forward_layer.run(x, mask, None, reverse=False, **wanted)
        bw_seq, bw_states = self.backward_layer.run(x, mask, None, reverse=True, **wanted)
        if self.return_sequences:
            a, b = fw_seq, bw_seq
        else:
            a, b = fw_states[0], bw_states[0]
        if self.merge_mode == "concat":
            output: Any = torch.cat([a, b], dim=-1)
        elif self.merge_mode == "sum":
            output = a + b
        elif self.merge_mode == "mul":
            output = a * b
        elif self.merge_mode == "ave":
            output = (a + b) / 2
        else:
            output = (a, b)
        if self.return_sequences and self.merge_mode is not None:
            output = with_mask(output, mask)
        if self.return_state:
            outputs = tuple(output) if self.merge_mode is None else (output,)
            return (*outputs, *fw_states, *bw_states)
        return output

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode!r}"
