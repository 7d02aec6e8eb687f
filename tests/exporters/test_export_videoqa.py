"""Issue 10: the two-input video-QA model (masked question LSTM included) exports to every format.

zoo.export's own check compares the artefact with PyTorch at batch sizes 1 and 3 on random question ids,
which include 0 (padding) at random places. The artefact is then loaded back and run on questions padded
at the front (Keras' default) and at the back, including an all-padding question.
"""

from __future__ import annotations

import pytest
import torch

import zoo

from .conftest import deprecation_said

VOCAB = 12


@pytest.fixture(scope="module")
def video_qa():
    torch.manual_seed(0)
    model = zoo.load(
        "video_qa", backbone="toy_cnn", question_vocab_size=VOCAB, num_answers=5, frame_size=16,
        video_units=8, embed_dim=8, question_units=8, hidden_units=8, progress=False,
    )  # fmt: skip
    return model.eval()


def _questions(n: int, length: int, padding: str, generator: torch.Generator) -> torch.Tensor:
    lengths = torch.randint(1, length + 1, (n,), generator=generator)
    lengths[0] = 0
    steps = torch.arange(length)
    valid = steps[None] >= (length - lengths)[:, None] if padding == "pre" else steps[None] < lengths[:, None]
    return torch.randint(1, VOCAB, (n, length), generator=generator) * valid


@pytest.mark.filterwarnings(
    "ignore:The tensor attributes:UserWarning",  # nn.LSTM's _flat_weights, under torch.export
    "ignore::torch.jit.TracerWarning",  # shape checks, static here: only the batch axis varies
)
@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "torch_export"])
def test_video_qa_exports_and_matches_on_padded_questions(video_qa, tmp_path, fmt, load_back):
    g = torch.Generator().manual_seed(0)
    video = torch.rand(2, 3, 3, 16, 16, generator=g)  # (N, T=3 frames, RGB, 16, 16)
    question = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 11, 0, 0]])
    with deprecation_said(fmt):
        result = zoo.export(video_qa, fmt, tmp_path, example_input=(video, question))

    assert result.path.is_file() and result.batch_sizes == (1, 3)
    assert result.input_names == ("video", "question")
    assert 0 <= result.max_abs_diff <= result.tolerance

    runner = load_back(fmt, result.path)
    for padding in ("pre", "post"):
        videos, questions = torch.rand(4, 3, 3, 16, 16, generator=g), _questions(4, 6, padding, g)
        with torch.no_grad():
            expected, got = video_qa(videos, questions), runner(videos, questions)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
