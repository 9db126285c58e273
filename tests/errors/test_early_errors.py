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
    circuit = cirq.Circuit(
        cirq.measure(Q[1], key="m"), cirq.X(Q[0]).with_classical_controls("m"), cirq.rx(X)(Q[0])
    )
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


def test_memory_guard_holds_under_xla_with_an_unknown_batch():
    """XLA drops run-time assertions, so the batch check of an 18-qubit layer (a few hundred
    examples fit in memory) is made when tracing: an unknown batch is refused with the fix, a
    fixed one runs."""
    qs = cirq.GridQubit.rect(1, 18)
    xs = sympy.symbols("x0:18")
    circuit = cirq.Circuit(
        [cirq.rx(x)(q) for x, q in zip(xs, qs)] + [cirq.CNOT(qs[i], qs[i + 1]) for i in range(17)]
    )
    layer = PQC(circuit, [cirq.Z(qs[0])], input_symbols=[x.name for x in xs], backend="statevector")

    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec([None, 18])])
    def unknown_batch(x):
        return layer(x)

    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec([2, 18])])
    def fixed_batch(x):
        return layer(x)

    with pytest.raises(Exception, match=r"jit_compile=True \(XLA\) the batch size is unknown"):
        unknown_batch(tf.zeros((2, 18)))
    np.testing.assert_allclose(fixed_batch(tf.zeros((2, 18))).numpy(), [[1.0], [1.0]], atol=1e-6)


def test_a_keras_file_from_the_other_lane_names_the_mismatch(tmp_path):
    """A .keras file written by Keras 3 and opened in the legacy tf_keras lane (and the reverse)
    gets an error naming the two lanes, from tfq_layers.saving.load_model."""
    import os
    import subprocess
    import sys

    pytest.importorskip("tf_keras", reason="the legacy lane (tf_keras) is not installed here")
    from tfq_layers._keras import LEGACY, keras
    from tfq_layers.saving import load_model, save_model

    path = str(tmp_path / "m.keras")
    i = keras.Input((1,))
    save_model(keras.Model(i, PQC(C, [cirq.Z(Q[0])], input_symbols=["x"])(i)), path)
    other = dict(os.environ, TF_USE_LEGACY_KERAS="" if LEGACY else "1")
    code = (
        "from tfq_layers.saving import load_model\n"
        f"try:\n    load_model({path!r})\nexcept Exception as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=other, timeout=300
    ).stdout
    assert "cannot read it" in out and ("legacy" in out), out
    load_model(path)  # the same lane reads it


@pytest.mark.tfq  # the package's check in front of TFQ's op
def test_bad_quantum_data_is_caught_in_graph_runs_too():
    """In ``predict``/``fit`` (a graph), quantum data that is not serialized circuits, or that has
    a symbol without a value, fails at the package's own check, before TFQ's op, with the fix."""
    import tensorflow_quantum as tfq
    from tfq_layers.backends import quantum_data

    q = cirq.LineQubit(0)
    w, d = sympy.symbols("w d")
    layer = PQC(cirq.Circuit(cirq.ry(w).on(q)), cirq.Z(q), backend="tfq")
    run = tf.function(layer)
    good = tfq.convert_to_tensor([cirq.Circuit(cirq.X(q))] * 2)
    np.testing.assert_allclose(run(good).numpy(), layer(good).numpy(), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must hold serialized circuits"):
        run(tf.constant(["hello", "world"]))  # text, JSON: refused by the first-byte check
    truncated = good.numpy()[0][:-3]  # binary but cut short: the decoding op names the problem
    with pytest.raises(tf.errors.OpError, match=quantum_data.DECODE_OP_NAME):
        run(tf.constant([truncated, truncated]))
    unresolved = tfq.convert_to_tensor([cirq.Circuit(cirq.rx(d).on(q))] * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"get no value(.|\n)*(b'd'|\[d\])"):
        run(unresolved)
    # resolving the data's symbol, as the message says, makes it run, and TFQ agrees with Cirq
    resolved = cirq.resolve_parameters(cirq.Circuit(cirq.rx(d).on(q)), {"d": 0.4})
    out = run(tfq.convert_to_tensor([resolved] * 2)).numpy()[:, 0]
    w_value = float(layer.get_weights()[0][0])
    psi = cirq.final_state_vector(
        resolved + cirq.Circuit(cirq.ry(w_value).on(q)), dtype=np.complex128
    )
    expected = cirq.Z(q).expectation_from_state_vector(psi, {q: 0}).real
    np.testing.assert_allclose(out, [expected, expected], atol=1e-5)


@pytest.mark.tfq  # the checks in front of TFQ's op
def test_empty_and_symbol_free_quantum_data_pass_the_checks():
    """The checks refuse nothing valid: empty programs, many circuits, the executor layers'
    data symbols that symbol_names covers."""
    import tensorflow_quantum as tfq
    from tfq_layers.compat import layers as compat

    q = cirq.LineQubit(0)
    d = sympy.Symbol("d")
    data = tfq.convert_to_tensor([cirq.Circuit(cirq.rx(d).on(q))] * 3)
    out = compat.Expectation(backend="tfq")(
        data,
        symbol_names=["d"],
        symbol_values=tf.constant([[0.0], [np.pi], [0.5]]),
        operators=[cirq.Z(q)],
    )
    np.testing.assert_allclose(out.numpy()[:, 0], [1.0, -1.0, np.cos(0.5)], atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"get no value(.|\n)*(b'd'|\[d\])"):
        compat.Expectation(backend="tfq")(
            data, symbol_names=["e"], symbol_values=tf.zeros((3, 1)), operators=[cirq.Z(q)]
        )


def test_a_long_circuit_says_it_is_building_and_compiles_linearly_and_right(monkeypatch, caplog):
    """A long build announces itself (so it does not look like a hang), and a long circuit on few
    qubits -- every gate fused into one block, which used to copy the block's gate list at every
    gate -- still matches Cirq."""
    import logging

    from tfq_layers import program

    monkeypatch.setattr(program, "LONG_CIRCUIT_OPERATIONS", 1000)
    q = cirq.LineQubit.range(2)
    x = sympy.Symbol("x")
    circuit = cirq.Circuit(
        [
            cirq.Moment([cirq.rx(x * (1 + i % 3)).on(q[0])])
            if i % 2 == 0
            else cirq.Moment([cirq.CNOT(*q)])
            for i in range(1200)
        ]
    )
    with caplog.at_level(logging.WARNING, logger="tfq_layers"):
        layer = PQC(circuit, cirq.Z(q[1]), input_symbols=["x"], backend="statevector")
    assert "circuit of 1200 operations" in caplog.text and "not hung" in caplog.text
    value = 0.0123
    psi = cirq.final_state_vector(
        cirq.resolve_parameters(circuit, {"x": value}), qubit_order=q, dtype=np.complex128
    )
    expected = cirq.Z(q[1]).expectation_from_state_vector(psi, {q[0]: 0, q[1]: 1}).real
    out = layer(np.array([[value]], np.float32)).numpy()[0, 0]
    np.testing.assert_allclose(out, expected, atol=1e-4)
