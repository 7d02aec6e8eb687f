"""The Keras datasets, downloaded through zoo's cache and parsed from their real formats."""
