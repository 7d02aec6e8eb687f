"""A dataset entry: ``zoo.datasets.load("xor_blobs", n=200, seed=0)`` returns its splits.

A dataset with files to download lists them in its metadata (``files=[{"url": ..., "sha256": ...,
"size": ...}]``); the loader then reads them with ``zoo.plugin.fetch_spec(spec)``, which downloads through
zoo's verified cache. This one is generated from a seed, so it lists none (``zoo download`` says
"nothing to download").
"""

import torch


def xor_blobs(*, n: int = 200, seed: int = 0, noise: float = 0.2):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for split, size in (("train", n), ("test", n // 4)):
        centres = torch.randint(0, 2, (size, 2), generator=g).float()
        x = centres + noise * torch.randn(size, 2, generator=g)
        out[split] = (x, (centres[:, 0] != centres[:, 1]).long())
    return out
