"""Run under ``torchrun --nproc_per_node=2``: the same ``zoo.fit`` a single process would run.

Writes callback files to ``OUT/files`` (only rank 0 must) and, as test instrumentation, each rank's
final weights and history to ``OUT/ranks``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

import zoo
from zoo.training.callbacks import CSVLogger, LambdaCallback, ModelCheckpoint


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, generator=g)
    return x, (x[:, :3] * 2).argmax(1)


def main(out: Path, batch_size: int) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ.get("RANK", 0))
    files, ranks = out / "files", out / "ranks"
    files.mkdir(parents=True, exist_ok=True)
    ranks.mkdir(parents=True, exist_ok=True)
    model = build()
    x, y = data()
    history = zoo.fit(
        model,
        x,
        y,
        optimizer={"name": "sgd", "lr": 0.5},
        loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
        metrics=["accuracy"],
        epochs=3,
        batch_size=batch_size,
        shuffle=False,
        validation_data=(x[:8], y[:8]),
        verbose=2,
        callbacks=[
            # rank in the names: a file from rank 1 would show up as such
            ModelCheckpoint(files / f"ckpt-r{rank}-{{epoch}}.pt", save_weights_only=True),
            CSVLogger(files / f"log-r{rank}.csv"),
        ],
    )
    torch.save(model.state_dict(), ranks / f"weights{rank}.pt")
    # The same training from a DataLoader (rebuilt around a DistributedSampler) and from a list of batches
    # (each rank takes every N-th batch: with N ranks of batch b this is the 1-process batch N*b).
    common = dict(
        optimizer={"name": "sgd", "lr": 0.5},
        epochs=3,
        verbose=0,
        loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
    )
    loader_model = build()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size)
    zoo.fit(loader_model, loader, **common)
    torch.save(loader_model.state_dict(), ranks / f"loader{rank}.pt")
    batches = [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    gen_model = build()
    zoo.fit(gen_model, batches, **common)
    torch.save(gen_model.state_dict(), ranks / f"batches{rank}.pt")
    # A stop decided on one rank only (mid-epoch) must stop every rank, or the others would hang.
    stopper = LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(
            stopper.trainer, "stop_training", rank == 1 and batch == 1
        )
    )
    stopped = zoo.fit(
        build(),
        x,
        y,
        optimizer="sgd",
        loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
        epochs=3,
        batch_size=4,
        verbose=0,
        callbacks=[stopper],
    )
    (ranks / f"history{rank}.json").write_text(
        json.dumps(
            {
                "history": history.history,
                "stopped_epochs": len(stopped.history["loss"]),
                "world": dist.get_world_size() if dist.is_initialized() else 1,
            }
        )
    )
    if dist.is_initialized():
        dist.barrier()  # no rank tears gloo down while another still has a collective in flight
        dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
    # The results are written. End without the interpreter's teardown: under load, gloo's worker threads can
    # still be releasing tensors then and abort the process in C++ ("terminate called without an active
    # exception"; twice in a row on a busy 2-core machine), which would fail a run whose numbers are right.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
