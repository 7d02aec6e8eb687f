"""The files ``zoo new-plugin`` writes, as ``string.Template`` texts (``$name`` placeholders; ``$$`` is a
dollar). One hook and one module per kind; each entry is a working example the kit's checks pass."""

from __future__ import annotations

from string import Template

PYPROJECT = Template('''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$description"
readme = "README.md"
requires-python = ">=3.10"
dependencies = $dependencies

[project.optional-dependencies]
test = ["pytest>=7.4"]

# The plugin's name on the left ($name): it qualifies the entries ($name:ENTRY) and is what
# ZOO_LOAD_PLUGINS / ZOO_DISABLE_PLUGINS name. The value is the module holding the hooks.
[project.entry-points.zoo]
$name = "$package.plugin"

[tool.setuptools.packages.find]
include = ["$package*"]

[tool.setuptools.package-data]
"$package" = ["weights/*"]
''')

PLUGIN_HEAD = Template('''"""The hooks of the $name plugin. No torch import here: every target is a lazy "module:attr" string,
imported only when the entry is used (zoo list and zoo info never import it)."""

import zoo
''')

INIT = Template('''"""$description"""
''')

TEST = Template('''"""The plugin's own CI: zoo's plugin kit checks every entry as zoo's users will use it (pytest finds the
check_plugin fixture through zoo's pytest11 entry point)."""


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("$name")
    assert report.checked, report
''')

README = Template('''# $dist

$description

A plugin for zoo (`pip install $zoo_dist`). Once installed, `zoo plugins` lists it as
`$name` and its entries resolve by name:

```python
import zoo
$usage
```

## Layout

```
$dist/
  pyproject.toml        the entry point: [project.entry-points.zoo] $name = "$package.plugin"
  $package/
    plugin.py           the hooks (no torch import: targets are lazy "module:attr" strings)
$modules  tests/test_plugin.py   zoo's plugin kit checks every entry (check_plugin fixture)
```

## Develop

```
pip install -e .[test]
pytest                  # runs zoo's checks on every entry (zoo.testing.check_plugin)
zoo plugins             # $name: ok
zoo info NAME           # the metadata you registered
```

Everything a plugin may use of zoo is in `zoo` and `zoo.plugin`; see zoo's plugin author's guide.
''')

#: kind -> (hook code for plugin.py, module file name, module code, a usage line for the README)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "applications": (
        '''

@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "tiny_cnn",
        "$package.models:tiny_cnn",
        description="a 3-layer CNN for 32x32 images (replace with your architecture)",
        input_size=(3, 32, 32),
        num_classes=10,
        # the zoo.load options the builder serves; zoo refuses any other (trainable is zoo's own)
        options=("include_top", "pooling", "num_classes"),
        # weights={"v1": {"url": "https://...", "sha256": "<64 hex>", "categories": [...],
        #                 "preprocessing": {"resize": 36, "crop": 32, "mean": [...], "std": [...]}}},
    )
''',
        "models.py",
        '''"""The application's builder: zoo.load("tiny_cnn", include_top=..., pooling=..., num_classes=...)."""

import torch
from torch import nn


class TinyCNN(nn.Module):
    def __init__(self, num_classes: int = 10, include_top: bool = True, pooling: str | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.include_top, self.pooling = include_top, pooling
        self.classifier = nn.Linear(32, num_classes) if include_top else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if self.include_top:
            return self.classifier(x.mean((2, 3)))
        if self.pooling == "avg":
            return x.mean((2, 3))
        if self.pooling == "max":
            return x.amax((2, 3))
        return x


def tiny_cnn(*, include_top: bool = True, pooling: str | None = None, num_classes: int = 10) -> TinyCNN:
    """zoo checks the options' values and combinations before calling this, applies trainable=False,
    eval mode and model.zoo after."""
    return TinyCNN(num_classes, include_top, pooling)
''',
        'model = zoo.load("tiny_cnn", num_classes=5, trainable=False)',
    ),
    "losses": (
        '''

@zoo.hookimpl
def zoo_register_losses(register):
    register("scaled_mse", "$package.losses:ScaledMSE", description="mean squared error times a scale")
''',
        "losses.py",
        '''"""Losses are nn.Modules called as loss(input, target) (torch's order)."""

import torch
from torch import nn


class ScaledMSE(nn.Module):
    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.scale * ((input - target.to(input.dtype)) ** 2).mean()
''',
        'zoo.fit(model, x, y, loss={"name": "scaled_mse", "scale": 2.0})',
    ),
    "metrics": (
        '''

@zoo.hookimpl
def zoo_register_metrics(register):
    register("max_error", "$package.metrics:MaxError", description="largest absolute error in a batch")
''',
        "metrics.py",
        '''"""A metric is called as metric(y_pred, y_true) and returns per-sample values or a number; zoo.fit
averages it over each epoch."""

import torch


class MaxError:
    def __call__(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return (y_pred - y_true.to(y_pred.dtype)).abs().flatten(1).amax(1)
''',
        'zoo.fit(model, x, y, loss="mse", metrics=["max_error"])',
    ),
    "callbacks": (
        '''

@zoo.hookimpl
def zoo_register_callbacks(register):
    register("loss_printer", "$package.callbacks:LossPrinter", description="prints the loss every epoch")
''',
        "callbacks.py",
        '''"""A callback is any object with Keras' on_* hooks (zoo.Callback is a convenient base class)."""

import zoo


class LossPrinter(zoo.Callback):
    def __init__(self, every: int = 1) -> None:
        super().__init__()
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every == 0:
            print(f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}")
''',
        'zoo.fit(model, x, y, loss="mse", callbacks=["loss_printer"])',
    ),
    "layers": (
        '''

@zoo.hookimpl
def zoo_register_layers(register):
    register("Scale", "$package.layers:Scale", description="multiplies its input by a learned scalar")
''',
        "layers.py",
        '''"""Layers are nn.Modules built as zoo.get("layers", "Scale", ...)."""

import torch
from torch import nn


class Scale(nn.Module):
    def __init__(self, init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale
''',
        'layer = zoo.get("layers", "Scale", init=0.5)',
    ),
    "activations": (
        '''

@zoo.hookimpl
def zoo_register_activations(register):
    register("squareplus", "$package.activations:Squareplus", description="(x + sqrt(x^2 + b)) / 2")
''',
        "activations.py",
        '''"""Activations are built by zoo.get("activations", name) and called on tensors."""

import torch
from torch import nn


class Squareplus(nn.Module):
    def __init__(self, b: float = 4.0) -> None:
        super().__init__()
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + torch.sqrt(x * x + self.b)) / 2
''',
        'act = zoo.get("activations", "squareplus")',
    ),
    "datasets": (
        '''

@zoo.hookimpl
def zoo_register_datasets(register):
    register(
        "noisy_line",
        "$package.datasets:noisy_line",
        description="y = 2x + 1 plus noise, generated (no files)",
        splits={"train": 256, "test": 64},
        shapes={"x": [1], "y": [1]},
        # files=[{"url": "https://...", "sha256": "<64 hex>", "size": 1234}] for data to download
    )
''',
        "datasets.py",
        '''"""A dataset's target is called with zoo.datasets.load's options and returns its splits."""

import torch


def noisy_line(*, seed: int = 0, **options):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for split, n in (("train", 256), ("test", 64)):
        x = torch.rand(n, 1, generator=g)
        out[split] = (x, 2 * x + 1 + 0.05 * torch.randn(n, 1, generator=g))
    return out
''',
        'splits = zoo.datasets.load("noisy_line")',
    ),
    "optimizers": (
        '''

@zoo.hookimpl
def zoo_register_optimizers(register):
    register("sign_sgd", "$package.optimizers:SignSGD", description="SGD on the sign of the gradient")
''',
        "optimizers.py",
        '''"""Optimizers are built as zoo.get("optimizers", name, model.parameters(), **options)."""

import torch


class SignSGD(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad.sign(), alpha=-group["lr"])
        return loss
''',
        'zoo.fit(model, x, y, loss="mse", optimizer="sign_sgd")',
    ),
}

# -- --from DIR: a saved model as an application with its weights -----------------------------------------
FROM_HOOK = Template('''

#: The saved model's weights: packaged in weights/ (no url) or downloaded and verified (url + sha256).
WEIGHTS = $weights


@zoo.hookimpl
def zoo_register_applications(register):
    register(
        "$model",
        "$package.models:$function",
        description=$description,
        architecture=$base,
        weights={"saved": WEIGHTS},
        default_weights="saved",
        options=("weights",),$facts
    )
''')

FROM_MODELS = Template('''"""zoo.load("$model"): the saved model $base (built with $options), with its weights.

weights="saved" (the default, also "imagenet"/"default") loads the saved tensors, verified by their sha256;
weights=None gives the architecture with random weights. zoo's core checks the options, applies
trainable=False and eval mode, and attaches model.zoo (categories, preprocessing) from the metadata.
"""

from importlib import resources

import zoo
from zoo.plugin import fetch, file_sha256, load_state_dict

from $package.plugin import WEIGHTS

BASE = $base
OPTIONS = $options


def $function(*, weights="saved"):
    model = zoo.load(BASE, weights=None, **OPTIONS)
    del model.zoo  # this application's model.zoo comes from its own metadata
    if weights is None:
        return model
    if str(weights).lower() not in ("saved", "imagenet", "default"):
        raise zoo.ZooError(f"$model has weights 'saved' (or None for random), got weights={weights!r}.")
    if WEIGHTS.get("url"):
        path = fetch([WEIGHTS["url"]], sha256=WEIGHTS["sha256"], size=WEIGHTS["size"], filename=WEIGHTS["filename"],
                     entry="$model")
    else:
        path = resources.files("$package") / "weights" / WEIGHTS["filename"]
        if file_sha256(path) != WEIGHTS["sha256"]:
            raise zoo.ZooError(f"{path} is damaged (its sha256 is not the one the plugin recorded); reinstall $dist.")
    model.load_state_dict(load_state_dict(path), strict=True)
    return model
''')

FROM_TEST = Template('''"""The plugin's own CI: zoo's plugin kit, then the saved weights load whole and compute."""

import torch

import zoo


def test_every_entry_works_as_zoo_promises(check_plugin):
    report = check_plugin("$name")
    assert report.checked["applications"] == ["$model"]


def test_the_saved_weights_load_and_compute():
    model = zoo.load("$model")
    assert model.zoo.weights == "saved" and not model.training
    x = torch.zeros(1, *$input_shape)
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()
''')
