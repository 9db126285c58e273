"""Exports that serve with TensorFlow alone (no TFQ, no tfq_layers): ready for TF Serving.

A model whose quantum layers use the ``"statevector"`` backend contains only standard TensorFlow
ops, so its SavedModel loads in a process that never imports ``tensorflow_quantum`` or
``tfq_layers``. :func:`to_statevector` turns a model trained with the ``"tfq"`` backend into such a
model without retraining (same circuits, same weights); :func:`export_portable` does that and
exports.
"""

from __future__ import annotations

from typing import Any

from tfq_layers._keras import KERAS3, keras
from tfq_layers.layers.pqc import PQC
from tfq_layers.saving import atomic_directory

__all__ = ["to_statevector", "export_portable", "save_serving"]


def _reads_quantum_data(layer):
    """Whether ``layer`` is fed a ``tf.string`` tensor (quantum data) in its model."""
    import tensorflow as tf

    try:
        inputs = layer.input
    except (AttributeError, ValueError):  # not called, or called several times
        return False
    return any(
        getattr(getattr(t, "dtype", None), "name", getattr(t, "dtype", None)) == "string"
        for t in tf.nest.flatten(inputs)
    )


def _portable_clone(layer):
    if isinstance(layer, PQC):
        if _reads_quantum_data(layer):
            raise ValueError(
                f"layer {layer.name} ({type(layer).__name__}) is fed quantum data (a tf.string "
                "tensor of circuits), which only the TFQ backend reads, so it has no portable "
                "statevector form. Put the data circuit into the layer's own circuit (with "
                "input_symbols for its parameters) and feed numbers, or serve with TFQ."
            )
        config = layer.get_config()
        if config.get("repetitions") is not None:
            raise ValueError(
                f"layer {layer.name} samples expectations (repetitions="
                f"{config['repetitions']}); a portable export serves exact expectation values, "
                "so build the serving model without repetitions."
            )
        config.update(backend="statevector", differentiator=None)
        # each class from its own config: PQCProbabilities, the compat PQCs ... are PQCs too
        return type(layer).from_config(config)
    return layer.__class__.from_config(layer.get_config())


def to_statevector(model: Any) -> Any:
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


def save_serving(model: Any, export_dir: str, input_signature: list | None = None) -> None:
    """Write ``model`` as a SavedModel with a ``serve`` endpoint, in either Keras lane.

    Keras 3 uses ``model.export``; legacy tf_keras saves a ``tf.Module`` holding the model and an
    equivalent ``serve`` ``tf.function`` (``training=False``). The export is written under a
    temporary name next to ``export_dir`` and renamed into place when complete
    (:func:`tfq_layers.saving.atomic_directory`): a failed export leaves ``export_dir`` as it was.

    Args:
        model: a built Keras model.
        export_dir: output directory.
        input_signature: list with one ``tf.TensorSpec``; default the model's input (Keras 3:
            whatever ``model.export`` infers).

    Example:
        >>> save_serving(model, "serving_dir")                       # doctest: +SKIP
        >>> tf.saved_model.load("serving_dir").serve(x)              # doctest: +SKIP
    """
    import tensorflow as tf

    with atomic_directory(export_dir) as tmp:
        if KERAS3:
            model.export(tmp, input_signature=input_signature, verbose=False)
            return
        if input_signature is None:  # pragma: no cover - legacy lane
            spec = model.inputs[0]
            input_signature = [tf.TensorSpec(spec.shape, spec.dtype)]
        module = tf.Module()
        module.model = model
        module.serve = tf.function(
            lambda x: model(x, training=False), input_signature=input_signature
        )
        tf.saved_model.save(module, tmp)


def export_portable(model: Any, export_dir: str) -> Any:
    """Export ``model`` as a SavedModel that needs nothing but TensorFlow to load and serve.

    PQC layers are switched to the statevector backend (:func:`to_statevector`) first, then
    written by :func:`save_serving`.

    Args:
        model: a built Keras model with one input.
        export_dir: output directory.

    Returns:
        The converted model (to compare its outputs with the served ones).
    """
    portable = to_statevector(model)
    save_serving(portable, export_dir)
    return portable
