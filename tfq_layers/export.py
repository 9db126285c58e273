"""Exports that serve with TensorFlow alone (no TFQ, no tfq_layers): ready for TF Serving.

A model whose quantum layers use the ``"statevector"`` backend contains only standard TensorFlow
ops, so its SavedModel loads in a process that never imports ``tensorflow_quantum`` or
``tfq_layers``. :func:`to_statevector` turns a model trained with the ``"tfq"`` backend into such a
model without retraining (same circuits, same weights); :func:`export_portable` does that and
exports.
"""
from tfq_layers._keras import KERAS3, keras
from tfq_layers.layers.pqc import PQC

__all__ = ["to_statevector", "export_portable"]


def _portable_clone(layer):
    if isinstance(layer, PQC):
        config = layer.get_config()
        if config.get("repetitions") is not None:
            raise ValueError(
                f"layer {layer.name} samples expectations (repetitions="
                f"{config['repetitions']}); a portable export serves exact expectation values, "
                "so build the serving model without repetitions.")
        config.update(backend="statevector", differentiator=None)
        return PQC.from_config(config)
    return layer.__class__.from_config(layer.get_config())


def to_statevector(model):
    """A copy of ``model`` whose ``PQC`` layers use the pure-TensorFlow statevector backend.

    Weights are copied, so the copy computes the same function (to float32 rounding: the two
    simulators sum in different orders). Layers take their circuits, observables and weights from
    the original; ``repetitions`` (sampled outputs) are not supported in the copy.

    Args:
        model: a functional or Sequential Keras model, built.

    Returns:
        A new, built Keras model.

    Example:
        >>> portable = to_statevector(model)          # doctest: +SKIP
        >>> portable.export("serving_dir")            # doctest: +SKIP
    """
    clone = keras.models.clone_model(model, clone_function=_portable_clone)
    clone.set_weights(model.get_weights())
    return clone


def export_portable(model, export_dir):
    """Export ``model`` as a SavedModel that needs nothing but TensorFlow to load and serve.

    PQC layers are switched to the statevector backend (:func:`to_statevector`) first. Keras 3
    writes the ``serve`` endpoint with ``model.export``; the legacy tf_keras lane saves a module
    with an equivalent ``serve`` function.

    Args:
        model: a built Keras model with one input.
        export_dir: output directory.

    Returns:
        The converted model (to compare its outputs with the served ones).
    """
    import tensorflow as tf
    portable = to_statevector(model)
    if KERAS3:
        portable.export(export_dir, verbose=False)
    else:  # pragma: no cover - legacy lane
        spec = tf.TensorSpec(portable.inputs[0].shape, portable.inputs[0].dtype)
        module = tf.Module()
        module.model = portable
        module.serve = tf.function(lambda x: portable(x, training=False), input_signature=[spec])
        tf.saved_model.save(module, export_dir)
    return portable
