"""zoo.utils.progress: one rule for every bar -- on a terminal yes, in a log no, unless asked; ZOO_QUIET wins."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

from zoo.utils.feature_cache import FeatureCache
from zoo.utils.progress import progress, wants_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drawn(show, stream) -> str:
    for _ in progress(range(3), desc="work", show=show, file=stream, leave=True):
        pass
    return stream.getvalue()


def test_a_bar_shows_on_a_terminal_and_not_in_a_log():
    assert "work" in drawn(None, Terminal()) and "3/3" in drawn(None, Terminal())
    assert drawn(None, io.StringIO()) == ""
    assert wants_bar(None, Terminal()) and not wants_bar(None, io.StringIO())


def test_asking_wins_over_the_stream_and_zoo_quiet_wins_over_asking(monkeypatch):
    assert "3/3" in drawn(True, io.StringIO())
    assert drawn(False, Terminal()) == ""
    monkeypatch.setenv("ZOO_QUIET", "1")
    assert drawn(True, io.StringIO()) == "" and drawn(None, Terminal()) == ""
    monkeypatch.setenv("ZOO_QUIET", "maybe")
    with pytest.raises(Exception, match="ZOO_QUIET='maybe' is not a boolean"):
        wants_bar(None, Terminal())


def test_streams_that_cannot_say_and_notebooks(monkeypatch):
    closed = open(__file__)  # noqa: SIM115 - a real file object, closed at once
    closed.close()
    assert not wants_bar(None, closed) and not wants_bar(None, object())
    assert not wants_bar(None, io.StringIO())

    class Kernel:
        kernel = object()

    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=Kernel))
    assert wants_bar(None, io.StringIO())  # a Jupyter kernel is watched although its stream is no tty
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not wants_bar(None, io.StringIO())  # IPython imported but no kernel running


def test_a_silent_bar_still_iterates_and_takes_updates():
    bar = progress(total=5, show=False)
    bar.update(2)
    bar.set_postfix_str("loss: 1")
    bar.close()
    assert bar.disable and list(progress(iter("abc"), show=False)) == ["a", "b", "c"]


def test_feature_extraction_bar_follows_the_rule(capsys):
    encoder = nn.Linear(4, 3)
    x = np.ones((6, 4), np.float32)
    FeatureCache(encoder).features([x[:3], x[3:]], fingerprint="a", count=6)  # stderr is captured: no tty
    assert "features" not in capsys.readouterr().err
    FeatureCache(encoder, progress=True).features([x[:3], x[3:]], fingerprint="b", count=6)
    assert "features" in capsys.readouterr().err


def test_fit_bar_on_a_terminal_becomes_epoch_lines_under_zoo_quiet(monkeypatch):
    import zoo
    from zoo.training.callbacks import ProgbarLogger

    def fit(stream):
        model = nn.Linear(2, 1)
        zoo.fit(model, torch.ones(8, 2), torch.ones(8, 1), optimizer="sgd", loss="mse", epochs=2, batch_size=4,
                callbacks=[ProgbarLogger(stream=stream)], verbose=1)  # fmt: skip
        return stream.getvalue()

    assert "\r" in fit(Terminal())  # tqdm redraws
    monkeypatch.setenv("ZOO_QUIET", "1")
    lines = fit(Terminal())
    assert "\r" not in lines and lines.splitlines()[1].startswith("Epoch 2/2 - 2 steps")
