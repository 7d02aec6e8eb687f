"""Dynamic Network Surgery (Guo, Yao, Chen, NIPS 2016) for zoo: pruning with splicing.

Importing this package does not import torch; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "MaskedLinear": "zoo_surgery.layers",
    "MaskedConv2d": "zoo_surgery.layers",
    "to_masked": "zoo_surgery.layers",
    "masked_layers": "zoo_surgery.layers",
    "straight_through_mask": "zoo_surgery.layers",
    "DynamicSurgery": "zoo_surgery.surgery",
    "LayerSettings": "zoo_surgery.surgery",
    "DynamicNetworkSurgery": "zoo_surgery.callback",
    "bake": "zoo_surgery.finish",
    "report": "zoo_surgery.finish",
    "SurgeryReport": "zoo_surgery.finish",
    "lenet5": "zoo_surgery.models",
    "lenet_300_100": "zoo_surgery.models",
    "sparse": "zoo_surgery.sparse",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zoo_surgery' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith(name) else getattr(module, name)
    globals()[name] = value
    return value
