"""PQC layer numbers against Cirq's simulator, and gradients against finite differences."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
from tfq_layers import PQC, CircuitError, backends
from tfq_layers._keras import keras
from tfq_layers.compat import convert_to_tensor  # TFQ's wire format, no TFQ needed
from tfq_layers.program import Program


def _weights_of(layer):
    return layer.symbol_values()


@pytest.mark.parametrize("seed", range(6))
def test_random_circuits_match_cirq(seed, backend, make_layer):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    qubits = cirq.GridQubit.rect(1, n) if seed % 2 else cirq.LineQubit.range(n)
    inputs = list(sympy.symbols(f"x0:{n}"))
    weights = list(sympy.symbols("w0:12"))
    circuit = reference.random_circuit(rng, qubits, 14, inputs, weights)
    used_inputs = [s for s in inputs if s in cirq.parameter_symbols(circuit)]
    observables = reference.random_observables(rng, qubits, 3)
    layer = make_layer(
        PQC,
        circuit,
        observables,
        input_symbols=used_inputs,
        initializer=keras.initializers.RandomUniform(-2, 2, seed=seed),
    )
    features = rng.uniform(-1.5, 1.5, size=(5, len(used_inputs))).astype(np.float32)
    out = layer(features).numpy() if used_inputs else None
    if out is None:
        pytest.skip("random circuit drew no input symbol")
    expected = reference.batch_expectations(
        circuit, observables, used_inputs, features, _weights_of(layer)
    )
    assert out.shape == (5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert layer.backend == backend


def test_statevector_backend_runs_gates_tfq_rejects():
    q = cirq.LineQubit.range(3)
    x, a, b = sympy.symbols("x a b")
    unitary = cirq.testing.random_unitary(4, random_state=np.random.RandomState(7))
    circuit = cirq.Circuit(
        cirq.H.on_each(*q),
        cirq.MatrixGate(unitary).on(q[0], q[1]),
        cirq.TOFFOLI(*q),
        cirq.PhasedXZGate(x_exponent=a * x, z_exponent=0.3, axis_phase_exponent=b).on(q[2]),
        cirq.CCZPowGate(exponent=sympy.atan(x) + a).on(*q),
        cirq.CSWAP(*q),
        cirq.ry(b).on(q[0]),
    )
    observables = [cirq.X(q[0]) * cirq.Z(q[2]), cirq.Y(q[1]), cirq.Z(q[2])]
    with pytest.raises(CircuitError, match="not supported by the TFQ backend"):
        Program(circuit, observables, input_symbols=["x"]).check_gate_set(backends.gate_set("tfq"))
    layer = PQC(
        circuit,
        observables,
        input_symbols=["x"],
        initializer=keras.initializers.RandomUniform(-1, 1, seed=1),
    )
    feats = np.array([[0.3], [-1.2], [2.0]], np.float32)
    out = layer(feats).numpy()
    assert layer.backend == "statevector"
    expected = reference.batch_expectations(
        circuit, observables, ["x"], feats, layer.symbol_values()
    )
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_statevector_gradients_and_hessian_match_finite_differences():
    circuit, observables, layer = _grad_setup(None)
    feats = np.array([[0.4, -0.3], [-1.1, 0.9]], np.float32)
    cot = np.array([[1.0, -0.5], [0.3, 2.0]])
    layer(feats)
    assert layer.backend == "statevector"
    names = [s.name for s in layer.weight_symbols]
    w0 = np.array([layer.symbol_values()[n] for n in names])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(tf.constant(cot, tf.float32) * layer(feats))
        g = inner.gradient(loss, layer.circuit_weights)
    hessian = outer.jacobian(g, layer.circuit_weights).numpy()

    def loss_of(wv):
        out = reference.batch_expectations(
            circuit, observables, ["x0", "x1"], feats, dict(zip(names, wv))
        )
        return float(np.sum(cot * out))

    np.testing.assert_allclose(g.numpy(), reference.central_difference(loss_of, w0), atol=2e-4)
    ref_h = np.stack(
        [
            reference.central_difference(
                lambda wv, i=i: reference.central_difference(loss_of, wv, h=1e-3)[i], w0, h=1e-3
            )
            for i in range(len(w0))
        ]
    )
    np.testing.assert_allclose(hessian, ref_h, atol=2e-3)


def test_statevector_weight_only_parameters_are_shared_and_gradients_match():
    """Weight-only placeholders (affine and nonlinear) reach the simulator once per batch; the
    outputs and the gradients for inputs and weights still match Cirq and finite differences."""
    q = cirq.LineQubit.range(3)
    x0, x1 = sympy.symbols("x0 x1")
    w = sympy.symbols("w0:5")
    circuit = cirq.Circuit(
        cirq.rx(x0).on(q[0]),
        cirq.ry(2 * w[0] + 0.5).on(q[0]),
        cirq.ry(sympy.atan(x1) + w[1]).on(q[1]),
        cirq.CNOT(q[0], q[1]),
        cirq.rz(sympy.sin(w[2]) * 1.5).on(q[2]),
        cirq.CZ(q[1], q[2]),
        cirq.XXPowGate(exponent=w[3] - w[4]).on(q[0], q[2]),
        cirq.rx(x1 * w[4]).on(q[1]),
    )
    observables = [cirq.Z(q[0]) * cirq.X(q[2]), cirq.Y(q[1]) + 0.5 * cirq.Z(q[2])]
    layer = PQC(
        circuit,
        observables,
        input_symbols=["x0", "x1"],
        backend="statevector",
        initializer=keras.initializers.RandomUniform(-1.5, 1.5, seed=4),
    )
    feats = np.array([[0.4, -0.3], [-1.1, 0.9], [0.2, 2.0]], np.float32)
    layer(feats)
    sim = layer.simulator_backend
    batched, shared = sim.batched_names, sim.shared_names
    assert (
        len(batched) == 3 and len(shared) == 3
    )  # x0, atan(x1)+w1, x1*w4 | 2w0+.5, 1.5sin(w2), w3-w4
    assert sim.simulators[0].shared_symbols == tuple(shared)
    names = [s.name for s in layer.weight_symbols]
    w0 = np.array([layer.symbol_values()[n] for n in names])
    cot = np.array([[1.0, -0.5], [0.3, 2.0], [-1.0, 0.7]])
    f = tf.constant(feats)
    with tf.GradientTape() as tape:
        tape.watch(f)
        out = layer(f)
        loss = tf.reduce_sum(tf.constant(cot, tf.float32) * out)
    g_w, g_x = tape.gradient(loss, [layer.circuit_weights, f])
    np.testing.assert_allclose(
        out.numpy(),
        reference.batch_expectations(
            circuit, observables, ["x0", "x1"], feats, dict(zip(names, w0))
        ),
        atol=1e-5,
    )

    def loss_of(wv, xv=feats):
        res = reference.batch_expectations(
            circuit, observables, ["x0", "x1"], xv.reshape(feats.shape), dict(zip(names, wv))
        )
        return float(np.sum(cot * res))

    np.testing.assert_allclose(g_w.numpy(), reference.central_difference(loss_of, w0), atol=2e-4)
    ref_x = reference.central_difference(
        lambda xv: loss_of(w0, xv), feats.reshape(-1).astype(np.float64)
    )
    np.testing.assert_allclose(g_x.numpy().reshape(-1), ref_x, atol=2e-4)


def test_statevector_layer_trains_under_xla():
    q = cirq.GridQubit.rect(1, 2)
    xs, ws = sympy.symbols("x0:2"), sympy.symbols("w0:4")
    circuit = cirq.Circuit(
        cirq.rx(xs[0]).on(q[0]),
        cirq.rx(xs[1] * ws[3]).on(q[1]),
        cirq.ry(ws[0]).on(q[0]),
        cirq.ry(ws[1]).on(q[1]),
        cirq.CZ(*q),
        cirq.ry(ws[2]).on(q[0]),
    )
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            PQC(circuit, [cirq.Z(q[0])], input_symbols=xs, backend="statevector"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy", jit_compile=True)
    hist = model.fit(x, y, epochs=6, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    eager = model(x[:5]).numpy()
    np.testing.assert_allclose(model.predict(x[:5], verbose=0), eager, atol=1e-5)


def test_expression_angles_and_natural_weight_order():
    q = cirq.LineQubit.range(2)
    x0, x1 = sympy.symbols("x0 x1")
    ws = sympy.symbols("w0:12")
    circuit = cirq.Circuit(
        cirq.rx(ws[10] * x0 + ws[2]).on(q[0]),
        cirq.ry(sympy.atan(x1)).on(q[1]),
        cirq.rz(2 * sympy.pi * x0).on(q[1]),
        cirq.CNOT(*q),
        cirq.ry(x0 * x1 + ws[1]).on(q[0]),
        cirq.rx(ws[0]).on(q[1]),
    )
    layer = PQC(circuit, [cirq.Z(q[0]), cirq.X(q[1])], input_symbols=["x0", "x1"])
    assert [s.name for s in layer.weight_symbols] == ["w0", "w1", "w2", "w10"]
    feats = np.array([[0.3, -0.8], [1.2, 0.4], [0.0, 0.0]], np.float32)
    out = layer(feats).numpy()
    expected = reference.batch_expectations(
        circuit, layer.observables, [x0, x1], feats, layer.symbol_values()
    )
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert layer.circuit_weights.shape == (4,)


def _grad_setup(differentiator, repetitions=None):
    q = cirq.GridQubit.rect(1, 3)
    x0, x1 = sympy.symbols("x0 x1")
    w = sympy.symbols("w0:6")
    circuit = cirq.Circuit(
        cirq.rx(w[0] * x0 + w[1]).on(q[0]),
        cirq.ry(sympy.atan(x1) + w[2]).on(q[1]),
        cirq.H(q[2]),
        cirq.CNOT(q[0], q[1]),
        cirq.CZPowGate(exponent=w[3]).on(q[1], q[2]),
        cirq.rz(x0 * x1).on(q[2]),
        cirq.ry(w[4]).on(q[2]),
        cirq.XXPowGate(exponent=w[5]).on(q[0], q[2]),
    )
    observables = [cirq.Z(q[0]) + 0.5 * cirq.X(q[1]) * cirq.Z(q[2]), cirq.Y(q[2])]
    layer = PQC(
        circuit,
        observables,
        input_symbols=["x0", "x1"],
        differentiator=differentiator,
        repetitions=repetitions,
        initializer=keras.initializers.RandomUniform(-1.5, 1.5, seed=3),
    )
    return circuit, observables, layer


@pytest.mark.parametrize(
    "differentiator,atol",
    [
        ("adjoint", 2e-4),
        ("parameter_shift", 2e-4),
        ("finite_difference", 2e-2),
        ("a ForwardDifference instance", 3e-2),
    ],
)
@pytest.mark.tfq  # TFQ's differentiators
def test_gradients_match_finite_differences(differentiator, atol):
    if differentiator == "a ForwardDifference instance":
        import tensorflow_quantum as tfq

        differentiator = tfq.differentiators.ForwardDifference(grid_spacing=1e-3)
    circuit, observables, layer = _grad_setup(differentiator)
    feats = np.array([[0.4, -0.3], [-1.1, 0.9]], np.float32)
    cot = np.array([[1.0, -0.5], [0.3, 2.0]])  # a fixed cotangent: loss = sum(cot * out)
    layer(feats)
    x = tf.Variable(feats)
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(tf.constant(cot, tf.float32) * layer(x))
    g_w = tape.gradient(loss, layer.circuit_weights).numpy()
    g_x = tape.gradient(loss, x).numpy()

    names = [s.name for s in layer.weight_symbols]
    w0 = np.array([layer.symbol_values()[n] for n in names])

    def loss_of(wv, xv):
        out = reference.batch_expectations(
            circuit, observables, ["x0", "x1"], xv, dict(zip(names, wv))
        )
        return float(np.sum(cot * out))

    ref_w = reference.central_difference(lambda wv: loss_of(wv, feats.astype(np.float64)), w0)
    ref_x = reference.central_difference(
        lambda xv: loss_of(w0, xv.reshape(feats.shape)), feats.astype(np.float64).ravel()
    )
    np.testing.assert_allclose(g_w, ref_w, atol=atol)
    np.testing.assert_allclose(g_x.ravel(), ref_x, atol=atol)


@pytest.mark.tfq  # TFQ's sampled op with parameter-shift gradients
def test_sampled_expectations_are_unbiased_and_differentiable():
    circuit, observables, exact_layer = _grad_setup("adjoint")
    _, _, layer = _grad_setup("parameter_shift", repetitions=4000)  # TFQ: sampled op
    feats = np.array([[0.4, -0.3]] * 4, np.float32)
    exact_layer(feats)
    layer(feats)
    assert layer.backend == "tfq" and layer.differentiator["name"] == "parameter_shift"
    layer.circuit_weights.assign(exact_layer.circuit_weights)
    out = layer(feats).numpy()
    exact = exact_layer(feats).numpy()
    # Var of a +-1 outcome is <= 1 per Pauli term; observable 0 has terms weighted 1 and 0.5.
    sigma = np.sqrt(1.25 / 4000)
    assert np.all(np.abs(out.mean(0) - exact[0]) < 5 * sigma)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(feats))
    assert np.all(np.isfinite(tape.gradient(loss, layer.circuit_weights).numpy()))


def test_quantum_data_inputs_are_prepended():
    q = cirq.GridQubit.rect(1, 2)
    w0, w1, x0 = sympy.symbols("w0 w1 x0")
    model_circuit = cirq.Circuit(cirq.ry(w0).on(q[0]), cirq.CNOT(*q), cirq.rx(w1 + x0).on(q[1]))
    data = [
        cirq.Circuit(cirq.X(q[0])),
        cirq.Circuit(cirq.H(q[1]), cirq.rz(0.3).on(q[1])),
        cirq.Circuit(cirq.ry(1.1).on(q[0])),
    ]
    obs = [cirq.Z(q[0]), cirq.Z(q[1])]
    circuits = convert_to_tensor(data)

    both = PQC(model_circuit, obs, input_symbols=["x0"])
    feats = np.array([[0.2], [-0.4], [1.3]], np.float32)
    out = both([circuits, feats]).numpy()
    vals = both.symbol_values()
    expected = [
        reference.expectations(d + model_circuit, obs, {**vals, "x0": float(f[0])})
        for d, f in zip(data, feats)
    ]
    np.testing.assert_allclose(out, expected, atol=1e-5)

    only_quantum = PQC(cirq.Circuit(cirq.ry(w0).on(q[0]), cirq.CNOT(*q)), obs)
    out = only_quantum(circuits).numpy()
    vals = only_quantum.symbol_values()
    expected = [reference.expectations(d + only_quantum.circuit, obs, vals) for d in data]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_quantum_data_in_a_functional_model_trains():
    q = cirq.GridQubit.rect(1, 1)
    w = sympy.Symbol("w")
    data = convert_to_tensor([cirq.Circuit(cirq.X(q[0])), cirq.Circuit()] * 8)
    labels = np.array([[1.0], [-1.0]] * 8, np.float32)
    inp = keras.Input(shape=(), dtype="string")
    out = PQC(
        cirq.Circuit(cirq.rx(w).on(q[0])),
        cirq.Z(q[0]),
        initializer=keras.initializers.Constant(2.0),
    )(inp)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(0.1), "mse")
    hist = model.fit(data, labels, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_hybrid_model_fit_lowers_loss_and_trains_classical_layers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)
    q = cirq.GridQubit.rect(1, 2)
    xs = sympy.symbols("x0:2")
    ws = sympy.symbols("w0:4")
    circuit = cirq.Circuit(
        cirq.rx(xs[0]).on(q[0]),
        cirq.rx(xs[1]).on(q[1]),
        cirq.ry(ws[0]).on(q[0]),
        cirq.ry(ws[1]).on(q[1]),
        cirq.CZ(*q),
        cirq.ry(ws[2]).on(q[0]),
        cirq.ry(ws[3]).on(q[1]),
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(2, activation="tanh"),
            PQC(circuit, [cirq.Z(q[0]), cirq.Z(q[0]) * cirq.Z(q[1])], input_symbols=xs),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    dense_before = model.layers[0].get_weights()[0].copy()
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    hist = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert not np.allclose(model.layers[0].get_weights()[0], dense_before)
    assert model.layers[1].compute_output_shape((None, 2)) == (None, 2)


def test_keras_weight_arguments_are_honoured():
    q = cirq.LineQubit.range(1)
    w = sympy.symbols("w0:3")
    circuit = cirq.Circuit(cirq.rx(w[0]).on(q[0]), cirq.ry(w[1]).on(q[0]), cirq.rz(w[2]).on(q[0]))
    layer = PQC(
        circuit,
        cirq.Z(q[0]),
        initializer="zeros",
        regularizer=keras.regularizers.L2(0.5),
        constraint=keras.constraints.NonNeg(),
    )
    layer.build(None)
    np.testing.assert_array_equal(layer.circuit_weights.numpy(), np.zeros(3))
    layer.circuit_weights.assign([1.0, -2.0, 3.0])
    assert np.isclose(float(sum(layer.losses)), 0.5 * (1 + 4 + 9))
    assert layer.constraint(tf.constant([-1.0, 2.0])).numpy().tolist() == [0.0, 2.0]


def test_noise_channels_average_trajectories_like_the_density_matrix():
    q = cirq.GridQubit.rect(1, 2)
    w0, w1, x = sympy.symbols("w0 w1 x")
    circuit = cirq.Circuit(
        cirq.rx(x + w0).on(q[0]),
        cirq.depolarize(0.1).on(q[0]),
        cirq.CNOT(*q),
        cirq.amplitude_damp(0.2).on(q[1]),
        cirq.ry(w1).on(q[1]),
        cirq.bit_flip(0.05).on(q[0]),
    )
    obs = [cirq.Z(q[0]), cirq.Z(q[1]), cirq.X(q[1])]
    with pytest.raises(ValueError, match="noise channels.*repetitions=N"):
        PQC(circuit, obs, input_symbols=["x"])
    layer = PQC(
        circuit,
        obs,
        input_symbols=["x"],
        repetitions=3000,
        initializer=keras.initializers.Constant(0.7),
    )
    feats = np.array([[0.2], [1.4]], np.float32)
    out = layer(feats).numpy()
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    for row, f in zip(out, feats):
        rho = sim.simulate(
            cirq.resolve_parameters(circuit, {"w0": 0.7, "w1": 0.7, "x": float(f[0])}),
            qubit_order=q,
        ).final_density_matrix
        exact = [o.expectation_from_density_matrix(rho, {q[0]: 0, q[1]: 1}).real for o in obs]
        # Each trajectory's expectation lies in [-1, 1]: standard error <= 1/sqrt(3000).
        np.testing.assert_allclose(row, exact, atol=5 / np.sqrt(3000))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(feats))
    assert np.all(np.isfinite(tape.gradient(loss, layer.circuit_weights).numpy()))
