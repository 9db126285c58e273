"""The backend interface itself: both implementations answer every operation alike (against
Cirq), each declares its own gate set, and the statevector side never needs TFQ."""

import functools
import sys

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import conftest
import reference
from tfq_layers import backends
from tfq_layers.engine import Engine
from tfq_layers.errors import BackendUnavailableError, CircuitError
from tfq_layers.program import Program

Q = cirq.GridQubit.rect(1, 2)
A, B = sympy.symbols("a b")


def _engine(name, circuits):
    engine = Engine(
        Program(circuits, input_symbols=["a", "b"]),
        backend=name,
        share_weights=False,
    )
    engine.bind()
    return engine


@pytest.mark.parametrize("name", [pytest.param("tfq", marks=pytest.mark.tfq), "statevector"])
def test_every_operation_on_a_batch_of_different_circuits_matches_cirq(name):
    circuits = [
        cirq.Circuit(cirq.rx(A).on(Q[0]), cirq.CNOT(*Q), cirq.ry(B).on(Q[1])),
        cirq.Circuit(cirq.ry(A).on(Q[1]), cirq.CZ(*Q), cirq.rx(B).on(Q[0]), cirq.H(Q[1])),
    ]
    engine = _engine(name, circuits)
    sim = engine.backend
    assert sim.name == name and isinstance(sim, backends.Backend)
    values = tf.constant([[0.3, -1.2], [1.1, 0.4], [-0.7, 2.0]], tf.float32)
    index = tf.constant([0, 1, 1])
    shared = tf.zeros([0])
    ops = [
        cirq.PauliSum.from_pauli_strings([cirq.Z(Q[0]) * cirq.X(Q[1])]),
        cirq.PauliSum.from_pauli_strings([cirq.Y(Q[1])]),
    ]
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
        psi = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(cirq.resolve_parameters(c, r), qubit_order=Q)
            .final_state_vector
        )
        np.testing.assert_allclose(state[row], psi, atol=2e-5)
        np.testing.assert_allclose(probs[row], np.abs(psi) ** 2, atol=2e-5)
        np.testing.assert_allclose(
            unitary[row], cirq.unitary(cirq.resolve_parameters(c, r)), atol=2e-5
        )


def test_each_backend_declares_its_gate_set():
    toffoli = cirq.Circuit(cirq.TOFFOLI(*cirq.LineQubit.range(3)))
    assert backends.gate_set("statevector").accepts(cirq.TOFFOLI)
    assert not backends.gate_set("tfq").accepts(cirq.TOFFOLI)
    Engine(Program(toffoli), backend="statevector")
    # "auto" compiles for any gate, then checks the chosen backend's set when it is bound
    engine = Engine(Program(toffoli), backend="auto")
    with pytest.raises(CircuitError, match="TOFFOLI|not supported by the TFQ backend"):
        engine.bind("tfq")


@pytest.mark.tfq
def test_the_tfq_backend_checks_its_gate_set_at_construction():
    toffoli = cirq.Circuit(cirq.TOFFOLI(*cirq.LineQubit.range(3)))
    with pytest.raises(CircuitError, match="not supported by the TFQ backend"):
        Engine(Program(toffoli), backend="tfq")


BOTH = ("tfq", "statevector")  # choose_backend's rules as where TFQ is installed


def test_auto_choice_on_hand_picked_cases():
    choose = functools.partial(backends.choose_backend, available=BOTH)
    # only TFQ can: quantum data, TFQ's differentiators
    assert choose(4) == "statevector"
    assert choose(4, quantum_data=True) == "tfq"
    assert choose(22, quantum_data=True) == "tfq"
    assert choose(4, differentiator={"name": "adjoint"}) == "tfq"
    assert choose(4, repetitions=100, differentiator={"name": "parameter_shift"}) == "tfq"
    assert choose(4, n_circuits=backends.STATEVECTOR_MAX_CIRCUITS + 1) == "tfq"
    # measured: the statevector backend faster at 22 and 24 qubits too (BENCHMARKS.md)
    assert choose(22) == "statevector" and choose(24) == "statevector"
    # shots on a noiseless circuit, and noise by trajectories: measured faster on the statevector
    # backend at every size measured (4-12 qubits)
    assert choose(4, repetitions=100) == "statevector"
    assert choose(12, repetitions=1000) == "statevector"
    assert choose(8, repetitions=100, noisy=True) == "statevector"
    assert backends.normalize_name("noiseless") == "tfq" and backends.normalize_name(None) == "auto"
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.normalize_name("qiskit")


def test_auto_never_takes_a_backend_that_cannot_run_here():
    """Without TFQ every rule that would take it takes the statevector backend, except a TFQ
    differentiator, which is one clear error; the default ``available`` is this machine's."""
    alone = ("statevector",)
    choose = functools.partial(backends.choose_backend, available=alone)
    assert choose(4, quantum_data=True) == "statevector"
    assert choose(4, n_circuits=backends.STATEVECTOR_MAX_CIRCUITS + 1) == "statevector"
    assert choose(60) == "statevector"  # too large for either: the memory guard will say so
    with pytest.raises(BackendUnavailableError, match="differentiator= applies to TFQ"):
        choose(4, differentiator={"name": "adjoint"})
    here = backends.available_backends()
    assert "statevector" in here and ("tfq" in here) == (backends.why_not("tfq") is None)
    assert backends.choose_backend(4, quantum_data=True) == (
        "tfq" if "tfq" in here else "statevector"
    )


def test_asking_for_tfq_where_it_is_missing_or_does_not_load_is_one_clear_error():
    """A stand-in ``tensorflow_quantum`` whose op library is not a loadable library (what TFQ's
    libraries are against another TensorFlow ABI) comes first on the path of a fresh process:
    ``import tfq_layers`` works, ``"auto"`` takes the statevector backend, and ``backend="tfq"``
    fails at construction naming the versions and the fix."""
    out = reference.run_python(
        "import os, sys, tempfile\n"
        "root = tempfile.mkdtemp()\n"
        "ops = os.path.join(root, 'tensorflow_quantum', 'core', 'ops')\n"
        "os.makedirs(ops)\n"
        "open(os.path.join(root, 'tensorflow_quantum', '__init__.py'), 'w').close()\n"
        "open(os.path.join(ops, '_tfq_simulate_ops.so'), 'wb').write(b'not a library')\n"
        "sys.path.insert(0, root)\n"
        "import cirq, sympy, tfq_layers\n"
        "from tfq_layers import PQC, backends\n"
        "q = cirq.GridQubit(0, 0)\n"
        "c = cirq.Circuit(cirq.rx(sympy.Symbol('x'))(q))\n"
        "print('available', backends.available_backends())\n"
        "layer = PQC(c, cirq.Z(q), input_symbols=['x'])\n"
        "layer.build((None, 1))\n"
        "print('auto', layer.backend)\n"
        "try:\n"
        "    PQC(c, cirq.Z(q), input_symbols=['x'], backend='tfq')\n"
        "except tfq_layers.backends.BackendUnavailableError as err:\n"
        "    print('error', err)\n"
    )
    assert "available ('statevector',)" in out
    assert "auto statevector" in out
    error = out.split("error ", 1)[1]
    py = f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    for words in (
        "op libraries do not load against TensorFlow",
        py,
        tf.__version__,
        "pip install 'tfq-layers[tfq]'",
        "backend='statevector'",
    ):
        assert words in error, (words, error)


def test_auto_takes_tfq_when_only_its_memory_estimate_fits():
    """The memory rule comes from backends.memory: at the qubit count where the statevector
    backend's estimate for one example first exceeds the memory but TFQ's (4 states) does not,
    "auto" takes TFQ; below it, the statevector backend."""
    from tfq_layers.backends import memory

    have = 8 * 2**30
    n = next(k for k in range(10, 40) if memory.statevector_bytes(k, 1, gradient="adjoint") > have)
    assert memory.state_bytes(n) * memory.TFQ_STATES_KEPT <= have  # TFQ still fits there
    choose = functools.partial(backends.choose_backend, available=BOTH)
    assert choose(n - 1, memory_bytes=have) == "statevector"
    assert choose(n, memory_bytes=have) == "tfq"
    # a batch that does not fit moves the choice down (the estimate does not count on the lean
    # chunks, which only expectations use); noise (autodiff, every step kept) too
    assert choose(n - 1, batch=4, memory_bytes=have) == "tfq"
    assert choose(n - 1, noisy=True, repetitions=10, memory_bytes=have) == "tfq"
    # this machine: some register is too large for the statevector backend and goes to TFQ
    big = next(
        k
        for k in range(10, 60)
        if memory.statevector_bytes(k, 1, gradient="adjoint") > memory.physical_memory_bytes()
    )
    assert choose(big) == "tfq" and choose(big - 1) == "statevector"


def test_auto_in_a_layer_follows_the_table():
    """What a PQC layer with the default backend picks when built (nothing is simulated)."""
    from tfq_layers import PQC

    qubits = cirq.GridQubit.rect(1, 22)
    circuit = cirq.Circuit(cirq.rx(sympy.Symbol(f"x{i}")).on(q) for i, q in enumerate(qubits))
    circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(21))
    layer = PQC(circuit, cirq.Z(qubits[0]), input_symbols=[f"x{i}" for i in range(22)])
    layer.build((None, 22))
    assert layer.backend == "statevector"
    small = cirq.Circuit(cirq.rx(A).on(Q[0]), cirq.CNOT(*Q))
    shots = PQC(small, cirq.Z(Q[1]), input_symbols=["a"], repetitions=100)
    shots.build((None, 1))
    noisy = PQC(
        small + cirq.depolarize(0.01).on_each(*Q),
        cirq.Z(Q[1]),
        input_symbols=["a"],
        repetitions=100,
    )
    noisy.build((None, 1))
    assert shots.backend == backends.choose_backend(2, repetitions=True)
    assert noisy.backend == backends.choose_backend(2, repetitions=True, noisy=True)
    if not backends.is_available("tfq"):  # only TFQ applies a differentiator
        with pytest.raises(BackendUnavailableError, match="differentiator= applies to TFQ"):
            PQC(small, cirq.Z(Q[1]), input_symbols=["a"], differentiator="parameter_shift")
        return
    ps = PQC(
        small, cirq.Z(Q[1]), input_symbols=["a"], repetitions=100, differentiator="parameter_shift"
    )
    ps.build((None, 1))
    assert ps.backend == "tfq"


def test_the_statevector_backend_and_the_package_import_without_tfq():
    out = reference.run_python(
        "import sys\n"
        "import tfq_layers.backends.statevector, tfq_layers.backends.statevector_backend\n"
        "import tfq_layers\n"
        "print('TFQ' if 'tensorflow_quantum' in sys.modules else 'NO TFQ')\n"
        "import tensorflow as tf\n"
        "print('registered' if 'TfqSimulateExpectation' in tf.raw_ops.__dict__ or "
        "tfq_layers.backends.load_tfq_ops() else 'missing')\n"
    )
    # where TFQ is installed, importing tfq_layers registers its ops (without importing TFQ)
    assert "NO TFQ" in out and ("registered" if conftest.HAVE_TFQ else "missing") in out


@pytest.mark.tfq
def test_tfq_runs_here_where_it_is_installed():
    assert backends.is_available("tfq") and backends.why_not("tfq") is None
    assert backends.available_backends() == ("tfq", "statevector")


@pytest.mark.tfq
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
                out = L.Expectation(backend=name)(
                    circuits, symbol_names=names, symbol_values=values, operators=op
                )
            results[name] = (out.numpy(), tape.gradient(out, values).numpy())
        np.testing.assert_allclose(results["statevector"][0], results["tfq"][0], atol=1e-5)
        np.testing.assert_allclose(results["statevector"][1], results["tfq"][1], atol=1e-4)
        fns = list(statevector_backend._TABLE_FUNCTIONS.values())
        counts.append(sum(f.experimental_get_tracing_count() for f in fns))
    assert counts[1] == counts[0], counts  # 6 new circuits, no new trace
