"""Training callbacks with Keras 3 semantics."""

from zoo.training.callbacks.base import Callback, CallbackList
from zoo.training.callbacks.history import BaseLogger, History
from zoo.training.callbacks.loggers import (
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    RemoteMonitor,
    TensorBoard,
)
from zoo.training.callbacks.model_checkpoint import ModelCheckpoint
from zoo.training.callbacks.monitor import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from zoo.training.callbacks.plot import PlotCallback
from zoo.training.callbacks.progbar import ProgbarLogger

__all__ = [
    "BaseLogger",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "PlotCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "TensorBoard",
    "TerminateOnNaN",
]
