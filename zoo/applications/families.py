"""What differs between torchvision's architecture families, as data: where the feature map ends, where
the classifier is, what else the forward pass needs.

One generic :class:`FeatureExtractor` serves every family (``include_top=False``): it keeps the backbone
modules *under their torchvision names*, so its state-dict keys are a subset of the full model's and a
``features.state_dict()`` loads into ``torchvision.models.NAME()`` with ``strict=False``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import DataError, OptionError


@dataclass(frozen=True)
class Family:
    """How to cut one torchvision family into backbone and top."""

    #: Members run in order to produce the last convolutional feature map (a ModuleList runs each item).
    trunk: tuple[str, ...]
    #: Dotted path of the final classifier layer, the one ``num_classes`` replaces.
    classifier: str
    #: Extra members (parameters, plain attributes) the feature forward needs.
    extra: tuple[str, ...] = ()
    #: googlenet / inception_v3 re-normalise their input when ``transform_input`` is set.
    transform_input: bool = False
    #: densenet applies a ReLU after its last block, in ``forward`` rather than as a module.
    final_relu: bool = False
    #: A pretrained norm torchvision applies to the pooled vector before classifying (member name, path).
    pooled_norm: tuple[str, str] | None = None
    #: Auxiliary classifiers zoo drops after loading, so a model returns one tensor in train mode too.
    aux: tuple[str, ...] = ()
    #: The constructor does tensor arithmetic, so it cannot run under ``torch.device("meta")``.
    tensor_math_in_init: bool = False
    #: The architecture accepts only its configured input size (position embeddings / partitions).
    fixed_size: bool = False


_RESNET = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
_GOOGLENET = (
    "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
    "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
    "inception5a", "inception5b",
)  # fmt: skip
_INCEPTION = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
    "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c",
)  # fmt: skip

#: Keyed by torchvision's module name (``torchvision.models.<family>``), as the weights table records it.
FAMILIES: dict[str, Family] = {
    "alexnet": Family(("features",), "classifier.6"),
    "convnext": Family(("features",), "classifier.2", pooled_norm=("norm", "classifier.0")),
    "densenet": Family(("features",), "classifier", final_relu=True),
    "efficientnet": Family(("features",), "classifier.1"),
    "googlenet": Family(_GOOGLENET, "fc", extra=("transform_input",), transform_input=True, aux=("aux1", "aux2")),
    "inception": Family(_INCEPTION, "fc", extra=("transform_input",), transform_input=True, aux=("AuxLogits",)),
    "maxvit": Family(("stem", "blocks"), "classifier.5", pooled_norm=("norm", "classifier.2"), fixed_size=True),
    "mnasnet": Family(("layers",), "classifier.1"),
    "mobilenetv2": Family(("features",), "classifier.1"),
    "mobilenetv3": Family(("features",), "classifier.3"),
    "regnet": Family(("stem", "trunk_output"), "fc", tensor_math_in_init=True),
    "resnet": Family(_RESNET, "fc"),
    "shufflenetv2": Family(("conv1", "maxpool", "stage2", "stage3", "stage4", "conv5"), "fc"),
    "squeezenet": Family(("features",), "classifier.1"),
    "swin_transformer": Family(("features", "norm", "permute"), "head"),
    "vgg": Family(("features",), "classifier.6"),
    "vision_transformer": Family(
        ("conv_proj", "encoder"), "heads.head", extra=("class_token", "image_size", "patch_size", "hidden_dim"),
        fixed_size=True,
    ),
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        # invariant: families come from zoo's weights table, all of them in FAMILIES (tested)
        raise ValueError(
            f"zoo does not know how to cut torchvision family {name!r} into backbone and classifier; "
            "add it to zoo.applications.families.FAMILIES."
        ) from None


def transform_input(x: torch.Tensor) -> torch.Tensor:
    """googlenet / inception_v3 ``_transform_input``: ImageNet-normalised input -> the (x-0.5)/0.5 they were trained on."""
    x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
    x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
    x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
    return torch.cat((x_ch0, x_ch1, x_ch2), 1)


class FeatureExtractor(nn.Module):
    """A torchvision classifier without its top: returns the last feature map ``(N, C, H, W)``, or with
    ``pooling="avg"|"max"`` a vector ``(N, C)`` per image (keras.applications' ``include_top=False``)."""

    def __init__(self, model: nn.Module, family_name: str, pooling: str | None = None) -> None:
        super().__init__()
        if pooling not in (None, "avg", "max"):
            raise OptionError(f"pooling must be None, 'avg' or 'max', got {pooling!r}.")
        spec = family(family_name)
        self.family = family_name
        self.pooling = pooling
        self.trunk = spec.trunk
        for name in (*spec.trunk, *spec.extra):
            setattr(self, name, getattr(model, name))
        self.final_relu = spec.final_relu
        self.has_pooled_norm = pooling is not None and spec.pooled_norm is not None
        if self.has_pooled_norm:
            member, path = spec.pooled_norm  # type: ignore[misc]
            setattr(self, member, model.get_submodule(path))
        self.transform_input = bool(getattr(model, "transform_input", False)) and spec.transform_input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x = transform_input(x)
        if self.family == "vision_transformer":
            x = self._vit_feature_map(x)
        else:
            for name in self.trunk:
                module = getattr(self, name)
                if isinstance(module, nn.ModuleList):
                    for block in module:
                        x = block(x)
                else:
                    x = module(x)
        if self.final_relu:
            x = F.relu(x)
        if self.pooling is None:
            return x
        x = F.adaptive_avg_pool2d(x, 1) if self.pooling == "avg" else F.adaptive_max_pool2d(x, 1)
        if self.has_pooled_norm and self.family == "convnext":
            x = self.norm(x)  # LayerNorm2d works on (N, C, 1, 1)
        x = torch.flatten(x, 1)
        if self.has_pooled_norm and self.family != "convnext":
            x = self.norm(x)
        return x

    def _vit_feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """ViT has no convolutional map: its patch tokens after the encoder, laid out on the patch grid."""
        n, _, h, w = x.shape
        if h != self.image_size or w != self.image_size:
            raise DataError(f"this ViT takes {self.image_size}x{self.image_size} images, got {h}x{w}.")
        x = self.conv_proj(x)  # (N, D, h/p, w/p)
        grid = x.shape[-2:]
        x = x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = self.encoder(x)[:, 1:]
        return x.permute(0, 2, 1).reshape(n, self.hidden_dim, *grid)

    def extra_repr(self) -> str:
        return f"family={self.family!r}, pooling={self.pooling!r}"


def replace_classifier(
    model: nn.Module, path: str, num_classes: int, device: torch.device | str | None = None
) -> tuple[nn.Module, list[str]]:
    """Swap the final classifier layer at ``path`` for a freshly initialised ``num_classes``-way one, on
    ``device`` (default: the old layer's; a head a file lacked is still on the meta device).

    Returns the new layer and the state-dict keys of the old one (the pretrained weights dropped).
    """
    old = model.get_submodule(path)
    like = {"device": device or old.weight.device, "dtype": old.weight.dtype}
    if isinstance(old, nn.Linear):
        new: nn.Module = nn.Linear(old.in_features, num_classes, bias=old.bias is not None, **like)
    elif isinstance(old, nn.Conv2d):  # squeezenet classifies with a 1x1 convolution
        new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, old.stride, old.padding,
                        bias=old.bias is not None, **like)  # fmt: skip
    else:
        # invariant: every FAMILIES classifier is an nn.Linear or an nn.Conv2d
        raise TypeError(f"cannot resize classifier {path!r} of type {type(old).__name__}.")
    dropped = [f"{path}.{key}" for key in old.state_dict()]
    parent_path, _, attr = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, attr, new)
    return new, dropped


def drop_aux(model: nn.Module, spec: Family) -> None:
    """Remove auxiliary classifiers (googlenet, inception_v3) the way torchvision does with ``aux_logits=False``."""
    if not spec.aux:
        return
    for attr in spec.aux:
        setattr(model, attr, None)
    model.aux_logits = False
