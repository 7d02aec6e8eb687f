"""Keras' ``keras.constraints``: ``import zoo.constraints`` and ``from zoo.constraints import ...`` give zoo.training.constraints itself."""

import sys

from zoo.training import constraints as _module

sys.modules[__name__] = _module
