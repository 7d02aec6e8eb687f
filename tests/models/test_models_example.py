"""examples/keras_api.py runs: the three styles and the slides' video-QA model, frozen CNN included."""

import importlib.util
from pathlib import Path

import torch


def _example():
    path = Path(__file__).parents[2] / "examples" / "keras_api.py"
    spec = importlib.util.spec_from_file_location("keras_api", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keras_api_example_trains_every_style_and_keeps_the_cnn_frozen():
    example = _example()
    model = example.video_qa()
    time_distributed = next(m for m in model.modules() if type(m).__name__ == "TimeDistributed")
    cnn = next(time_distributed.children())
    assert cnn.trainable is False
    before = {k: v.clone() for k, v in cnn.state_dict().items()}
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    videos, questions = torch.randn(4, 2, 3, 32, 32), torch.randint(0, 100, (4, 10))
    model.fit((videos, questions), torch.randint(0, 5, (4,)), epochs=1, batch_size=2, verbose=0)
    assert all(torch.equal(before[k], v) for k, v in cnn.state_dict().items())
    results = example.main(epochs=1, samples=4)
    assert set(results) == {"sequential", "functional", "subclass", "video_qa"}
