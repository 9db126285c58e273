"""The native output layers (PQCProbabilities, PQCState, PQCUnitary, PQCSample) against Cirq,
finite differences and Keras's contract check, on both backends."""

import cirq
import numpy as np
import sympy
import tensorflow as tf

import reference
from tfq_layers import PQCProbabilities, PQCSample, PQCState, PQCUnitary
from tfq_layers._keras import keras

Q = cirq.LineQubit.range(3)
X0, X1, W0, W1 = sympy.symbols("x0 x1 w0 w1")


def _circuit(backend):
    if backend == "tfq":  # TFQ takes c*symbol angles only
        return cirq.Circuit(
            cirq.rx(X0).on(Q[0]),
            cirq.ry(W0).on(Q[1]),
            cirq.CNOT(Q[0], Q[2]),
            cirq.rz(X1).on(Q[2]),
            cirq.ry(W1).on(Q[2]),
            cirq.CZ(Q[1], Q[2]),
        )
    return cirq.Circuit(
        cirq.rx(sympy.atan(X0) * 2).on(Q[0]),
        cirq.ry(W0 * X1 + 0.2).on(Q[1]),
        cirq.CNOT(Q[0], Q[2]),
        cirq.rz(X1).on(Q[2]),
        cirq.ry(W1).on(Q[2]),
        cirq.CZ(Q[1], Q[2]),
    )


def _resolver(layer, row):
    r = dict(layer.symbol_values())
    r.update({"x0": float(row[0]), "x1": float(row[1])})
    return r


def _state(circuit, resolver):
    return (
        cirq.Simulator(dtype=np.complex128)
        .simulate(cirq.resolve_parameters(circuit, resolver), qubit_order=Q)
        .final_state_vector
    )


FEATS = np.array([[0.3, -0.8], [1.2, 0.5], [-0.4, 2.0]], np.float32)


def test_outputs_match_cirq(backend, make_layer):
    c = _circuit(backend)
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=3)
    probs, state, unitary = (
        make_layer(cls, c, input_symbols=["x0", "x1"], initializer=init)
        for cls in (PQCProbabilities, PQCState, PQCUnitary)
    )
    p, s, u = probs(FEATS).numpy(), state(FEATS).numpy(), unitary(FEATS).numpy()
    assert p.shape == (3, 8) and s.shape == (3, 8) and u.shape == (3, 8, 8)
    for i, row in enumerate(FEATS):
        psi = _state(c, _resolver(state, row))
        np.testing.assert_allclose(s[i], psi, atol=2e-5)
        np.testing.assert_allclose(p[i], np.abs(_state(c, _resolver(probs, row))) ** 2, atol=2e-5)
        np.testing.assert_allclose(
            u[i], cirq.unitary(cirq.resolve_parameters(c, _resolver(unitary, row))), atol=2e-5
        )


def test_samples_follow_the_born_rule(backend):
    c = _circuit(backend)
    layer = PQCSample(
        c,
        input_symbols=["x0", "x1"],
        repetitions=4000,
        backend=backend,
        seed=1,
        initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=3),
    )
    bits = layer(FEATS[:2]).numpy()
    assert bits.shape == (2, 4000, 3) and bits.dtype == np.int32
    for i, row in enumerate(FEATS[:2]):
        probs = np.abs(_state(c, _resolver(layer, row))) ** 2
        index = bits[i] @ np.array([4, 2, 1])
        freq = np.bincount(index, minlength=8) / 4000
        assert np.max(np.abs(freq - probs)) < 5 * 0.5 / np.sqrt(4000)


def test_probability_gradients_match_finite_differences(backend):
    c = _circuit(backend)
    layer = PQCProbabilities(
        c,
        input_symbols=["x0", "x1"],
        backend=backend,
        initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=5),
    )
    layer(FEATS)
    cot = np.random.default_rng(0).normal(size=(3, 8))
    names = [s.name for s in layer.weight_symbols]
    w0 = np.array([layer.symbol_values()[n] for n in names])
    with tf.GradientTape() as tape:
        out = layer(FEATS)
    grad = tape.gradient(
        out, layer.circuit_weights, output_gradients=tf.constant(cot, tf.float32)
    ).numpy()

    def loss(wv):
        total = 0.0
        for i, row in enumerate(FEATS):
            r = dict(zip(names, wv))
            r.update({"x0": float(row[0]), "x1": float(row[1])})
            total += np.dot(cot[i], np.abs(_state(c, r)) ** 2)
        return total

    np.testing.assert_allclose(grad, reference.central_difference(loss, w0), atol=2e-3)


def test_state_gradient_reaches_features_and_weights_on_the_statevector_backend():
    c = _circuit("statevector")
    layer = PQCState(
        c,
        input_symbols=["x0", "x1"],
        backend="statevector",
        initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=5),
    )
    f = tf.constant(FEATS)
    wc = np.random.default_rng(1).normal(size=(3, 8)) + 1j * np.random.default_rng(2).normal(
        size=(3, 8)
    )
    with tf.GradientTape() as tape:
        tape.watch(f)
        loss = tf.reduce_sum(tf.math.real(tf.cast(wc, tf.complex64) * layer(f)))
    gf = tape.gradient(loss, f).numpy()
    names = [s.name for s in layer.weight_symbols]
    w = {n: layer.symbol_values()[n] for n in names}

    def loss_of(flat):
        rows = flat.reshape(FEATS.shape)
        return sum(
            np.real(np.sum(wc[i] * _state(c, dict(w, x0=r[0], x1=r[1]))))
            for i, r in enumerate(rows)
        )

    np.testing.assert_allclose(
        gf.reshape(-1),
        reference.central_difference(loss_of, FEATS.astype(np.float64).reshape(-1)),
        atol=2e-3,
    )


def test_keras_layer_contract(backend, run_layer_test):
    """run_layer_test; the training check applies to PQCProbabilities (a float output), not to
    complex states/unitaries or integer samples, nor does their mixed-precision check."""
    c = _circuit(backend)
    kw = {"circuit": c, "input_symbols": ["x0", "x1"], "backend": backend}
    run_layer_test(
        PQCProbabilities,
        kw,
        input_data=FEATS,
        expected_output_shape=(3, 8),
        expected_num_trainable_weights=1,
        supports_masking=False,
    )
    for cls, extra, shape in (
        (PQCState, {}, (3, 8)),
        (PQCUnitary, {}, (3, 8, 8)),
        (PQCSample, {"repetitions": 5}, (3, 5, 3)),
    ):
        run_layer_test(
            cls,
            dict(kw, **extra),
            input_data=FEATS,
            expected_output_shape=shape,
            expected_num_trainable_weights=1,
            supports_masking=False,
            run_training_check=False,
            run_mixed_precision_check=False,
        )
