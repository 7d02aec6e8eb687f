"""Which Keras function builds each keras.applications name. Importing this module does not import Keras."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: Keras' own NASNetMobile() refuses the torch backend ("an outstanding bug"); the network it would build
#: is its NASNet() with these arguments, which builds and runs on torch and gives the JAX backend's outputs
#: from the same h5 weights to 1e-6 (tests/keras checks it against Keras' own layout, tools/generate_keras_table.py
#: records its weights file). NASNetMobile()'s own default for include_top=False, a 224x224 input, is kept.
NASNET_MOBILE = dict(penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                     filter_multiplier=2, default_size=224)  # fmt: skip


def constructor(name: str) -> Callable[..., Any]:
    """The keras.applications function for ``name`` (takes keras.applications' keyword arguments)."""
    import keras

    if name == "NASNetMobile":
        from keras.src.applications import nasnet

        return functools.partial(_nasnet_mobile, nasnet.NASNet)
    return getattr(keras.applications, name)


def _nasnet_mobile(nasnet: Callable[..., Any], *, input_shape: Any = None, include_top: bool = True,
                   **kwargs: Any) -> Any:  # fmt: skip
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    kwargs.setdefault("name", "nasnet_mobile")
    return nasnet(input_shape, include_top=include_top, **NASNET_MOBILE, **kwargs)
