"""Scoring a recipe: accuracies and parameter counts."""

import tfq_layers  # noqa: F401  # first: it keeps TensorFlow's start-up lines off stderr

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfq_layers._keras import keras  # noqa: E402, F401  # used in the doctests

__all__ = ["count_params", "binary_accuracy", "argmax_accuracy", "sign_accuracy", "hinge_accuracy"]


def count_params(model):
    """Trainable parameters of ``model`` split into ``(quantum, classical)``.

    Quantum parameters are the ``circuit_weights`` of every layer that has them (PQC layers);
    everything else trainable is classical.

    Args:
        model: a built Keras model.

    Returns:
        ``(quantum, classical)`` ints.

    Example:
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> count_params(m)
        (0, 8)
    """
    quantum = 0
    for layer in _all_layers(model):
        w = getattr(layer, "circuit_weights", None)
        if w is not None and layer.trainable:
            quantum += int(np.prod(w.shape))
    total = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    return quantum, total - quantum


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def binary_accuracy(probabilities, labels):
    """Accuracy of probabilities of class 1 (threshold 0.5) against 0/1 labels.

    Example:
        >>> binary_accuracy(np.array([[0.9], [0.2]]), np.array([1, 1]))
        0.5
    """
    p = np.asarray(probabilities).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    return float(np.mean((p > 0.5).astype(np.int64) == y))


def argmax_accuracy(probabilities, labels):
    """Accuracy of class scores ``(N, classes)`` (the argmax is the prediction) against int labels.

    Args:
        probabilities: array ``(N, classes)`` (probabilities or logits).
        labels: int class indices ``(N,)``.

    Example:
        >>> argmax_accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        0.5
    """
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)))


def sign_accuracy(outputs, labels):
    """Accuracy of real outputs against +-1 labels (the hinge-loss convention): ``sign`` agrees.

    Example:
        >>> sign_accuracy(np.array([0.3, -0.1, 0.2]), np.array([1, 1, 1]))
        0.6666666666666666
    """
    out = np.asarray(outputs).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    return float(np.mean(np.where(out > 0, 1, -1) == np.where(y > 0, 1, -1)))


@keras.saving.register_keras_serializable(package="tfq_layers_models", name="hinge_accuracy")
def hinge_accuracy(y_true, y_pred):
    """Keras metric: fraction of examples where ``y_pred`` has the sign of the +-1 ``y_true``.

    Args:
        y_true: labels in ``{-1, +1}``.
        y_pred: real predictions (e.g. ``<Z>`` in ``[-1, 1]``).

    Returns:
        A scalar float32 tensor.

    Example:
        >>> float(hinge_accuracy(tf.constant([1.0, -1.0]), tf.constant([0.2, 0.3])))
        0.5
    """
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
    return tf.reduce_mean(tf.cast(tf.equal(y_true > 0.0, y_pred > 0.0), tf.float32))
