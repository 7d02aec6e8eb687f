"""Keras-named layers as ordinary ``torch.nn.Module``s."""
