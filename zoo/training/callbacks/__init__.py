"""Training callbacks with Keras 3 semantics."""

from zoo.training.callbacks.base import Callback, CallbackList
from zoo.training.callbacks.history import BaseLogger, History
from zoo.training.callbacks.progbar import ProgbarLogger

__all__ = ["BaseLogger", "Callback", "CallbackList", "History", "ProgbarLogger"]
