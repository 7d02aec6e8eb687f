"""pad_sequences, Tokenizer, image loading and augmentation layers, with Keras' semantics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from zoo.preprocessing import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    Rescaling,
    Resizing,
    Tokenizer,
    array_to_img,
    img_to_array,
    load_img,
    pad_sequences,
    text_to_word_sequence,
    tokenizer_from_json,
)


def test_pad_sequences_keras_semantics():
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9], []]
    np.testing.assert_array_equal(
        pad_sequences(seqs), [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9], [0, 0, 0, 0, 0]]
    )
    out = pad_sequences(seqs, maxlen=3, padding="post", truncating="post", value=-1)
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, -1, -1], [5, 6, 7], [-1, -1, -1]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2)[2], [8, 9])  # "pre" cuts the front
    assert pad_sequences(seqs).dtype == np.int32
    floats = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32")
    np.testing.assert_array_equal(floats, [[0.0, 0.5, 1.5]])
    vectors = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vectors.shape == (2, 2, 3) and vectors[1, 0].sum() == 0
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert pad_sequences([[], [5]], value=-1).tolist() == [[-1], [5]]  # an empty sequence is all padding
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="item 1 is 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="cannot hold the padding value"):
        pad_sequences(seqs, value="x")


def test_text_to_word_sequence_and_tokenizer_like_keras():
    assert text_to_word_sequence("Hello, World! hello-again\tnow") == [
        "hello",
        "world",
        "hello",
        "again",
        "now",
    ]
    tok = Tokenizer(num_words=4, oov_token="<unk>")
    texts = ["the cat sat", "the cat ran", "the dog"]
    tok.fit_on_texts(texts)
    # oov is 1, then by count (ties keep first-seen order): the=2, cat=3, sat=4, ran=5, dog=6
    assert tok.word_index == {"<unk>": 1, "the": 2, "cat": 3, "sat": 4, "ran": 5, "dog": 6}
    assert tok.texts_to_sequences(["the cat sat on the dog"]) == [[2, 3, 1, 1, 2, 1]]
    assert tok.sequences_to_texts([[2, 3, 5]]) == ["the cat <unk>"]
    plain = Tokenizer()
    plain.fit_on_texts(texts)
    assert plain.texts_to_sequences(["The CAT flew"]) == [[1, 2]]  # unknown words vanish without oov
    m = plain.texts_to_matrix(["the the cat"], mode="count")
    np.testing.assert_array_equal(m[0, :3], [0, 2, 1])
    tfidf = plain.texts_to_matrix(["the the cat"], mode="tfidf")
    assert tfidf[0, 1] == pytest.approx((1 + np.log(2)) * np.log(1 + 3 / 4))
    ids = Tokenizer(num_words=4)  # Keras' fit_on_sequences: document counts for tfidf without texts
    ids.fit_on_sequences([[1, 1, 2], [1], [3]])
    assert ids.document_count == 3 and dict(ids.index_docs) == {1: 2, 2: 1, 3: 1}
    row = ids.sequences_to_matrix([[1, 1, 3]], mode="tfidf")[0]
    np.testing.assert_allclose(row, [0, (1 + np.log(2)) * np.log(1 + 3 / 3), 0, np.log(1 + 3 / 2)])
    restored = tokenizer_from_json(tok.to_json())
    assert restored.word_index == tok.word_index
    assert restored.texts_to_sequences(["dog sat"]) == tok.texts_to_sequences(["dog sat"])
    with pytest.raises(ValueError, match="call fit_on_texts first"):
        Tokenizer().texts_to_sequences(["a"])
    with pytest.raises(TypeError, match="wrap it in a list"):
        tok.fit_on_texts("one string")


def test_load_img_and_array_round_trip(tmp_path):
    pixels = np.zeros((6, 8, 3), dtype=np.uint8)
    pixels[:, :4, 0] = 255  # left half red
    path = tmp_path / "img.png"
    Image.fromarray(pixels).save(path)
    img = load_img(path)
    arr = img_to_array(img)
    assert arr.shape == (3, 6, 8) and arr.dtype == torch.float32 and arr[0, 0, 0] == 255 and arr[0, 0, 7] == 0
    assert img_to_array(img, data_format="channels_last").shape == (6, 8, 3)
    assert img_to_array(load_img(path, color_mode="grayscale", target_size=(3, 4))).shape == (1, 3, 4)
    square = load_img(path, target_size=(4, 4), keep_aspect_ratio=True)
    assert square.size == (4, 4)
    back = array_to_img(arr, scale=False)
    np.testing.assert_array_equal(np.asarray(back), pixels)
    with pytest.raises(ValueError, match="color_mode"):
        load_img(path, color_mode="cmyk")


def test_augmentation_layers_random_per_image_in_training_only():
    torch.manual_seed(0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(64, 3, 1, 1)
    flip = RandomFlip("horizontal")
    y = flip(x)
    flipped = (y == x.flip(-1)).flatten(1).all(1)
    same = (y == x).flatten(1).all(1)
    assert bool((flipped | same).all()) and 10 < int(flipped.sum()) < 54  # a fresh draw per image
    assert torch.equal(flip.eval()(x), x)
    assert torch.equal(RandomRotation(0.25).eval()(x), x)
    rot = RandomRotation((0.25, 0.25))(x[:1])  # exactly a quarter turn
    torch.testing.assert_close(rot, torch.rot90(x[:1], 1, (-2, -1)))
    crop = RandomCrop(2, 2)
    assert crop(x).shape == (64, 3, 2, 2)
    torch.testing.assert_close(crop.eval()(x), CenterCrop(2, 2)(x))
    torch.testing.assert_close(Rescaling(1 / 255)(x), x / 255)
    assert Resizing(8, 6)(x).shape == (64, 3, 8, 6)
    imgs = torch.rand(8, 3, 5, 5) * 255
    c = RandomContrast(0.5)(imgs)
    ratio = (c - c.mean((-2, -1), keepdim=True)) / (imgs - imgs.mean((-2, -1), keepdim=True))
    assert torch.all((ratio > 0.49) & (ratio < 1.51) | ratio.isnan())
    b = RandomBrightness(0.1)(imgs.clamp(50, 200))
    delta = b - imgs.clamp(50, 200)
    assert (
        torch.allclose(delta, delta[:, :1, :1, :1].expand_as(delta), atol=1e-4)
        and delta.abs().max() <= 25.5 + 1e-4
    )
    with pytest.raises(ValueError, match=r"RandomFlip expects \(C, H, W\) or \(N, C, H, W\).*\(4, 4\)"):
        flip.train()(torch.zeros(4, 4))
    assert isinstance(zoo.get("layers", "random_flip", "vertical"), RandomFlip)
