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
    "convolutional": ("Conv1D", "Conv2D", "Conv3D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose",
                      "Cropping2D", "UpSampling2D", "ZeroPadding2D"),
    "pooling": ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
                "GlobalAveragePooling2D"),
    "local": ("LocallyConnected1D", "LocallyConnected2D"),
    "merge": ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot"),
    "advanced_activations": ("LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"),
    "normalization": ("BatchNormalization", "LayerNormalization"),
    "noise": ("GaussianNoise", "GaussianDropout", "AlphaDropout"),
}  # fmt: skip

#: Layers defined outside zoo.layers: full module path -> (category, names).
EXTERNAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "zoo.preprocessing.augmentation": (
        "preprocessing",
        ("Rescaling", "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation", "RandomZoom",
         "RandomTranslation", "RandomContrast", "RandomBrightness"),
    ),
}  # fmt: skip

#: Keras' other spellings of the same layer (only those that normalisation does not already equate).
ALIASES: dict[str, tuple[str, ...]] = {
    "Conv1D": ("Convolution1D",),
    "Conv2D": ("Convolution2D",),
    "Conv3D": ("Convolution3D",),
    "SeparableConv2D": ("SeparableConvolution2D",),
    "Conv2DTranspose": ("Convolution2DTranspose", "Deconvolution2D"),
    "MaxPooling1D": ("MaxPool1D",),
    "MaxPooling2D": ("MaxPool2D",),
    "MaxPooling3D": ("MaxPool3D",),
    "AveragePooling1D": ("AvgPool1D",),
    "AveragePooling2D": ("AvgPool2D",),
    "AveragePooling3D": ("AvgPool3D",),
    "GlobalMaxPooling1D": ("GlobalMaxPool1D",),
    "GlobalMaxPooling2D": ("GlobalMaxPool2D",),
    "GlobalAveragePooling1D": ("GlobalAvgPool1D",),
    "GlobalAveragePooling2D": ("GlobalAvgPool2D",),
}

#: Plain functions exported by zoo.layers (not registered: they are not layers).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "merge": ("concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot"),
    "_base": ("get_mask", "with_mask"),
}
