"""An application with weights, complete: ``zoo.load("tiny_digits")``.

A 3 k-parameter CNN for 8x8 digit images (scikit-learn's digits), its trained weights shipped inside the
package (``weights/tiny_digits-v1.safetensors``, 14 KB; ``make_weights.py`` trains them) and described in
``plugin.py``'s metadata: file name, sha256, size, categories, preprocessing, metrics. The builder follows
the pattern of zoo's own builders, with the helpers of ``zoo.plugin``:

1. build the network on the meta device (``empty_weights``: no memory, no random init);
2. read the file's tensors (``load_state_dict``: safetensors or ``weights_only`` torch files, never unpickled
   code), after checking its sha256 (``file_sha256``) against the metadata;
3. assign them (``assign_weights``: every key must fit; the classifier may be left out when a new head of
   ``num_classes`` replaces it).

zoo's core does the rest for every application: it checks the options against ``options=`` in the
metadata, applies ``trainable=False`` and eval mode, and attaches ``model.zoo`` (categories,
preprocessing) from the chosen weights variant, so ``zoo predict tiny_digits img.png`` works.
"""

from __future__ import annotations

from importlib import resources

from torch import nn

import zoo
from zoo.plugin import assign_weights, empty_weights, file_sha256, load_state_dict
from zoo_example.network import TinyDigits
from zoo_example.variants import VARIANTS


def tiny_digits(
    *,
    weights: str | None = "v1",
    include_top: bool = True,
    pooling: str | None = None,
    num_classes: int | None = None,
    trainable: bool = True,
) -> TinyDigits:
    """``weights``: ``"v1"`` (also ``"imagenet"``/``"default"``: the default variant) or None for random.
    ``trainable=False`` freezes the network but not a new head of ``num_classes`` (the builder declares
    ``trainable`` for that; otherwise zoo's core would freeze everything itself)."""
    classes = num_classes or 10
    if weights is None:
        model = TinyDigits(classes, include_top, pooling)
        return model if trainable else zoo.freeze(model)
    tag = "v1" if str(weights).lower() in ("v1", "imagenet", "default") else None
    if tag is None:
        raise zoo.ZooError(f"tiny_digits has weights {', '.join(VARIANTS)} (or None), got weights={weights!r}.")
    variant = VARIANTS[tag]
    path = resources.files("zoo_example") / "weights" / variant["filename"]
    if file_sha256(path) != variant["sha256"]:
        raise zoo.ZooError(f"{path} does not have the sha256 the plugin recorded: reinstall zoo-example.")
    with empty_weights():
        model = TinyDigits(classes, include_top, pooling)
    state = load_state_dict(path)
    new_head = include_top and classes != 10
    keep = {k: v for k, v in state.items() if include_top and not new_head or not k.startswith("classifier.")}
    optional = [k for k in model.state_dict() if k.startswith("classifier.")] if new_head else []
    assign_weights(model, keep, name="tiny_digits", source=str(path), optional=optional)
    if new_head:  # a fresh, randomly initialised classifier (on the CPU, not the meta device)
        model.classifier = nn.Linear(model.classifier.in_features, classes)
    if not trainable:
        zoo.freeze(model)
        if new_head:
            zoo.unfreeze(model.classifier)
    return model
