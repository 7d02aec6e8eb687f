"""Keras-style training: ``fit``, ``evaluate``, ``predict`` with named optimizers, losses, metrics, callbacks."""
