"""Weights served over HTTP load through zoo's cache into timm's architecture and match timm's own
loading of the same file; keras.applications options on timm models."""

from __future__ import annotations

import hashlib

import pytest
import torch

import zoo
from zoo.errors import OfflineError


def _timm_reference(files, path):
    import timm

    model = timm.create_model(f"{files.arch}.{files.tag}", pretrained=True,
                              pretrained_cfg_overlay={"file": str(path)})  # fmt: skip
    return model.eval()


def assert_same_model(model, reference, x):
    """Bit-identical tensors, and the same outputs up to float rounding (the kernels may differ in the
    last bit for tensors at other memory addresses, e.g. memory-mapped ones)."""
    ours, theirs = model.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=1e-5, atol=1e-6)


def _image(size: int = 64) -> torch.Tensor:
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))


def test_served_safetensors_load_through_cache_like_timm(
    timm_files, serve, local_catalogue, httpserver, monkeypatch
):
    from zoo_timm import builder

    on_meta, real = [], builder._load_on_meta
    monkeypatch.setattr(builder, "_load_on_meta", lambda *args: on_meta.append(real(*args)) or on_meta[-1])
    url = serve(timm_files.safetensors, local_catalogue("model.safetensors"))
    model = zoo.load("MobileNet")
    assert on_meta == [model]  # built on the meta device, not the ordinary (random-init) way
    assert not any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    x = _image()
    assert_same_model(model, _timm_reference(timm_files, timm_files.safetensors), x)
    assert model.zoo.sha256 == timm_files.sha256 and model.zoo.source == url
    assert model.zoo.weights == timm_files.tag and len(model.zoo.categories) == 1000
    cached = zoo.hub.cached_path(url, filename=f"{timm_files.arch}.{timm_files.tag}.safetensors")
    assert cached is not None and hashlib.sha256(cached.read_bytes()).hexdigest() == timm_files.sha256
    requests_before = len(httpserver.log)
    again = zoo.load("timm:mobilenetv1_100", weights=timm_files.tag)  # warm cache: no request
    assert len(httpserver.log) == requests_before
    assert_same_model(again, model, x)


def test_missing_safetensors_falls_back_to_pytorch_model_bin(
    timm_files, serve, local_catalogue, monkeypatch, httpserver
):
    httpserver.expect_request(local_catalogue("model.safetensors")).respond_with_data("", status=404)
    serve(timm_files.bin, local_catalogue("pytorch_model.bin"))
    model = zoo.load("mobilenet")
    assert_same_model(model, _timm_reference(timm_files, timm_files.bin), _image())
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # cached now: offline loads open no socket
    assert zoo.load("MobileNet").zoo.source.endswith("pytorch_model.bin")


def test_offline_miss_names_the_download_command(local_catalogue, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(OfflineError, match="zoo download timm:mobilenetv1_100"):
        zoo.load("MobileNet")


def test_weights_from_url_and_local_file(timm_files, serve):
    url = serve(timm_files.safetensors, "/files/mine.safetensors")
    reference = _timm_reference(timm_files, timm_files.safetensors)
    x = _image()
    for weights in (url, str(timm_files.safetensors), str(timm_files.bin)):
        assert_same_model(zoo.load("MobileNet", weights=weights), reference, x)
    import timm  # timm's input-conv adaptation runs in zoo's loading too

    gray = timm.create_model(f"{timm_files.arch}.{timm_files.tag}", pretrained=True, in_chans=1,
                             pretrained_cfg_overlay={"file": str(timm_files.safetensors)}).eval()  # fmt: skip
    ours = zoo.load("MobileNet", weights=str(timm_files.safetensors), in_chans=1)
    assert_same_model(ours, gray, x[:, :1])
    with pytest.raises(ValueError, match="no weights 'nope'.*ra4_e3600_r224_in1k"):
        zoo.load("MobileNet", weights="nope")


def test_a_half_precision_timm_file_loads_in_float32(timm_files, tmp_path):
    from safetensors.torch import load_file, save_file

    state = load_file(timm_files.safetensors)
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, tmp_path / "half.safetensors")
    model = zoo.load("MobileNet", weights=str(tmp_path / "half.safetensors"))
    assert {t.dtype for t in model.state_dict().values() if t.is_floating_point()} == {torch.float32}
    assert model(_image()).dtype == torch.float32


def test_features_pooling_and_new_head(timm_files):
    path = str(timm_files.safetensors)
    x = _image()
    reference = _timm_reference(timm_files, timm_files.safetensors)
    with torch.no_grad():
        fmap = zoo.load("MobileNet", weights=path, include_top=False)
        assert fmap(x).shape == (2, 1024, 2, 2)
        torch.testing.assert_close(fmap(x), reference.forward_features(x), rtol=1e-5, atol=1e-6)
        assert fmap.zoo.dropped_keys == ["classifier.bias", "classifier.weight"]
        avg = zoo.load("MobileNet", weights=path, include_top=False, pooling="avg")
        assert torch.allclose(avg(x), reference.forward_features(x).mean((2, 3)), atol=1e-6)
        assert zoo.load("MobileNet", weights=path, include_top=False, pooling="max")(x).shape == (2, 1024)

    head = zoo.load("MobileNet", weights=path, num_classes=10, trainable=False)
    assert head(x).shape == (2, 10) and head.zoo.categories is None
    assert head.zoo.dropped_keys == ["classifier.weight", "classifier.bias"]
    trainable = [n for n, p in head.named_parameters() if p.requires_grad]
    assert trainable == ["classifier.weight", "classifier.bias"]
    head.train()
    assert not head.bn1.training and head.classifier.training  # frozen BN stays in eval mode
    with torch.no_grad():
        torch.testing.assert_close(
            head.forward_features(x), reference.forward_features(x), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ValueError, match="pooling"):
        zoo.load("MobileNet", weights=None, pooling="avg")


def test_transforms_match_timm(timm_files):
    import numpy as np
    import timm.data
    from PIL import Image

    model = zoo.load("MobileNet", weights=str(timm_files.safetensors))
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8))
    theirs = timm.data.create_transform(**timm.data.resolve_data_config(model=model))
    assert torch.allclose(model.zoo.transforms()(image), theirs(image), atol=1e-6)


def test_ordinary_build_path_and_wrong_files(timm_files, monkeypatch, tmp_path):
    """A model that cannot be built on the meta device is built the ordinary way from the same file; a file
    for another architecture fails with a message naming it."""
    from safetensors.torch import save_file
    from zoo_timm import builder

    from zoo.applications import WeightsFileError

    def unsupported(*args, **kwargs):
        raise builder._MetaBuildUnsupported("forced by the test")

    x = _image()
    reference = _timm_reference(timm_files, timm_files.safetensors)
    wrong = tmp_path / "other.safetensors"
    save_file({"conv_stem.weight": torch.zeros(8, 3, 3, 3)}, str(wrong))
    with monkeypatch.context() as patch:
        patch.setattr(builder, "_load_on_meta", unsupported)
        assert_same_model(zoo.load("MobileNet", weights=str(timm_files.safetensors)), reference, x)
        with pytest.raises(WeightsFileError, match=r"do not fit timm's mobilenetv1_100"):  # the same error
            zoo.load("MobileNet", weights=str(wrong))
    with pytest.raises(WeightsFileError, match=r"do not fit timm's mobilenetv1_100"):
        zoo.load("MobileNet", weights=str(wrong))


def test_timm_models_end_like_the_builtins():
    """Eval mode, freezing, the fixed-size input check and the zoo_model_built hook come from the same
    zoo.applications.finish as torchvision models."""
    seen = []

    class Spy:
        @zoo.hookimpl
        def zoo_model_built(self, model, name, options):
            seen.append((name, options["trainable"], model.zoo.name))

    zoo.plugins.get_plugin_manager().register(Spy(), name="spy")
    torch.manual_seed(0)
    vit = zoo.load("timm:test_vit", weights=None, trainable=False)
    assert not vit.training and not any(p.requires_grad for p in vit.parameters())
    assert vit.zoo.min_size == (160, 160) and vit.zoo.weights is None and vit.zoo.categories is None
    with pytest.raises(ValueError, match="takes 160x160 images only, got 64x64"):
        vit(_image(64))
    cnn = zoo.load("timm:test_resnet", weights=None, include_top=False, pooling="avg")
    assert cnn(_image(64)).shape[0] == 2  # not fixed-size: no input check for a size timm only suggests
    assert seen == [("timm:test_vit", False, "timm:test_vit"), ("timm:test_resnet", True, "timm:test_resnet")]


def test_deferred_loading_defers_only_the_building_threads_calls():
    """While zoo builds a timm model on the meta device, another thread's timm.create_model(pretrained=True)
    must still load its weights, not have them silently recorded and dropped."""
    import threading
    from types import SimpleNamespace

    from zoo_timm.builder import _deferred_timm_loading

    loaded = []
    fake_builder = SimpleNamespace(
        load_pretrained=lambda model, pretrained_cfg=None, num_classes=1000: loaded.append(model)
    )
    calls: list = []
    with _deferred_timm_loading(fake_builder, calls):
        other = threading.Thread(target=fake_builder.load_pretrained, args=("other thread's model",))
        other.start()
        other.join()
        fake_builder.load_pretrained("zoo's model", {"url": "u"}, num_classes=7)
    assert loaded == ["other thread's model"]
    assert calls == [{"pretrained_cfg": {"url": "u"}, "num_classes": 7}]
    assert fake_builder.load_pretrained("after") is None and loaded[-1] == "after"  # restored


def test_local_file_model_zoo_is_like_the_builtins(timm_files):
    """weights = the tag asked for or None, sha256 = the file's digest, as for torchvision models."""
    import hashlib

    path = timm_files.safetensors
    model = zoo.load("MobileNet", weights=str(path))
    assert model.zoo.weights is None and model.zoo.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    tagged = zoo.load("MobileNet", weights=str(path), preprocessing=timm_files.tag)
    assert tagged.zoo.weights == timm_files.tag
    custom = zoo.load("MobileNet", weights=str(path), preprocessing={"crop": 200, "resize": 210})
    assert (custom.zoo.preprocessing["crop"], custom.zoo.preprocessing["resize"]) == (200, 210)
    with pytest.raises(ValueError, match="no weights variant 'nope'"):
        zoo.load("MobileNet", weights=str(path), preprocessing="nope")
