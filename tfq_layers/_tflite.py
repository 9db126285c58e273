"""The TensorFlow Lite side of :func:`tfq_layers.export.to_tflite`: conversion, the interpreter.

On-device export: a quantum Keras model as a TensorFlow Lite flatbuffer.

The statevector backend simulates with standard TensorFlow ops (reshapes, small matrix products,
elementwise arithmetic), nearly all of which TensorFlow Lite implements as built-in kernels. So a
trained hybrid model runs in the TFLite interpreter on a phone, a Raspberry Pi or in a browser,
with no quantum library on the device. :func:`to_tflite` converts, checks the converted model
against Keras before anything is written, and reports what it made.

What does not convert, and the error it gives:

* layers that sample (``repetitions=`` set: ``PQCSample``, sampled expectations, noisy circuits
  averaged over trajectories): their outputs are random, so no converted model can be checked
  against Keras; ``ValueError`` naming the layer. Export the exact-expectation version of the
  model instead (the same layer without ``repetitions``).
* quantum-data inputs (serialized circuits as ``tf.string``): TFLite has no protobuf decoding;
  ``ValueError`` naming the input.
* an expression whose TensorFlow op has no TFLite kernel (``atan``, ``asin``, ...): converted with
  TensorFlow's select ops (``SELECT_TF_OPS``, the Flex delegate, which the interpreter must link)
  and the ops are named in the report; with ``select_tf_ops=False`` a ``ValueError`` names them.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from tfq_layers._quiet import filtered_fd2
from tfq_layers.layers.pqc import PQC

__all__ = ["TFLiteExport", "run_tflite", "check_convertible", "convert", "op_names"]

# The converter's message for an op with no TFLite kernel: "'tf.Atan' op is neither a custom op
# nor a flex op".
MISSING_OP = re.compile(r"'(tf\.[A-Za-z0-9_]+)' op is neither a custom op nor a flex op")


@dataclasses.dataclass(frozen=True)
class TFLiteExport:
    """What :func:`to_tflite` wrote.

    Attributes:
        path: the ``.tflite`` file.
        size_bytes: its size.
        ops: the TFLite operators the model uses, sorted (``"FlexAtan"`` for a select TF op).
        select_tf_ops: the TensorFlow ops that needed ``SELECT_TF_OPS`` (empty: built-ins only).
        max_abs_error: the largest difference between the interpreter and Keras on the check
            inputs.
    """

    path: str
    size_bytes: int
    ops: tuple[str, ...]
    select_tf_ops: tuple[str, ...]
    max_abs_error: float

    def __str__(self) -> str:
        kind = (
            "built-in ops only"
            if not self.select_tf_ops
            else ("needs the Flex delegate for " + ", ".join(self.select_tf_ops))
        )
        return (
            f"{self.path}: {self.size_bytes} bytes, {len(self.ops)} operator kinds, {kind}; "
            f"max |TFLite - Keras| = {self.max_abs_error:.1e}"
        )


def _all_layers(model) -> Iterator[Any]:
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop(0)
        yield layer
        stack.extend(getattr(layer, "layers", []) or [])


def check_convertible(model) -> None:
    """Refuse, before anything is converted, a model TFLite export cannot take: not a built Keras
    model with inputs, a layer that samples, or an input of serialized circuits."""
    from tfq_layers._keras import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"to_tflite converts a Keras model; got {type(model).__name__}. Pass the model "
            "object (e.g. keras.Sequential([...]) or a loaded .keras model)."
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"model {model.name!r} has no defined inputs (it was never built on an input "
            "shape). Build it with keras.Input(...) first (keras.Sequential([keras.Input((n,)), "
            "...])) or call it once on data."
        )
    for layer in _all_layers(model):
        if isinstance(layer, PQC) and layer.repetitions is not None:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) samples (repetitions="
                f"{layer.repetitions}); its outputs are random and cannot be converted to TFLite "
                "and checked. Export a model whose quantum layers compute exact values (the same "
                "layer without repetitions=)."
            )
    for tensor in model.inputs:
        if str(getattr(tensor, "dtype", "")).endswith("string"):
            raise ValueError(
                f"model input {getattr(tensor, 'name', tensor)!r} is a tf.string tensor (quantum "
                "data as serialized circuits); TFLite cannot decode protobufs. Convert a model "
                "that takes the classical features only."
            )


def _drop_all(line: bytes) -> bool:
    return False


def _quiet_fd2():
    """The converter's and interpreter's C++ diagnostics (MLIR dumps, "Created TensorFlow Lite
    delegate") kept off the terminal: descriptor 2 captured and dropped for the block."""
    return filtered_fd2(keep=_drop_all)


def convert(saved_model_dir: str, select: bool):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    if select:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
    with _quiet_fd2(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.convert()


def _interpreter(content: bytes):
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "use the LiteRT interpreter" (same kernels)
        return tf.lite.Interpreter(model_content=content)


def run_tflite(content: bytes | str, *inputs: np.ndarray) -> np.ndarray:
    """Run a converted model (bytes, or a ``.tflite`` path) in the TFLite interpreter.

    Each example is run on its own (batch 1), as on a device; the outputs are stacked.

    Args:
        content: the flatbuffer, or the path of a ``.tflite`` file.
        *inputs: one array per model input, each ``(batch, ...)``.

    Returns:
        The model's output, ``(batch, ...)``.

    Example:
        >>> run_tflite("model.tflite", x_test[:4])                  # doctest: +SKIP
    """
    if isinstance(content, str):
        with open(content, "rb") as f:
            content = f.read()
    with _quiet_fd2():  # the interpreter's "Created TensorFlow Lite delegate" lines
        interpreter = _interpreter(content)
        runner = interpreter.get_signature_runner()
        names = list(interpreter.get_signature_list()["serving_default"]["inputs"])
        if len(names) != len(inputs):
            raise ValueError(f"the model takes {len(names)} inputs {names}; got {len(inputs)}.")
        rows = []
        for i in range(len(inputs[0])):
            feed = {n: np.asarray(x[i : i + 1], np.float32) for n, x in zip(names, inputs)}
            rows.append(next(iter(runner(**feed).values())))
    return np.concatenate(rows, axis=0)


def op_names(content: bytes) -> tuple[str, ...]:
    with _quiet_fd2():
        interpreter = _interpreter(content)
    return tuple(sorted({op["op_name"] for op in interpreter._get_ops_details()}))
