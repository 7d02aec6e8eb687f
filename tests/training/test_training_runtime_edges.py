"""Runtime edges of fit: resuming with another optimizer, models in float64/bfloat16, meta models, the
epoch line after an early stop, and torch's element-wise losses given Keras' (N, 1)-vs-(N,) shapes."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import zoo
from zoo.errors import ModelError, OptionError
from zoo.training.callbacks import ModelCheckpoint, TerminateOnNaN

CE = nn.CrossEntropyLoss()


def mlp(out: int = 2) -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, out))


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 4, generator=g), torch.randint(0, 2, (32,), generator=g)


@pytest.fixture
def checkpoint(tmp_path, data):
    path = tmp_path / "state.pt"
    torch.manual_seed(0)
    zoo.fit(mlp(), *data, loss=CE, optimizer="sgd", epochs=1, verbose=0,
            callbacks=[ModelCheckpoint(path, monitor="loss", save_weights_only=False)])  # fmt: skip
    return path


def test_resuming_with_another_optimizer_class_says_so(checkpoint, data):
    with pytest.raises(OptionError, match=r"optimizer was SGD, but this fit's is Adam, which cannot take its state"):
        zoo.fit(mlp(), *data, loss=CE, optimizer="adam", epochs=2, resume_from=checkpoint, verbose=0)  # KeyError: 'betas'


def test_resuming_replaces_this_fits_optimizer_settings_with_a_warning(checkpoint, data):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    with pytest.warns(UserWarning, match=r"replaces this fit's settings \(lr 0\.5 -> 0\.01, momentum 0\.9 -> 0\)"):
        zoo.fit(model, *data, loss=CE, optimizer=optimizer, epochs=2, resume_from=checkpoint, verbose=0)
    assert optimizer.param_groups[0]["lr"] == 0.01  # the run continued as saved
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same settings: nothing to say
        zoo.fit(mlp(), *data, loss=CE, optimizer="sgd", epochs=2, resume_from=checkpoint, verbose=0)


def test_restoring_an_optimizer_state_without_an_optimizer_says_so(checkpoint):
    from zoo.training.trainer import Trainer

    state = zoo.training.load_training_state(checkpoint)
    with pytest.raises(OptionError, match=r"holds an optimizer state, but this run has no optimizer yet"):
        Trainer(mlp(), loss=CE).restore(state)  # was AttributeError: 'NoneType' ... 'load_state_dict'


def test_resume_arguments_are_checked(checkpoint, data):
    with pytest.raises(OptionError, match=r"resume_from must be the path of a checkpoint file .* got 5 \(int\)"):
        zoo.fit(mlp(), *data, loss=CE, optimizer="sgd", epochs=2, resume_from=5, verbose=0)
    with pytest.raises(OptionError, match=r"give resume_from= or initial_epoch=1, not both"):
        zoo.fit(mlp(), *data, loss=CE, optimizer="sgd", epochs=3, initial_epoch=1, resume_from=checkpoint, verbose=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_a_model_in_another_float_dtype_gets_its_inputs_in_that_dtype(data, dtype):
    model = mlp().to(dtype)  # float32 data: "mat1 and mat2 must have the same dtype" before
    history = zoo.fit(model, *data, loss=CE, optimizer="sgd", epochs=1, verbose=0)
    assert torch.isfinite(torch.tensor(history.history["loss"])).all()
    assert zoo.predict(model, data[0], verbose=0).dtype == dtype
    assert zoo.evaluate(model, *data, loss=CE, verbose=0)["loss"] > 0


def test_a_meta_model_or_device_is_a_model_error(data):
    for make in (lambda: zoo.fit(mlp(), *data, loss=CE, device="meta", verbose=0),
                 lambda: zoo.fit(mlp().to("meta"), *data, loss=CE, verbose=0)):  # fmt: skip
        with pytest.raises(ModelError, match="meta device, where tensors have shapes but no values"):
            make()


def test_the_epoch_line_counts_the_steps_run_when_training_stops_early(capsys):
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    x[9] = float("nan")  # batch 2 of 4 (batch size 4, no shuffle)
    zoo.fit(nn.Linear(4, 2), x, y, loss="mse", batch_size=4, epochs=2, shuffle=False,
            callbacks=[TerminateOnNaN()], verbose=2)  # fmt: skip
    assert "Epoch 1/2 - 3/4 steps - " in capsys.readouterr().out


@pytest.mark.parametrize("loss", [nn.BCEWithLogitsLoss(), nn.MSELoss(), nn.L1Loss()])
def test_torch_elementwise_losses_take_a_one_column_output_against_flat_labels(loss, data):
    x, y = data
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MSELoss broadcast (N, 1) against (N,) to (N, N), with a warning
        got = zoo.evaluate(model, x, y, loss=loss, verbose=0)["loss"]
    with torch.no_grad():
        expected = loss(model(x).squeeze(-1), y.float()).item()
    assert got == pytest.approx(expected, rel=1e-5)
    with pytest.raises(zoo.DataError, match=r"input shape \(32, 3\) and target shape \(32,\) differ"):
        zoo.evaluate(nn.Linear(4, 3), x, y, loss=loss, verbose=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_it_says_the_python_keyword(data):
    with pytest.raises(OptionError, match=r"sees no CUDA device; use device='cpu'"):  # not the CLI's --device cpu
        zoo.fit(mlp(), *data, loss=CE, device="cuda", verbose=0)
