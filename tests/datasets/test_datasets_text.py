"""imdb and reuters: Keras' options on miniature data, expectations written by hand from Keras' algorithm.

The miniature labels are unique, so each sequence is found again after the shuffle; the order itself is
checked against ``RandomState(seed)`` shuffling ``arange(n)`` (train, then test, from one generator), as
Keras does.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import zoo
import zoo.datasets
from zoo.datasets.formats import FormatError

# Raw reviews are word ranks before ``index_from``; the labels double as identities.
IMDB_TRAIN = [[1, 2, 3], [4, 1], [2, 2, 5, 6]]
IMDB_TRAIN_LABELS = [0, 1, 2]
IMDB_TEST = [[1, 7], [3]]
IMDB_TEST_LABELS = [20, 21]
REUTERS_X = [[1, 2], [3, 4, 5], [6], [2, 2, 2, 2], [7, 1]]
REUTERS_Y = [0, 1, 2, 3, 4]


@pytest.fixture
def mini_imdb(fmt):
    data = fmt.npz(
        x_train=fmt.object_array(IMDB_TRAIN),
        y_train=np.array(IMDB_TRAIN_LABELS),
        x_test=fmt.object_array(IMDB_TEST),
        y_test=np.array(IMDB_TEST_LABELS),
    )
    index = json.dumps({"the": 1, "and": 2, "a": 3, "of": 4, "film": 5, "good": 6, "bad": 7}).encode()
    return {"data": data, "word_index": index}


@pytest.fixture
def mini_reuters(fmt):
    data = fmt.npz(x=fmt.object_array(REUTERS_X), y=np.array(REUTERS_Y))
    return {"data": data, "word_index": json.dumps({"the": 1, "of": 2, "said": 3}).encode()}


def keras_order(seed: int, *sizes: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    out = []
    for n in sizes:
        indices = np.arange(n)
        rng.shuffle(indices)
        out.append(indices)
    return out


def by_label(x, y) -> dict[int, list[int]]:
    assert isinstance(x, list) and all(isinstance(s, list) for s in x)
    return dict(zip(y.tolist(), x, strict=True))


def test_imdb_defaults(serve, mini_imdb):
    serve("imdb", mini_imdb)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("imdb")
    # start_char=1, index_from=3; num_words=None keeps words < the largest index (10), so 10 -> oov 2.
    assert by_label(x_train, y_train) == {0: [1, 4, 5, 6], 1: [1, 7, 4], 2: [1, 5, 5, 8, 9]}
    assert by_label(x_test, y_test) == {20: [1, 4, 2], 21: [1, 6]}
    train_order, test_order = keras_order(113, 3, 2)
    assert y_train.tolist() == [IMDB_TRAIN_LABELS[i] for i in train_order]
    assert y_test.tolist() == [IMDB_TEST_LABELS[i] for i in test_order]
    assert y_train.dtype == torch.int64


def test_imdb_num_words_and_skip_top(serve, mini_imdb):
    serve("imdb", mini_imdb)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("imdb", num_words=7, skip_top=5)
    # kept: 5 <= w < 7; everything else (start_char 1 included) becomes oov_char 2
    assert by_label(x_train, y_train) == {0: [2, 2, 5, 6], 1: [2, 2, 2], 2: [2, 5, 5, 2, 2]}
    assert by_label(x_test, y_test) == {20: [2, 2, 2], 21: [2, 6]}


def test_imdb_maxlen_drops_long_sequences(serve, mini_imdb):
    serve("imdb", mini_imdb)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("imdb", maxlen=4)
    # Keras keeps len(x) < maxlen (after start_char); the others go, labels with them.
    assert by_label(x_train, y_train) == {1: [1, 7, 4]}
    assert by_label(x_test, y_test) == {20: [1, 4, 2], 21: [1, 6]}
    with pytest.raises(ValueError, match="Increase maxlen"):
        zoo.datasets.load("imdb", maxlen=2)


def test_imdb_no_start_char_custom_index_and_oov_dropped(serve, mini_imdb):
    serve("imdb", mini_imdb)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load(
        "imdb", start_char=None, index_from=0, oov_char=None, num_words=5
    )
    assert by_label(x_train, y_train) == {0: [1, 2, 3], 1: [4, 1], 2: [2, 2]}
    assert by_label(x_test, y_test) == {20: [1], 21: [3]}
    (x_train, y_train), _ = zoo.datasets.load("imdb", start_char=9, oov_char=8, index_from=1, num_words=5)
    assert by_label(x_train, y_train) == {0: [8, 2, 3, 4], 1: [8, 8, 2], 2: [8, 3, 3, 8, 8]}


def test_imdb_seed_changes_order_only(serve, mini_imdb):
    serve("imdb", mini_imdb)
    (x_a, y_a), _ = zoo.datasets.load("imdb", seed=1)
    (x_b, y_b), _ = zoo.datasets.load("imdb", seed=113)
    assert by_label(x_a, y_a) == by_label(x_b, y_b)
    assert y_a.tolist() == [IMDB_TRAIN_LABELS[i] for i in keras_order(1, 3)[0]]


def test_imdb_as_dataset_and_padding(serve, mini_imdb):
    serve("imdb", mini_imdb)
    train, _ = zoo.datasets.load("imdb", as_dataset=True)
    x, y = train[0]
    assert x.dtype == torch.int64 and x.ndim == 1
    loader = torch.utils.data.DataLoader(train, batch_size=3, collate_fn=zoo.datasets.pad_collate)
    batch, labels = next(iter(loader))
    assert batch.shape == (3, 5) and labels.shape == (3,)
    lengths = {0: 4, 1: 3, 2: 5}
    for row, label in zip(batch.tolist(), labels.tolist(), strict=True):
        assert row[: 5 - lengths[label]] == [0] * (5 - lengths[label])  # padded at the front, as Keras


def test_reuters_defaults_and_split(serve, mini_reuters):
    serve("reuters", mini_reuters)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("reuters")
    expected = {0: [1, 4, 5], 1: [1, 6, 7, 8], 2: [1, 9], 3: [1, 5, 5, 5, 5], 4: [1, 2, 4]}
    order = keras_order(113, 5)[0]
    assert y_train.tolist() == [REUTERS_Y[i] for i in order[:4]]  # int(5 * 0.8) = 4 train
    assert y_test.tolist() == [REUTERS_Y[i] for i in order[4:]]
    assert {**by_label(x_train, y_train), **by_label(x_test, y_test)} == expected


def test_reuters_maxlen_and_test_split(serve, mini_reuters):
    serve("reuters", mini_reuters)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("reuters", maxlen=4, test_split=0.5)
    kept = {0: [1, 4, 5], 2: [1, 9], 4: [1, 2, 4]}
    assert len(x_train) == 1 and len(x_test) == 2  # int(3 * 0.5) = 1
    assert {**by_label(x_train, y_train), **by_label(x_test, y_test)} == kept
    with pytest.raises(ValueError, match="test_split"):
        zoo.datasets.load("reuters", test_split=1.5)


def test_word_index(serve, mini_imdb, mini_reuters, requests_seen, monkeypatch):
    serve("imdb", mini_imdb)
    serve("reuters", mini_reuters)
    index = zoo.datasets.get_word_index("imdb")
    assert index["film"] == 5 and len(index) == 7
    assert zoo.datasets.get_word_index("Reuters")["said"] == 3
    first = zoo.datasets.load("imdb")
    seen = requests_seen()
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # md5-verified once, then read without asking the network
    assert zoo.datasets.get_word_index("imdb") == index
    assert zoo.datasets.load("imdb")[0][0] == first[0][0]
    assert requests_seen() == seen == 3
    with pytest.raises(zoo.ZooError, match="no word index"):
        zoo.datasets.get_word_index("mnist")


def test_word_index_with_wrong_md5_is_rejected_and_evicted(serve, mini_imdb, monkeypatch):
    specs = serve("imdb", mini_imdb)
    monkeypatch.setitem(specs["word_index"], "md5", "0" * 32)
    with pytest.raises(zoo.IntegrityError, match="md5"):
        zoo.datasets.get_word_index("imdb")
    assert zoo.hub.cached_path(specs["word_index"]["url"]) is None


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def _npy_with_pickle(payload: bytes, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def test_malicious_pickle_in_npz_is_refused(serve, tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Exploit(str(marker))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x.npy", _npy_with_pickle(pickle.dumps(evil, protocol=4), (1,)))
        zf.writestr("y.npy", _npy_with_pickle(pickle.dumps(np.array([0])), (1,)))
    serve("reuters", {"data": buf.getvalue()})
    with pytest.raises(FormatError, match=r"refusing to unpickle (posix|os)\.makedirs"):
        zoo.datasets.load("reuters")
    assert not marker.exists()


def test_keras_object_arrays_still_load_through_the_restricted_unpickler(tmp_path):
    from zoo.datasets.formats import load_npz

    path = tmp_path / "seq.npz"
    seqs = np.empty(2, dtype=object)
    seqs[0], seqs[1] = [1, 2, 3], [4]
    np.savez(path, x=seqs, y=np.array([1, 0]))
    arrays = load_npz(path)
    assert arrays["x"].tolist() == [[1, 2, 3], [4]] and arrays["y"].tolist() == [1, 0]

    # Files written by other numpy/Python versions: every pickle protocol, numpy < 2's module spelling.
    for protocol in (2, 3, 4, 5):
        stream = pickle.dumps(seqs, protocol=protocol)
        if protocol == 2:  # GLOBAL opcodes name modules in plain text, so the old spelling can be swapped in
            stream = stream.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("x.npy", _npy_with_pickle(stream, (2,)))
        assert load_npz(path)["x"].tolist() == [[1, 2, 3], [4]]
