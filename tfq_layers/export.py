"""Exports that serve with TensorFlow alone (no TFQ, no tfq_layers): ready for TF Serving.

A model whose quantum layers use the ``"statevector"`` backend contains only standard TensorFlow
ops, so its SavedModel loads in a process that never imports ``tensorflow_quantum`` or
``tfq_layers``. :func:`to_statevector` turns a model trained with the ``"tfq"`` backend into such a
model without retraining (same circuits, same weights); :func:`export_portable` does that and
exports. :func:`to_tflite` converts such a model to TensorFlow Lite for phones and
microcontrollers, checked against Keras before it is written (see :mod:`tfq_layers._tflite` for
what converts and what does not).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from tfq_layers import _tflite
from tfq_layers._keras import KERAS3, keras
from tfq_layers.layers.pqc import PQC
from tfq_layers._tflite import TFLiteExport, run_tflite
from tfq_layers.saving import atomic_directory, atomic_write

__all__ = [
    "to_statevector",
    "export_portable",
    "save_serving",
    "to_tflite",
    "run_tflite",
    "TFLiteExport",
]


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

    Raises:
        ValueError: for a quantum-data (``tf.string``) input.

    Returns:
        The converted model (to compare its outputs with the served ones).
    """
    for tensor in getattr(model, "inputs", None) or []:
        if str(getattr(tensor, "dtype", "")).endswith("string"):
            raise ValueError(
                f"model input {getattr(tensor, 'name', tensor)!r} is a tf.string tensor (quantum "
                "data): the statevector backend reads serialized circuits on the host "
                "(tf.py_function), which a portable SavedModel cannot hold. Export a model whose "
                "inputs are features (encode the data circuits as a feature circuit), or serve "
                "it with TFQ (model.export on backend='tfq')."
            )
    portable = to_statevector(model)
    save_serving(portable, export_dir)
    return portable


def _sample_inputs(model, rng) -> list[np.ndarray]:
    samples = []
    for tensor in model.inputs:
        shape = [4 if d is None else int(d) for d in tensor.shape]
        samples.append(rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))
    return samples


def _check_folder(path):
    """Refuse, before any conversion, a destination whose folder is missing or not writable."""
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(
            f"cannot write {path!r}: the folder {folder!r} "
            + ("is not a folder" if not os.path.isdir(folder) else "is not writable")
            + ". Create it (os.makedirs) or pass a path in a writable folder."
        )


def _checked_samples(model, sample_inputs, seed):
    """``sample_inputs`` as a list of float32 arrays, one per model input, of the inputs' shapes
    (default: :func:`_sample_inputs`)."""
    if sample_inputs is None:
        return _sample_inputs(model, np.random.default_rng(seed))
    if isinstance(sample_inputs, (list, tuple)):
        samples = [np.asarray(x, np.float32) for x in sample_inputs]
    else:
        samples = [np.asarray(sample_inputs, np.float32)]
    if len(samples) != len(model.inputs):
        raise ValueError(
            f"sample_inputs gives {len(samples)} input(s); the model takes {len(model.inputs)}. "
            "Pass one array per model input (a list for several)."
        )
    for sample, tensor in zip(samples, model.inputs):
        want = tuple(tensor.shape)[1:]
        if sample.ndim != len(want) + 1 or any(
            w is not None and w != g for w, g in zip(want, sample.shape[1:])
        ):
            raise ValueError(
                f"sample_inputs of shape {sample.shape} do not fit the model input "
                f"{tensor.name!r} of shape {(None, *want)}. Pass rows of the model's features."
            )
    return samples


def to_tflite(
    model: Any,
    path: str,
    sample_inputs: Any = None,
    select_tf_ops: bool | None = None,
    atol: float = 1e-5,
    seed: int = 0,
) -> _tflite.TFLiteExport:
    """Convert ``model`` to a TensorFlow Lite file, checked against Keras before it is written.

    Quantum layers on the ``"tfq"`` backend are rebuilt on the statevector backend first (same
    circuits and weights, as :func:`tfq_layers.export.to_statevector` does). The conversion uses
    TFLite's built-in operators when they suffice; when an expression needs a TensorFlow op that
    TFLite lacks (``atan``, for example), it converts with ``SELECT_TF_OPS`` and names the ops.
    The converted model is run in the TFLite interpreter on ``sample_inputs`` and compared with
    the Keras model; only if every output agrees within ``atol`` is the file written (atomically:
    a temporary name, then a rename).

    Args:
        model: a built Keras model with float inputs (classical features).
        path: the ``.tflite`` file to write.
        sample_inputs: an array (or a list, one per input) of inputs to check on; default four
            random rows in ``[-1, 1)``.
        select_tf_ops: ``None`` (default) uses select TF ops only when needed; ``False`` refuses
            them (a ``ValueError`` names the ops); ``True`` allows them from the start.
        atol: the largest allowed absolute difference between TFLite and Keras.
        seed: seed of the default sample inputs.

    Returns:
        A :class:`TFLiteExport` with the path, size, operator set and measured difference.

    Raises:
        ValueError: a layer samples, an input is a ``tf.string`` tensor, an op needs
            ``SELECT_TF_OPS`` while ``select_tf_ops=False``, or the converted model disagrees
            with Keras.

    Example:
        >>> report = to_tflite(model, "classifier.tflite")            # doctest: +SKIP
        >>> print(report)                                              # doctest: +SKIP
        classifier.tflite: 21480 bytes, 17 operator kinds, built-in ops only; ...
        >>> run_tflite("classifier.tflite", x_test[:4])               # doctest: +SKIP
    """
    if not str(path).endswith(".tflite"):
        raise ValueError(f"path should end in .tflite; got {path!r}.")
    _check_folder(path)
    _tflite.check_convertible(model)
    samples = _checked_samples(model, sample_inputs, seed)
    portable = to_statevector(model)

    needed: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="tfq_layers_tflite_") as tmp:
        saved = os.path.join(tmp, "saved_model")
        save_serving(portable, saved)
        try:
            content = _tflite.convert(saved, select=bool(select_tf_ops))
        except Exception as error:  # the converter raises its own ConverterError
            needed = tuple(sorted(set(_tflite.MISSING_OP.findall(str(error)))))
            if not needed:
                raise ValueError(f"TFLite could not convert the model: {error}") from error
            if select_tf_ops is False:
                raise ValueError(
                    f"the model needs TensorFlow ops that TFLite has no built-in kernel for: "
                    f"{', '.join(needed)} (from the layers' expressions). Pass "
                    "select_tf_ops=True to convert with SELECT_TF_OPS (the interpreter must link "
                    "the Flex delegate), or rewrite the expression with supported functions."
                ) from None
            content = _tflite.convert(saved, select=True)

    expected = np.asarray(model(samples if len(samples) > 1 else samples[0]))
    try:
        got = _tflite.run_tflite(content, *samples)
    except RuntimeError as error:
        if "Flex delegate" not in str(error):
            raise
        # TensorFlow 2.18's tf.lite interpreter links the Flex delegate; 2.21's does not.
        import tensorflow as tf

        raise ValueError(
            f"the converted model needs TensorFlow's select ops ({', '.join(needed) or 'Flex'}), "
            f"which this TensorFlow's TFLite interpreter (TensorFlow {tf.__version__}) cannot "
            "run, so it cannot be checked against Keras; nothing was written. Convert where the "
            "interpreter links the Flex delegate (TensorFlow 2.18 does), or rewrite the "
            "expression with functions TFLite has built in."
        ) from None
    if got.shape != expected.shape:
        raise ValueError(
            f"the converted model's output shape {got.shape} differs from Keras's "
            f"{expected.shape}; nothing was written."
        )
    error = float(np.max(np.abs(got - expected))) if got.size else 0.0
    if not np.isfinite(error) or error > atol:
        raise ValueError(
            f"the converted model disagrees with Keras by {error:.3g} (> atol={atol}) on the "
            "check inputs; nothing was written."
        )
    with atomic_write(path, "wb") as f:
        f.write(content)
    return _tflite.TFLiteExport(
        path=str(path),
        size_bytes=len(content),
        ops=_tflite.op_names(content),
        select_tf_ops=tuple(name.removeprefix("tf.") for name in needed),
        max_abs_error=error,
    )
