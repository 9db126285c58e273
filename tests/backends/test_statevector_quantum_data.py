"""Quantum data (serialized circuits) on the statevector backend, against Cirq, finite
differences and TFQ itself; training compat layers on a ``keras.Input`` string tensor; errors."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
import tfq_layers
from tfq_layers import wire
from tfq_layers._keras import keras
from tfq_layers.backends import memory
from tfq_layers.backends.statevector import data_states
from tfq_layers.backends.statevector_backend import StatevectorBackend
from tfq_layers.compat import layers as L

Q = cirq.GridQubit.rect(1, 2)
A, B, C = sympy.symbols("a b c")
MODEL = cirq.Circuit(
    cirq.rx(A).on(Q[0]), cirq.CNOT(Q[0], Q[1]), cirq.ry(B).on(Q[1]), cirq.rz(C).on(Q[0])
)
OBS = [cirq.Z(Q[0]), cirq.X(Q[1]), 0.5 * cirq.Y(Q[0]) * cirq.Z(Q[1]) + 0.25]


def _data(rng, n=3, qubits=Q):
    """Random single-qubit rotations per qubit (hello many worlds's data), plus an entangler."""
    out = []
    for _ in range(n):
        c = cirq.Circuit(cirq.rx(rng.uniform(0, 2 * np.pi)).on(q) for q in qubits) + cirq.Circuit(
            cirq.ry(rng.uniform(0, 2 * np.pi)).on(q) for q in qubits
        )
        if len(qubits) > 1:
            c += cirq.CZ(qubits[0], qubits[1])
        out.append(c)
    return out


def _final(data_circuit, weights, qubits=Q):
    resolver = dict(zip(("a", "b", "c"), weights))
    full = data_circuit + cirq.resolve_parameters(MODEL, resolver)
    return cirq.final_state_vector(full, qubit_order=qubits, dtype=np.complex128)


def _expect(state, qubits=Q):
    index = {q: i for i, q in enumerate(qubits)}
    return [ob.expectation_from_state_vector(state, index).real for ob in map(_sum, OBS)]


def _sum(ob):
    return cirq.PauliSum.from_pauli_strings([ob]) if isinstance(ob, cirq.PauliString) else ob


def _backend():
    return StatevectorBackend([MODEL], [], ["a", "b", "c"], Q)


def test_pqc_with_quantum_data_input_matches_cirq_and_finite_differences():
    rng = np.random.default_rng(0)
    data = _data(rng) + [cirq.Circuit()]  # an empty circuit: the all-zeros state
    data_in = keras.Input(shape=(), dtype=tf.string)
    layer = tfq_layers.PQC(MODEL, OBS, backend="statevector")
    model = keras.Model(data_in, layer(data_in))
    assert [s.name for s in layer.weight_symbols] == ["a", "b", "c"]
    w = rng.uniform(-np.pi, np.pi, 3).astype(np.float32)
    layer.set_weights([w])
    tensor = wire.convert_to_tensor(data)
    got = model(tensor).numpy()
    want = np.array([_expect(_final(c, w)) for c in data])
    np.testing.assert_allclose(got, want, atol=1e-5)

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(tensor) * tf.constant([1.0, -2.0, 3.0]))
    grad = tape.gradient(loss, layer.circuit_weights).numpy()

    def f(x):
        return sum(float(np.dot(_expect(_final(c, x)), [1.0, -2.0, 3.0])) for c in data)

    np.testing.assert_allclose(grad, reference.central_difference(f, w), atol=1e-3)


def test_state_sample_probabilities_and_sampled_expectation_with_data():
    rng = np.random.default_rng(1)
    data = _data(rng, 2)
    tensor = wire.convert_to_tensor(data)
    w = rng.uniform(-np.pi, np.pi, 3).astype(np.float32)
    backend = _backend()
    values, shared = tf.zeros([2, 0]), tf.constant(w)
    want = np.stack([_final(c, w) for c in data])
    state = backend.state(values, shared, data=tensor).numpy()
    np.testing.assert_allclose(state, want, atol=1e-5)
    probs = backend.probabilities(values, shared, data=tensor).numpy()
    np.testing.assert_allclose(probs, np.abs(want) ** 2, atol=1e-5)
    reps = 20000
    bits = backend.sample(values, shared, reps, data=tensor, seed=3).numpy()
    assert bits.shape == (2, reps, 2)
    index = bits[..., 0] * 2 + bits[..., 1]  # column j is qubit j, big-endian as Cirq's
    freq = np.stack([np.bincount(i, minlength=4) / reps for i in index])
    np.testing.assert_allclose(freq, np.abs(want) ** 2, atol=0.02)
    again = backend.sample(values, shared, reps, data=tensor, seed=3).numpy()
    np.testing.assert_array_equal(bits, again)
    sampled = backend.sampled_expectation(values, shared, OBS, 20000, data=tensor, seed=5).numpy()
    np.testing.assert_allclose(sampled, [_expect(s) for s in want], atol=0.03)


@pytest.mark.parametrize("layer_kind", ["ControlledPQC", "PQC"])
def test_compat_layers_train_on_a_string_input_without_tfq(layer_kind):
    # TFQ's hello many worlds: learn to rotate randomly rotated data back
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    q = cirq.GridQubit(0, 0)
    a, b = sympy.symbols("a b")
    model_circuit = cirq.Circuit(cirq.rz(a).on(q), cirq.ry(b).on(q))
    data = [cirq.Circuit(cirq.rx(rng.uniform(0, 0.5)).on(q)) for _ in range(8)]
    labels = np.ones((8, 1), np.float32)
    data_in = keras.Input(shape=(), dtype=tf.string)
    if layer_kind == "ControlledPQC":
        ctrl_in = keras.Input(shape=(1,))
        controller = keras.layers.Dense(2)
        out = L.ControlledPQC(model_circuit, cirq.Z(q), backend="statevector")(
            [data_in, controller(ctrl_in)]
        )
        model = keras.Model([data_in, ctrl_in], out)
        x = [wire.convert_to_tensor(data), np.ones((8, 1), np.float32)]
    else:
        layer = L.PQC(model_circuit, cirq.Z(q), backend="statevector")
        model = keras.Model(data_in, layer(data_in))
        x = wire.convert_to_tensor(data)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    before = model.evaluate(x, labels, verbose=0)
    model.fit(x, labels, epochs=20, batch_size=8, verbose=0)
    after = model.evaluate(x, labels, verbose=0)
    assert after < 0.5 * before


def test_auto_picks_statevector_for_quantum_data_without_tfq(monkeypatch):
    from tfq_layers import backends
    from tfq_layers.compat import arguments

    # as where TFQ cannot run (the no-TFQ lane runs this for real)
    monkeypatch.setattr(backends.REGISTRY["tfq"], "why_not", lambda: "hidden for this test")
    assert not arguments.reads_serialized_circuits("auto")
    layer = tfq_layers.PQC(MODEL, OBS)
    layer(keras.Input(shape=(), dtype=tf.string))
    assert layer.backend == "statevector"
    assert not layer.supports_jit  # the data is read on the host: no XLA


def test_portable_export_names_the_quantum_data_input(tmp_path):
    from tfq_layers.export import export_portable

    data_in = keras.Input(shape=(), dtype=tf.string, name="circuits")
    model = keras.Model(data_in, tfq_layers.PQC(MODEL, OBS, backend="statevector")(data_in))
    with pytest.raises(ValueError, match="circuits.*tf.string.*quantum data"):
        export_portable(model, str(tmp_path / "out"))


def test_data_on_qubits_outside_the_register_is_refused():
    backend = _backend()
    foreign = cirq.Circuit(cirq.X(Q[0]), cirq.X(cirq.GridQubit(5, 5)))
    with pytest.raises(ValueError, match=r"GridQubit\(5, 5\).*model qubits"):
        backend.expectation(
            tf.zeros([1, 0]), tf.zeros([3]), OBS, data=wire.convert_to_tensor([foreign])
        )


def test_bad_data_in_a_graph_names_the_problem():
    data_in = keras.Input(shape=(), dtype=tf.string)
    model = keras.Model(data_in, tfq_layers.PQC(MODEL, OBS, backend="statevector")(data_in))
    foreign = cirq.Circuit(cirq.X(cirq.GridQubit(5, 5)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"GridQubit\(5, 5\).*model qubits"):
        model.predict(wire.convert_to_tensor([foreign]), verbose=0)


def test_data_with_unresolved_symbols_is_refused():
    backend = _backend()
    symbolic = cirq.Circuit(cirq.rx(sympy.Symbol("d")).on(Q[0]))
    # the in-graph check the TFQ backend runs too (tfq_layers.backends.quantum_data)
    with pytest.raises(tf.errors.InvalidArgumentError, match="symbol.*that get no value"):
        backend.state(tf.zeros([1, 0]), tf.zeros([3]), data=wire.convert_to_tensor([symbolic]))


def test_data_sharing_a_symbol_with_the_layer_is_refused():
    # TFQ silently gives the data's symbol the layer's value; refused as on the TFQ backend
    data_in = keras.Input(shape=(), dtype=tf.string)
    layer = tfq_layers.PQC(MODEL, OBS, backend="statevector")
    model = keras.Model(data_in, layer(data_in))
    shared = wire.convert_to_tensor([cirq.Circuit(cirq.rx(A).on(Q[0]))])
    with pytest.raises(tf.errors.InvalidArgumentError, match="both in the quantum-data"):
        model(shared)


def test_host_checks_name_unresolved_and_shared_symbols():
    # behind the in-graph checks, the host decoding refuses the same circuits by itself
    symbolic = cirq.Circuit(cirq.rx(sympy.Symbol("d")).on(Q[0]), cirq.rx(A).on(Q[1]))
    (raw,) = wire.convert_to_tensor([symbolic]).numpy()
    with pytest.raises(ValueError, match=r"unresolved symbols \['d'\]"):
        data_states._data_circuit(raw, Q, names=("a",))
    with pytest.raises(ValueError, match=r"both in the quantum-data.*\['a'\]"):
        data_states._data_circuit(raw, Q, names=("a", "d"), reserved=("a",))


def test_too_many_qubits_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 2**20)
    qubits = cirq.LineQubit.range(20)
    with pytest.raises(MemoryError, match="20 qubits"):
        data_states.data_states(tf.constant([b""]), qubits)


def test_distinct_data_are_simulated_once():
    data_states.clear_cache()
    rng = np.random.default_rng(4)
    data = _data(rng, 2)
    tensor = wire.convert_to_tensor([data[0], data[1], data[0], data[0]])
    states = data_states.data_states(tensor, Q).numpy()
    assert len(data_states._CACHE) == 2
    np.testing.assert_array_equal(states[0], states[2])
    want = cirq.final_state_vector(data[1], qubit_order=Q)
    np.testing.assert_allclose(states[1], want, atol=1e-6)


@pytest.mark.tfq
def test_agrees_with_the_tfq_backend():
    rng = np.random.default_rng(5)
    tensor = wire.convert_to_tensor(_data(rng, 4))
    w = rng.uniform(-np.pi, np.pi, 3).astype(np.float32)
    outs = []
    for backend in ("statevector", "tfq"):
        data_in = keras.Input(shape=(), dtype=tf.string)
        layer = tfq_layers.PQC(MODEL, OBS, backend=backend)
        model = keras.Model(data_in, layer(data_in))
        layer.set_weights([w])
        with tf.GradientTape() as tape:
            out = model(tensor)
            loss = tf.reduce_sum(out)
        outs.append((out.numpy(), tape.gradient(loss, layer.circuit_weights).numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-5)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-4)


def test_expectation_of_a_symbolic_circuit_tensor_with_gradients_of_its_values():
    # a compat executor on a tf.string input: the data circuits' symbols take symbol_values
    rng = np.random.default_rng(6)
    data = [MODEL, cirq.Circuit(cirq.H(Q[0])) + MODEL, cirq.Circuit(cirq.X(Q[1]))]
    data_in = keras.Input(shape=(), dtype=tf.string)
    values_in = keras.Input(shape=(3,))
    out = L.Expectation(backend="statevector")(
        data_in, symbol_names=["a", "b", "c"], symbol_values=values_in, operators=OBS
    )
    model = keras.Model([data_in, values_in], out)
    v = rng.uniform(-np.pi, np.pi, (3, 3)).astype(np.float32)
    tensor = wire.convert_to_tensor(data)

    def cirq_expect(c, row):
        resolver = dict(zip(("a", "b", "c"), row))
        state = cirq.final_state_vector(
            cirq.resolve_parameters(c, resolver) + cirq.I.on_each(*Q),
            qubit_order=Q,
            dtype=np.complex128,
        )
        return _expect(state)

    weights = np.array([1.0, -2.0, 3.0])
    for run in (model, tf.function(model)):  # eager, and a graph (the py_function path)
        values = tf.constant(v)
        with tf.GradientTape() as tape:
            tape.watch(values)
            got = run([tensor, values])
            loss = tf.reduce_sum(got * tf.constant(weights, tf.float32))
        grad = tape.gradient(loss, values).numpy()
        want = np.array([cirq_expect(c, row) for c, row in zip(data, v)])
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)
        for i, c in enumerate(data):
            fd = reference.central_difference(
                lambda x, c=c: float(np.dot(cirq_expect(c, x), weights)), v[i]
            )
            np.testing.assert_allclose(grad[i], fd, atol=1e-3)
