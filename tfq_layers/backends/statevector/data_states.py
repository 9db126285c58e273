"""Quantum data (TFQ's serialized circuits) on the statevector backend.

A batch of ``tf.string`` circuits becomes a batch of states on the host: the distinct elements
are decoded with :mod:`tfq_layers.wire` and simulated with Cirq in one ``tf.py_function`` (a
bounded cache keyed by the serialized bytes keeps an epoch loop from simulating the same data
twice). The program's circuit then acts on those states through its unitary, which the
statevector backend computes differentiably: ``psi = U(theta) @ psi_data`` per example. As in
TFQ, the data circuit runs first and the program's circuit after it; gradients flow to the
program's symbols, not to the data.

The states are computed outside the graph, so a model with quantum data on this backend runs in
Python (``fit``, ``predict``, eager calls) but does not export to a portable SavedModel or TFLite.
"""

import collections
import threading

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers.backends import memory

#: Distinct (data circuit, register) pairs whose final states are kept between batches (least recently used out).
CACHE_STATES = 4096

#: States larger than this many amplitudes are not cached (they are simulated every batch).
CACHE_MAX_AMPLITUDES = 2**12

_CACHE = collections.OrderedDict()
_LOCK = threading.Lock()


def _cached(key):
    with _LOCK:
        state = _CACHE.get(key)
        if state is not None:
            _CACHE.move_to_end(key)
        return state


def _remember(key, state):
    if state.size > CACHE_MAX_AMPLITUDES:
        return
    with _LOCK:
        _CACHE[key] = state
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_STATES:
            _CACHE.popitem(last=False)


def clear_cache():
    """Forget every cached data state and data-circuit simulator."""
    with _LOCK:
        _CACHE.clear()
        _SIMULATORS.clear()


def _data_circuit(raw, qubits, names=(), reserved=()):
    """The ``cirq.Circuit`` serialized in ``raw``, checked against the register ``qubits``, the
    symbol ``names`` that have values and the ``reserved`` symbols of the program's circuit
    (which the data may not use: TFQ would silently give them the layer's value)."""
    from tfq_layers import wire

    (circuit,) = wire.from_tensor(np.array([raw], dtype=object))
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise ValueError(
            "quantum data holds a PauliSum where a circuit was expected; pass circuits written by "
            "convert_to_tensor([...circuits...])."
        )
    foreign = sorted(set(circuit.all_qubits()) - set(qubits))
    if foreign:
        raise ValueError(
            f"a quantum-data circuit acts on qubits {foreign} that the model's circuit does not "
            f"use (model qubits: {list(qubits)}). Add those qubits to the model's circuit (e.g. "
            "cirq.I on them) or drop them from the data."
        )
    shared = sorted(s.name for s in cirq.parameter_symbols(circuit) if s.name in reserved)
    if shared:
        raise ValueError(
            "a symbol appears both in the quantum-data circuits and in this layer's circuit; "
            "resolve the data circuits (cirq.resolve_parameters) or rename one symbol. Shared "
            f"symbol(s): {shared}"
        )
    symbols = sorted(s.name for s in cirq.parameter_symbols(circuit) if s.name not in names)
    if symbols:
        raise ValueError(
            f"a quantum-data circuit has unresolved symbols {symbols} (symbols with values: "
            f"{sorted(names)}). Resolve them first (cirq.resolve_parameters), or give their "
            "values (symbol_names/symbol_values, or symbols of the model's circuit)."
        )
    return circuit


#: Simulators of data circuits with symbols, keyed by (bytes, qubits, names); least recent out.
_SIMULATORS = collections.OrderedDict()
SIMULATORS_KEPT = 64


def _symbolic(raw, qubits, names, reserved):
    """A compiled simulator of the data circuit ``raw`` whose symbols take values by ``names``,
    or ``None`` for a circuit without symbols."""
    key = (raw, qubits, names, reserved)
    with _LOCK:
        if key in _SIMULATORS:
            _SIMULATORS.move_to_end(key)
            return _SIMULATORS[key]
    circuit = _data_circuit(raw, qubits, names, reserved)
    sim = None
    if cirq.is_parameterized(circuit):
        from tfq_layers.backends.statevector import StatevectorSimulator

        sim = StatevectorSimulator(
            circuit + cirq.Circuit(cirq.I.on_each(*qubits)),
            list(names),
            qubits=list(qubits),
            jit_compile=False,
        )
    with _LOCK:
        _SIMULATORS[key] = sim
        while len(_SIMULATORS) > SIMULATORS_KEPT:
            _SIMULATORS.popitem(last=False)
    return sim


def _final_state(raw, qubits, reserved=()):
    key = (raw, qubits)  # the same bytes on another register are another state
    state = _cached(key)
    if state is None:
        circuit = _data_circuit(raw, qubits, (), reserved)
        state = cirq.final_state_vector(
            circuit + cirq.Circuit(cirq.I.on_each(*qubits)),
            qubit_order=list(qubits),
            dtype=np.complex128,
        ).astype(np.complex64)
        _remember(key, state)
    return state


def data_states(data, qubits, values=None, names=(), reserved=()):
    """``(batch, 2**n)`` complex64 final states of the serialized circuits ``data`` (1-D
    ``tf.string``), on ``qubits`` in this order (the program's register).

    Data circuits may use the symbols ``names``, which take their values from ``values`` (one
    row per example, as TFQ resolves a data circuit's symbols); those states are differentiable
    with respect to ``values`` (the statevector simulator's autodiff, run inside the
    ``py_function``). A circuit without symbols is simulated once with Cirq and cached.

    Args:
        data: ``(batch,)`` tf.string of serialized circuits.
        qubits: the program's qubits, in its order.
        values: optional ``(batch, len(names))`` float32 symbol values.
        names: the symbol names of the columns of ``values``.
        reserved: symbols of the program's own circuit, refused in data circuits.

    Raises:
        MemoryError: (before anything is allocated) when the register does not fit in memory.
        ValueError: for a data circuit on qubits outside ``qubits`` or with unresolved symbols
            (in a graph, e.g. ``model.fit``, the same message as ``InvalidArgumentError``).

    Example:
        >>> q = cirq.LineQubit(0)
        >>> from tfq_layers import wire
        >>> data_states(wire.convert_to_tensor([cirq.Circuit(cirq.X(q))]), [q]).numpy().round(3)
        array([[0.+0.j, 1.+0.j]], dtype=complex64)
    """
    qubits = tuple(qubits)
    names = tuple(names)
    reserved = tuple(sorted(reserved))
    n = len(qubits)
    memory.check_register(n, what="the quantum data's register")
    data = tf.reshape(tf.convert_to_tensor(data, tf.string), [-1])
    distinct, where = tf.unique(data)

    def fixed(strings):
        rows = [_final_state(bytes(s), qubits, reserved) for s in strings.numpy()]
        if not rows:
            return np.zeros((0, 2**n), np.complex64)
        return np.stack(rows)

    def resolved(strings, where, values):
        # per distinct circuit: its examples' states, from Cirq (no symbols) or the simulator
        where = where.numpy()
        positions, parts = [], []
        for k, s in enumerate(strings.numpy()):
            rows = np.flatnonzero(where == k).astype(np.int32)
            sim = _symbolic(bytes(s), qubits, names, reserved)
            if sim is None:
                state = tf.constant(_final_state(bytes(s), qubits))
                part = tf.tile(state[None, :], [len(rows), 1])
            else:
                part = tf.cast(sim.state(tf.gather(values, rows)), tf.complex64)
            positions.append(tf.constant(rows))
            parts.append(part)
        if not parts:
            return tf.zeros([0, 2**n], tf.complex64)
        return tf.dynamic_stitch(positions, parts)

    eager = tf.executing_eagerly()  # errors surface as themselves, not wrapped by py_function
    if values is not None and set(names) - set(reserved):
        values = tf.convert_to_tensor(values, tf.float32)
        if eager:
            out = resolved(distinct, where, values)
        else:
            out = _resolved_in_graph(resolved, distinct, where, values)
    else:
        if eager:
            states = tf.constant(fixed(distinct), tf.complex64)
        else:
            states = tf.py_function(fixed, [distinct], tf.complex64, name="quantum_data_states")
            states.set_shape([None, 2**n])
        out = tf.gather(tf.stop_gradient(states), where)
    out = tf.reshape(out, [-1, 2**n])
    out.set_shape([data.shape[0], 2**n])
    return out


def _resolved_in_graph(resolved, distinct, where, values):
    """``resolved(distinct, where, values)`` as a ``py_function`` with a gradient with respect to
    ``values`` only (the vector-Jacobian product by autodiff inside a second ``py_function``;
    ``py_function``'s own gradient would also ask for one of the string input)."""

    def vjp(strings, where, values, upstream):
        with tf.GradientTape() as tape:
            tape.watch(values)
            states = resolved(strings, where, values)
        grad = tape.gradient(states, values, output_gradients=upstream)
        return tf.zeros_like(values) if grad is None else grad

    @tf.custom_gradient
    def states_of(values):
        out = tf.py_function(
            resolved, [distinct, where, values], tf.complex64, name="quantum_data_states"
        )

        def grad(upstream):
            g = tf.py_function(vjp, [distinct, where, values, upstream], tf.float32)
            g.set_shape(values.shape)
            return g

        return out, grad

    return states_of(values)


def apply(unitaries, states):
    """``U @ psi`` per example: ``(B, d, d)`` and ``(B, d)`` to ``(B, d)``."""
    return tf.linalg.matvec(unitaries, states)


def term_expectations(psi, observables, qubits):
    """``(B, T)`` exact expectations of every Pauli term of ``observables`` (PauliSums) and the
    ``(T, n_obs)`` coefficient matrix that sums them, plus the ``(n_obs,)`` constant offsets."""
    from tfq_layers.backends import circuit_table

    index = {q: i for i, q in enumerate(qubits)}
    terms, owners, coefs = [], [], []
    offset = np.zeros(len(observables), np.float32)
    for o, ob in enumerate(observables):
        for term in ob:
            c = float(np.real(complex(term.coefficient)))
            if not len(term):
                offset[o] += c
                continue
            terms.append(cirq.PauliSum.from_pauli_strings([term / term.coefficient]))
            owners.append(o)
            coefs.append(c)
    coef = np.zeros((len(terms), len(observables)), np.float32)
    for j, (o, c) in enumerate(zip(owners, coefs)):
        coef[j, o] = c
    if terms:
        exact = circuit_table.pauli_expectations(psi, terms, index, len(qubits))
    else:
        exact = tf.zeros([tf.shape(psi)[0], 0], tf.float32)
    return exact, coef, offset


def expectation(psi, observables, qubits):
    exact, coef, offset = term_expectations(psi, observables, qubits)
    return tf.matmul(exact, coef) + offset[None, :]


def sampled_expectation(psi, observables, qubits, repetitions, seed):
    """The backend's shot-noise estimator: each Pauli term from its own ``repetitions`` shots,
    ``Binomial(repetitions, (1 + <P>) / 2)``, with the exact gradient (straight-through)."""
    exact, coef, offset = term_expectations(psi, observables, qubits)
    reps = int(repetitions)
    p_plus = tf.clip_by_value((tf.stop_gradient(exact) + 1.0) / 2.0, 0.0, 1.0)
    counts = tf.random.stateless_binomial(
        tf.shape(p_plus),
        seed=tf.random.experimental.stateless_fold_in(seed, 7),
        counts=float(reps),
        probs=p_plus,
        output_dtype=tf.float32,
    )
    est = 2.0 * counts / reps - 1.0
    noisy = exact + tf.stop_gradient(est - exact)
    return tf.matmul(noisy, coef) + offset[None, :]


def probabilities(psi):
    return tf.math.real(psi * tf.math.conj(psi))


def sample(psi, n_qubits, repetitions, seed):
    """``(B, repetitions, n)`` int32 bits drawn from ``|psi|^2``; column j is qubit j."""
    from tfq_layers.backends.statevector import StatevectorSimulator

    idx = StatevectorSimulator._draw(probabilities(psi), int(repetitions), seed)
    shifts = tf.constant(np.arange(n_qubits - 1, -1, -1), tf.int32)
    return tf.bitwise.bitwise_and(tf.bitwise.right_shift(idx[:, :, None], shifts[None, None, :]), 1)


__all__ = ["CACHE_STATES", "clear_cache", "data_states"]
