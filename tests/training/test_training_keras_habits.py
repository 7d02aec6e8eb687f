"""Keras habits that must not fail silently (or with an internal error) in zoo.fit: fractional batch
sizes, a callback outside a list, x and y of different lengths, integer features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zoo
from zoo.layers import LSTM, Conv2D, Dense
from zoo.training.callbacks import EarlyStopping

CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3))


def test_fractional_or_odd_batch_sizes_are_argument_errors():
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    for bad in (2.5, 0, -4, "32", True):
        with pytest.raises(zoo.ArgumentError, match=r"batch_size must be a positive int.*got"):
            zoo.fit(model(), x, y, loss=CE, batch_size=bad, verbose=0)
    with pytest.raises(zoo.ArgumentError, match="validation_batch_size"):
        zoo.fit(model(), x, y, loss=CE, validation_data=(x, y), validation_batch_size=1.5, verbose=0)
    with pytest.raises(zoo.ArgumentError, match="batch_size"):
        zoo.predict(model(), x, batch_size=2.5)
    with pytest.raises(zoo.ArgumentError, match="steps must be a positive int"):
        zoo.fit(model(), x, y, loss=CE, steps_per_epoch=1.5, verbose=0)
    # numpy ints are ints: batches of 4 -> 4 steps
    seen = []
    cb = zoo.training.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    zoo.fit(model(), x, y, loss=CE, batch_size=np.int64(4), callbacks=[cb], verbose=0)
    assert seen == [0, 1, 2, 3]


def test_one_callback_without_a_list_is_taken_as_a_list_of_one():
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=100.0)  # no epoch improves by 100: stops at 2
    history = zoo.fit(model(), x, y, loss=CE, epochs=5, callbacks=stop, verbose=0)
    assert len(history.history["loss"]) == 2 and stop.stopped_epoch == 1
    class Duck:  # any object with hooks is a callback (Keras 3), alone too
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    duck = Duck()
    zoo.fit(model(), x, y, loss=CE, epochs=2, callbacks=duck, verbose=0)
    assert duck.epochs == 2
    by_name = zoo.fit(model(), x, y, loss=CE, epochs=1, callbacks="terminate_on_nan", verbose=0)
    assert len(by_name.history["loss"]) == 1
    with pytest.raises(zoo.ArgumentError, match=r"callbacks must have Keras hook methods.*got a int"):
        zoo.fit(model(), x, y, loss=CE, callbacks=3, verbose=0)


def test_x_and_y_of_different_lengths_say_which_is_which():
    x, y = torch.randn(16, 4), torch.randint(0, 3, (12,))
    with pytest.raises(zoo.DataError, match="x has 16, y has 12"):
        zoo.fit(model(), x, y, loss=CE, verbose=0)
    with pytest.raises(zoo.DataError, match=r"x\[0\] has 16, x\[1\] has 15, y has 16"):
        zoo.evaluate(model(), (x, x[:15]), torch.zeros(16), loss="mse", verbose=0)
    with pytest.raises(zoo.DataError, match="sample_weight has 3"):
        zoo.fit(model(), x, y[:16].repeat(2)[:16], loss=CE, sample_weight=torch.ones(3), verbose=0)


def test_integer_features_are_cast_to_float_as_keras_does():
    torch.manual_seed(0)
    x = torch.randint(0, 5, (16, 4))  # int64, e.g. counts from a dataframe
    dense = zoo.Sequential([Dense(3, input_dim=4)])
    out = dense(x)
    assert out.dtype == torch.float32 and torch.allclose(out, dense(x.float()))
    history = zoo.fit(dense, x.numpy(), torch.randint(0, 3, (16,)), loss=CE, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    conv, lstm = Conv2D(2, 3), LSTM(4)
    assert conv(torch.ones(1, 3, 8, 8, dtype=torch.int64)).dtype == torch.float32
    assert lstm(torch.ones(2, 5, 3, dtype=torch.int32)).shape == (2, 4)
    assert torch.allclose(lstm(torch.ones(2, 5, 3, dtype=torch.bool)), lstm(torch.ones(2, 5, 3)))
