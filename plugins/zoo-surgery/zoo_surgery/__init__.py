"""Dynamic Network Surgery (Guo, Yao, Chen, NIPS 2016) for zoo: pruning with splicing.

Importing this package does not import torch; the names below load on first use.
"""

from __future__ import annotations

from zoo.plugin import lazy_exports

__version__ = "0.1.0"

# Public name -> "module:attribute", or "module" for a submodule.
_LAZY: dict[str, str] = {
    "MaskedLinear": "zoo_surgery.layers:MaskedLinear",
    "MaskedConv2d": "zoo_surgery.layers:MaskedConv2d",
    "to_masked": "zoo_surgery.layers:to_masked",
    "masked_layers": "zoo_surgery.layers:masked_layers",
    "straight_through_mask": "zoo_surgery.layers:straight_through_mask",
    "DynamicSurgery": "zoo_surgery.surgery:DynamicSurgery",
    "LayerSettings": "zoo_surgery.surgery:LayerSettings",
    "DynamicNetworkSurgery": "zoo_surgery.callback:DynamicNetworkSurgery",
    "bake": "zoo_surgery.finish:bake",
    "report": "zoo_surgery.finish:report",
    "SurgeryReport": "zoo_surgery.finish:SurgeryReport",
    "lenet5": "zoo_surgery.models:lenet5",
    "lenet_300_100": "zoo_surgery.models:lenet_300_100",
    "sparse": "zoo_surgery.sparse",
}

__all__ = ["__version__", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
