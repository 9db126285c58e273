"""The backend interface itself: both implementations answer every operation alike (against
Cirq), each declares its own gate set, and the statevector side never needs TFQ."""
import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
from tfq_layers import backends
from tfq_layers.engine import Engine
from tfq_layers.errors import CircuitError

Q = cirq.GridQubit.rect(1, 2)
A, B = sympy.symbols("a b")


def _engine(name, circuits):
    engine = Engine(dict(circuit=circuits, require_observables=False, input_symbols=["a", "b"]),
                    backend=name, share_weights=False)
    engine.bind()
    return engine


@pytest.mark.parametrize("name", ["tfq", "statevector"])
def test_every_operation_on_a_batch_of_different_circuits_matches_cirq(name):
    circuits = [cirq.Circuit(cirq.rx(A).on(Q[0]), cirq.CNOT(*Q), cirq.ry(B).on(Q[1])),
                cirq.Circuit(cirq.ry(A).on(Q[1]), cirq.CZ(*Q), cirq.rx(B).on(Q[0]), cirq.H(Q[1]))]
    engine = _engine(name, circuits)
    sim = engine.backend
    assert sim.name == name and isinstance(sim, backends.Backend)
    values = tf.constant([[0.3, -1.2], [1.1, 0.4], [-0.7, 2.0]], tf.float32)
    index = tf.constant([0, 1, 1])
    shared = tf.zeros([0])
    ops = [cirq.PauliSum.from_pauli_strings([cirq.Z(Q[0]) * cirq.X(Q[1])]),
           cirq.PauliSum.from_pauli_strings([cirq.Y(Q[1])])]
    exp = sim.expectation(values, shared, ops, index=index).numpy()
    state = sim.state(values, shared, index=index).numpy()
    probs = sim.probabilities(values, shared, index=index).numpy()
    unitary = sim.unitary(values, shared, index=index).numpy()
    bits = sim.sample(values, shared, 7, index=index).numpy()
    assert bits.shape == (3, 7, 2) and set(np.unique(bits)) <= {0, 1}
    for row, k in enumerate([0, 1, 1]):
        r = {"a": float(values[row, 0]), "b": float(values[row, 1])}
        c = circuits[k]
        np.testing.assert_allclose(exp[row], reference.expectations(c, ops, r, Q), atol=2e-5)
        psi = cirq.Simulator(dtype=np.complex128).simulate(
            cirq.resolve_parameters(c, r), qubit_order=Q).final_state_vector
        np.testing.assert_allclose(state[row], psi, atol=2e-5)
        np.testing.assert_allclose(probs[row], np.abs(psi) ** 2, atol=2e-5)
        np.testing.assert_allclose(unitary[row], cirq.unitary(cirq.resolve_parameters(c, r)),
                                   atol=2e-5)


def test_each_backend_declares_its_gate_set():
    toffoli = cirq.Circuit(cirq.TOFFOLI(*cirq.LineQubit.range(3)))
    assert backends.gate_set("statevector").accepts(cirq.TOFFOLI)
    assert not backends.gate_set("tfq").accepts(cirq.TOFFOLI)
    Engine(dict(circuit=toffoli, require_observables=False), backend="statevector")
    with pytest.raises(CircuitError, match="not supported by the TFQ backend"):
        Engine(dict(circuit=toffoli, require_observables=False), backend="tfq")
    # "auto" compiles for any gate, then checks the chosen backend's set when it is bound
    engine = Engine(dict(circuit=toffoli, require_observables=False), backend="auto")
    with pytest.raises(CircuitError, match="TOFFOLI|not supported by the TFQ backend"):
        engine.bind("tfq")


def test_auto_choice_on_hand_picked_cases():
    assert backends.choose_backend(4) == "statevector"
    assert backends.choose_backend(4, quantum_data=True) == "tfq"
    assert backends.choose_backend(4, repetitions=100) == "tfq"
    assert backends.choose_backend(4, repetitions=100, noisy=True) == "statevector"
    assert backends.choose_backend(4, differentiator={"name": "adjoint"}) == "tfq"
    assert backends.choose_backend(backends.STATEVECTOR_MAX_QUBITS + 1) == "tfq"
    assert backends.choose_backend(4, n_circuits=backends.STATEVECTOR_MAX_CIRCUITS + 1) == "tfq"
    assert backends.normalize_name("noiseless") == "tfq" and backends.normalize_name(None) == "auto"
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.normalize_name("qiskit")


def test_the_statevector_backend_and_the_package_import_without_tfq():
    out = reference.run_python(
        "import sys\n"
        "import tfq_layers.backends.statevector, tfq_layers.backends.statevector_backend\n"
        "import tfq_layers\n"
        "print('TFQ' if 'tensorflow_quantum' in sys.modules else 'NO TFQ')\n"
        "import tensorflow as tf\n"
        "print('registered' if 'TfqSimulateExpectation' in tf.raw_ops.__dict__ or "
        "tfq_layers.backends.load_tfq_ops() else 'missing')\n")
    assert "NO TFQ" in out and "registered" in out


def test_many_different_circuits_run_as_data_without_tracing_per_circuit():
    """The barren-plateaus pattern on the statevector backend: random circuits of one shape are
    tables fed to one traced function; a second set of new circuits does not trace again. Values
    and gradients agree with TFQ's op."""
    from tfq_layers.backends import statevector_backend
    from tfq_layers.compat import layers as L
    rng = np.random.default_rng(0)
    qs = cirq.GridQubit.rect(1, 3)
    syms = sympy.symbols("t0:6")

    def random_circuits(count):
        out = []
        for _ in range(count):
            c = cirq.Circuit(cirq.ry(np.pi / 4).on_each(*qs))
            for k, s in enumerate(syms):
                c.append([cirq.rx, cirq.ry, cirq.rz][rng.integers(3)](s).on(qs[k % 3]))
                if k % 3 == 2:
                    c.append([cirq.CZ(qs[0], qs[1]), cirq.CZ(qs[1], qs[2])])
            out.append(c)
        return out

    names = [s.name for s in syms]
    op = cirq.Z(qs[0]) * cirq.Z(qs[1])
    counts = []
    for _ in range(2):
        circuits = random_circuits(6)
        values = tf.constant(rng.uniform(0, 2 * np.pi, (6, 6)), tf.float32)
        results = {}
        for name in ("statevector", "tfq"):
            with tf.GradientTape() as tape:
                tape.watch(values)
                out = L.Expectation(backend=name)(circuits, symbol_names=names,
                                                  symbol_values=values, operators=op)
            results[name] = (out.numpy(), tape.gradient(out, values).numpy())
        np.testing.assert_allclose(results["statevector"][0], results["tfq"][0], atol=1e-5)
        np.testing.assert_allclose(results["statevector"][1], results["tfq"][1], atol=1e-4)
        fns = list(statevector_backend._TABLE_FUNCTIONS.values())
        counts.append(sum(f.experimental_get_tracing_count() for f in fns))
    assert counts[1] == counts[0], counts  # 6 new circuits, no new trace
