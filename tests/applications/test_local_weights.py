"""preprocessing= for weights files and URLs, and model.zoo for a local file: weights = the tag asked for or
None, sha256 = the file's digest (hashed once per file version) — the same for built-in and timm models."""

from __future__ import annotations

import hashlib

import pytest
import torch
import torchvision

import zoo
from zoo.applications import local_weights, table


@pytest.fixture(scope="module")
def resnet50_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("local") / "my-resnet50.pth"
    with torch.device("meta"):
        shapes = torchvision.models.resnet50().state_dict()
    torch.save({k: torch.zeros(v.shape, dtype=v.dtype) for k, v in shapes.items()}, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_local_file_records_its_digest_and_no_tag(resnet50_file):
    path, digest = resnet50_file
    model = zoo.load("resnet50", weights=path)
    assert model.zoo.weights is None and model.zoo.sha256 == digest and model.zoo.source == str(path)
    default = table.architecture("resnet50")["default_weights"]
    assert model.zoo.preprocessing == table.architecture("resnet50")["weights"][default]["preprocessing"]


def test_preprocessing_tag_and_dict(resnet50_file):
    path, _ = resnet50_file
    v1 = zoo.load("resnet50", weights=path, preprocessing="IMAGENET1K_V1")
    assert v1.zoo.weights == "IMAGENET1K_V1" and v1.zoo.preprocessing["resize"] == 256
    v2 = zoo.load("resnet50", weights=path, preprocessing="ResNet50_Weights.IMAGENET1K_V2")
    assert v2.zoo.weights == "IMAGENET1K_V2" and v2.zoo.preprocessing["resize"] == 232
    custom = zoo.load("resnet50", weights=path, preprocessing={"resize": 300, "crop": 288})
    assert custom.zoo.weights is None
    assert (custom.zoo.preprocessing["resize"], custom.zoo.preprocessing["crop"]) == (300, 288)
    assert custom.zoo.transforms()(torch.zeros(3, 400, 500, dtype=torch.uint8)).shape == (3, 288, 288)


@pytest.mark.parametrize(
    "bad, error",
    [("IMAGENET9K", "no weights variant 'IMAGENET9K'.*IMAGENET1K_V1"), ({"crop": 0}, "'crop' must be a positive int"),
     ({"size": 3}, "unknown preprocessing keys"), (3, "variant tag or a dict"), ({"std": [0, 1, 1]}, "positive")],
)  # fmt: skip
def test_bad_preprocessing_says_what_is_wrong(resnet50_file, bad, error):
    path, _ = resnet50_file
    with pytest.raises((ValueError, TypeError), match=error):
        zoo.load("resnet50", weights=path, preprocessing=bad)


def test_a_given_sha256_is_checked_against_the_local_file(resnet50_file):
    path, digest = resnet50_file
    assert zoo.load("resnet50", weights=path, sha256=digest[:10]).zoo.sha256 == digest
    with pytest.raises(zoo.IntegrityError, match="not the file meant"):
        zoo.load("resnet50", weights=path, sha256="0" * 64)


def test_the_digest_is_hashed_once_per_file_version(tmp_path, monkeypatch):
    import zoo.hub.hashes

    path = tmp_path / "w.pth"
    path.write_bytes(b"version 1")
    calls = []
    real = zoo.hub.hashes.hash_file
    monkeypatch.setattr(zoo.hub.hashes, "hash_file", lambda p, a="sha256": calls.append(p) or real(p, a))
    first = local_weights.file_sha256(path)
    assert local_weights.file_sha256(path) == first == hashlib.sha256(b"version 1").hexdigest()
    assert len(calls) == 1
    path.write_bytes(b"version 2, longer")
    assert local_weights.file_sha256(path) == hashlib.sha256(b"version 2, longer").hexdigest()
    assert len(calls) == 2
