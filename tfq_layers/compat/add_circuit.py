"""TFQ's ``AddCircuit`` layer."""

import numpy as np
import tensorflow as tf

from tfq_layers import serialization, wire
from tfq_layers._keras import build_at_init, keras, register
from tfq_layers.backends import quantum_data
from tfq_layers.compat.arguments import is_circuit, is_circuit_list, is_keras_tensor, type_name

__all__ = ["AddCircuit"]


@register("compat.AddCircuit")
class AddCircuit(keras.layers.Layer):
    """TFQ's ``AddCircuit``: append or prepend circuits to a batch of serialized circuits.

    Runs without TFQ: the serialized circuits are joined moment by moment with TensorFlow ops
    (:func:`tfq_layers.backends.quantum_data.join`), in TFQ's format.

    Call arguments: ``inputs`` (a ``cirq.Circuit``, a list, or a ``tf.string`` tensor) and exactly
    one of ``append``/``prepend`` (a ``cirq.Circuit`` for every input, a list with one per input,
    or a ``tf.string`` tensor).

    Returns:
        ``(batch,)`` tf.string tensor of serialized circuits.

    Example:
        >>> q = cirq.GridQubit(0, 0)
        >>> out = AddCircuit()(cirq.Circuit(cirq.X(q)), append=cirq.Circuit(cirq.Y(q)))
        >>> out.shape
        TensorShape([1])
    """

    def __init__(self, append=None, prepend=None, **kwargs):
        super().__init__(**kwargs)
        self._static = {"append": None, "prepend": None}
        for key, value in (("append", append), ("prepend", prepend)):
            if value is not None:
                self._static[key] = serialization.loads(value) if isinstance(value, str) else value
        build_at_init(self)

    def __call__(self, inputs, *, append=None, prepend=None, **kwargs):
        if append is not None and prepend is not None:
            raise ValueError("Values cannot be given for both append and prepend.")
        extra = None
        if append is not None or prepend is not None:
            key, value = ("append", append) if append is not None else ("prepend", prepend)
            self._static = {"append": None, "prepend": None}
            if is_circuit(value) or is_circuit_list(value):
                self._static[key] = value
            elif tf.is_tensor(value) or is_keras_tensor(value):
                self._static[key] = "tensor"
                extra = value
            else:
                raise TypeError(
                    f"{key} circuits cannot be parsed from {type_name(value)}; give "
                    "a cirq.Circuit, a list of them or a tf.string tensor."
                )
        elif self._static["append"] is None and self._static["prepend"] is None:
            raise ValueError("Values must be provided for append or prepend.")
        if is_circuit(inputs):
            inputs = [inputs]
        if isinstance(inputs, (list, tuple, np.ndarray)) and not any(
            tf.is_tensor(x) or is_keras_tensor(x) for x in inputs
        ):
            if not is_circuit_list(inputs):
                raise TypeError(
                    f"Circuits cannot be parsed with given input of type {type_name(inputs)}."
                )
            inputs = wire.convert_to_tensor(list(inputs))
        tensors = inputs if extra is None else [inputs, extra]
        return super().__call__(tensors, **kwargs)

    def call(self, inputs):
        key = "append" if self._static["append"] is not None else "prepend"
        value = self._static[key]
        if isinstance(value, str):  # "tensor": the second input
            inputs, other = inputs
        else:
            other = None
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype != tf.string:
            raise TypeError(
                f"{self.name}: circuits must be a tf.string tensor; got dtype {inputs.dtype}."
            )
        batch = tf.shape(inputs)[0]
        if other is None:
            if is_circuit(value):
                with tf.init_scope():
                    serialized = wire.convert_to_tensor([value]).numpy()
                other = tf.tile(tf.constant(serialized), tf.reshape(batch, [1]))
            else:
                with tf.init_scope():
                    serialized = wire.convert_to_tensor(list(value)).numpy()
                other = tf.constant(serialized)
        if key == "append":
            return quantum_data.join(inputs, tf.convert_to_tensor(other))
        return quantum_data.join(tf.convert_to_tensor(other), inputs)

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (tuple(shape)[0],)

    def compute_output_spec(self, inputs):
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return keras.KerasTensor((first.shape[0],), dtype="string")

    def get_config(self):
        config = super().get_config()
        for key in ("append", "prepend"):
            value = self._static[key]
            config[key] = (
                value
                if value is None or isinstance(value, str) and value == "tensor"
                else serialization.dumps(value)
            )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        static = {k: config.pop(k, None) for k in ("append", "prepend")}
        layer = cls(**config)
        for key, value in static.items():
            if value == "tensor":
                layer._static[key] = "tensor"
            elif value is not None:
                loaded = serialization.loads(value)
                layer._static[key] = loaded
        return layer
