"""Built-in plugin: zoo's optimizers, losses, metrics, callbacks, activations, initializers, regularizers and
constraints.

Targets are lazy ``"module:attr"`` strings, so listing them imports no torch. Names are snake_case;
Keras' CamelCase spellings (``CategoricalCrossentropy``, ``EarlyStopping``) match by normalisation, and
Keras' short aliases (``mse``, ``kld``, ``acc``) are registered as aliases.
"""

from __future__ import annotations

from zoo.plugin import Register, hookimpl

_OPT = "zoo.training.optimizers"
_LOSS = "zoo.training.losses"
_MET = "zoo.training.metrics"
_CB = "zoo.training.callbacks"
_ACT = "zoo.training.activations"
_INIT = "zoo.training.initializers"
_REG = "zoo.training.regularizers"
_CON = "zoo.training.constraints"

OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "rmsprop": (),
    "adagrad": (),
    "adadelta": (),
    "adam": (),
    "adamw": (),
    "adamax": (),
    "nadam": (),
    "radam": (),
    "asgd": (),
    "rprop": (),
    "lbfgs": (),
    "sparse_adam": (),
    "adafactor": (),
}

# name -> (class in losses/metrics, aliases)
LOSSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mean_squared_error": ("MeanSquaredError", ("mse",)),
    "mean_absolute_error": ("MeanAbsoluteError", ("mae",)),
    "mean_absolute_percentage_error": ("MeanAbsolutePercentageError", ("mape",)),
    "mean_squared_logarithmic_error": ("MeanSquaredLogarithmicError", ("msle",)),
    "squared_hinge": ("SquaredHinge", ()),
    "hinge": ("Hinge", ()),
    "categorical_hinge": ("CategoricalHinge", ()),
    "log_cosh": ("LogCosh", ()),
    "huber": ("Huber", ("huber_loss",)),
    "categorical_crossentropy": ("CategoricalCrossentropy", ()),
    "sparse_categorical_crossentropy": ("SparseCategoricalCrossentropy", ()),
    "binary_crossentropy": ("BinaryCrossentropy", ("bce",)),
    "kl_divergence": ("KLDivergence", ("kld", "kullback_leibler_divergence")),
    "poisson": ("Poisson", ()),
    "cosine_similarity": ("CosineSimilarity", ("cosine_proximity", "cosine")),
}

METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accuracy": ("Accuracy", ("acc",)),
    "binary_accuracy": ("BinaryAccuracy", ()),
    "categorical_accuracy": ("CategoricalAccuracy", ()),
    "sparse_categorical_accuracy": ("SparseCategoricalAccuracy", ()),
    "top_k_categorical_accuracy": ("TopKCategoricalAccuracy", ()),
    "sparse_top_k_categorical_accuracy": ("SparseTopKCategoricalAccuracy", ()),
    "mean": ("Mean", ()),
    **{name: (cls, aliases) for name, (cls, aliases) in LOSSES.items() if name != "huber"},
}

CALLBACKS: dict[str, str] = {
    "base_logger": "BaseLogger",
    "terminate_on_nan": "TerminateOnNaN",
    "progbar_logger": "ProgbarLogger",
    "history": "History",
    "model_checkpoint": "ModelCheckpoint",
    "early_stopping": "EarlyStopping",
    "remote_monitor": "RemoteMonitor",
    "learning_rate_scheduler": "LearningRateScheduler",
    "tensorboard": "TensorBoard",
    "reduce_lr_on_plateau": "ReduceLROnPlateau",
    "csv_logger": "CSVLogger",
    "lambda_callback": "LambdaCallback",
    "plot_callback": "PlotCallback",
}

ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "softmax": (),
    "log_softmax": (),
    "elu": (),
    "selu": (),
    "softplus": (),
    "softsign": (),
    "relu": (),
    "relu6": (),
    "leaky_relu": (),
    "gelu": (),
    "silu": ("swish",),
    "mish": (),
    "tanh": (),
    "sigmoid": (),
    "hard_sigmoid": (),
    "hard_swish": ("hard_silu",),
    "exponential": (),
    "linear": ("identity",),
}

INITIALIZERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "zeros": ("Zeros", ("zero",)),
    "ones": ("Ones", ("one",)),
    "constant": ("Constant", ()),
    "random_normal": ("RandomNormal", ("normal",)),
    "random_uniform": ("RandomUniform", ("uniform",)),
    "truncated_normal": ("TruncatedNormal", ()),
    "variance_scaling": ("VarianceScaling", ()),
    "orthogonal": ("Orthogonal", ()),
    "identity": ("Identity", ()),
    "lecun_uniform": ("LecunUniform", ()),
    "lecun_normal": ("LecunNormal", ()),
    "glorot_normal": ("GlorotNormal", ("xavier_normal",)),
    "glorot_uniform": ("GlorotUniform", ("xavier_uniform",)),
    "he_normal": ("HeNormal", ("kaiming_normal",)),
    "he_uniform": ("HeUniform", ("kaiming_uniform",)),
}

#: Keras' names (``keras.regularizers.get("l2")``) -> attribute; CamelCase class names match by normalisation.
REGULARIZERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "l1": ("L1", ()),
    "l2": ("L2", ()),
    "l1_l2": ("l1_l2", ()),
    "orthogonal_regularizer": ("OrthogonalRegularizer", ()),
}

CONSTRAINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "max_norm": ("MaxNorm", ()),
    "min_max_norm": ("MinMaxNorm", ()),
    "non_neg": ("NonNeg", ("non_negative",)),
    "unit_norm": ("UnitNorm", ()),
}


@hookimpl
def zoo_register_optimizers(register: Register) -> None:
    for name, aliases in OPTIMIZERS.items():
        register(name, f"{_OPT}:{name}", aliases=aliases)


@hookimpl
def zoo_register_losses(register: Register) -> None:
    for name, (cls, aliases) in LOSSES.items():
        register(name, f"{_LOSS}:{cls}", aliases=aliases)


@hookimpl
def zoo_register_metrics(register: Register) -> None:
    for name, (cls, aliases) in METRICS.items():
        register(name, f"{_MET}:{cls}", aliases=aliases)


@hookimpl
def zoo_register_callbacks(register: Register) -> None:
    for name, cls in CALLBACKS.items():
        register(name, f"{_CB}:{cls}")


@hookimpl
def zoo_register_activations(register: Register) -> None:
    for name, aliases in ACTIVATIONS.items():
        register(name, f"{_ACT}:registered.{name}", aliases=aliases)


@hookimpl
def zoo_register_initializers(register: Register) -> None:
    for name, (cls, aliases) in INITIALIZERS.items():
        register(name, f"{_INIT}:{cls}", aliases=aliases)


@hookimpl
def zoo_register_regularizers(register: Register) -> None:
    for name, (attr, aliases) in REGULARIZERS.items():
        register(name, f"{_REG}:{attr}", aliases=aliases)


@hookimpl
def zoo_register_constraints(register: Register) -> None:
    for name, (attr, aliases) in CONSTRAINTS.items():
        register(name, f"{_CON}:{attr}", aliases=aliases)
