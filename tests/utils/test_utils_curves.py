"""zoo.plot_history and PlotCallback: one panel per quantity, train vs validation, the best epoch marked."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo.training.callbacks import PlotCallback
from zoo.utils.curves import best_epoch, history_figure
from zoo.utils.plot import PlotError

#: The models here output logits (make_mlp ends in a Linear), so the cross-entropy is told so.
CE = {"name": "sparse_categorical_crossentropy", "from_logits": True}

RECORD = {
    "loss": [1.0, 0.7, 0.5, 0.4],
    "accuracy": [0.5, 0.6, 0.7, 0.8],
    "val_loss": [1.1, 0.8, 0.9, 1.0],
    "val_accuracy": [0.4, 0.55, 0.7, 0.65],
}


def panels(fig) -> dict[str, dict[str, tuple[list, list]]]:
    return {
        ax.get_title(): {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines}
        for ax in fig.axes
    }


def test_panels_train_against_validation_with_the_best_epoch_starred():
    drawn = panels(history_figure(RECORD))
    assert list(drawn) == ["loss", "accuracy"]
    loss = drawn["loss"]
    assert loss["train"] == ([1, 2, 3, 4], RECORD["loss"]) and loss["validation"][1] == RECORD["val_loss"]
    assert loss["best epoch 2: 0.8"] == ([2], [0.8])  # val_loss goes down: epoch 2
    assert drawn["accuracy"]["best epoch 3: 0.7"] == ([3], [0.7])  # val_accuracy goes up: epoch 3
    only = panels(history_figure(RECORD, metrics=["val_accuracy"]))
    assert list(only) == ["accuracy"]
    train_only = panels(history_figure({"loss": [3.0, 1.0, 2.0]}))
    assert "best epoch 2: 1" in train_only["loss"]  # no validation: the training curve's best
    assert best_epoch([float("nan"), 2.0, 2.0], "down") == 1 and best_epoch([float("nan")], "up") == -1


def test_real_fit_history_and_csv_logger_file(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    model = nn.Linear(4, 2)
    plot = PlotCallback(tmp_path / "live.png")
    history = zoo.fit(model, x, y, optimizer="adam", loss=CE, metrics=["accuracy"],
                      epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                      callbacks=[zoo.get("callbacks", "CSVLogger", tmp_path / "log.csv"), plot])  # fmt: skip
    png = zoo.plot_history(history, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(panels(history_figure(history))) == ["loss", "accuracy"]
    from_csv = panels(history_figure(tmp_path / "log.csv"))
    assert from_csv["loss"]["validation"][1] == pytest.approx(history.history["val_loss"])
    assert (tmp_path / "live.png").read_bytes()[:4] == b"\x89PNG" and plot.history["loss"] == history.history["loss"]
    assert not list(tmp_path.glob(".*tmp"))


def test_plot_callback_redraws_every_n_epochs(tmp_path, monkeypatch):
    import zoo.utils.curves

    drawn = []
    monkeypatch.setattr(zoo.utils.curves, "plot_history", lambda h, f, m: drawn.append(len(h.history["loss"])))
    zoo.fit(nn.Linear(2, 1), torch.ones(4, 2), torch.ones(4, 1), optimizer="sgd", loss="mse", epochs=5, verbose=0,
            callbacks=[PlotCallback(tmp_path / "c.png", every=2)])  # fmt: skip
    assert drawn == [2, 4, 5]  # epochs 2 and 4, then the end of training
    with pytest.raises(PlotError, match="every=...\\) is a number of epochs"):
        PlotCallback(every=0)
    assert isinstance(zoo.get("callbacks", "PlotCallback"), PlotCallback)


def test_wrong_inputs_say_what_to_do(tmp_path):
    with pytest.raises(PlotError, match="no 'val_acuracy'.*Did you mean accuracy"):
        zoo.plot_history(RECORD, tmp_path / "c.png", metrics=["val_acuracy"])
    with pytest.raises(PlotError, match="takes what fit returns"):
        zoo.plot_history([1, 2], tmp_path / "c.png")
    with pytest.raises(PlotError, match="no file"):
        zoo.plot_history(tmp_path / "missing.csv", tmp_path / "c.png")
    with pytest.raises(PlotError, match="empty"):
        zoo.plot_history({"loss": []}, tmp_path / "c.png")
    with pytest.raises(PlotError, match="png, svg, pdf"):
        zoo.plot_history(RECORD, tmp_path / "c.gif")
    assert not list(tmp_path.iterdir())
