"""Every file that is not usable weights is a WeightsFileError saying what the file is; an unverified
download that is not weights leaves the cache; nothing suggests weights_only=False; nothing is unpickled."""

from __future__ import annotations

import json
import os
import pickle
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import zoo
from zoo.applications.loading import WeightsFileError, load_state_dict


class _Exploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    """A small torch.save'd state dict and the same as safetensors (the bytes the fuzzers mutate)."""
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("real")
    torch.manual_seed(0)
    state = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2)).state_dict()
    torch.save(state, folder / "net.pth")
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "net.safetensors"))
    return {"pth": (folder / "net.pth").read_bytes(), "safetensors": (folder / "net.safetensors").read_bytes()}


def refusal(path) -> str:
    with pytest.raises(WeightsFileError) as info:
        load_state_dict(path)
    text = str(info.value)
    assert str(path) in text and "weights_only" not in text
    return text


HTML = b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>try later</body></html>"


@pytest.mark.parametrize(
    "name, data, said",
    [
        ("empty.pth", b"", "empty (0 bytes)"),
        ("notes.pth", b"hello\nthese are not weights\n", "a text file"),
        ("page.pth", HTML, "an HTML page titled 'Service Unavailable'"),
        ("error.pth", json.dumps({"error": "quota exceeded"}).encode(), "a JSON document"),
        ("s3.pth", b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "an XML document"),
        ("noise.pth", bytes(range(256)) * 8, "neither a torch file nor safetensors"),
        ("plain.pkl", pickle.dumps({"weight": [1.0, 2.0]}), "a plain Python pickle"),
        ("bad.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", "safetensors"),
    ],
)
def test_non_weights_files_say_what_they_are(tmp_path, name, data, said):
    path = tmp_path / name
    path.write_bytes(data)
    assert said in refusal(path)


def test_a_file_that_is_not_weights_is_a_data_error_like_the_other_readers(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not weights")
    with pytest.raises(zoo.DataError, match="notes.pth"):
        load_state_dict(path)


def test_truncated_zip_and_foreign_zip(tmp_path, real_files):
    cut = tmp_path / "cut.pth"
    cut.write_bytes(real_files["pth"][: len(real_files["pth"]) // 2])
    assert "truncated or damaged zip" in refusal(cut)
    other = tmp_path / "other.pth"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hi")
    assert "zip archive that torch did not write" in refusal(other)


def test_code_running_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    for name, save in (("evil.pth", torch.save), ("evil.pkl", None)):
        path = tmp_path / name
        if save:
            save({"w": torch.zeros(1), "x": _Exploit(marker)}, path)
        else:
            path.write_bytes(pickle.dumps(_Exploit(marker)))
        assert "would run code when loaded (it calls posix.system" in refusal(path).replace("nt.system", "posix.system")
    assert not marker.exists()


def test_whole_pickled_module_and_other_objects(tmp_path):
    import numpy as np

    torch.save(nn.Linear(2, 2), tmp_path / "model.pt")
    assert "a whole pickled model (torch.save(model))" in refusal(tmp_path / "model.pt")
    torch.save({"w": np.zeros(3)}, tmp_path / "numpy.pt")
    assert "Python objects other than tensors (numpy" in refusal(tmp_path / "numpy.pt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    assert "a single tensor of shape (3,)" in refusal(tmp_path / "tensor.pt")


def test_weights_given_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(WeightsFileError, match="is a folder, not a weights file"):
        zoo.load("resnet18", weights=tmp_path)


def test_zoo_load_of_a_text_file_is_a_weights_file_error(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_text("not weights")
    with pytest.raises(WeightsFileError, match="a text file"):
        zoo.load("resnet18", weights=path)


def test_a_half_precision_file_loads_into_the_models_dtype_and_an_integer_one_is_refused(tmp_path):
    """``assign=True`` keeps the file's dtype: without the cast a float16 checkpoint made a float16 model
    that failed at its first float32 image (torchvision's ``load_state_dict`` copy converts)."""
    reference = zoo.load("squeezenet1_1", weights=None)
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in reference.state_dict().items()},
               tmp_path / "half.pth")  # fmt: skip
    model = zoo.load("squeezenet1_1", weights=tmp_path / "half.pth")
    assert {p.dtype for p in model.state_dict().values()} == {torch.float32}
    for key, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, reference.state_dict()[key].half().float())
    assert model(torch.zeros(1, 3, 64, 64)).dtype == torch.float32
    state = dict(reference.state_dict())
    first = next(iter(state))
    state[first] = state[first].to(torch.int64)
    torch.save(state, tmp_path / "int.pth")
    with pytest.raises(WeightsFileError, match=f"holds? {first} as torch.int64, where the model keeps torch.float32"):
        zoo.load("squeezenet1_1", weights=tmp_path / "int.pth")


def test_an_unverified_html_download_is_removed_from_the_cache(tmp_path, httpserver):
    httpserver.expect_request("/models/custom.pth").respond_with_data(HTML, content_type="text/html")
    url = httpserver.url_for("/models/custom.pth")
    for attempt in (1, 2):
        with pytest.raises(WeightsFileError) as info:
            zoo.load("resnet18", weights=url, progress=False)
        text = str(info.value)
        assert "an HTML page titled 'Service Unavailable'" in text and url in text
        assert "removed from the zoo cache" in text and "weights_only" not in text
        assert zoo.hub.cached_path(url) is None
        assert len(httpserver.log) == attempt  # fetched again, not reused from the cache


def test_a_verified_download_that_is_not_weights_stays(tmp_path, httpserver):
    import hashlib

    httpserver.expect_request("/models/notes.pth").respond_with_data(b"plain text")
    url = httpserver.url_for("/models/notes.pth")
    with pytest.raises(WeightsFileError) as info:
        zoo.load("resnet18", weights=url, sha256=hashlib.sha256(b"plain text").hexdigest(), progress=False)
    assert "removed" not in str(info.value)  # the hash says these are the bytes meant: keep them
    assert "'zoo cache verify --fix' finds and removes them" in str(info.value)  # unless damaged since
    assert zoo.hub.cached_path(url, sha256=hashlib.sha256(b"plain text").hexdigest()) is not None


def _only_weights_errors(path) -> None:
    try:
        state = load_state_dict(path)
    except WeightsFileError as exc:
        assert "weights_only" not in str(exc)
    else:
        assert all(isinstance(v, torch.Tensor) for v in state.values())


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".pth", ".bin", ".safetensors"]))
def test_fuzz_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    _only_weights_errors(path)


@FUZZ
@given(
    kind=st.sampled_from(["pth", "safetensors"]),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=4),
)
def test_fuzz_mutated_real_files(tmp_path, real_files, kind, cut, flips):
    data = bytearray(real_files[kind])
    for where, xor in flips:
        data[int(where * (len(data) - 1))] ^= xor
    data = data[: max(0, int(cut * len(data)) if cut < 0.9 else len(data))]
    path = tmp_path / f"mutated.{kind}"
    path.write_bytes(bytes(data))
    _only_weights_errors(path)
