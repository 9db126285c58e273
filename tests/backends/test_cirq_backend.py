"""Cirq simulator and sampler objects as backends (``backend=cirq.DensityMatrixSimulator()`` ...):
against the statevector backend, Cirq's own float64 simulators, finite differences, sampling
statistics; saving; errors; Keras's layer contract."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
from tfq_layers import PQC, PQCState
from tfq_layers._keras import LEGACY, keras
from tfq_layers.backends import cirq_backend
from tfq_layers.compat import layers as L
from tfq_layers.errors import CircuitError
from tfq_layers.wire import convert_to_tensor

keras3_only = pytest.mark.skipif(LEGACY, reason="Keras 3 API (keras.src.testing)")

Q = cirq.LineQubit.range(2)
X, W0, W1, W2 = sympy.symbols("x w0 w1 w2")
FEATS = np.array([[0.2], [1.1], [-0.4]], np.float32)
WEIGHTS = np.array([0.3, -0.7, 0.45], np.float32)


def _circuit(expressions=False):
    """Shared symbols, coefficients and a controlled rotation; with ``expressions`` also
    non-affine parameters (each then a placeholder of its own)."""
    first = cirq.rx(W0 * X if expressions else X).on(Q[0])
    return cirq.Circuit(
        first,
        cirq.ry(W0).on(Q[0]),
        cirq.CNOT(*Q),
        cirq.rz(2 * W1).on(Q[1]),
        cirq.ry(W1).on(Q[1]),
        cirq.ry(sympy.atan(W2) if expressions else W2).on(Q[1]).controlled_by(Q[0]),
        cirq.XXPowGate(exponent=0.5 * W2).on(*Q),
    )


OBS = [cirq.Z(Q[0]), cirq.X(Q[1]) + 0.5 * cirq.Z(Q[0]) * cirq.Z(Q[1])]


def _outputs_and_gradients(backend, circuit, feats=FEATS):
    layer = PQC(circuit, OBS, input_symbols=["x"], backend=backend)
    layer.build((None, 1))
    layer.set_weights([WEIGHTS])
    x = tf.constant(feats)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        loss = tf.reduce_sum(out * tf.constant([[1.0, -2.0]]))
    gx, gw = tape.gradient(loss, [x, layer.circuit_weights])
    return out.numpy(), gx.numpy(), gw.numpy()


@pytest.mark.parametrize("expressions", [False, True], ids=["direct", "expressions"])
@pytest.mark.parametrize("simulator", ["density_matrix", "state_vector"])
def test_noiseless_agrees_with_statevector_backend(expressions, simulator):
    """Outputs and gradients (features and weights) to 1e-5."""
    obj = cirq.DensityMatrixSimulator() if simulator == "density_matrix" else cirq.Simulator()
    circuit = _circuit(expressions)
    want = _outputs_and_gradients("statevector", circuit)
    got = _outputs_and_gradients(obj, circuit)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-5)


def _gate_cases():
    a, b = sympy.symbols("a b")
    q0, q1 = Q
    return {
        "rx": (cirq.Circuit(cirq.ry(0.4).on(q0), cirq.rx(1.5 * a).on(q0)), {a: 0.7}),
        "xpow_shared": (cirq.Circuit(cirq.X(q0) ** a, cirq.Y(q0) ** (2 * a)), {a: 0.3}),
        "controlled_rx": (
            cirq.Circuit(cirq.H(q0), cirq.ry(0.3).on(q1), cirq.rx(a).on(q1).controlled_by(q0)),
            {a: 0.9},
        ),
        "iswap_pow": (cirq.Circuit(cirq.H(q0), cirq.ISwapPowGate(exponent=a).on(q0, q1)), {a: 0.3}),
        "phased_x": (
            cirq.Circuit(cirq.H(q0), cirq.PhasedXPowGate(phase_exponent=a, exponent=b).on(q0)),
            {a: 0.2, b: 0.6},
        ),
        "phased_xz": (
            cirq.Circuit(
                cirq.H(q0),
                cirq.PhasedXZGate(x_exponent=a, z_exponent=b, axis_phase_exponent=a).on(q0),
            ),
            {a: 0.35, b: -0.2},
        ),
        "phased_iswap": (
            cirq.Circuit(
                cirq.H(q0),
                cirq.ry(0.7).on(q1),
                cirq.PhasedISwapPowGate(phase_exponent=a, exponent=b).on(q0, q1),
            ),
            {a: 0.15, b: 0.4},
        ),
        "fsim": (
            cirq.Circuit(cirq.H(q0), cirq.ry(0.5).on(q1), cirq.FSimGate(theta=a, phi=b).on(q0, q1)),
            {a: 0.8, b: 0.6},
        ),
    }


@pytest.mark.parametrize("case", sorted(_gate_cases()))
def test_parameter_shift_matches_finite_differences(case):
    """Each gate family's shift rule against central differences of Cirq in float64."""
    circuit, point = _gate_cases()[case]
    circuit = circuit + cirq.Circuit(cirq.I.on_each(*Q))
    q0, q1 = Q
    obs = [cirq.X(q0) + 0.3 * cirq.Y(q1), cirq.Y(q0) * cirq.X(q1) + cirq.Z(q1)]
    names = sorted(point, key=lambda s: s.name)
    layer = L.Expectation(backend=cirq.Simulator(dtype=np.complex128))
    values = tf.constant([[float(point[s]) for s in names]], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = layer(circuit, symbol_names=names, symbol_values=values, operators=obs)
        loss = out[0, 0] - 0.7 * out[0, 1]
    got = tape.gradient(loss, values).numpy()[0]

    def f(v):
        e = reference.expectations(circuit, obs, dict(zip(names, v)), list(Q))
        return e[0] - 0.7 * e[1]

    want = reference.central_difference(f, [float(point[s]) for s in names], h=1e-5)
    np.testing.assert_allclose(got, want, atol=2e-5)


def _noisy_reference(circuit, noise, resolver):
    sim = cirq.DensityMatrixSimulator(noise=noise, dtype=np.complex128)
    resolved = cirq.resolve_parameters(circuit, resolver)  # no padding: it would add noise
    rho = sim.simulate(resolved, qubit_order=list(Q)).final_density_matrix
    qmap = {q: i for i, q in enumerate(Q)}
    return np.array([o.expectation_from_density_matrix(rho, qmap).real for o in OBS])


def test_noise_model_agrees_with_cirq_density_matrix():
    """With a noise model the layer gives Cirq's own density-matrix expectations, and gradients
    equal finite differences of them."""
    noise = cirq.depolarize(0.05)
    circuit = _circuit()
    out, gx, gw = _outputs_and_gradients(cirq.DensityMatrixSimulator(noise=noise), circuit)
    weights = dict(zip(["w0", "w1", "w2"], WEIGHTS.astype(float)))
    for row, x in zip(out, FEATS[:, 0]):
        np.testing.assert_allclose(
            row, _noisy_reference(circuit, noise, dict(weights, x=float(x))), atol=1e-5
        )
    noiseless = _outputs_and_gradients("statevector", circuit)[0]
    assert np.max(np.abs(out - noiseless)) > 1e-2  # the noise model was applied

    def loss(w):
        total = 0.0
        for x in FEATS[:, 0]:
            e = _noisy_reference(circuit, noise, dict(zip(["w0", "w1", "w2"], w), x=float(x)))
            total += e[0] - 2 * e[1]
        return total

    np.testing.assert_allclose(
        gw, reference.central_difference(loss, WEIGHTS.astype(float), h=1e-5), atol=5e-5
    )


def test_channels_in_the_circuit_density_matrix_exact_state_vector_by_trajectories():
    """Noise channels in the circuit itself: a density-matrix simulator is exact; a state-vector
    simulator averages ``repetitions`` trajectories (within 5 standard errors)."""
    noisy = _circuit() + cirq.Circuit(cirq.amplitude_damp(0.3).on(q) for q in Q)
    weights = dict(zip(["w0", "w1", "w2"], WEIGHTS.astype(float)))
    want = np.array([_noisy_reference(noisy, None, dict(weights, x=float(x))) for x in FEATS[:, 0]])
    shots = 200
    for obj, tol in (
        (cirq.DensityMatrixSimulator(), 1e-5),
        (cirq.Simulator(seed=5), 5 * np.array([1.0, 1.5]) / np.sqrt(shots)),
    ):
        layer = PQC(noisy, OBS, input_symbols=["x"], repetitions=shots, backend=obj)
        layer.build((None, 1))
        layer.set_weights([WEIGHTS])
        got = layer(tf.constant(FEATS)).numpy()
        assert np.all(np.abs(got - want) < tol), (type(obj).__name__, got, want)


def _model(backend, seed=3):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(1,))
    out = PQC(_circuit(), OBS, input_symbols=["x"], backend=backend)(inp)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_trains_in_model_fit_like_the_statevector_backend():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 1)).astype(np.float32)
    y = np.stack([np.cos(x[:, 0]), 0.5 * np.sin(x[:, 0])], axis=1).astype(np.float32)
    histories, weights = [], []
    for backend in ("statevector", cirq.DensityMatrixSimulator()):
        model = _model(backend)
        h = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
        histories.append(h.history["loss"])
        weights.append(model.get_weights()[0])
    assert histories[1][-1] < histories[1][0]
    np.testing.assert_allclose(histories[1], histories[0], atol=1e-5)
    np.testing.assert_allclose(weights[1], weights[0], atol=1e-5)


class OnlySamples(cirq.Sampler):
    """A sampler that is nothing else (as a hardware sampler): ``run_sweep`` only."""

    def __init__(self, seed):
        self._sim = cirq.Simulator(seed=seed)

    def run_sweep(self, program, params, repetitions=1):
        return self._sim.run_sweep(program, params, repetitions=repetitions)


class OnlyExpectations(cirq.SimulatesExpectationValues):
    """An object that computes expectations and nothing else (no sampling, no states)."""

    def simulate_expectation_values_sweep_iter(
        self,
        program,
        observables,
        params,
        qubit_order=cirq.QubitOrder.DEFAULT,
        initial_state=None,
        permit_terminal_measurements=False,
    ):
        sim = cirq.Simulator(dtype=np.complex128)
        return sim.simulate_expectation_values_sweep_iter(
            program, observables, params, qubit_order, initial_state, permit_terminal_measurements
        )


def test_expectation_only_object_agrees_with_statevector():
    circuit = _circuit()
    want = _outputs_and_gradients("statevector", circuit)
    for g, w in zip(_outputs_and_gradients(OnlyExpectations(), circuit), want):
        np.testing.assert_allclose(g, w, atol=1e-5)


def test_pure_sampler_gives_sampled_expectations_within_tolerance():
    circuit = _circuit()
    reps = 2000
    exact = _outputs_and_gradients("statevector", circuit)[0]
    for layer in (
        PQC(circuit, OBS, input_symbols=["x"], repetitions=reps, backend=OnlySamples(1)),
        PQC(circuit, OBS, input_symbols=["x"], backend=OnlySamples(2)),  # expectation by sampling
    ):
        layer.build((None, 1))
        layer.set_weights([WEIGHTS])
        got = layer(tf.constant(FEATS)).numpy()
        shots = reps if layer.repetitions else cirq_backend.DEFAULT_REPETITIONS
        # each Pauli term's estimate has std <= |coefficient| / sqrt(shots); 5 sigma
        tol = 5 * np.array([1.0, 1.5]) / np.sqrt(shots)
        assert np.all(np.abs(got - exact) < tol), (got, exact)
    out = L.SampledExpectation(backend=OnlySamples(3))(
        circuit,
        symbol_names=["w0", "w1", "w2", "x"],
        symbol_values=np.concatenate([np.tile(WEIGHTS, (3, 1)), FEATS], axis=1),
        operators=OBS,
        repetitions=reps,
    ).numpy()
    assert np.all(np.abs(out - exact) < 5 * np.array([1.0, 1.5]) / np.sqrt(reps))


def test_compat_executors_on_cirq_objects():
    a = sympy.Symbol("a")
    circuit = cirq.Circuit(cirq.rx(a).on(Q[0]), cirq.CNOT(*Q))
    values = np.array([[0.3], [np.pi]], np.float32)
    state = L.State(backend=cirq.Simulator())(circuit, symbol_names=[a], symbol_values=values)
    for row, v in zip(state.to_list(), values[:, 0]):
        want = cirq.final_state_vector(
            cirq.resolve_parameters(circuit, {a: float(v)}), qubit_order=list(Q)
        )
        np.testing.assert_allclose(row, want, atol=1e-6)
    bits = L.Sample(backend=cirq.Simulator(seed=0))(
        circuit, symbol_names=[a], symbol_values=values, repetitions=50
    )
    bits = bits.to_tensor().numpy()
    assert bits.shape == (2, 50, 2)
    np.testing.assert_array_equal(bits[1], np.ones((50, 2)))  # rx(pi) then CNOT: |11>
    assert set(np.unique(bits[0])) <= {0, 1}
    assert np.all(bits[0][:, 0] == bits[0][:, 1])  # the CNOT correlates the two qubits
    exp = L.Expectation(backend=cirq.Simulator())(
        circuit, symbol_names=[a], symbol_values=values, operators=[cirq.Z(Q[1])]
    )
    np.testing.assert_allclose(exp.numpy()[:, 0], np.cos(values[:, 0]), atol=1e-6)


def test_errors_name_what_the_object_cannot_do():
    a = sympy.Symbol("a")
    circuit = cirq.Circuit(cirq.rx(a).on(Q[0]))
    # at construction, before any circuit is seen
    with pytest.raises(TypeError, match="SampledExpectation"):
        L.Expectation(backend=OnlySamples(0))  # TFQ refuses a pure sampler here too
    with pytest.raises(TypeError, match="cannot run state.*SimulatesFinalState"):
        L.State(backend=OnlySamples(0))
    with pytest.raises(TypeError, match="cannot compute unitaries"):
        L.Unitary(backend=cirq.Simulator())
    with pytest.raises(TypeError, match="cannot run sample.*cirq.Sampler"):
        L.Sample(backend=OnlyExpectations())
    with pytest.raises(TypeError, match="cannot run sampled expectation.*cirq.Sampler"):
        L.SampledExpectation(backend=OnlyExpectations())
    noisy = cirq.Circuit(cirq.rx(a).on(Q[0]), cirq.depolarize(0.1).on(Q[0]))
    with pytest.raises(ValueError, match="no single final state vector"):
        PQCState(noisy, input_symbols=["a"], repetitions=10, backend=cirq.Simulator())(
            tf.constant([[0.1]])
        )
    sample = L.Sample(backend=cirq.Simulator())
    run = tf.function(lambda d: sample(d, repetitions=3).to_tensor())  # d: quantum data
    with pytest.raises((ValueError, tf.errors.OpError), match="does not use"):
        run(convert_to_tensor([cirq.Circuit(cirq.X(Q[0]), cirq.X(cirq.LineQubit(5)))]))
    with pytest.raises(ValueError, match="parameter-shift"):
        PQC(circuit, cirq.Z(Q[0]), backend=cirq.Simulator(), differentiator="adjoint")
    with pytest.raises(ValueError, match="cirq.Sampler"):
        PQC(circuit, cirq.Z(Q[0]), backend=object())
    # a controlled gate with a global shift whose eigenphases share no frequency
    odd = cirq.Circuit(
        cirq.XPowGate(exponent=a, global_shift=np.sqrt(0.5)).on(Q[1]).controlled_by(Q[0])
    )
    with pytest.raises(CircuitError, match="no exact parameter-shift rule"):
        PQC(odd, cirq.Z(Q[1]), backend=cirq.Simulator())


def test_saving_known_simulators_and_refusing_others(tmp_path):
    noise = cirq.depolarize(0.05)
    model = _model(cirq.DensityMatrixSimulator(noise=noise))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.layers[-1]
    sim = layer.simulator_backend.simulator
    assert type(sim) is cirq.DensityMatrixSimulator and sim.noise == cirq.ConstantQubitNoiseModel(
        noise
    )
    np.testing.assert_allclose(loaded(FEATS), model(FEATS), atol=1e-6)
    with pytest.raises(ValueError, match="cannot save a layer whose backend.*save_weights"):
        _model(OnlySamples(0)).save(str(tmp_path / "s.keras"))
    # the compat layers keep the object the same way
    layer = L.SampledExpectation(backend=cirq.Simulator(noise=noise))
    again = L.SampledExpectation.from_config(layer.get_config())
    assert type(again.backend_request) is cirq.Simulator
    assert again.backend_request.noise == cirq.ConstantQubitNoiseModel(noise)


@keras3_only
def test_keras_layer_contract():
    """run_layer_test builds, calls, trains and round-trips the config; the Simulator in the
    config is saved as its class name (see cirq_backend.to_config)."""
    from keras.src import testing

    class Case(testing.TestCase):
        def runTest(self):
            pass

    Case().run_layer_test(
        PQC,
        {
            "circuit": _circuit(),
            "observables": OBS,
            "input_symbols": ["x"],
            "backend": cirq.Simulator(),
        },
        input_data=FEATS,
        expected_output_shape=(3, 2),
        expected_num_trainable_weights=1,
        supports_masking=False,
        run_mixed_precision_check=False,
    )


def test_readme_example_runs_and_matches_cirq():
    """The README's example, run as written, against Cirq's own noisy density matrices."""
    import os
    import re

    text = open(os.path.join(reference.ROOT, "README.md")).read()
    section = text.split("### Cirq simulators and samplers as backends", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)[:1]
    scope = {}
    exec(code, scope)
    got = scope["layer"](tf.constant([[0.1], [1.2]])).numpy()[:, 0]
    q, circuit = scope["q"], scope["circuit"]
    sim = cirq.DensityMatrixSimulator(noise=cirq.depolarize(0.01), dtype=np.complex128)
    w = float(scope["layer"].get_weights()[0][0])
    for value, x in zip(got, (0.1, 1.2)):
        resolved = cirq.resolve_parameters(circuit, {"x": x, "w": w})
        rho = sim.simulate(resolved, qubit_order=q).final_density_matrix
        want = cirq.Z(q[1]).expectation_from_density_matrix(rho, {q[0]: 0, q[1]: 1}).real
        np.testing.assert_allclose(value, want, atol=1e-5)


def _dm_reference(circuit, resolver, qubits):
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    resolved = cirq.resolve_parameters(circuit, resolver)
    return sim.simulate(resolved, qubit_order=list(qubits)).final_density_matrix


def test_state_on_a_density_matrix_simulator_gives_density_matrices():
    """As TFQ's State: ``(batch, 2**n, 2**n)`` density matrices; a list of circuits on different
    qubits gives each on its own qubits."""
    a = sympy.Symbol("a")
    circuit = cirq.Circuit(cirq.rx(a).on(Q[0]), cirq.CNOT(*Q), cirq.ry(0.4).on(Q[1]))
    values = np.array([[0.3], [2.0]], np.float32)
    got = L.State(backend=cirq.DensityMatrixSimulator())(
        circuit, symbol_names=[a], symbol_values=values
    )
    for row, v in zip(got.to_list(), values[:, 0]):
        np.testing.assert_allclose(row, _dm_reference(circuit, {a: float(v)}, Q), atol=1e-6)
    one, two = cirq.Circuit(cirq.H(Q[1])), cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(*Q))
    rows = L.State(backend=cirq.DensityMatrixSimulator())([one, two]).to_list()
    np.testing.assert_allclose(rows[0], _dm_reference(one, {}, [Q[1]]), atol=1e-6)
    np.testing.assert_allclose(rows[1], _dm_reference(two, {}, Q), atol=1e-6)


DATA = [
    cirq.Circuit(cirq.X(Q[0])),
    cirq.Circuit(),
    cirq.Circuit(cirq.H(Q[1]), cirq.ry(0.4).on(Q[0])),
]


@pytest.mark.parametrize("simulator", ["density_matrix", "state_vector"])
def test_quantum_data_agrees_with_statevector_backend(simulator):
    """TFQ's PQC on quantum data (a keras.Input of circuits): outputs and weight gradients as
    the statevector backend's, to 1e-5."""
    obj = cirq.DensityMatrixSimulator() if simulator == "density_matrix" else cirq.Simulator()
    model_circuit = cirq.Circuit(cirq.ry(W0).on(Q[0]), cirq.CNOT(*Q), cirq.rx(2 * W1).on(Q[1]))
    data = convert_to_tensor(DATA)
    results = []
    for backend in ("statevector", obj):
        layer = L.PQC(
            model_circuit,
            OBS,
            backend=backend,
            initializer=keras.initializers.Constant([0.3, -0.8]),
        )
        inp = keras.Input(shape=(), dtype="string")
        model = keras.Model(inp, layer(inp))
        with tf.GradientTape() as tape:
            out = model(data)
            loss = tf.reduce_sum(out * tf.constant([[1.0, -2.0]]))
        results.append((out.numpy(), tape.gradient(loss, layer.trainable_weights)[0].numpy()))
    for g, w in zip(results[1], results[0]):
        np.testing.assert_allclose(g, w, atol=1e-5)
    assert np.ptp(results[0][0][:, 0]) > 0.5  # the data changed the outputs


def test_data_symbols_and_operator_tensors_as_model_inputs():
    """Circuits with symbols and operators, both ``keras.Input`` tensors (TFQ's form): values
    from Cirq in float64, gradients of the data symbols by central differences."""
    a, b = sympy.symbols("a b")
    circuits = [
        cirq.Circuit(cirq.rx(a).on(Q[0]), cirq.CNOT(*Q), cirq.ry(2 * b).on(Q[1])),
        cirq.Circuit(cirq.ry(b).on(Q[0]), cirq.X(Q[1]) ** a),
    ]
    ops = [[cirq.Z(Q[1]), cirq.X(Q[0])], [cirq.Z(Q[0]) * cirq.Z(Q[1]), cirq.Y(Q[1])]]
    values = np.array([[0.7, -0.3], [1.1, 0.4]])
    circ_in = keras.Input(shape=(), dtype="string")
    ops_in = keras.Input(shape=(2,), dtype="string")
    vals_in = keras.Input(shape=(2,))
    out = L.Expectation(backend=cirq.Simulator())(
        circ_in, symbol_names=[a, b], symbol_values=vals_in, operators=ops_in
    )
    model = keras.Model([circ_in, ops_in, vals_in], out)
    v = tf.Variable(values, dtype=tf.float32)
    weights = tf.constant([[1.0, -0.5], [0.3, 2.0]])
    with tf.GradientTape() as tape:
        got = model([convert_to_tensor(circuits), convert_to_tensor(ops), v])
        loss = tf.reduce_sum(got * weights)
    grad = tape.gradient(loss, v).numpy()
    for i, (circuit, row_ops) in enumerate(zip(circuits, ops)):

        def f(x, circuit=circuit, row_ops=row_ops, i=i):
            e = reference.expectations(circuit, row_ops, {a: x[0], b: x[1]}, list(Q))
            return float(np.dot(e, weights.numpy()[i]))

        want = reference.expectations(circuit, row_ops, dict(zip([a, b], values[i])), list(Q))
        np.testing.assert_allclose(got.numpy()[i], want, atol=1e-5)
        want_grad = reference.central_difference(f, values[i], h=1e-5)
        np.testing.assert_allclose(grad[i], want_grad, atol=2e-5)
