"""Keras' ``keras.initializers``: ``import zoo.initializers`` and ``from zoo.initializers import ...`` give zoo.training.initializers itself."""

import sys

from zoo.training import initializers as _module

sys.modules[__name__] = _module
