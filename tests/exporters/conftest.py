"""Small models for the export tests: a CNN, a two-input model, and a helper to read artefacts back."""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import pytest
import torch
from torch import nn


class TinyCNN(nn.Module):
    """Conv + BN + pooling + linear: the layer types of real image models, at a size that exports fast."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ClipAndQuestion(nn.Module):
    """Two inputs (frames and token ids) and two outputs, like the video-QA model."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = nn.Linear(12, 6)
        self.tokens = nn.Embedding(20, 6)
        self.answer = nn.Linear(6, 4)

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(batch_size, 3, 12), torch.randint(0, 20, (batch_size, 7))

    def forward(self, clip: torch.Tensor, question: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        joint = self.frames(clip).mean(1) * self.tokens(question).mean(1)
        return self.answer(joint), joint


@pytest.fixture
def tiny_cnn() -> TinyCNN:
    torch.manual_seed(0)
    model = TinyCNN()
    with torch.no_grad():  # non-trivial running statistics, so eval-mode BN matters
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
    return model


@pytest.fixture
def clip_and_question() -> ClipAndQuestion:
    torch.manual_seed(0)
    return ClipAndQuestion()


def _load_back(fmt: str, path):
    """The artefact loaded with the runtime a user would use, independently of zoo's own check; an ONNX
    model with one output returns that tensor, as the PyTorch runtimes do."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

        def run(*xs):
            feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs, strict=True)}
            outputs = [torch.from_numpy(o) for o in session.run(None, feeds)]
            return outputs[0] if len(outputs) == 1 else outputs

        return run
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated
            return torch.jit.load(str(path))
    with open(path, "rb") as f:
        return torch.export.load(f).module()


@pytest.fixture
def load_back():
    return _load_back


def deprecation_said(fmt: str):
    """TorchScript's deprecation is said once by zoo (not by each torch.jit call); other formats say none."""
    return pytest.warns(FutureWarning, match="TorchScript is deprecated") if fmt == "torchscript" else nullcontext()
