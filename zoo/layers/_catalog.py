"""Which layer lives in which module: read by the plugin (registration) and the package (lazy exports).

Kept free of torch so that listing layers imports nothing heavy.
"""

from __future__ import annotations

#: module (under zoo.layers) -> Keras-named layer classes it defines; the module is also the category.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": ("Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Lambda",
             "Masking", "Embedding"),
    "recurrent": ("SimpleRNN", "GRU", "LSTM", "Bidirectional"),
    "wrappers": ("TimeDistributed",),
    "merge": ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot"),
}  # fmt: skip

#: Keras' other spellings of the same layer (only those that normalisation does not already equate).
ALIASES: dict[str, tuple[str, ...]] = {}

#: Plain functions exported by zoo.layers (not registered: they are not layers).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "merge": ("concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot"),
    "_base": ("get_mask", "with_mask"),
}
