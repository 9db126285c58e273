"""Many different noiseless circuits in one batched TensorFlow computation, circuits as data.

The barren-plateaus pattern runs hundreds of random circuits that share symbols and differ in
their gates, not in their shape. Compiling one simulator per circuit would trace (and compile) one
TensorFlow function per circuit. Here each circuit is written as a *table*: for every gate slot,
its Fourier form ``U(theta) = sum_k C_k exp(i w_k . theta)`` (see ``statevector.compile``) as arrays
``W (K, n_symbols)`` and ``C (K, d, d)``. Circuits whose gate slots act on the same qubits (the same
*structure*) stack their tables, and one traced function simulates any batch of them: the tables
are inputs of the function, gathered per example, so a new set of circuits of a known structure
runs without tracing again.

Noiseless circuits only (channels need trajectories; the per-circuit simulators handle them).
"""

import string

import numpy as np
import tensorflow as tf

from tfq_layers.backends.statevector.compile import ChannelItem, parse_circuit


class CircuitTable:
    """Noiseless circuits of one gate-slot structure, stacked as Fourier tables.

    Args:
        circuits: list of compiled ``cirq.Circuit`` with the same ``structure``.
        structure: tuple of qubit-index tuples, one per gate slot.
        tables: per circuit, the list of Fourier forms of its slots.
        phases: per circuit, its global phase.
        n_qubits: register size.
    """

    def __init__(self, structure, fouriers, phases, n_qubits):
        self.structure = structure
        self.n_qubits = n_qubits
        n_symbols = max([s for fs in fouriers for f in fs for s in f.symbols()] + [-1]) + 1
        self.n_symbols = n_symbols
        self.w, self.c = [], []
        for k, qs in enumerate(structure):
            d = 2 ** len(qs)
            n_terms = max(fs[k].n_terms for fs in fouriers)
            w = np.zeros((len(fouriers), n_terms, max(n_symbols, 1)), np.float32)
            c = np.zeros((len(fouriers), n_terms, d, d), np.complex64)
            for i, fs in enumerate(fouriers):
                for t, (key, mat) in enumerate(fs[k].terms.items()):
                    for s, coef in key:
                        w[i, t, s] = coef
                    c[i, t] = mat
            self.w.append(w)
            self.c.append(c)
        self.phases = np.asarray(phases, np.complex64)
        self._tensors = None

    def tensors(self):
        """The table as eager constants, built once (not again at every call)."""
        if self._tensors is None:
            with tf.init_scope():
                self._tensors = (
                    [tf.constant(w) for w in self.w],
                    [tf.constant(c) for c in self.c],
                    tf.constant(self.phases),
                )
        return self._tensors


def build_tables(circuits, qubits, symbol_names):
    """``(tables, circuit_to_table, row_in_table)`` grouping noiseless circuits by structure, or
    ``None`` when a circuit has a noise channel."""
    sym_index = {s: i for i, s in enumerate(symbol_names)}
    groups = {}
    where = []
    for circuit in circuits:
        items, phase = parse_circuit(circuit, qubits, sym_index)
        if any(isinstance(it, ChannelItem) for it in items):
            return None
        structure = tuple(it.qubits for it in items)
        group = groups.setdefault(structure, ([], []))
        where.append((list(groups).index(structure), len(group[0])))
        group[0].append([it.fourier for it in items])
        group[1].append(phase)
    tables = [
        CircuitTable(structure, fs, ph, len(qubits)) for structure, (fs, ph) in groups.items()
    ]
    return (
        tables,
        np.array([w[0] for w in where], np.int32),
        np.array([w[1] for w in where], np.int32),
    )


def _apply(psi, u, qubits, n):
    """``u`` (B, d, d) on ``qubits`` of ``psi`` (B, 2, ..., 2) by one einsum."""
    m = len(qubits)
    letters = string.ascii_letters
    state = [letters[i] for i in range(n)]
    outs = [letters[n + i] for i in range(m)]
    ins = [state[q] for q in qubits]
    result = list(state)
    for q, o in zip(qubits, outs):
        result[q] = o
    u = tf.reshape(u, [-1] + [2] * (2 * m))
    spec = f"Z{''.join(outs)}{''.join(ins)},Z{''.join(state)}->Z{''.join(result)}"
    return tf.einsum(spec, u, psi)


def simulate(table_tensors, structure, n_qubits, values, rows):
    """Final states ``(B, 2**n)`` complex64 of the circuits ``rows`` of one table."""
    ws, cs, phases = table_tensors
    n = n_qubits
    batch = tf.shape(values)[0]
    psi = tf.one_hot(tf.zeros([batch], tf.int32), 2**n, dtype=tf.complex64)
    psi = tf.reshape(psi, [-1] + [2] * n)
    for k, qs in enumerate(structure):
        w = tf.gather(ws[k], rows)  # (B, K, S)
        angle = (
            tf.einsum("bks,bs->bk", w[:, :, : values.shape[1]], values)
            if values.shape[1]
            else tf.zeros(tf.shape(w)[:2])
        )
        e = tf.exp(tf.complex(tf.zeros_like(angle), angle))
        u = tf.einsum("bk,bkij->bij", e, tf.gather(cs[k], rows))
        psi = _apply(psi, u, list(qs), n)
    psi = tf.reshape(psi, [-1, 2**n])
    return psi * tf.gather(phases, rows)[:, None]


def pauli_expectations(psi, observables, qubit_index, n):
    """``(B, n_obs)`` real expectations of PauliSums from states ``(B, 2**n)``."""
    shaped = tf.reshape(psi, [-1] + [2] * n)
    conj = tf.math.conj(shaped)
    cols = []
    for ob in observables:
        total = 0.0
        for term in ob:
            p = shaped
            for q, pauli in term.items():
                axis = qubit_index[q] + 1
                name = str(pauli)
                if name in ("X", "Y"):
                    p = tf.reverse(p, [axis])
                if name != "X":
                    factor = {"Y": [-1j, 1j], "Z": [1.0, -1.0]}[name]
                    shape = [1] * (n + 1)
                    shape[axis] = 2
                    p = p * tf.reshape(tf.constant(factor, tf.complex64), shape)
            value = tf.math.real(
                tf.reduce_sum(tf.reshape(conj * p, [tf.shape(psi)[0], -1]), axis=1)
            )
            total = total + float(np.real(complex(term.coefficient))) * value
        cols.append(
            total
            if not isinstance(total, float)
            else tf.fill([tf.shape(psi)[0]], tf.constant(total, tf.float32))
        )
    return tf.stack(cols, axis=1)


__all__ = ["CircuitTable", "build_tables", "pauli_expectations", "simulate"]
