"""Every in-memory dataset ``zoo.datasets.load(..., as_dataset=True)`` returns indexes by one rule: an int
(negative from the end) or a slice; out of range is a DataIndexError (an IndexError, so iteration ends),
anything else an ArgumentError; never torch's own errors or its deprecation warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import zoo
from zoo.datasets import SequenceDataset, TensorPairDataset


def _pairs():
    return TensorPairDataset(torch.arange(10).reshape(5, 2), torch.arange(5) * 10, transform=lambda x: x + 100)


def _sequences():
    return SequenceDataset([[1, 2], [3], [4, 5, 6]], torch.tensor([0, 1, 0]))


@pytest.fixture(params=["pairs", "sequences"])
def dataset(request):
    return _pairs() if request.param == "pairs" else _sequences()


@pytest.fixture(scope="module")
def digits_train():
    pytest.importorskip("sklearn")
    train, _ = zoo.datasets.load("digits", as_dataset=True)
    return train


def test_digits_out_of_range_is_a_data_index_error(digits_train):
    n = len(digits_train)
    with pytest.raises(zoo.DataIndexError, match=rf"index 5000 is out of range for a dataset of {n} items: "
                                                 rf"use 0\.\.{n - 1} \(or -{n}\.\.-1\)"):  # fmt: skip
        digits_train[5000]
    with pytest.raises(zoo.DataIndexError, match=r"index -5000 is out of range"):
        digits_train[-5000]
    with pytest.raises(IndexError):  # still an IndexError, as documented
        digits_train[n]


def test_digits_string_index_is_an_argument_error_without_torch_warnings(digits_train):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's "non-tuple sequence for multidimensional indexing" warning
        with pytest.raises(zoo.ArgumentError, match=r"index of a dataset must be an integer or a slice; got 'a' \(str\)"):
            digits_train["a"]
        with pytest.raises(zoo.ArgumentError, match=r"got \[1, 2\] \(list\)\. For several items .*Subset"):
            digits_train[[1, 2]]
    with pytest.raises(TypeError):  # an ArgumentError is a TypeError, as list["a"] raises
        digits_train["a"]


def test_digits_negative_and_numpy_indices_count_like_a_list(digits_train):
    n = len(digits_train)
    x_last, y_last = digits_train[-1]
    x_again, y_again = digits_train[n - 1]
    assert torch.equal(x_last, x_again) and int(y_last) == int(y_again)
    assert torch.equal(digits_train[np.int64(3)][0], digits_train[3][0])


@pytest.mark.parametrize("index", [5, -6, 99])
def test_out_of_range(dataset, index):
    with pytest.raises(zoo.DataIndexError, match=rf"index {index} is out of range for a dataset of {len(dataset)} items"):
        dataset[index]


@pytest.mark.parametrize(
    "index", ["a", 1.5, None, True, [0, 1], (0,), torch.tensor([1]), torch.tensor(1.0), torch.tensor(True)]
)
def test_anything_but_one_whole_number_is_an_argument_error(dataset, index):
    with pytest.raises(zoo.ArgumentError, match="must be an integer or a slice"):
        dataset[index]


def test_ints_negative_ints_and_scalar_integers(dataset):
    last = len(dataset) - 1
    for index in (-1, np.int64(last), torch.tensor(last)):
        x, y = dataset[index]
        assert torch.equal(x, dataset[last][0]) and int(y) == int(dataset[last][1])
    assert dataset[-len(dataset)][0].tolist() == dataset[0][0].tolist()


def test_a_slice_is_the_list_of_its_items_each_transformed(dataset):
    items = dataset[1:]
    assert isinstance(items, list) and len(items) == len(dataset) - 1
    for got, i in zip(items, range(1, len(dataset)), strict=True):
        assert torch.equal(got[0], dataset[i][0]) and int(got[1]) == int(dataset[i][1])
    assert dataset[::-1][0][0].tolist() == dataset[-1][0].tolist()
    assert dataset[10:20] == []  # bounds past the end are clipped, as for a list


def test_a_slice_transform_sees_single_samples():
    x, y = _pairs()[0:2][1]
    assert x.tolist() == [102, 103] and int(y) == 10  # x[1] + 100, not a batch through the transform


@pytest.mark.parametrize("index", [slice(0, 3, 0), slice("a", None)])
def test_a_bad_slice_is_an_argument_error(dataset, index):
    with pytest.raises(zoo.ArgumentError, match="cannot slice a dataset"):
        dataset[index]


def test_iteration_ends_at_the_last_item(dataset):
    assert len(list(iter(dataset))) == len(dataset)  # the sequence protocol stops at the IndexError


def test_a_dataloader_still_batches(dataset):
    collate = zoo.datasets.pad_collate if isinstance(dataset, SequenceDataset) else None
    batches = list(torch.utils.data.DataLoader(dataset, batch_size=2, collate_fn=collate))
    assert sum(len(b[1]) for b in batches) == len(dataset)


def test_an_empty_dataset_says_it_has_no_items():
    empty = TensorPairDataset(torch.zeros(0, 2), torch.zeros(0))
    with pytest.raises(zoo.DataIndexError, match="index 0 is out of range for a dataset of 0 items: it has no items"):
        empty[0]
