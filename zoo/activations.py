"""Keras' ``keras.activations``: ``import zoo.activations`` and ``from zoo.activations import ...`` give zoo.training.activations itself."""

import sys

from zoo.training import activations as _module

sys.modules[__name__] = _module
