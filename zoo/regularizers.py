"""Keras' ``keras.regularizers``: ``import zoo.regularizers`` and ``from zoo.regularizers import ...`` give zoo.training.regularizers itself."""

import sys

from zoo.training import regularizers as _module

sys.modules[__name__] = _module
