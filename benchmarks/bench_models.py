"""A functional zoo.Model against the same network written as an nn.Module, both trained with zoo.fit.

    python benchmarks/bench_models.py [--rounds 7]

Two networks: a tiny MLP (where per-call overhead shows most) and the video-QA head (LSTM over frame
features, Embedding + LSTM over the question, concatenate, Dense softmax). For each: forward time and one
epoch of ``model.fit`` vs ``zoo.fit(module)``, interleaved (A B A B), ratios per round, median (min-max)
and the load average. The functional models are built inside a function, as the README advises.
"""

from __future__ import annotations

import argparse

import torch
from measure import paired_ratio, report_load, time_cases
from torch import nn

import zoo
from zoo.layers import LSTM, Dense, Embedding, concatenate


class HandMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.d1 = Dense(64, activation="relu", input_dim=32)
        self.d2 = Dense(64, activation="relu", input_dim=64)
        self.d3 = Dense(10, input_dim=64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.d3(self.d2(self.d1(x)))


def functional_mlp(hand: HandMLP) -> zoo.Model:
    inp = zoo.Input((32,))
    return zoo.Model(inp, hand.d3(hand.d2(hand.d1(inp))))  # the same layers: same weights, same work


class HandQA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.video_lstm = LSTM(32)
        self.embedding = Embedding(100, 16, mask_zero=True)
        self.question_lstm = LSTM(16)
        self.head = Dense(5, activation="softmax", input_dim=48)

    def forward(self, frames: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        v = self.video_lstm(frames)
        q = self.question_lstm(self.embedding(question))
        return self.head(torch.cat([v, q], -1))


def functional_qa(hand: HandQA) -> zoo.Model:
    frames, question = zoo.Input((8, 64)), zoo.Input((10,), dtype="int64")
    v = hand.video_lstm(frames)
    q = hand.question_lstm(hand.embedding(question))
    return zoo.Model([frames, question], hand.head(concatenate([v, q])))


def _measure(name, module, model, batch, fx_, fy, loss, rounds: int) -> None:  # noqa: ANN001
    model.compile(optimizer="sgd", loss=loss)

    def forward(m=module) -> None:
        with torch.no_grad():
            m(*batch)

    def forward_functional(m=model) -> None:
        with torch.no_grad():
            m(*batch)

    t = time_cases({"functional": forward_functional, "module": forward}, rounds=rounds, inner=200)
    f = time_cases(
        {
            "functional": lambda m=model: m.fit(fx_, fy, epochs=1, batch_size=32, verbose=0),
            "module": lambda m=module: zoo.fit(m, fx_, fy, optimizer="sgd", loss=loss, epochs=1,
                                               batch_size=32, verbose=0),
        },
        rounds=rounds,
    )
    print(f"{name:<15} {paired_ratio(t['functional'], t['module']).show('.3f', 'x'):<32} "
          f"{paired_ratio(f['functional'], f['module']).show('.3f', 'x')}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    report_load("start")
    x = torch.randn(512, 32)
    y = torch.randint(0, 10, (512,))
    frames, questions = torch.randn(256, 8, 64), torch.randint(1, 100, (256, 10))
    answers = torch.randint(0, 5, (256,))
    cases = []
    hand = HandMLP()
    cases.append(("tiny MLP", hand, functional_mlp(hand), (x[:32],), x, y,
                  {"name": "sparse_categorical_crossentropy", "from_logits": True}))  # fmt: skip
    hand_qa = HandQA()
    cases.append(("video-QA head", hand_qa, functional_qa(hand_qa), (frames[:32], questions[:32]),
                  (frames, questions), answers, "sparse_categorical_crossentropy"))  # fmt: skip
    print(f"{'network':<15} {'forward (functional / module)':<32} fit 1 epoch (functional / module)")
    for case in cases:
        _measure(*case, rounds=args.rounds)
    report_load("end")


if __name__ == "__main__":
    main()
