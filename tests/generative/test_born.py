"""Born machine: probabilities vs Cirq, gradients vs finite differences, sampling, shots, saving."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf
from scipy import stats

import reference
from tfq_layers._keras import keras
from tfq_layers.datasets import bars_and_stripes
from tfq_layers.generative.born import BornMachine, born_ansatz


def _cirq_probabilities(model):
    resolved = cirq.resolve_parameters(model.circuit, _weights(model))
    state = (
        cirq.Simulator(dtype=np.complex128)
        .simulate(
            resolved + cirq.Circuit(cirq.I(q) for q in model.qubits), qubit_order=model.qubits
        )
        .final_state_vector
    )
    return np.abs(state) ** 2


def _weights(model):
    values = model.circuit_weights.numpy()
    return {s.name: float(v) for s, v in zip(model.weight_symbols, values)}


def test_probabilities_match_cirq(backend):
    model = BornMachine(4, backend=backend, seed=1)
    model.build()
    p = model.probabilities().numpy()
    assert p.shape == (16,) and abs(p.sum() - 1) < 1e-5
    np.testing.assert_allclose(p, _cirq_probabilities(model), atol=1e-5)


def test_user_circuit_with_expressions(backend):
    q = cirq.LineQubit.range(3)
    a, b = sympy.symbols("a b")
    circuit = cirq.Circuit(
        cirq.ry(a).on(q[0]),
        cirq.ry(sympy.atan(b) + a * b).on(q[1]),
        cirq.CNOT(q[0], q[2]),
        cirq.rx(2 * b).on(q[2]),
    )
    model = BornMachine(
        3, circuit=circuit, backend=backend, initializer=keras.initializers.Constant(0.8)
    )
    model.build()
    np.testing.assert_allclose(model.probabilities().numpy(), _cirq_probabilities(model), atol=1e-5)


@pytest.mark.parametrize("loss", ["kl", "mmd"])
def test_loss_gradient_matches_finite_differences(backend, loss):
    # Spread-out angles keep every p(x) away from 0, where 1/p(x) would amplify float32 rounding.
    model = BornMachine(
        3, layers=1, backend=backend, initializer=keras.initializers.RandomUniform(0, 6.28, seed=2)
    )
    model.compile(keras.optimizers.SGD(0.0), loss=loss)
    model.build()
    data = np.array([[0, 0, 1], [1, 1, 0], [1, 1, 0], [0, 1, 0]])
    empirical = model.empirical_distribution_tf(tf.constant(data))
    _, grads, _ = model.loss_and_gradients(tf.constant(data), empirical)
    g = grads[0].numpy()
    names = [s.name for s in model.weight_symbols]
    w0 = model.circuit_weights.numpy().astype(np.float64)

    def loss_of(w):
        resolved = cirq.resolve_parameters(model.circuit, dict(zip(names, w)))
        state = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(resolved, qubit_order=model.qubits)
            .final_state_vector
        )
        p = tf.constant(np.abs(state) ** 2)
        return float(model.compute_generative_loss(None, empirical, p))

    ref = reference.central_difference(loss_of, w0, h=1e-5)
    assert model.probabilities().numpy().min() > 1e-3
    np.testing.assert_allclose(g, ref, atol=5e-4 * max(1.0, np.abs(ref).max()))


def test_samples_follow_probabilities_chi_square(backend):
    model = BornMachine(3, layers=1, seed=3, backend=backend)
    model.build()
    p = model.probabilities().numpy().astype(np.float64)
    for samples in (model.sample(20000, seed=0), model.sample_circuit(20000)):
        idx = samples @ (2 ** np.arange(2, -1, -1))
        counts = np.bincount(idx, minlength=8)
        keep = p > 1e-4
        expected = p[keep] / p[keep].sum() * counts[keep].sum()
        # TFQ's sampler takes no seed: 1e-5 keeps chance failures rare; a wrong distribution
        # gives p ~ 0 at 20000 samples.
        assert stats.chisquare(counts[keep], expected).pvalue > 1e-5
        assert counts[~keep].sum() <= 5


def test_shot_based_mmd_gradient_estimates_the_exact_gradient(backend):
    data = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0], [1, 1, 1]])
    exact = BornMachine(3, layers=1, seed=4, backend=backend)
    exact.compile(keras.optimizers.SGD(0.0), loss="mmd")
    exact.build()
    shots = BornMachine(3, layers=1, seed=4, backend=backend, repetitions=4000)
    shots.compile(keras.optimizers.SGD(0.0), loss="mmd")
    shots.build()
    shots.circuit_weights.assign(exact.circuit_weights)
    empirical = exact.empirical_distribution_tf(tf.constant(data))
    _, g_exact, _ = exact.loss_and_gradients(tf.constant(data), empirical)
    estimates = np.stack(
        [shots.loss_and_gradients(tf.constant(data), empirical)[1][0].numpy() for _ in range(4)]
    )
    mean = estimates.mean(0)
    # Each estimate is a difference of kernel means over 4000 samples: spread ~ pi * 2 / sqrt(4000)
    np.testing.assert_allclose(mean, g_exact[0].numpy(), atol=0.05)
    assert np.corrcoef(mean, g_exact[0].numpy())[0, 1] > 0.95


def test_fit_learns_bars_and_stripes_2x2(backend):
    data = bars_and_stripes(2, 2)
    model = BornMachine(4, seed=0, backend=backend)
    model.compile(keras.optimizers.Adam(0.05), loss="kl")
    hist = model.fit(np.tile(data, (4, 1)), epochs=40, batch_size=24, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_shot_training_lowers_mmd(backend):
    data = bars_and_stripes(2, 2)
    model = BornMachine(4, layers=1, seed=0, backend=backend, repetitions=200)
    model.compile(keras.optimizers.Adam(0.1), loss="mmd")
    model.build()
    before = float(
        model.compute_generative_loss(
            None, model.empirical_distribution_tf(data), model.probabilities(), loss="mmd"
        )
    )
    model.fit(data, epochs=25, batch_size=6, verbose=0)
    after = float(
        model.compute_generative_loss(
            None, model.empirical_distribution_tf(data), model.probabilities(), loss="mmd"
        )
    )
    assert after < 0.7 * before


def test_save_and_load_give_identical_probabilities(tmp_path, backend):
    data = bars_and_stripes(2, 2)
    q = cirq.GridQubit.rect(1, 4)
    circuit, _ = born_ansatz(q, 1, prefix="t")
    circuit.append(cirq.ry(sympy.atan(sympy.Symbol("t0")) * 2).on(q[2]))
    for model in (
        BornMachine(4, seed=5, backend=backend),
        BornMachine(4, circuit=circuit, seed=5, backend=backend),
    ):
        model.compile(keras.optimizers.Adam(0.05), loss="kl")
        model.fit(data, epochs=2, batch_size=6, verbose=0)
        path = str(tmp_path / "born.keras")
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(loaded.probabilities().numpy(), model.probabilities().numpy())
        assert loaded.circuit == model.circuit


def test_bad_data_and_arguments(backend):
    model = BornMachine(4, layers=1, backend=backend)
    model.compile("adam", loss="kl")
    with pytest.raises(ValueError, match="4"):
        model.fit(np.zeros((3, 5), int), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="0/1|0 and 1|binary"):
        model.fit(np.full((3, 4), 2), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="empty|no samples|at least one"):
        model.fit(np.zeros((0, 4), int), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="repetitions.*mmd"):
        BornMachine(4, layers=1, repetitions=100, backend=backend).compile("adam", loss="kl")
    with pytest.raises(Exception, match="n_qubits=5"):
        BornMachine(5, circuit=born_ansatz(4, 1)[0], backend=backend)


@pytest.mark.tfq  # TFQ's sampled op differentiates by parameter shift
def test_tfq_shots_need_parameter_shift_gates():
    q = cirq.LineQubit.range(2)
    with pytest.raises(Exception, match="parameter-shift|±1/2"):
        BornMachine(
            2,
            circuit=cirq.Circuit(cirq.FSimGate(sympy.Symbol("a"), 0.1).on(*q)),
            repetitions=10,
            backend="tfq",
        )
