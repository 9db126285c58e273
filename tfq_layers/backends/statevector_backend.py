"""The pure-TensorFlow backend: :class:`~tfq_layers.backends.statevector.StatevectorSimulator`
behind the :class:`~tfq_layers.backends.base.Backend` interface.

Any gate with a unitary (or a Kraus representation, by trajectories), exact autodiff gradients of
every output (states and unitaries included), XLA, GPU, and SavedModels with no custom ops. This
module never imports TensorFlow Quantum.
"""

import functools

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers.backends import quantum_data
from tfq_layers.backends.tfq_backend import _CHANNEL_IDS, tfq_unavailable_reason
from tfq_layers.backends import circuit_table, memory
from tfq_layers.backends.base import Backend, GateSet
from tfq_layers.backends.batch_buckets import bucketed
from tfq_layers.backends.check_once import CheckOnce
from tfq_layers.backends.statevector import StatevectorSimulator, as_seed, data_states


def _simulable(gate):
    if not cirq.is_parameterized(gate):
        return cirq.has_unitary(gate) or cirq.has_kraus(gate)
    return True  # parameterized gates are checked by the compiler (exponents, phases, angles)


STATEVECTOR_GATES = GateSet(
    "statevector",
    _simulable,
    "any gate with a unitary (MatrixGate, PhasedXZGate, TOFFOLI, CCZ, CSWAP ...), parameterized "
    "EigenGate/PhasedXPow/PhasedISwap/PhasedXZ/FSim gates, .controlled_by(...) of those, and "
    "noise channels with a Kraus representation",
    "A gate with neither a unitary nor a Kraus representation cannot be simulated. Decompose it "
    "into gates with a unitary, e.g. with cirq.decompose(circuit).",
)

DEFAULT_TRAJECTORIES = 100

# The quantum-data checks of each setting (program without gates, symbol names): traced once and
# shared by every backend in the process.
_DATA_CHECKS = {}


class StatevectorBackend(Backend):
    """Batched statevector simulation in plain TensorFlow.

    With several circuits (``index`` given to the operations), each distinct circuit has its own
    compiled simulator and the batch is partitioned among them inside one graph.
    """

    name = "statevector"
    gate_set = STATEVECTOR_GATES
    reads_quantum_data = True
    differentiable_state = True

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
        super().__init__(
            circuits, batched_names, shared_names, qubits, differentiator, trajectories, noisy
        )
        if differentiator is not None:
            raise ValueError(
                "differentiator applies to backend='tfq'; the statevector backend differentiates "
                "exactly by TensorFlow autodiff. Drop differentiator or use backend='tfq'."
            )
        self._trajectories_arg = trajectories
        self._sims = None
        self._tables = None
        if len(self.circuits) > 1:  # different circuits: as data, one trace per structure
            self._tables = circuit_table.build_tables(
                self.circuits, self.qubits, self.batched_names + self.shared_names
            )
        if self._tables is None:
            self._build_sims()
            self.noisy = any(s.has_noise for s in self._sims)
        else:
            self.noisy = False
        self._unitary_sims = None

    def _build_sims(self):
        if self._sims is None:
            # Several circuits: each is traced once; plain graph mode keeps that cheap (no XLA
            # compile per circuit). Noise channels: plain graph mode too (see _has_channels).
            jit = (
                "auto" if len(self.circuits) == 1 and not _has_channels(self.circuits[0]) else False
            )
            self._sims = [
                StatevectorSimulator(
                    c,
                    self.batched_names,
                    qubits=self.qubits,
                    shared_symbols=self.shared_names,
                    trajectories=self._trajectories_arg or DEFAULT_TRAJECTORIES,
                    jit_compile=jit,
                )
                for c in self.circuits
            ]
        return self._sims

    @property
    def simulators(self):
        """The compiled simulators, one per circuit."""
        return list(self._build_sims())

    def _table_states(self, values, shared, index):
        """Final states of a batch of different noiseless circuits, circuits as data."""
        tables, table_of, row_of = self._tables
        values = self.guard(tf.convert_to_tensor(values, tf.float32))
        full = values
        if self.shared_names:
            full = tf.concat(
                [values, tf.tile(tf.reshape(shared, [1, -1]), tf.stack([tf.shape(values)[0], 1]))],
                axis=1,
            )
        index = tf.cast(index, tf.int32)
        rows = tf.gather(tf.constant(row_of), index)
        which = tf.gather(tf.constant(table_of), index)

        def run(k, part, part_rows):
            table = tables[k]
            fn = _table_function(table.structure, table.n_qubits)
            ws, cs, phases = table.tensors()
            return fn(part, part_rows, ws, cs, phases)

        if len(tables) == 1:
            return run(0, full, rows)
        positions = tf.dynamic_partition(tf.range(tf.shape(full)[0]), which, len(tables))
        parts = tf.dynamic_partition(full, which, len(tables))
        part_rows = tf.dynamic_partition(rows, which, len(tables))
        return tf.dynamic_stitch(
            positions, [run(k, p, r) for k, (p, r) in enumerate(zip(parts, part_rows))]
        )

    def _check_data(self, data):
        if data is not None:
            reason = tfq_unavailable_reason()
            fix = (
                "use backend='tfq' for the unitary of quantum data"
                if reason is None
                else f"TFQ's backend, which can, cannot run here ({reason})"
            )
            raise TypeError(
                "the statevector backend reads quantum data (serialized circuits) for "
                f"expectations, samples, states and probabilities, not for unitaries; {fix}."
            )

    def _checked_data(self, data, names):
        """``data`` behind the in-graph checks the TFQ backend runs too (same messages: bytes
        that are not circuits, noise channels, unresolved or shared symbols): one traced check
        per setting, shared by every backend of the process, and decided on the host for eager
        calls (:class:`~tfq_layers.backends.check_once.CheckOnce`)."""
        empty = all(len(c) == 0 for c in self.circuits)
        key = (empty, tuple(names))
        check = _DATA_CHECKS.get(key)
        if check is None:
            setting = dict(
                noisy=False,
                layer_names=None if empty else list(names),
                value_names=list(names),
                channel_ids=_CHANNEL_IDS,
            )
            check = _DATA_CHECKS[key] = CheckOnce(
                functools.partial(quantum_data.checked, **setting),
                host=functools.partial(quantum_data.host_passes, **setting),
            )
        return check(data)

    def _data_psi(self, values, shared, index, data):
        """States of the quantum ``data`` after the program's circuit (:mod:`.data_states`)."""
        if self.noisy:
            raise ValueError(
                "the statevector backend reads quantum data only into a noiseless circuit; "
                "drop the noise channels or use backend='tfq'."
            )
        u = self.unitary(values, shared, index=index)
        full = tf.convert_to_tensor(values, tf.float32)
        if self.shared_names:  # data symbols take the values of the program's symbols (as TFQ)
            full = tf.concat(
                [full, tf.tile(tf.reshape(shared, [1, -1]), tf.stack([tf.shape(full)[0], 1]))],
                axis=1,
            )
        names = list(self.batched_names) + list(self.shared_names)
        own = {s.name for c in self.circuits for s in cirq.parameter_symbols(c)}
        data = self._checked_data(data, names)
        psi = data_states.data_states(data, self.qubits, full, names, reserved=own)
        return data_states.apply(u, psi)

    def _run(self, fn, values, index, sims=None, bucket=False):
        """``fn(sim, values_part)`` over the batch, partitioned by ``index`` among circuits.

        ``bucket``: ``fn`` is deterministic and row by row, so an XLA-compiled simulator may run
        it on the batch padded to its bucket (one compile per bucket, not per batch size)."""
        sims = sims or self._build_sims()
        values = self.guard(values)
        if bucket:
            inner = fn

            def fn(sim, v):
                if sim.jit_compile and not sim.has_noise:
                    return bucketed(lambda padded: inner(sim, padded), v)
                return inner(sim, v)

        if index is None or len(sims) == 1:
            return fn(sims[0], values)
        index = tf.cast(index, tf.int32)
        positions = tf.dynamic_partition(tf.range(tf.shape(values)[0]), index, len(sims))
        parts = tf.dynamic_partition(values, index, len(sims))
        outs = [fn(sim, part) for sim, part in zip(sims, parts)]
        return tf.dynamic_stitch(positions, outs)

    def _traj(self):
        return self.trajectories or DEFAULT_TRAJECTORIES

    # -- operations -----------------------------------------------------------------------------
    def expectation(self, values, shared, observables, index=None, data=None, seed=None):
        if data is not None:
            psi = self._data_psi(values, shared, index, data)
            return data_states.expectation(psi, [_as_sum(o) for o in observables], self.qubits)
        if self._tables is not None and index is not None:
            psi = self._table_states(values, shared, index)
            return circuit_table.pauli_expectations(
                psi,
                [_as_sum(o) for o in observables],
                {q: i for i, q in enumerate(self.qubits)},
                self.n_qubits,
            )
        traj = self._traj() if self.noisy else None
        return self._run(
            lambda sim, v: sim.expectation(
                v,
                observables,
                trajectories=traj if sim.has_noise else None,
                seed=seed,
                shared_values=shared,
            ),
            values,
            index,
            bucket=True,
        )

    def sampled_expectation(
        self, values, shared, observables, repetitions, index=None, data=None, seed=None
    ):
        if data is not None:
            from tfq_layers.backends.statevector import as_seed

            psi = self._data_psi(values, shared, index, data)
            obs = [_as_sum(o) for o in observables]
            return data_states.sampled_expectation(
                psi, obs, self.qubits, repetitions, as_seed(seed)
            )
        traj = self._traj() if self.noisy else None
        return self._run(
            lambda sim, v: sim.sampled_expectation(
                v,
                observables,
                repetitions=repetitions,
                seed=seed,
                trajectories=traj if sim.has_noise else None,
                shared_values=shared,
            ),
            values,
            index,
        )

    def sample(self, values, shared, repetitions, index=None, data=None, seed=None):
        if data is not None:
            psi = self._data_psi(values, shared, index, data)
            return data_states.sample(psi, self.n_qubits, repetitions, as_seed(seed))
        self._check_data(data)
        values = self.guard_output(values, "sample", repetitions)
        if self._tables is not None and index is not None:
            probs = self.probabilities(values, shared, index=index)
            idx = StatevectorSimulator._draw(probs, int(repetitions), as_seed(seed))
            shifts = tf.constant(np.arange(self.n_qubits - 1, -1, -1), tf.int32)
            return tf.bitwise.bitwise_and(
                tf.bitwise.right_shift(idx[:, :, None], shifts[None, None, :]), 1
            )
        return self._run(
            lambda sim, v: sim.sample(v, repetitions, seed=seed, shared_values=shared),
            values,
            index,
        )

    def state(self, values, shared, index=None, data=None, seed=None):
        if data is not None:
            return self._data_psi(values, shared, index, data)
        if self._tables is not None and index is not None:
            return self._table_states(values, shared, index)
        return self._run(
            lambda sim, v: sim.state(v, seed=seed, shared_values=shared),
            values,
            index,
            bucket=True,
        )

    def probabilities(self, values, shared, index=None, seed=None, data=None):
        if data is not None:
            return data_states.probabilities(self._data_psi(values, shared, index, data))
        if self._tables is not None and index is not None:
            return tf.math.real(tf.abs(self._table_states(values, shared, index)) ** 2)
        traj = self._traj() if self.noisy else None
        return self._run(
            lambda sim, v: sim.probabilities(
                v, trajectories=traj if sim.has_noise else None, seed=seed, shared_values=shared
            ),
            values,
            index,
            bucket=True,
        )

    def unitary(self, values, shared, index=None, data=None):
        """Columns ``U|k>``: each example is simulated from every basis state at once, prepared by
        ``X**b`` gates whose exponents are extra batched values (differentiable like any state)."""
        self._check_data(data)
        if self.noisy:
            raise ValueError("a circuit with noise channels has no unitary; drop the channels.")
        values = self.guard_output(values, "unitary")
        n = self.n_qubits
        if self._unitary_sims is None:
            taken = set(self.batched_names) | set(self.shared_names)
            prefix = "_tfql_basis"
            while any(name.startswith(prefix) for name in taken):
                prefix = "_" + prefix
            bits = [sympy.Symbol(f"{prefix}{i}") for i in range(n)]
            prep = cirq.Circuit(cirq.X(q) ** b for q, b in zip(self.qubits, bits))
            self._unitary_sims = [
                StatevectorSimulator(
                    prep + c,
                    [b.name for b in bits] + self.batched_names,
                    qubits=self.qubits,
                    shared_symbols=self.shared_names,
                )
                for c in self.circuits
            ]
            k = np.arange(2**n)
            self._basis_bits = ((k[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1).astype(
                np.float32
            )
        dim = 2**n
        basis = tf.constant(self._basis_bits)

        def columns(sim, v):
            b = tf.shape(v)[0]
            rows = tf.repeat(v, dim, axis=0)  # (b * dim, n_batched)
            tiled_bits = tf.tile(basis, tf.stack([b, 1]))
            psi = sim.state(tf.concat([tiled_bits, rows], axis=1), shared_values=shared)
            return tf.transpose(tf.reshape(psi, [-1, dim, dim]), [0, 2, 1])  # U[:, k] = U|k>

        values = tf.convert_to_tensor(values, tf.float32)
        return self._run(columns, values, index, sims=self._unitary_sims)

    def memory_bytes(self, batch):
        if self._tables is not None:  # autodiff keeps the state after every gate slot
            slots = max(len(t.structure) for t in self._tables[0])
            return memory.state_bytes(self.n_qubits, batch) * (slots + 3)
        runs = self._traj() if self.noisy else 1
        return max(s.memory_estimate_bytes(int(batch) * runs) for s in self._build_sims())


_TABLE_FUNCTIONS = {}


def _table_function(structure, n_qubits):
    """One traced function per gate-slot structure, shared by every backend in the process."""
    key = (structure, n_qubits)
    fn = _TABLE_FUNCTIONS.get(key)
    if fn is None:

        def run(values, rows, ws, cs, phases):
            return circuit_table.simulate((ws, cs, phases), structure, n_qubits, values, rows)

        fn = tf.function(run, reduce_retracing=True, autograph=False)
        _TABLE_FUNCTIONS[key] = fn
    return fn


def _has_channels(circuit):
    """Whether ``circuit`` has a noise channel (an unparameterized non-measurement operation
    with no unitary), as the simulator's compiler decides it.

    Such a circuit is simulated in plain graph mode, not XLA-compiled (issue #13): trajectories
    run batch * trajectories states, a size at which XLA's CPU code is slower than TensorFlow's
    kernels, and XLA compiles anew for every batch size it meets (model.fit's partial last batch,
    validation, evaluate, predict), seconds each time. Measurements: BENCHMARKS.md, "Simulator
    design measurements"; reproduce with `python -m benchmarks.noisy_fit --diagnose`."""
    return any(
        not cirq.is_parameterized(op) and not cirq.is_measurement(op) and not cirq.has_unitary(op)
        for op in circuit.all_operations()
    )


def _as_sum(ob):
    if isinstance(ob, cirq.PauliString):
        return cirq.PauliSum.from_pauli_strings([ob])
    return ob


__all__ = ["DEFAULT_TRAJECTORIES", "STATEVECTOR_GATES", "StatevectorBackend"]
