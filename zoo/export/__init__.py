"""Exporters: turn a model into a file a production runtime can load."""
