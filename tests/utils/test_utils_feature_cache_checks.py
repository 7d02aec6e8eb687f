"""FeatureCache keys include what transform= does, and its misuses are zoo errors that say what to do."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.utils.feature_cache import FeatureCache, callable_fingerprint


def _batches(x: torch.Tensor, size: int = 4):
    return [x[i : i + size] for i in range(0, len(x), size)]


@pytest.fixture
def encoder():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def test_a_different_transform_computes_afresh(encoder, tmp_path):
    x = torch.randn(8, 3)
    same = FeatureCache(encoder, root=tmp_path, transform=lambda b: b).features(_batches(x), fingerprint="d", count=8)
    zero = FeatureCache(encoder, root=tmp_path, transform=lambda b: b * 0).features(
        _batches(x), fingerprint="d", count=8
    )
    assert not np.allclose(same, zero)
    np.testing.assert_allclose(zero, encoder(torch.zeros(8, 3)).detach().numpy(), rtol=1e-6)
    again = FeatureCache(encoder, root=tmp_path, transform=lambda b: b)
    again.features(_batches(x), fingerprint="d", count=8)
    assert again.hits == 1  # the same transform (same code) hits


def test_transform_fingerprint_sees_closures_defaults_and_partials():
    def scaled(k):
        return lambda b: b * k

    assert callable_fingerprint(scaled(2)) != callable_fingerprint(scaled(3))
    assert callable_fingerprint(scaled(2)) == callable_fingerprint(scaled(2))
    assert callable_fingerprint(lambda b, k=1: b * k) != callable_fingerprint(lambda b, k=2: b * k)
    assert callable_fingerprint(functools.partial(torch.mul, other=2)) != callable_fingerprint(
        functools.partial(torch.mul, other=3)
    )
    assert callable_fingerprint(nn.Identity()) == callable_fingerprint(nn.Identity())

    class Opaque:
        def __call__(self, b):
            return b

    with pytest.raises(zoo.ArgumentError, match=r"identity=\{'transform'"):
        FeatureCache(nn.Linear(3, 2), transform=Opaque())
    FeatureCache(nn.Linear(3, 2), transform=Opaque(), identity={"transform": "identity v1"})


def test_misuses_are_zoo_errors(encoder, tmp_path):
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    cache = FeatureCache(encoder, root=tmp_path)
    with pytest.raises(zoo.DataError, match=r"input batches only; got a tuple of 2.*transform=lambda b: b\[0\]"):
        cache.features([(x, y)], fingerprint="d", count=8)
    with pytest.raises(zoo.OptionError, match="count=True"):
        cache.features(_batches(x), fingerprint="d", count=True)
    with pytest.raises(zoo.ArgumentError, match=r"torch module.*zoo.load\('toy_cnn'"):
        FeatureCache("toy_cnn")
    with pytest.raises(zoo.ArgumentError, match="identity must be a dict"):
        FeatureCache(encoder, identity=["a"])
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(zoo.OptionError, match="is a file, not a folder"):
        FeatureCache(encoder, root=afile)
    with pytest.raises(zoo.OptionError, match="a file is in the way"):
        FeatureCache(encoder, root=afile / "sub").features(_batches(x), fingerprint="d", count=8)
