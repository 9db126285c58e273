"""Native layers that output what a circuit is, beyond expectation values.

They take inputs exactly like :class:`~tfq_layers.layers.PQC` (features feeding ``input_symbols``,
trainable weights for every other symbol, optional quantum data) and return dense tensors, batch
first, qubits in sorted order (``qubits[0]`` the most significant bit):

* :class:`PQCProbabilities`: ``(batch, 2**n)`` float32 Born probabilities, differentiable on both
  backends (TFQ: through Z-string expectations);
* :class:`PQCState`: ``(batch, 2**n)`` complex64 states, differentiable on the statevector backend;
* :class:`PQCUnitary`: ``(batch, 2**n, 2**n)`` complex64 unitaries, differentiable likewise;
* :class:`PQCSample`: ``(batch, repetitions, n)`` int32 measured bits.

These are the dense, feature-driven counterparts of TFQ's ``State``, ``Unitary`` and ``Sample``
(see :mod:`tfq_layers.compat.layers` for TFQ's own signatures and ragged outputs).
"""

import tensorflow as tf

from tfq_layers._keras import register
from tfq_layers.layers.pqc import PQC

__all__ = ["PQCProbabilities", "PQCSample", "PQCState", "PQCUnitary"]


class _CircuitOutput(PQC):
    _requires_observables = False
    _sampled_op = False

    def __init__(
        self,
        circuit,
        input_symbols=None,
        repetitions=None,
        initializer=None,
        regularizer=None,
        constraint=None,
        weight_symbols=None,
        backend="auto",
        observables=None,
        differentiator=None,
        **kwargs,
    ):
        if observables is not None:  # accepted as None only: configs saved by older versions
            raise ValueError(
                f"{type(self).__name__} outputs the circuit itself, not expectation values, so it "
                f"takes no observables (got {observables!r}). Drop observables=, or use PQC for "
                "expectation values."
            )
        super().__init__(
            circuit,
            None,
            input_symbols=input_symbols,
            repetitions=repetitions,
            initializer=initializer,
            regularizer=regularizer,
            constraint=constraint,
            weight_symbols=weight_symbols,
            backend=backend,
            differentiator=differentiator,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config.pop("observables", None)
        return config

    def _output_shape(self):
        return (2**self._program.n_qubits,)


@register("PQCProbabilities")
class PQCProbabilities(_CircuitOutput):
    """Basis-state probabilities of a parameterized circuit, as a differentiable Keras layer.

    Args:
        circuit: ``cirq.Circuit`` (any sympy expressions as gate parameters).
        input_symbols: symbols fed from the input features, in column order.
        repetitions: for circuits with noise channels, the trajectories averaged.
        initializer, regularizer, constraint, weight_symbols, backend: as for ``PQC``.

    Output shape:
        ``(batch, 2**n_qubits)`` float32 (the policy's compute dtype under mixed precision).

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> x = sympy.Symbol("x")
        >>> layer = PQCProbabilities(cirq.Circuit(cirq.rx(x).on(q[0]), cirq.CNOT(*q)),
        ...                          input_symbols=["x"])
        >>> layer(tf.constant([[0.0], [np.pi / 2]])).numpy().round(3)
        array([[1. , 0. , 0. , 0. ],
               [0.5, 0. , 0. , 0.5]], dtype=float32)
    """

    def _run(self, sim, values, shared, circuits):
        if circuits is not None:
            raise TypeError(
                f"{self.name}: probabilities of quantum-data inputs are not "
                "supported; use PQCSample or PQC with observables."
            )
        return tf.cast(sim.probabilities(values, shared), tf.float32)


@register("PQCState")
class PQCState(_CircuitOutput):
    """Final state vectors of a parameterized circuit, as a Keras layer.

    Differentiable on the statevector backend (``backend="statevector"``, or ``"auto"`` for
    feature inputs); TFQ's state op has no gradient.

    Args: as :class:`PQCProbabilities` (with noise channels each state is one random trajectory).

    Output shape:
        ``(batch, 2**n_qubits)`` complex64.
    """

    def _run(self, sim, values, shared, circuits):
        return sim.state(values, shared, data=circuits)


@register("PQCUnitary")
class PQCUnitary(_CircuitOutput):
    """The unitary matrix of a parameterized circuit per example, as a Keras layer.

    Args: as :class:`PQCProbabilities` (noiseless circuits only).

    Output shape:
        ``(batch, 2**n_qubits, 2**n_qubits)`` complex64, ``U[:, k] = U|k>``.
    """

    def _output_shape(self):
        return (2**self._program.n_qubits,) * 2

    def _run(self, sim, values, shared, circuits):
        return sim.unitary(values, shared, data=circuits)


@register("PQCSample")
class PQCSample(_CircuitOutput):
    """Measured bitstrings of a parameterized circuit, as a Keras layer (no gradient).

    Args:
        repetitions: shots per example (required).
        seed: optional int for reproducible shots on the statevector backend.
        Other arguments as for :class:`PQCProbabilities`.

    Output shape:
        ``(batch, repetitions, n_qubits)`` int32.
    """

    def __init__(self, circuit, input_symbols=None, repetitions=None, seed=None, **kwargs):
        if repetitions is None:
            raise ValueError("PQCSample needs repetitions=N shots per example.")
        self.seed = seed
        super().__init__(circuit, input_symbols=input_symbols, repetitions=repetitions, **kwargs)

    def _output_shape(self):
        return (self.repetitions, self._program.n_qubits)

    def _run(self, sim, values, shared, circuits):
        return sim.sample(values, shared, self.repetitions, data=circuits, seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config
