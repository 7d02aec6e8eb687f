"""One exception family, so callers can catch everything zoo raises with ``except zoo.ZooError``.

Every message says what was wrong and what to do next; the CLI prints it as one line.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of every error zoo raises on purpose."""


class UnknownNameError(ZooError, LookupError):
    """A name that no plugin registered for the kind asked for."""


class AmbiguousNameError(ZooError, LookupError):
    """A bare name that two plugins both claim; the qualified ``plugin:name`` form picks one."""


class RegistrationError(ZooError):
    """A plugin registered something invalid (bad name, bad target, colliding spellings)."""


class ModelError(ZooError, ValueError):
    """A model could not be built, compiled, trained or saved as asked (``zoo.Model``, ``zoo.Sequential``,
    symbolic tensors from ``zoo.Input``), or is not one a function can work on as it stands (no category
    names to decode with, no masked layers to prune, weights that do not fit it)."""


class RecordingError(ModelError, RuntimeError):
    """A layer call that failed while a functional model was recorded on fake tensors. Also a
    ``RuntimeError``, the class of torch's own errors, so that code catching those around an operation (a
    layer rewording one) still catches it."""


class SavedModelError(ModelError):
    """A saved-model folder or zip that cannot be read back (missing file, wrong format, unknown layer)."""


class PluginError(ZooError):
    """A plugin failed to import, validate or register (raised in strict mode; otherwise a warning), or
    one of its entries cannot work (raised when it is used: a target that does not import, a builder that
    returns something not of its kind)."""


class TargetImportError(PluginError, ImportError):
    """A registered lazy ``"module:attr"`` target that does not import; the message names the plugin."""


class DownloadError(ZooError):
    """A file could not be fetched from any of its sources."""


class IntegrityError(DownloadError):
    """Downloaded bytes do not match the expected size or hash."""


class OfflineError(DownloadError):
    """A file is needed that is not in the cache while ``ZOO_OFFLINE=1``."""


class ArgumentError(ZooError, TypeError):
    """An argument zoo does not take, or of a kind it cannot use (an unknown layer keyword, a fractional
    ``batch_size``, a callback outside a list)."""


class DataError(ZooError, ValueError):
    """Data that cannot mean what it was given as: logits to a loss told it gets probabilities, labels
    outside the model's outputs, inputs and targets of different lengths, a tensor of the wrong rank or
    size for a layer, a file that does not hold what it was given as (a damaged or foreign checkpoint, a
    malformed annotation row)."""


class OptionError(ArgumentError, ValueError):
    """An option or argument with a wrong value (``Dropout(rate=1.5)``, ``precision="fp32"``, a ``zoo.load``
    option), or one that does not apply here (an option the application does not support: its metadata's
    ``options`` says what it does)."""


class MissingKeyError(ZooError, KeyError):
    """A key asked for that is not there: a ``ModelCheckpoint`` file path field such as ``{val_auc}`` that
    the logs do not hold. A ``KeyError`` whose ``str()`` is the plain message (not KeyError's quoted repr)."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class NonFiniteLossError(ZooError, RuntimeError):
    """Training stopped on a NaN or infinite loss (``TerminateOnNaN(raise_error=True)``)."""


class MissingFileError(DataError, FileNotFoundError):
    """A file given by path that is not there (a weights file, a checkpoint to resume from, a dataset's
    annotation file). Also a ``FileNotFoundError``, so ``except FileNotFoundError`` keeps working."""


class DataIndexError(DataError, IndexError):
    """An index outside a dataset (or one that is not a whole number). Also an ``IndexError``, which ends
    Python's ``for x in dataset`` iteration over a sequence at its end."""
