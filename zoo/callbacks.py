"""Keras' ``keras.callbacks``: ``import zoo.callbacks`` and ``from zoo.callbacks import ...`` give zoo.training.callbacks itself."""

import sys

from zoo.training import callbacks as _module

sys.modules[__name__] = _module
