"""The paper behind each torchvision architecture, for the catalogue's ``paper`` column (torchvision's
Weights meta names training recipes, not papers). Longest matching name prefix wins."""

from __future__ import annotations

_ARXIV = "https://arxiv.org/abs/"
PAPERS = {
    "alexnet": "1404.5997", "convnext": "2201.03545", "densenet": "1608.06993", "efficientnet_b": "1905.11946",
    "efficientnet_v2": "2104.00298", "googlenet": "1409.4842", "inception_v3": "1512.00567", "maxvit": "2204.01697",
    "mnasnet": "1807.11626", "mobilenet_v2": "1801.04381", "mobilenet_v3": "1905.02244", "regnet": "2003.13678",
    "resnet": "1512.03385", "resnext": "1611.05431", "shufflenet_v2": "1807.11164", "squeezenet": "1602.07360",
    "swin_v2": "2111.09883", "swin": "2103.14030", "vgg": "1409.1556", "vit": "2010.11929",
    "wide_resnet": "1605.07146",
}  # fmt: skip


def paper(arch: str) -> str | None:
    """The arXiv URL of ``arch``'s paper, None when unknown."""
    found = max((prefix for prefix in PAPERS if arch.startswith(prefix)), key=len, default=None)
    return _ARXIV + PAPERS[found] if found else None
