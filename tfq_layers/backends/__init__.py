"""Simulator backends behind one interface.

* ``"tfq"``: TensorFlow Quantum's qsim ops (CPU; quantum-data inputs; TFQ's differentiators).
* ``"statevector"``: a pure-TensorFlow batched simulator (:mod:`.statevector`): any gate with a
  unitary, exact autodiff gradients (Hessians too), XLA- and GPU-ready, and SavedModels that load
  with TensorFlow alone.
* ``"auto"``: picks per layer with :func:`choose_backend`.
"""
from tfq_layers.backends.tfq_backend import (DIFFERENTIATORS, TFQExpectation, differentiator_spec,
                                             has_channels, load_tfq_ops)

BACKENDS = ("auto", "tfq", "statevector")
# Measured crossover (BENCHMARKS.md): the statevector backend was faster than TFQ's op at every
# size measured (4 to 20 qubits); above 20 qubits we have no measurement, so "auto" keeps TFQ.
STATEVECTOR_MAX_QUBITS = 20


def choose_backend(n_qubits, quantum_data=False, differentiator=None, repetitions=None,
                   noisy=False):
    """The backend ``"auto"`` resolves to.

    TFQ when the layer takes quantum data (serialized circuits only TFQ can read), when a TFQ
    differentiator was asked for, for sampled expectations of a noiseless circuit (TFQ samples
    shots and differentiates them by parameter shift, as on hardware), or above
    ``STATEVECTOR_MAX_QUBITS``; the statevector backend otherwise.
    """
    if quantum_data or differentiator is not None or (repetitions and not noisy) or \
            n_qubits > STATEVECTOR_MAX_QUBITS:
        return "tfq"
    return "statevector"


class StatevectorExpectation:
    """Batched expectation values through the pure-TF statevector simulator.

    Args:
        compiled_circuit: circuit whose parameters are numbers or bare placeholder symbols.
        placeholder_names: placeholder names, in the column order of ``symbol_values``.
        shared_names: placeholders with one value for the whole batch (weights), passed as
            ``shared_values`` (see ``StatevectorSimulator(shared_symbols=...)``).
        observables: list of ``cirq.PauliSum``.
        qubits: the register (qubit 0 = most significant bit).
        repetitions: ``None`` for exact values; for a noisy circuit the number of trajectories
            averaged; for a noiseless one, shots per Pauli term (binomial sampling of the exact
            value; the gradient is then the exact one).
    """

    spec = {"name": "autodiff", "config": {}}

    def __init__(self, compiled_circuit, placeholder_names, observables, qubits, repetitions=None,
                 shared_names=()):
        from tfq_layers.backends.statevector import StatevectorSimulator
        self._sim = StatevectorSimulator(compiled_circuit, placeholder_names, qubits=qubits,
                                         observables=observables, shared_symbols=shared_names)
        self.repetitions = repetitions
        self.noisy = self._sim.has_noise
        self.simulator = self._sim

    def _bytes_needed(self, batch):
        """Peak bytes for ``batch`` inputs; a noisy circuit simulates every trajectory at once."""
        runs = (self.repetitions or self._sim.trajectories) if self.noisy else 1
        return self._sim.memory_estimate_bytes(int(batch) * int(runs))

    def _guard_memory(self, symbol_values):
        """Refuse a batch whose states cannot fit in memory, before any state is allocated."""
        from tfq_layers.program import physical_memory_bytes
        import tensorflow as tf
        have = physical_memory_bytes()
        if have is None:
            return symbol_values
        batch = symbol_values.shape[0]
        if batch is not None:  # known now: refuse in Python
            need = self._bytes_needed(batch)
            if need > have:
                raise MemoryError(
                    f"simulating a batch of {batch} on {self._sim.n_qubits} qubits needs about "
                    f"{need / 2**30:.1f} GiB of state vectors, but this machine has "
                    f"{have / 2**30:.1f} GiB. Use a smaller batch_size or fewer qubits.")
            return symbol_values
        per_sample = self._bytes_needed(1)
        max_batch = max(1, have // max(per_sample, 1))
        check = tf.debugging.assert_less_equal(
            tf.shape(symbol_values)[0], tf.constant(int(min(max_batch, 2**31 - 1)), tf.int32),
            message=f"batch too large for memory: each sample on {self._sim.n_qubits} qubits "
                    f"needs about {per_sample / 2**20:.1f} MiB, at most {max_batch} fit in "
                    f"{have / 2**30:.1f} GiB; use a smaller batch_size")
        with tf.control_dependencies([check]):
            return tf.identity(symbol_values)

    def __call__(self, symbol_values, circuits=None, shared_values=None):
        if circuits is not None:
            raise TypeError("the statevector backend cannot read quantum data (serialized "
                            "circuits); use backend='tfq' (or 'auto') for quantum-data inputs.")
        symbol_values = self._guard_memory(symbol_values)
        if self.noisy:
            return self._sim.expectation(symbol_values, trajectories=self.repetitions,
                                         shared_values=shared_values)
        if self.repetitions:
            return self._sim.sampled_expectation(symbol_values, repetitions=self.repetitions,
                                                 shared_values=shared_values)
        return self._sim.expectation(symbol_values, shared_values=shared_values)


__all__ = ["BACKENDS", "DIFFERENTIATORS", "STATEVECTOR_MAX_QUBITS", "StatevectorExpectation",
           "TFQExpectation", "choose_backend", "differentiator_spec", "has_channels",
           "load_tfq_ops"]
