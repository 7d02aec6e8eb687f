"""Fixtures shared by the whole suite.

Every test runs with its own ``ZOO_HOME`` and torch hub directory, no inherited ``ZOO_*`` settings, and a
fresh process-wide plugin manager, so no test sees another's cache, plugins or environment.
"""

from __future__ import annotations

import functools
import os

import pytest

import zoo.plugins


@pytest.fixture(autouse=True)
def isolated_zoo(tmp_path_factory, monkeypatch):
    for key in list(os.environ):
        if key.startswith("ZOO_"):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("zoo_home")
    monkeypatch.setenv("ZOO_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    zoo.plugins.use(None)
    yield home
    zoo.plugins.use(None)


@pytest.fixture
def serve(httpserver):
    """``serve(path, route) -> URL``: the local server streams the file from disk (the applications and
    datasets tests have their own ``serve``, for their layouts)."""
    from werkzeug.wrappers import Response

    def _serve(path, route: str) -> str:
        def handler(request):
            return Response(path.open("rb"), headers={"Content-Length": str(path.stat().st_size)},
                            mimetype="application/octet-stream", direct_passthrough=True)  # fmt: skip

        httpserver.expect_request(route).respond_with_handler(handler)
        return httpserver.url_for(route)

    return _serve


@pytest.fixture
def fake_hub(httpserver, monkeypatch):
    """A local server answering like the Hugging Face Hub (``HF_ENDPOINT`` points at it): ``HEAD`` on a
    ``resolve`` URL gives ``X-Repo-Commit`` and, for LFS files, ``X-Linked-Etag`` (the sha256) and
    ``X-Linked-Size`` with a redirect to the file's CDN URL; ``GET`` redirects there. Small files are plain
    git files (their ETag a git blob id, not a sha256). Returns ``add(repo, filename, data, lfs=True,
    advertised=None) -> commit``; ``advertised`` is the sha256 the Hub states (default: the true one)."""
    import hashlib

    from werkzeug.wrappers import Response

    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setattr(httpserver, "no_handler_status_code", 404)  # the Hub's answer for what it lacks
    commits: dict[str, str] = {}

    def add(repo: str, filename: str, data: bytes, *, lfs: bool = True, advertised: str | None = None) -> str:
        commit = commits.setdefault(repo, hashlib.sha1(repo.encode()).hexdigest())
        sha256 = advertised or hashlib.sha256(data).hexdigest()
        cdn = f"/cdn/{repo}/{commit}/{filename}"
        if lfs:
            facts = {"X-Repo-Commit": commit, "X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(len(data)),
                     "Location": httpserver.url_for(cdn)}  # fmt: skip
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            facts = {"X-Repo-Commit": commit, "ETag": f'"{blob}"', "Content-Length": str(len(data))}
        for revision in ("main", commit):
            path = f"/{repo}/resolve/{revision}/{filename}"
            httpserver.expect_request(path, method="HEAD").respond_with_response(
                Response(status=302 if lfs else 200, headers=facts)
            )
            if lfs:
                httpserver.expect_request(path, method="GET").respond_with_response(
                    Response(status=302, headers={"Location": httpserver.url_for(cdn)})
                )
            else:
                httpserver.expect_request(path, method="GET").respond_with_data(data)
        httpserver.expect_request(cdn, method="GET").respond_with_data(data)
        return commit

    return add


@functools.cache
def _video_qa_class():
    import torch
    from torch import nn

    from zoo.layers import LSTM, Concatenate, Dense, Embedding, TimeDistributed

    class VideoQA(nn.Module):
        """Two inputs (frames ``(N, T, 3, H, W)``, question token ids ``(N, L)``): a frozen CNN per frame, an
        LSTM over the frames and one over the embedded question, merged into an MLP answer head."""

        def __init__(self) -> None:
            super().__init__()
            cnn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            cnn.requires_grad_(False)
            self.frames = TimeDistributed(cnn)
            self.video = LSTM(8)
            self.embed = Embedding(50, 6, mask_zero=True)
            self.question = LSTM(5)
            self.merge = Concatenate()
            self.hidden = Dense(7, activation=torch.relu)
            self.answer = Dense(3)

        def forward(self, video, question):
            merged = self.merge([self.video(self.frames(video)), self.question(self.embed(question))])
            return self.answer(self.hidden(merged))

    return VideoQA


@pytest.fixture
def video_qa():
    """The video-QA model class (toy size, lazy layers) that the summary and plot_model tests draw; call it
    for a fresh model. Defined here once; importing torch waits until a test asks for it."""
    return _video_qa_class()

