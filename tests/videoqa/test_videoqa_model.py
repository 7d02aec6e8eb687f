"""The video_qa application: the Keras reference on inception_v3, and toy_cnn transfer pieces."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
import torch
from zoo_videoqa.model import VideoQA, video_tensor

import zoo


def test_reference_inception_v3_builds_runs_and_trains_one_step():
    """zoo.load("video_qa", backbone="inception_v3") is the Keras reference; weights=None needs no network."""
    torch.manual_seed(0)
    model = zoo.load("video_qa", backbone="inception_v3", backbone_weights=None,
                     question_vocab_size=50, num_answers=7)  # fmt: skip
    assert isinstance(model, VideoQA) and model.config["frame_size"] == 150
    head = model.head
    assert head.video_lstm.units == 256 and head.video_lstm.rnn.input_size == 2048  # InceptionV3 avg pool
    assert head.embedding.output_dim == 256 and head.embedding.mask_zero
    assert head.question_lstm.units == 128 and head.hidden.units == 128 and head.answer.units == 7
    backbone = model.encoder.backbone
    normalise = model.encoder.frames.layer[0]  # the backbone's own preprocessing (ImageNet mean/std)
    torch.testing.assert_close(normalise.mean.flatten(), torch.tensor(backbone.zoo.preprocessing["mean"]))
    assert not any(p.requires_grad for p in backbone.parameters())  # frozen, as cnn.trainable = False

    video = torch.rand(2, 2, 3, 150, 150)  # batch 2, T=2 frames of 150x150
    question = torch.tensor([[0, 0, 3, 4, 5], [0, 6, 7, 8, 9]])
    model.train()
    assert not any(m.training for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    probs = model(video, question)
    assert probs.shape == (2, 7)
    torch.testing.assert_close(probs.sum(1), torch.ones(2))  # softmax output, as the reference

    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = zoo.fit(
        model, (video, question), torch.eye(7)[[1, 2]], optimizer="adam", loss="categorical_crossentropy",
        epochs=1, batch_size=2, verbose=0,
    )  # fmt: skip
    assert len(history.history["loss"]) == 1
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("head.") for k in changed)  # only the head learned


def test_head_on_cached_features_equals_the_full_model():
    torch.manual_seed(0)
    model = zoo.load("video_qa", backbone="toy_cnn", backbone_weights="toy_shapes",
                     question_vocab_size=20, num_answers=5, frame_size=32)  # fmt: skip
    model.eval()
    clips = zoo.get("datasets", "toy_video_qa", "train", clips=3, frames=4)
    video = video_tensor(torch.stack([torch.from_numpy(clips.clip(i)) for i in range(3)]))
    question = torch.tensor([[0, 2, 3], [4, 5, 6], [0, 0, 7]])
    with torch.no_grad():
        full = model(video, question)
        features = model.encoder(video)
        assert features.shape == (3, 4, 32)
        torch.testing.assert_close(model.head(features, question), full)


def test_toy_cnn_loads_packaged_weights_with_keras_semantics():
    info = zoo.info("toy_cnn", "applications")
    assert info["weights"]["toy_shapes"]["size"] <= 2 * 1024 * 1024
    top = zoo.load("toy_cnn")
    assert top.zoo.weights == "toy_shapes" and len(top.zoo.categories) == 15
    assert top.zoo.sha256 == info["weights"]["toy_shapes"]["sha256"]
    x = torch.rand(2, 3, 32, 32)
    assert top(x).shape == (2, 15)
    (best,) = top.zoo.decode_predictions(torch.eye(15)[[4]], top=1)[0]
    assert best[1] == "green square"
    assert zoo.load("toy_cnn", include_top=False)(x).shape == (2, 32, 4, 4)
    pooled = zoo.load("toy_cnn", include_top=False, pooling="avg", trainable=False)
    assert pooled(x).shape == (2, 32)
    pooled.train()
    assert not any(p.requires_grad for p in pooled.parameters())
    assert not any(m.training for m in pooled.modules() if isinstance(m, torch.nn.BatchNorm2d))
    fresh = zoo.load("toy_cnn", num_classes=4)
    assert fresh(x).shape == (2, 4)
    torch.testing.assert_close(fresh.features[0][0].weight, top.features[0][0].weight)
    random = zoo.load("toy_cnn", weights=None)
    assert random.zoo.weights is None and not torch.equal(random.features[0][0].weight, top.features[0][0].weight)


def test_toy_cnn_ends_like_the_builtin_applications():
    """zoo.applications.finish: eval mode, a new head left trainable when the rest is frozen, the options
    checked up front, the input-size check."""
    assert not zoo.load("toy_cnn").training
    frozen = zoo.load("toy_cnn", num_classes=4, trainable=False)
    trainable = {name for name, p in frozen.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.weight", "classifier.bias"}
    assert frozen.zoo.dropped_keys == ["classifier.weight", "classifier.bias"]
    with pytest.raises(ValueError, match="pooling applies to the feature extractor only"):
        zoo.load("toy_cnn", pooling="avg")
    with pytest.raises(ValueError, match="toy_cnn"):
        zoo.load("toy_cnn")(torch.rand(1, 3, 4, 4))


def test_toy_cnn_pretrained_recognises_toy_frames():
    """The packaged weights really are trained: they classify fresh synthetic frames (seed never used)."""
    from zoo_videoqa.backbone import CATEGORIES
    from zoo_videoqa.toy import SHAPES, render_frames

    images, meta = render_frames(seed=12345, start=0, count=64)
    model = zoo.load("toy_cnn").eval()
    x = model.zoo.transforms()(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    truth = torch.from_numpy(meta["colour"] * len(SHAPES) + meta["shape"])
    assert len(CATEGORIES) == 15 and (predicted == truth).float().mean() > 0.9


def test_damaged_weights_fail_the_hash_check(tmp_path, monkeypatch):
    import zoo_videoqa.backbone as backbone

    copy = tmp_path / "weights"
    shutil.copytree(backbone.WEIGHTS_DIR, copy)
    data = bytearray((copy / "toy_cnn.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "toy_cnn.pt").write_bytes(bytes(data))
    assert hashlib.sha256(data).hexdigest() != backbone.variants()["toy_shapes"]["sha256"]
    monkeypatch.setattr(backbone, "WEIGHTS_DIR", copy)
    with pytest.raises(zoo.IntegrityError, match="toy_cnn.pt has sha256"):
        zoo.load("toy_cnn")


def test_bad_arguments():
    with pytest.raises(zoo.OptionError, match="toy_cnn' has no weights 'nope'.*toy_shapes"):
        zoo.load("toy_cnn", weights="nope")
    with pytest.raises(ValueError, match="positive integer num_answers"):
        zoo.load("video_qa", backbone="toy_cnn", num_answers=0)
    with pytest.raises(ValueError, match=r"\(batch, frames, 3, height, width\)"):
        model = zoo.load("video_qa", backbone="toy_cnn", question_vocab_size=5, num_answers=2)
        model(torch.rand(1, 32, 32, 3), torch.ones(1, 3, dtype=torch.long))


def test_head_adapt_centres_and_scales_with_one_factor():
    from zoo_videoqa.model import VideoQAHead

    head = VideoQAHead(4, 10, 3, video_units=8, embed_dim=8, question_units=8, hidden_units=8)
    assert torch.equal(head.feature_mean, torch.zeros(4)) and float(head.feature_scale) == 1.0  # identity
    rng = np.random.default_rng(0)
    features = (rng.normal(size=(50, 6, 4)) * [1e-3, 2e-3, 1e-3, 1e-3] + [5, -3, 0, 1]).astype(np.float32)
    head.adapt(features, chunk=7)  # streamed in chunks, as from a memory-mapped cache
    normalised = (torch.from_numpy(features) - head.feature_mean) / head.feature_scale
    torch.testing.assert_close(normalised.mean((0, 1)), torch.zeros(4), atol=1e-3, rtol=0)
    assert abs(float(normalised.pow(2).mean()) - 1) < 1e-3  # one common scale ...
    stds = normalised.std((0, 1))
    assert 1.5 < float(stds[1] / stds[0]) < 2.5  # ... so relative spreads are kept
    seen = []
    head.video_lstm.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    head(torch.from_numpy(features[:5]), torch.ones(5, 3, dtype=torch.long))
    torch.testing.assert_close(seen[0], normalised[:5])  # forward feeds the LSTM what adapt set up


def test_checkpoint_of_the_head_loads_and_a_mismatched_one_names_the_file(tmp_path):
    small = dict(backbone="toy_cnn", video_units=8, embed_dim=8, question_units=8, hidden_units=8)
    torch.manual_seed(0)
    trained = zoo.load("video_qa", question_vocab_size=6, num_answers=3, **small)
    torch.save(trained.head.state_dict(), tmp_path / "head.pt")  # what training on cached features saves
    loaded = zoo.load("video_qa", question_vocab_size=6, num_answers=3, weights=tmp_path / "head.pt", **small)
    for key, value in trained.head.state_dict().items():
        torch.testing.assert_close(loaded.head.state_dict()[key], value)
    with pytest.raises(ValueError, match=r"head\.pt does not fit this video_qa model \(question_vocab_size=9"):
        zoo.load("video_qa", question_vocab_size=9, num_answers=3, weights=tmp_path / "head.pt", **small)
