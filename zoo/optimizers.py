"""Keras' ``keras.optimizers``: ``import zoo.optimizers`` and ``from zoo.optimizers import ...`` give zoo.training.optimizers itself."""

import sys

from zoo.training import optimizers as _module

sys.modules[__name__] = _module
