"""Keras' ``keras.metrics``: ``import zoo.metrics`` and ``from zoo.metrics import ...`` give zoo.training.metrics itself."""

import sys

from zoo.training import metrics as _module

sys.modules[__name__] = _module
