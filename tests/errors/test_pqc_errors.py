"""Every bad input to the PQC layer gets an early error that names the problem and the fix."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers import PQC, CircuitError, backends
from tfq_layers.compat import convert_to_tensor
from tfq_layers.program import Program
from tfq_layers._keras import keras
from tfq_layers.program import check_memory

Q = cirq.GridQubit.rect(1, 3)
X0, X1, W0 = sympy.symbols("x0 x1 w0")


def _circuit():
    return cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(X1 * W0).on(Q[1]), cirq.CNOT(Q[0], Q[1]))


def test_wrong_feature_count_at_model_construction():
    layer = PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    with pytest.raises(
        ValueError, match=r"expects inputs of shape \(batch, 2\).*x0.*x1.*got shape"
    ):
        keras.Sequential([keras.Input((3,)), layer])


def test_wrong_feature_count_at_call():
    layer = PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 2\)"):
        layer(np.zeros((4, 5), np.float32))


def test_input_symbol_missing_from_circuit():
    with pytest.raises(CircuitError, match=r"input symbols \['x7'\] do not appear.*x0"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x7"])


def test_input_symbols_of_wrong_type_or_duplicated():
    with pytest.raises(TypeError, match="must be sympy.Symbol objects or non-empty strings"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=[3])
    with pytest.raises(ValueError, match="duplicates"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x0"])


@pytest.mark.parametrize(
    "op",
    [
        cirq.PhasedXZGate(x_exponent=0.1, z_exponent=0.2, axis_phase_exponent=0.3).on(Q[0]),
        cirq.MatrixGate(np.eye(2)).on(Q[0]),
        cirq.TOFFOLI(*Q),
        cirq.CCZ(*Q),
        cirq.GlobalPhaseGate(1j).on(),
    ],
)
def test_gate_unsupported_by_tfq(op):
    """TFQ's gate set is checked by the compile step (no TFQ needed); a layer asking for TFQ gets
    the same error at construction where TFQ runs (test_tfq_backend_refuses_at_construction)."""
    program = Program(_circuit() + cirq.Circuit(op), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    with pytest.raises(
        CircuitError, match="not supported by the TFQ backend.*Decompose.*backend='statevector'"
    ):
        program.check_gate_set(backends.gate_set("tfq"))


@pytest.mark.tfq
def test_tfq_backend_refuses_at_construction():
    with pytest.raises(CircuitError, match="not supported by the TFQ backend"):
        PQC(_circuit() + cirq.TOFFOLI(*Q), cirq.Z(Q[0]), input_symbols=["x0", "x1"], backend="tfq")


def test_gate_without_unitary_is_refused_by_every_backend():
    class Mystery(cirq.Gate):
        def _num_qubits_(self):
            return 1

    for backend in ("auto", "statevector"):
        with pytest.raises(CircuitError, match="Mystery.*cannot be simulated.*Decompose"):
            PQC(
                _circuit() + Mystery().on(Q[0]),
                cirq.Z(Q[0]),
                input_symbols=["x0", "x1"],
                backend=backend,
            )


@pytest.mark.tfq  # where TFQ runs, "auto" gives quantum data to it (elsewhere to statevector)
def test_auto_backend_needs_tfq_gates_for_quantum_data():
    import tensorflow_quantum as tfq

    layer = PQC(_circuit() + cirq.TOFFOLI(*Q), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    with pytest.raises(
        CircuitError, match="TOFFOLI|CCX.*needs the TFQ backend because it takes quantum data"
    ):
        layer([tfq.convert_to_tensor([cirq.Circuit()]), np.zeros((1, 2), np.float32)])


def test_named_qubits_are_refused_with_a_fix():
    a = cirq.NamedQubit("a")
    with pytest.raises(
        CircuitError, match="NamedQubit.*GridQubit and cirq.LineQubit.*transform_qubits"
    ):
        PQC(cirq.Circuit(cirq.rx(W0).on(a)), cirq.Z(a))
    with pytest.raises(CircuitError, match="observables.*NamedQubit"):
        PQC(_circuit(), cirq.Z(a), input_symbols=["x0", "x1"])


def test_mid_circuit_measurement_is_refused_terminal_is_dropped():
    c = cirq.Circuit(cirq.rx(W0).on(Q[0]), cirq.measure(Q[0], key="m"), cirq.H(Q[0]))
    with pytest.raises(CircuitError, match="mid-circuit measurements"):
        PQC(c, cirq.Z(Q[0]))
    ok = PQC(cirq.Circuit(cirq.rx(W0).on(Q[0]), cirq.measure(Q[0], key="m")), cirq.Z(Q[0]))
    assert not ok.circuit.has_measurements()


@pytest.mark.parametrize("bad", [cirq.H(Q[0]), "Z0", 0.5, [cirq.Z(Q[0]), cirq.CNOT(Q[0], Q[1])]])
def test_non_pauli_observables(bad):
    with pytest.raises(CircuitError, match="must be cirq.PauliSum or cirq.PauliString"):
        PQC(_circuit(), bad, input_symbols=["x0", "x1"])


def test_complex_coefficient_observable():
    with pytest.raises(CircuitError, match="Hermitian"):
        PQC(_circuit(), 1j * cirq.Z(Q[0]), input_symbols=["x0", "x1"])


def test_too_many_qubits_for_memory():
    qubits = cirq.LineQubit.range(40)
    c = cirq.Circuit(cirq.rx(W0).on(q) for q in qubits)
    with pytest.raises(MemoryError, match="40 qubits.*GiB.*fewer qubits"):
        PQC(c, cirq.Z(qubits[0]))
    with pytest.raises(MemoryError, match="batch of 4096"):
        check_memory(26, batch=4096)


def test_nan_features_are_refused():
    layer = PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        layer(np.array([[0.1, np.nan]], np.float32))


def test_unsupported_expression_function():
    c = cirq.Circuit(cirq.rx(sympy.gamma(W0)).on(Q[0]))
    with pytest.raises(CircuitError, match="gamma.*cannot be compiled.*Supported"):
        PQC(c, cirq.Z(Q[0]))
    c = cirq.Circuit(cirq.rx(sympy.I * W0).on(Q[0]))
    with pytest.raises(CircuitError, match="complex"):
        PQC(c, cirq.Z(Q[0]))


def test_bad_backend_arguments():
    with pytest.raises(ValueError, match="backend must be one of"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"], backend="gpu")
    with pytest.raises(ValueError, match="differentiator applies to backend='tfq'"):
        PQC(
            _circuit(),
            cirq.Z(Q[0]),
            input_symbols=["x0", "x1"],
            backend="statevector",
            differentiator="adjoint",
        )
    # the statevector backend reads quantum data (an empty data circuit: the all-zeros state)
    layer = PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"], backend="statevector")
    from tfq_layers import wire

    x = np.full((1, 2), 0.3, np.float32)
    with_data = layer([wire.convert_to_tensor([cirq.Circuit()]), x])
    np.testing.assert_allclose(with_data, layer(x), atol=1e-6)


def test_bad_differentiator_and_repetitions():
    with pytest.raises(ValueError, match="unknown differentiator 'adjiont'"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"], differentiator="adjiont")
    with pytest.raises(ValueError, match="adjoint differentiator needs exact.*parameter_shift"):
        PQC(
            _circuit(),
            cirq.Z(Q[0]),
            input_symbols=["x0", "x1"],
            differentiator="adjoint",
            repetitions=100,
        )
    with pytest.raises(ValueError, match="repetitions must be a positive int"):
        PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"], repetitions=0)


def test_wrong_input_kind():
    features_layer = PQC(_circuit(), cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    circuits = convert_to_tensor([cirq.Circuit()])
    with pytest.raises(ValueError, match=r"takes \[circuits, features\]"):
        features_layer(circuits)
    quantum_layer = PQC(cirq.Circuit(cirq.rx(W0).on(Q[0])), cirq.Z(Q[0]))
    with pytest.raises(TypeError, match="input must be quantum data"):
        quantum_layer(np.zeros((2, 2), np.float32))


def test_not_a_circuit():
    with pytest.raises(CircuitError, match="must be a cirq.Circuit"):
        PQC([cirq.H(Q[0])], cirq.Z(Q[0]))


def test_batch_too_large_is_refused_in_graph_mode_before_simulating():
    qubits = cirq.LineQubit.range(22)
    layer = PQC(
        cirq.Circuit(cirq.rx(X0).on(q) for q in qubits),
        cirq.Z(qubits[0]),
        input_symbols=["x0"],
        backend="statevector",
    )
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, 1), tf.float32)])
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match="batch too large for memory.*22 qubits.*smaller batch_size",
    ):
        fn(tf.zeros((200000, 1)))


def test_memory_guard_counts_every_trajectory_of_a_noisy_circuit():
    qubits = cirq.LineQubit.range(20)
    circuit = cirq.Circuit(cirq.rx(X0).on(q) for q in qubits) + cirq.depolarize(0.1).on(qubits[0])
    layer = PQC(
        circuit, cirq.Z(qubits[0]), input_symbols=["x0"], backend="statevector", repetitions=100000
    )
    # One input row, but 100000 trajectories of 2**20 amplitudes are simulated together.
    with pytest.raises(MemoryError, match="batch of 1 on 20 qubits needs about"):
        layer(np.zeros((1, 1), np.float32))
