"""``zoo new-plugin``: the package it writes installs into a new venv and passes its own test there (the kit);
``--from DIR`` packages a saved model whose ``zoo.load`` gives outputs identical to the saved one's."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import tomllib
import torch

import zoo
import zoo.plugins
from zoo.cli import main
from zoo.scaffold import new_plugin

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]


def _saved_lenet(tmp_path: Path) -> tuple[Path, Path]:
    """A LeNet-5 with trained-looking (seeded random) weights saved with save_pretrained, and a reference
    (input, output) pair computed from it."""
    torch.manual_seed(0)
    model = zoo.load("lenet5", num_classes=4)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    saved = zoo.save_pretrained(model, tmp_path / "mynet-saved", license="apache-2.0")
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        reference = tmp_path / "reference.pt"
        torch.save({"x": x, "y": model(x)}, reference)
    return saved, reference


def test_generated_packages_install_and_pass_their_own_tests_in_a_new_venv(tmp_path, venvs):
    out = tmp_path / "pkgs"
    kinds = new_plugin("demo", kinds=["applications", "losses", "metrics", "callbacks", "layers", "activations",
                                      "datasets", "optimizers"], output=out)  # fmt: skip
    project = tomllib.loads((kinds / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == [DISTRIBUTION]  # zoo's own distribution, not PyPI's unrelated 'zoo'
    assert project["entry-points"]["zoo"] == {"demo": "zoo_demo.plugin"}
    saved, reference = _saved_lenet(tmp_path)
    packaged = new_plugin("mynet", from_dir=saved, output=out)
    depends = tomllib.loads((packaged / "pyproject.toml").read_text())["project"]["dependencies"]
    assert depends == [DISTRIBUTION, "zoo-surgery"]  # zoo, and the plugin that builds lenet5
    assert (packaged / "zoo_mynet" / "weights" / "mynet.safetensors").read_bytes() == (saved / "model.safetensors").read_bytes()

    env = venvs.new("pytest", "safetensors")  # the generated tests run on pytest; mynet's weights are safetensors
    # zoo and lenet5's plugin (which mynet depends on) from this checkout, the generated packages as wheels,
    # so the weights travel as package data
    installed = env.install(ROOT, ROOT / "plugins" / "zoo-surgery", kinds, packaged, names=["zoo-demo", "zoo-mynet"])
    assert installed == {DISTRIBUTION, "zoo-surgery", "zoo-demo", "zoo-mynet"}
    python = env.python
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "PYTHON"))}
    env.update(ZOO_HOME=str(tmp_path / "zoo_home"), OMP_NUM_THREADS="1")
    run = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                          str(kinds / "tests"), str(packaged / "tests")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, "\n".join(line for line in run.stdout.splitlines() if line.startswith(("E ", "FAILED")))[-4000:]
    assert "3 passed" in run.stdout
    check = textwrap.dedent(f"""
        import importlib.metadata, torch, zoo
        names = {{d.metadata["Name"] for d in importlib.metadata.distributions()}}
        assert "zoo" not in names and "zoo-timm" not in names, names  # nothing foreign, only what was installed
        ref = torch.load({str(reference)!r}, weights_only=True)
        model = zoo.load("mynet")
        assert model.zoo.name == "mynet" and model.zoo.weights == "saved"
        with torch.no_grad():
            assert torch.equal(model(ref["x"]), ref["y"])
            assert torch.equal(zoo.load({str(saved)!r})(ref["x"]), ref["y"])
        print("identical")
    """)  # fmt: skip
    run = subprocess.run([python, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "identical" in run.stdout, run.stderr[-3000:]


def test_from_dir_with_a_url_registers_the_weights_verified_by_sha256(tmp_path, monkeypatch):
    saved, reference = _saved_lenet(tmp_path)
    url = (saved / "model.safetensors").as_uri()
    with pytest.raises(zoo.ZooError, match="is not the sha256 of"):
        new_plugin("urlnet", from_dir=saved, output=tmp_path, weights_url=url, weights_sha256="0" * 64)
    for typo in ("zz", "0" * 63, "g" * 64):  # said "is not the sha256 of the file": it is no sha256 at all
        with pytest.raises(zoo.OptionError, match="is not a sha256: give all 64 hex digits"):
            new_plugin("urlnet", from_dir=saved, output=tmp_path, weights_url=url, weights_sha256=typo)
    with pytest.raises(zoo.ZooError, match="an application 'lenet5' is already registered .surgery:lenet5."):
        new_plugin("lenet5", from_dir=saved, output=tmp_path)
    with pytest.raises(zoo.ZooError, match="more than --embed-max-mb 0.001"):
        new_plugin("urlnet", from_dir=saved, output=tmp_path, embed_max_mb=0.001)
    for limit in (float("nan"), -1, "20", True):  # NaN shipped any size: size > nan is False
        with pytest.raises(zoo.OptionError, match="--embed-max-mb must be a finite number of MB >= 0"):
            new_plugin("urlnet", from_dir=saved, output=tmp_path, embed_max_mb=limit)
    with pytest.raises(zoo.OptionError, match="with --weights-url they are downloaded: give one of them"):
        new_plugin("urlnet", from_dir=saved, output=tmp_path, weights_url=url, embed_max_mb=5)
    with pytest.raises(zoo.OptionError, match="give --from DIR"):  # was ignored without --from
        new_plugin("urlnet", output=tmp_path, embed_max_mb=5)
    assert list(tmp_path.glob("zoo-urlnet*")) == []
    package = new_plugin("urlnet", from_dir=saved, output=tmp_path, weights_url=url)
    assert not (package / "zoo_urlnet" / "weights").exists()  # downloaded, not shipped
    monkeypatch.syspath_prepend(str(package))
    import zoo_urlnet.plugin

    pm = zoo.plugins.create_plugin_manager()  # with zoo-surgery, which builds lenet5
    pm.add_plugin(zoo_urlnet.plugin, "urlnet")
    zoo.plugins.use(pm)
    ref = torch.load(reference, weights_only=True)
    model = zoo.load("urlnet")  # through zoo's cache, checked against the recorded sha256
    with torch.no_grad():
        assert torch.equal(model(ref["x"]), ref["y"])
    assert zoo.load("urlnet", weights=None).zoo.weights is None
    with pytest.raises(zoo.OptionError, match="does not support include_top=False"):
        zoo.load("urlnet", include_top=False)


def test_bad_requests_are_clear_errors(tmp_path, capsys):
    with pytest.raises(zoo.ZooError, match="plugin name 'Bad Name!'"):
        new_plugin("Bad Name!", output=tmp_path)
    with pytest.raises(zoo.UnknownNameError, match="Did you mean losses"):
        new_plugin("x", kinds=["lossess"], output=tmp_path)
    with pytest.raises(zoo.ZooError, match="no template for exporters"):
        new_plugin("x", kinds=["exporters"], output=tmp_path)
    with pytest.raises(zoo.ZooError, match="not a folder zoo.save_pretrained wrote"):
        new_plugin("x", from_dir=tmp_path, output=tmp_path)
    assert main(["new-plugin", "ok", "-o", str(tmp_path)]) == 0
    assert main(["new-plugin", "ok", "-o", str(tmp_path)]) == 1  # exists: no silent overwrite
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "zoo-ok" / "zoo_ok").iterdir()) == [
        "__init__.py", "callbacks.py", "losses.py", "models.py", "plugin.py"]  # the default kinds  # fmt: skip


def test_a_name_given_with_the_zoo_prefix_is_not_doubled(tmp_path):
    root = new_plugin("zoo-myplug", kinds=["losses"], output=tmp_path)
    assert root.name == "zoo-myplug" and (root / "zoo_myplug" / "losses.py").is_file()


def test_a_built_in_plugins_name_is_refused(tmp_path):
    with pytest.raises(zoo.ZooError, match="is a built-in plugin's.*Pick another, e.g. my_training"):
        new_plugin("training", kinds=["losses"], output=tmp_path)
    assert not any(tmp_path.iterdir())
