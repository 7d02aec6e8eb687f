"""What a user needs after ``zoo.load``: the weights' preprocessing, their categories, decoding of
predictions. Attached to every loaded model as ``model.zoo`` (a plain attribute: the model stays an
ordinary ``nn.Module`` with unchanged state-dict keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from zoo.applications import table
from zoo.errors import ArgumentError, DataError, ModelError, OptionError


@dataclass
class ModelInfo:
    """Where a loaded model's weights came from and how to feed it."""

    name: str
    #: The variant tag (``"IMAGENET1K_V2"``); None for random weights or a file that matches no variant.
    weights: str | None
    #: sha256 of the weights file (full when it came through zoo's cache, else the published prefix).
    sha256: str | None
    #: URL or local path the weights were read from.
    source: str | None
    #: Class names, index-aligned with the model's outputs (None when unknown or the head was replaced).
    categories: list[str] | None
    #: ``resize``, ``crop``, ``mean``, ``std``, ``interpolation``, ``antialias`` of these weights.
    preprocessing: dict[str, Any]
    #: Smallest input height/width the architecture accepts.
    min_size: tuple[int, int]
    #: State-dict keys of the file that the returned model does not use (replaced or removed top).
    dropped_keys: list[str] = field(default_factory=list)
    include_top: bool = True
    pooling: str | None = None
    #: The ``zoo.load`` options that rebuild this architecture (``num_classes``, ``include_top`` ...), for
    #: ``zoo.save_pretrained``; weights, progress, hashes, preprocessing and freezing are not among them.
    load_options: dict[str, Any] = field(default_factory=dict)
    #: ``features_only=True``: the returned levels (``zoo.applications.features.FeatureLevel``), else None.
    feature_info: list[Any] | None = None

    def transforms(self):
        """The preprocessing these weights were trained with, as a ``torchvision.transforms.v2`` pipeline.

        Accepts PIL images, uint8/float tensors ``(C, H, W)`` or ``(N, C, H, W)`` and numpy ``(H, W, C)``
        images (read as torchvision's ``v2.ToImage`` reads them); anything else is a zoo error saying the fix
        (``zoo.applications.transforms.ImageInput``), not a raw torch error or an input returned unchanged.
        Gives the same output as ``torchvision.models.<Name>_Weights.<TAG>.transforms()`` (float tensors
        above 1 are 0-255 values here, as in :func:`preprocess_input`, where torchvision would take them for
        [0, 1]).
        """
        from torchvision.transforms import v2

        from zoo.applications.transforms import ImageInput, Resize, UnitRange

        p = _declared(self, ("crop", "mean", "std"), "build their transforms")
        return v2.Compose(
            [
                ImageInput(len(p["mean"])),  # what the steps below would pass through or fail on raw
                UnitRange(),  # float tensors of 0-255 values (Keras' img_to_array) are not taken for [0, 1]
                Resize(p.get("resize", p["crop"]), p.get("interpolation", "bilinear"), p.get("antialias", True)),
                v2.CenterCrop(p["crop"]),
                v2.PILToTensor(),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(mean=p["mean"], std=p["std"]),
            ]
        )

    def decode_predictions(self, preds: torch.Tensor, top: int = 5) -> list[list[tuple[int, str, float]]]:
        """:func:`decode_predictions` with this model's categories."""
        if self.categories is None:
            raise ModelError(
                f"{self.name} has no category names (random weights, a replaced head or a features-only "
                "variant); pass categories=[...] to zoo.decode_predictions."
            )
        return decode_predictions(preds, top=top, categories=self.categories)


def _declared(info: ModelInfo, keys: tuple[str, ...], why: str) -> dict[str, Any]:
    """The preprocessing, which must hold ``keys`` (lenet5's holds none): a ``zoo.ModelError`` otherwise,
    rather than a ``KeyError`` from inside the pipeline."""
    p = info.preprocessing
    missing = [key for key in keys if key not in p]
    if missing:
        raise ModelError(
            f"{info.name}'s weights declare no {', '.join(missing)} in their preprocessing "
            f"(model.zoo.preprocessing is {p}), so zoo cannot {why}; normalise the images yourself."
        )
    return p


def info_for(name_or_model: Any) -> ModelInfo:
    """The :class:`ModelInfo` of a loaded model, or of an architecture's recommended weights by name."""
    if isinstance(name_or_model, str):
        return default_info(name_or_model)
    attached = getattr(name_or_model, "zoo", None)
    if isinstance(attached, ModelInfo):
        return attached
    raise ArgumentError(
        f"expected an application name or a model returned by zoo.load, got {type(name_or_model).__name__}."
    )


def default_info(name: str, variant: str = "DEFAULT") -> ModelInfo:
    """The :class:`ModelInfo` of an application's weights ``variant`` (the recommended one by default)."""
    from zoo.plugins import get_registry

    entry = get_registry().lookup("applications", name)
    arch_name = entry.meta.architecture or entry.name  # type: ignore[attr-defined]
    if entry.plugin != "applications" or arch_name not in table.architectures():
        raise OptionError(
            f"{entry.qualified_name} comes from the {entry.plugin!r} plugin, whose weight facts zoo cannot read "
            "by name; pass the loaded model instead (its `model.zoo` carries categories and preprocessing)."
        )
    arch = table.architecture(arch_name)
    tag = table.find_variant(arch_name, variant)
    if tag is None:
        raise OptionError(f"{entry.name} has no weights {variant!r}; it has {', '.join(arch['weights'])}.")
    facts = arch["weights"][tag]
    return ModelInfo(
        name=entry.name,
        weights=tag,
        sha256=facts["sha256"],
        source=facts["url"],
        categories=table.categories(facts["categories"]),
        preprocessing=facts["preprocessing"],
        min_size=tuple(facts["min_size"]),
    )


def preprocess_input(x: torch.Tensor, name_or_model: Any = "resnet50") -> torch.Tensor:
    """Scale and normalise image tensors the way ``name_or_model``'s weights expect (no resize or crop).

    ``x`` is channels-first, ``(C, H, W)`` or ``(N, C, H, W)``. uint8 values are scaled from [0, 255] to
    [0, 1]; floats within [0, 1] are kept (torchvision's convention); floats above 1 are 0-255 values
    (Keras' ``img_to_array`` gives those: ``preprocess_input(img_to_array(load_img(p)))`` works as in Keras),
    divided by 255 with a one-time warning (``zoo.applications.transforms.to_unit_range`` is the rule).
    Then ``(x - mean) / std`` per channel.
    """
    from zoo.applications.transforms import check_image_tensor, to_unit_range

    if not isinstance(x, torch.Tensor):
        raise ArgumentError(f"preprocess_input expects a torch.Tensor, got {type(x).__name__}.")
    p = _declared(info_for(name_or_model), ("mean", "std"), "normalise for them")
    check_image_tensor(x, len(p["mean"]), "preprocess_input")

    x = to_unit_range(x, "preprocess_input")
    mean = torch.tensor(p["mean"], dtype=x.dtype, device=x.device).view(-1, 1, 1)
    std = torch.tensor(p["std"], dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - mean) / std


def decode_predictions(
    preds: torch.Tensor, top: int = 5, categories: Sequence[str] | Any | None = None
) -> list[list[tuple[int, str, float]]]:
    """The ``top`` classes of each sample as ``(index, class name, probability)``, best first.

    ``preds`` is ``(N, num_classes)`` or ``(num_classes,)``. Rows that already are probabilities (all values
    in [0, 1], each row summing to 1 within 1e-3) are used as they are; anything else is taken as logits
    and goes through a softmax. ``categories`` is a list of names, a model from ``zoo.load``, or an
    application name; by default the ImageNet-1k names.
    """
    if not isinstance(preds, torch.Tensor):
        preds = torch.as_tensor(preds)
    if preds.ndim == 1:
        preds = preds.unsqueeze(0)
    if preds.ndim != 2:
        raise DataError(
            f"decode_predictions expects (N, num_classes) scores, got shape {tuple(preds.shape)}."
        )
    names = _category_names(categories)
    if preds.shape[1] != len(names):
        raise DataError(
            f"decode_predictions got {preds.shape[1]} scores per sample but {len(names)} category names; "
            "pass the categories that match the model's head (categories=...)."
        )
    if top < 1:
        raise OptionError(f"top must be >= 1, got {top}.")
    probs = preds.detach().float()
    if not _are_probabilities(probs):
        probs = probs.softmax(dim=1)
    scores, indices = probs.topk(min(top, probs.shape[1]), dim=1)
    return [
        [(int(i), names[int(i)], float(s)) for s, i in zip(row_s, row_i, strict=True)]
        for row_s, row_i in zip(scores.tolist(), indices.tolist(), strict=True)
    ]


def _are_probabilities(x: torch.Tensor) -> bool:
    return bool(
        (x >= 0).all() and (x <= 1).all() and torch.allclose(x.sum(dim=1), torch.ones(len(x)), atol=1e-3)
    )


def _category_names(categories: Any) -> list[str]:
    if categories is None:
        return table.categories("imagenet1k")  # type: ignore[return-value]
    if isinstance(categories, str):
        names = default_info(categories).categories
        if names is None:
            raise ModelError(f"{categories} has no category names; pass categories=[...].")
        return names
    if isinstance(categories, torch.nn.Module):
        names = info_for(categories).categories
        if names is None:
            raise ModelError("this model has no category names (replaced head?); pass categories=[...].")
        return names
    return [str(c) for c in categories]
