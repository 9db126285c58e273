"""Exceptions the compat layers raise where TFQ's layers raise a different class.

TFQ's users catch TFQ's classes (``TypeError`` for an argument of the wrong kind,
``tf.errors.InvalidArgumentError`` for values its ops refuse). Each class here subclasses TFQ's
class *and* the one this package raises elsewhere (:class:`~tfq_layers.errors.CircuitError`, a
``ValueError``), so ``except TypeError``, ``except ValueError`` and ``except CircuitError`` all
catch it. Messages start with TFQ's key phrase, then say what to change.
"""

import tensorflow as tf

from tfq_layers.errors import CircuitError

__all__ = ["TFQArgumentError", "TFQInvalidArgumentError", "tfq_message"]


def tfq_message(tfq_phrase, explanation):
    """TFQ's key phrase first (what TFQ code matches on), then this package's explanation."""
    return f"{tfq_phrase} {explanation}".strip()


class TFQArgumentError(CircuitError, TypeError):
    """An argument of the wrong kind: TFQ raises ``TypeError``, this package ``ValueError``."""


class TFQInvalidArgumentError(CircuitError, tf.errors.InvalidArgumentError):
    """A value TFQ's ops refuse with ``InvalidArgumentError`` (wrong rank, batch mismatch),
    refused before anything runs."""

    def __init__(self, *args):
        # (message), or TensorFlow's (node_def, op, message, ...), which Keras uses to re-raise
        # an OpError from a layer's call with the layer's name added
        node_def, op, message = (None, None, args[0]) if len(args) == 1 else args[:3]
        tf.errors.InvalidArgumentError.__init__(self, node_def, op, message)
        self.args = (message,)

    def __reduce__(self):
        return (type(self), (self.message,))
