"""Slow paths that looked like hangs (issue 14, item 11): QBM eigendecompositions, long circuits."""

import cirq
import numpy as np
import pytest
import scipy.linalg
import sympy
import tensorflow as tf

from tfq_layers import QuantumBoltzmannMachine, serialization
from tfq_layers.expressions import ParameterMap
from tfq_layers.program import Program


def _reference_probabilities(model):
    """p(v) from scipy's matrix exponential of the dense Hamiltonian (float64)."""
    ham = model.hamiltonian().numpy()
    rho = np.diag(scipy.linalg.expm(-(ham - np.eye(len(ham)) * np.linalg.eigvalsh(ham)[0])))
    rho = rho / rho.sum()
    return rho.reshape(2**model.n_visible, -1).sum(axis=1)


def test_large_qbm_eager_lapack_path_matches_expm_and_the_graph_path():
    # 8 units: 256x256, the first size whose eager eigendecomposition goes through LAPACK
    model = QuantumBoltzmannMachine(6, n_hidden=2, seed=4, init_scale=0.5)
    model.build()
    eager = model.probabilities().numpy()
    graph = tf.function(model.probabilities)().numpy()  # tf.linalg.eigh
    np.testing.assert_allclose(eager, _reference_probabilities(model), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(eager, graph, rtol=1e-10, atol=1e-13)

    target = tf.constant(np.random.default_rng(0).dirichlet(np.ones(64)))

    def loss():
        return -tf.reduce_sum(target * tf.math.log(model.probabilities()))

    with tf.GradientTape() as tape:
        value = loss()
    eager_grads = tape.gradient(value, model.trainable_variables)

    @tf.function
    def graph_grads():
        with tf.GradientTape() as tape:
            value = loss()
        return tape.gradient(value, model.trainable_variables)

    for a, b in zip(eager_grads, graph_grads()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-12)


def test_qbm_of_11_units_warns_how_long_it_takes():
    with pytest.warns(UserWarning, match=r"N = 11 units.*N = 12 about 50 s.*Nothing is hung"):
        QuantumBoltzmannMachine(11).build()


def test_classical_qbm_of_12_units_does_not_warn(recwarn):
    model = QuantumBoltzmannMachine(12, transverse_field=False)
    model.build()
    probs = model.probabilities().numpy()
    assert abs(probs.sum() - 1.0) < 1e-12
    assert not [w for w in recwarn if "units" in str(w.message)]


def test_long_circuits_check_compile_and_round_trip():
    """A 5000-moment circuit is checked, compiled and round-tripped (check_program used to
    print every gate while checking it: 5.9 s for 20,000 moments; timings live in benchmarks)."""
    q = cirq.LineQubit.range(2)
    x, w = sympy.symbols("x w")
    circuit = cirq.Circuit(
        [cirq.rx(x).on(q[0])] + [cirq.Moment([cirq.ry(w).on(q[i % 2])]) for i in range(5000)]
    )
    program = Program(circuit, cirq.Z(q[0]), input_symbols=["x"], gate_set=None)
    ParameterMap(program)
    assert serialization.loads(serialization.dumps(circuit)) == circuit
