"""The interface every simulator backend implements, and the gate sets they declare.

A backend is built once per compiled program (one circuit, or several that share placeholders)
and then runs whole batches:

* ``values``: ``(batch, n_batched)`` float32, one row per example (placeholders that depend on the
  features);
* ``shared``: ``(n_shared,)`` float32, one value for the whole batch (placeholders that depend on
  weights only). A backend may use them as such (one GEMM over the batch) or tile them;
* ``index``: optional ``(batch,)`` int32, which of the program's circuits each example runs;
* ``data``: optional ``(batch,)`` tf.string of serialized circuits (TFQ's quantum data) that run
  before the program's circuit, for backends with ``reads_quantum_data``.

Layers compute ``values``/``shared`` with :class:`tfq_layers.expressions.ParameterMap`, call one of
the operations below and return; they never ask which backend they have. Each backend says what
it can do through class attributes, so a layer can give a clear error (or ``"auto"`` can choose)
without knowing any backend by name.
"""

import abc

from tfq_layers.backends import memory
from tfq_layers.errors import CircuitError

OPERATIONS = ("expectation", "sampled_expectation", "sample", "state", "probabilities", "unitary")


class GateSet:
    """What a backend simulates: a predicate on gates plus the words for the error message.

    Args:
        name: the backend's name, for messages.
        accepts: ``f(gate) -> bool``.
        description: the supported gates, in words.
        fix: what to do about an unsupported gate.
        title: the backend as messages name it (default ``name``).
    """

    def __init__(self, name, accepts, description, fix, title=None):
        self.name = name
        self.title = title or name
        self._accepts = accepts
        self.description = description
        self.fix = fix

    def accepts(self, gate):
        return bool(self._accepts(gate))

    def check(self, gate, where):
        """Raise :class:`CircuitError` naming the gate, the supported set and the fix."""
        if not self.accepts(gate):
            raise CircuitError(
                f"{where}: gate {gate!r} ({type(gate).__name__}) is not supported by the "
                f"{self.title} backend. Supported: {self.description}. {self.fix}"
            )

    def __repr__(self):
        return f"GateSet({self.name!r})"


class Backend(abc.ABC):
    """A compiled program on one simulator.

    Args:
        circuits: list of compiled ``cirq.Circuit`` (parameters are numbers or placeholders).
        batched_names: placeholder names of the columns of ``values``.
        shared_names: placeholder names of the entries of ``shared``.
        qubits: the register (``qubits[0]`` the most significant bit).
        differentiator: a spec from :func:`tfq_layers.backends.differentiator_spec` (backends
            that differentiate by autodiff refuse one other than ``None``).
        trajectories: for noisy circuits, trajectories averaged by ``expectation`` and
            ``probabilities`` (``None``: the backend's default).
        noisy: simulate with the noisy (trajectory) method even when the program's own circuits
            have no channel (quantum data may bring them). Either way ``self.noisy`` says whether
            the backend simulates noisily.

    Class attributes:
        name: ``"tfq"`` or ``"statevector"``.
        gate_set: the :class:`GateSet` the backend simulates.
        reads_quantum_data: accepts ``data`` (serialized circuits) in its operations.
        quantum_data_in_graph: reads ``data`` inside the graph (exportable, any circuit
            tensor); otherwise data is decoded on the host (``tf.py_function``), so concrete
            circuit tensors are better read into ``cirq.Circuit`` objects before the graph.
        reads_operator_tensors: ``expectation``/``sampled_expectation`` also accept
            ``observables`` as a ``(batch, n_ops)`` ``tf.string`` tensor of serialized PauliSums
            (TFQ's form), known only when the graph runs, and ``sampled_expectation`` takes
            ``repetitions`` as a ``(batch, n_ops)`` int tensor too.
        differentiable_state: ``state``/``unitary`` have gradients.
        supports_xla: runs inside ``tf.function(jit_compile=True)`` (Keras's ``supports_jit``).
        max_qubits_hint: registers above this are slower here than on another backend (used by
            ``"auto"``; ``None``: no known limit).
    """

    name = None
    gate_set = None
    reads_quantum_data = False
    quantum_data_in_graph = False
    reads_operator_tensors = False
    differentiable_state = False
    supports_xla = True

    def __init__(
        self,
        circuits,
        batched_names,
        shared_names,
        qubits,
        differentiator=None,
        trajectories=None,
        noisy=False,
    ):
        self.circuits = list(circuits)
        self.batched_names = list(batched_names)
        self.shared_names = list(shared_names)
        self.qubits = list(qubits)
        self.trajectories = trajectories

    @property
    def n_qubits(self):
        return len(self.qubits)

    @classmethod
    def check_operation(cls, operation):
        """Raise a ``TypeError`` naming why ``operation`` (one of :data:`OPERATIONS`) cannot run
        here, before any layer is built on it (default: every operation runs)."""
        return None

    def differentiator_for(self, sampled=False):
        """``{"name": ..., "config": ...}``: how gradients of an exact (or, with ``sampled``, a
        sampled) expectation are computed."""
        return {"name": "autodiff", "config": {}}

    # Each operation returns float32/int32/complex64 tensors with the batch first. ``observables``
    # is a list of cirq.PauliSum (compiled once per distinct list and cached by the backend), or,
    # for a backend with ``reads_operator_tensors``, a (batch, n_ops) tf.string tensor.
    @abc.abstractmethod
    def expectation(self, values, shared, observables, index=None, data=None, seed=None):
        """``(batch, n_observables)`` float32 exact expectations (trajectory means if noisy)."""

    @abc.abstractmethod
    def sampled_expectation(
        self, values, shared, observables, repetitions, index=None, data=None, seed=None
    ):
        """``(batch, n_observables)`` float32 estimates from ``repetitions`` shots per term."""

    @abc.abstractmethod
    def sample(self, values, shared, repetitions, index=None, data=None, seed=None):
        """``(batch, repetitions, n_qubits)`` int32 bits, column ``j`` is ``qubits[j]``."""

    @abc.abstractmethod
    def state(self, values, shared, index=None, data=None):
        """``(batch, 2**n_qubits)`` complex64 final states."""

    @abc.abstractmethod
    def probabilities(self, values, shared, index=None, seed=None):
        """``(batch, 2**n_qubits)`` float32 basis-state probabilities, differentiable."""

    @abc.abstractmethod
    def unitary(self, values, shared, index=None, data=None):
        """``(batch, 2**n, 2**n)`` complex64 unitaries of the circuits."""

    def memory_bytes(self, batch):
        """Rough peak bytes of one forward and backward pass over ``batch`` examples."""
        return memory.state_bytes(self.n_qubits, batch) * memory.TFQ_STATES_KEPT

    def guard(self, values):
        """``values`` behind a check that the batch fits in memory (see :mod:`.memory`)."""
        return memory.guard_batch(values, self.memory_bytes, self.n_qubits)

    def guard_output(self, values, operation, repetitions=None):
        """``values`` behind a check that the output of ``operation`` (``"sample"`` with
        ``repetitions``, or ``"unitary"``) fits in memory for the batch; ``repetitions`` is
        checked (bounded, no wraparound) first. Every backend calls it before either op."""
        from tfq_layers.backends import memory

        n = self.n_qubits
        if operation == "sample":
            reps = memory.check_repetitions(repetitions, "sample")
            return memory.guard_batch(
                values,
                lambda b: memory.sample_bytes(n, reps, b),
                n,
                output=f"samples ({reps} shots each)",
                fix="fewer repetitions",
            )
        # a unitary is 2**n states per example, simulated like a batch of them
        return memory.guard_batch(
            values,
            lambda b: max(memory.unitary_bytes(n, b), self.memory_bytes(b * 2**n)),
            n,
            output="unitary matrices",
        )


__all__ = ["Backend", "GateSet", "OPERATIONS"]
