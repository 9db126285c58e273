"""Inputs that used to fail late or with a misleading message now fail early and say the fix."""
import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers import PQC
from tfq_layers.errors import CircuitError

Q = cirq.LineQubit.range(2)
X, W = sympy.symbols("x w")
C = cirq.Circuit(cirq.rx(X)(Q[0]), cirq.ry(W)(Q[1]))


def test_symbolic_observable_coefficient():
    ob = cirq.PauliString(cirq.Z(Q[0]), coefficient=sympy.Symbol("k"))
    with pytest.raises(CircuitError, match="symbolic coefficient .*k.*numeric coefficients"):
        PQC(C, [ob], input_symbols=["x"])


def test_numpy_array_of_observables():
    obs = np.array([cirq.Z(Q[0]), cirq.Z(Q[1])], dtype=object)
    with pytest.raises(CircuitError, match="numpy array; pass a Python list"):
        PQC(C, obs, input_symbols=["x"])


def test_classically_controlled_operation():
    circuit = cirq.Circuit(cirq.measure(Q[1], key="m"), cirq.X(Q[0]).with_classical_controls("m"),
                           cirq.rx(X)(Q[0]))
    with pytest.raises(CircuitError, match="classically controlled.*controlled_by"):
        PQC(circuit, [cirq.Z(Q[0])], input_symbols=["x"])


@pytest.mark.parametrize("angle", [X * float("nan"), X + sympy.oo, float("inf")])
def test_non_finite_gate_parameter_is_named(angle):
    circuit = cirq.Circuit(cirq.rx(angle)(Q[0]), cirq.rx(X)(Q[1]))
    with pytest.raises(CircuitError, match="not finite"):
        PQC(circuit, [cirq.Z(Q[0])], input_symbols=["x"])


def test_ragged_and_complex_features():
    layer = PQC(C, [cirq.Z(Q[0])], input_symbols=["x"])
    with pytest.raises(TypeError, match="ragged tensor.*to_tensor"):
        layer(tf.ragged.constant([[0.1], [0.2, 0.3]]))
    with pytest.raises(TypeError, match="complex dtype.*imaginary part"):
        layer(tf.constant([[0.1 + 1j]]))


def test_first_call_from_several_threads_builds_once():
    import threading
    layer = PQC(C, [cirq.Z(Q[0]), cirq.Z(Q[1])], input_symbols=["x"])
    results, errors = [], []

    def call():
        try:
            results.append(layer(tf.constant([[0.3], [0.1]])).numpy())
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(layer.trainable_weights) == 1 and len(results) == 4
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
