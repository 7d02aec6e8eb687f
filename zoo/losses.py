"""Keras' ``keras.losses``: ``import zoo.losses`` and ``from zoo.losses import ...`` give zoo.training.losses itself."""

import sys

from zoo.training import losses as _module

sys.modules[__name__] = _module
