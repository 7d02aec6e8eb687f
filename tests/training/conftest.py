"""Shared helpers for the training tests: tiny deterministic models and data."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _one_thread():
    # The suite shares two cores; tiny models run fastest single-threaded and results stay deterministic.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def make_mlp(n_in: int = 4, n_out: int = 3, hidden: int = 8, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, n_out))


def make_data(n: int = 64, n_in: int = 4, n_out: int = 3, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    y = (x[:, :n_out] * 2 + 0.1 * torch.randn(n, n_out, generator=g)).argmax(1)
    return x, y


@pytest.fixture(name="make_mlp")
def _make_mlp_fixture():
    return make_mlp


@pytest.fixture(name="make_data")
def _make_data_fixture():
    return make_data


@pytest.fixture
def mlp():
    return make_mlp()


@pytest.fixture
def data():
    return make_data()
