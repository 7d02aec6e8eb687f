"""Built-in plugin: registers zoo's Keras-named layers (``zoo.get("layers", "Conv2D", 16, 3)``).

Targets are lazy ``"zoo.layers.<module>:<Class>"`` strings, so listing layers never imports torch. Each
entry carries ``category`` (its module: core, convolutional, recurrent ...) for ``zoo list layers
category=recurrent``.
"""

from __future__ import annotations

from zoo.layers._catalog import ALIASES, EXTERNAL, LAYERS
from zoo.plugin import Register, hookimpl


@hookimpl
def zoo_register_layers(register: Register) -> None:
    for module, names in LAYERS.items():
        for name in names:
            register(name, f"zoo.layers.{module}:{name}", aliases=ALIASES.get(name, ()), category=module)
    for module, (category, names) in EXTERNAL.items():
        for name in names:
            register(name, f"{module}:{name}", category=category)
