"""Keras' three ways to build a model, on zoo: Sequential, the functional API and subclassing, then the
video question-answering model of the slides in the functional API, trained on small random data.

    python examples/keras_api.py

``weights=None`` keeps this offline and fast; use ``weights="imagenet"`` for the real backbone.
"""

from __future__ import annotations

import torch

import zoo
from zoo.layers import LSTM, Dense, Embedding, TimeDistributed, concatenate


def sequential_style() -> zoo.Sequential:
    model = zoo.Sequential()
    model.add(zoo.Input((10,)))
    model.add(Dense(20, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    return model


def functional_style() -> zoo.Model:
    inputs = zoo.Input((10,))
    x = Dense(20, activation="relu")(inputs)
    outputs = Dense(3, activation="softmax")(x)
    return zoo.Model(inputs, outputs)


class SubclassStyle(zoo.Model):
    def __init__(self) -> None:
        super().__init__()
        self.dense1 = Dense(20, activation="relu", input_dim=10)
        self.dense2 = Dense(3, activation="softmax", input_dim=20)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.dense2(self.dense1(inputs))


def video_qa(frames: int | None = None, size: int = 32, words: int = 10, vocabulary: int = 100,
             answers: int = 5) -> zoo.Model:  # fmt: skip
    """The slides' model: a frozen CNN per frame, an LSTM over frames, an Embedding + LSTM over the
    question, concatenated, and a softmax over the answers."""
    video = zoo.Input((frames, 3, size, size))
    cnn = zoo.load("resnet18", weights=None, include_top=False, pooling="avg")
    cnn.trainable = False
    frame_features = TimeDistributed(cnn)(video)
    encoded_video = LSTM(32)(frame_features)
    question = zoo.Input((words,), dtype="int64")
    embedded_words = Embedding(input_dim=vocabulary, output_dim=16, mask_zero=True)(question)
    encoded_question = LSTM(16)(embedded_words)
    x = concatenate([encoded_video, encoded_question])
    outputs = Dense(answers, activation="softmax")(x)
    return zoo.Model([video, question], outputs)


def main(epochs: int = 2, samples: int = 16) -> dict[str, float]:
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    results = {}
    for name, model in [("sequential", sequential_style()), ("functional", functional_style()),
                        ("subclass", SubclassStyle())]:  # fmt: skip
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
        results[name] = model.evaluate(x, y, verbose=0)[1]

    model = video_qa()
    model.summary()
    videos = torch.randn(samples, 4, 3, 32, 32)
    questions = torch.randint(1, 100, (samples, 10))
    questions[:, :3] = 0  # padding, masked by Embedding(mask_zero=True)
    answers = torch.randint(0, 5, (samples,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit((videos, questions), answers, epochs=epochs, batch_size=8, verbose=0)
    results["video_qa"] = model.evaluate((videos, questions), answers, verbose=0)[1]
    print(results)
    return results


if __name__ == "__main__":
    main()
