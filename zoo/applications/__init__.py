"""Pretrained image models (torchvision architectures) and the helpers that go with them."""
