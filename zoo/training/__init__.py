"""Keras-style training for any ``nn.Module``: ``fit``, ``evaluate``, ``predict`` with optimizers, losses,
metrics and callbacks given by registered name, ``{"name": ..., **config}`` dict, or object.

Importing this package imports torch; ``import zoo`` alone does not (``zoo.fit`` loads it on use).
"""

from zoo.training.callbacks import Callback, CallbackList, History
from zoo.training.metrics import Metric
from zoo.training.trainer import Trainer, evaluate, fit, predict

__all__ = ["Callback", "CallbackList", "History", "Metric", "Trainer", "evaluate", "fit", "predict"]
