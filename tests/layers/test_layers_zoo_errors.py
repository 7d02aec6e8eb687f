"""A layer given the wrong input fails with a zoo.ZooError that is still the builtin Keras raises."""

from __future__ import annotations

import pytest
import torch

import zoo
from zoo.layers import Conv2D, Dense, Dropout, LayerNormalization


def test_wrong_rank_is_a_data_error_and_a_value_error() -> None:
    with pytest.raises(zoo.DataError, match=r"Conv2D expects a 4-D input.*got shape \(8, 8\)") as info:
        Conv2D(4, 3)(torch.zeros(8, 8))
    assert isinstance(info.value, ValueError) and isinstance(info.value, zoo.ZooError)


def test_wrong_size_for_a_built_layer_is_a_data_error() -> None:
    dense = Dense(3)
    dense(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"Dense\(3\) was built for 5 input features") as info:
        dense(torch.zeros(2, 6))
    assert isinstance(info.value, zoo.DataError)


def test_a_non_tensor_is_an_argument_error_and_a_type_error() -> None:
    with pytest.raises(zoo.ArgumentError, match="Conv2D expects a tensor, got list") as info:
        Conv2D(4, 3)([[1.0, 2.0]])
    assert isinstance(info.value, TypeError) and not isinstance(info.value, ValueError)


def test_a_bad_setting_is_an_option_error_and_a_value_error() -> None:
    with pytest.raises(zoo.OptionError, match=r"Dropout: rate must be in \[0, 1\), got 1.5") as info:
        Dropout(1.5)
    assert isinstance(info.value, ValueError) and isinstance(info.value, zoo.ArgumentError)
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        Conv2D(4, (3, 3, 3))
    with pytest.raises(zoo.DataError):
        LayerNormalization(axis=0)(torch.zeros(2, 3))


def test_an_activation_given_as_a_torch_module_class_is_instantiated() -> None:
    out = Dense(3, activation=torch.nn.ReLU)(torch.randn(4, 5))
    assert isinstance(out, torch.Tensor) and out.shape == (4, 3) and bool((out >= 0).all())


def test_a_float_argument_given_a_string_is_an_argument_error() -> None:
    with pytest.raises(zoo.ArgumentError, match=r"Dropout: rate must be a number, got '0.5'"):
        Dropout("0.5")
    assert Dropout(0).rate == 0.0  # an int is a number


@pytest.mark.parametrize("kw, message", [({"momentum": 1.5}, "momentum must be in"), ({"epsilon": 0}, "epsilon")])
def test_batch_normalization_refuses_momentum_outside_0_1_and_epsilon_not_positive(kw, message) -> None:
    from zoo.layers import BatchNormalization

    with pytest.raises(zoo.OptionError, match=message):
        BatchNormalization(**kw)
