"""Unit tests of the statevector compiler's stages (``backends/statevector/compile.py``): ``fuse``,
``classify``/``schedule`` and ``plan``, each against Cirq's unitaries and final states.

The compiler is NumPy + Cirq only, so these tests run no TensorFlow: a small NumPy interpreter
below runs a plan's steps (matrices, diagonals, permutations with phases, axis layouts) and the
result is compared with ``cirq.final_state_vector`` of the same circuit.
"""

import cirq
import numpy as np
import pytest
import sympy

from tfq_layers.backends.statevector import compile as sc

A, B = sympy.symbols("a b")
SYMBOLS = {"a": 0, "b": 1}
VALUES = {"a": 0.37, "b": -1.21}


def _random_circuit(qubits, depth, seed):
    """Constant and parameterized gates, one to three qubits: dense, diagonal and monomial."""
    rng = np.random.default_rng(seed)
    one = [cirq.H, cirq.X, cirq.T, cirq.S, cirq.rx(A), cirq.rz(B), cirq.ry(2 * A + 0.3)]
    two = [
        cirq.CNOT,
        cirq.CZ,
        cirq.SWAP,
        cirq.ISWAP**0.5,
        cirq.ZZ ** (B / 3),
        cirq.FSimGate(A, 0.2),
    ]
    ops = []
    for _ in range(depth):
        size = rng.choice([1, 2, 3], p=[0.45, 0.45, 0.1])
        picked = [qubits[i] for i in rng.choice(len(qubits), size=size, replace=False)]
        if size == 1:
            ops.append(one[rng.integers(len(one))].on(*picked))
        elif size == 2:
            ops.append(two[rng.integers(len(two))].on(*picked))
        else:
            ops.append(cirq.CCX.on(*picked))
    return cirq.Circuit(ops)


def _values():
    return [VALUES[name] for name in sorted(SYMBOLS, key=SYMBOLS.get)]


def _matrix(step, values):
    """The step's complex matrix (or diagonal) at ``values``: chain[0] acts first."""
    if step.const is not None:
        return step.const
    m = None
    for f in step.chain:
        cur = f.evaluate(values)
        m = cur if m is None else (cur * m if cur.ndim == 1 else cur @ m)
    return m


def _run_plan(steps, final_layout, n, values):
    """A plan run in NumPy from |0...0>: the state in canonical qubit order."""
    psi = np.zeros((2,) * n, complex)
    psi[(0,) * n] = 1
    layout = tuple(range(n))
    for step in steps:
        assert tuple(step.layout_in) == layout, (
            "a step starts in another layout than the last ended"
        )
        if isinstance(step, sc.PermStep):
            start, m = step.span
            y = psi.reshape(2**start, 2**m, -1)[:, step.index, :]
            if step.phase is not None:
                y = y * step.phase[None, :, None]
            psi = y.reshape((2,) * n)
        else:
            u = _matrix(step, values)
            if u.ndim == 1:
                u = np.diag(u)
            k = len(step.targets)
            axes = [layout.index(q) for q in step.targets]
            t = np.moveaxis(psi, axes, range(k)).reshape(2**k, -1)
            t = np.moveaxis((u @ t).reshape((2,) * n), range(k), axes)
            psi = t.transpose([layout.index(q) for q in step.layout_out])
        layout = tuple(step.layout_out)
    assert layout == tuple(final_layout)
    return psi.transpose([layout.index(q) for q in range(n)]).reshape(-1)


def _items(circuit, qubits):
    items, phase = sc.parse_circuit(circuit, qubits, SYMBOLS)
    assert phase == 1
    return items


def _full_matrix(unit, n):
    u = None
    for f in unit.chain:
        cur = f.evaluate(_values())
        u = cur if u is None else cur @ u
    return sc._embed(u, list(unit.qubits), n)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fuse_blocks_are_small_and_multiply_to_the_circuit(k, seed):
    qubits = cirq.LineQubit.range(5)
    circuit = _random_circuit(qubits, 30, seed)
    units = sc.fuse(_items(circuit, qubits), k)
    total = np.eye(2**5, dtype=complex)
    for unit in units:
        gate_size = max(len(op.qubits) for op in circuit.all_operations())
        assert len(unit.qubits) <= max(k, gate_size)
        assert list(unit.qubits) == sorted(unit.qubits)
        total = _full_matrix(unit, 5) @ total
    resolved = cirq.resolve_parameters(circuit, VALUES)
    expected = cirq.unitary(cirq.Circuit(cirq.I.on_each(qubits), resolved))
    np.testing.assert_allclose(total, expected, atol=1e-9)


def test_fuse_never_merges_across_a_channel():
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(
        cirq.rx(A).on(q[0]), cirq.CNOT(*q), cirq.depolarize(0.1).on(q[0]), cirq.rz(B).on(q[0])
    )
    out = sc.fuse(_items(circuit, q), 2)
    kinds = [type(x).__name__ for x in out]
    assert kinds == ["Unit", "ChannelItem", "Unit"]
    assert out[0].qubits == (0, 1) and out[2].qubits == (0,)


def test_classify_names_each_kind():
    q = cirq.LineQubit.range(2)

    def kind(*ops):
        (unit,) = sc.fuse(_items(cirq.Circuit(ops), q), 2)
        return sc.classify(unit)

    assert kind(cirq.X(q[0]), cirq.X(q[0])) == "identity"
    assert kind(cirq.CZ(*q)) == "const_diag"
    assert kind(cirq.CNOT(*q)) == "perm"
    assert kind(cirq.H(q[0])) == "const_dense"
    assert kind(cirq.rz(A).on(q[0])) == "diag"
    assert kind(cirq.rx(A).on(q[0])) == "dense"


def test_schedule_keeps_each_qubits_order_and_delays_permutations():
    qubits = cirq.LineQubit.range(4)
    circuit = _random_circuit(qubits, 40, seed=7)
    units = sc.fuse(_items(circuit, qubits), 2)
    scheduled = sc.schedule(units)
    assert sorted(map(id, (u for u, _ in scheduled))) == sorted(map(id, units))
    position = {id(u): i for i, u in enumerate(units)}
    for q in range(4):
        on_q = [position[id(u)] for u, _ in scheduled if q in u.qubits]
        assert on_q == sorted(on_q), f"qubit {q}'s units were reordered"
    # A permutation that is ready together with another unit waits for it.
    q = cirq.LineQubit.range(2)
    units = sc.fuse(_items(cirq.Circuit(cirq.X(q[0]), cirq.H(q[1])), q), 1)
    assert [kind for _, kind in sc.schedule(units)] == ["const_dense", "perm"]


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_plan_runs_to_cirqs_final_state(k, seed):
    n = 5
    qubits = cirq.LineQubit.range(n)
    circuit = _random_circuit(qubits, 36, seed)
    steps, layout = sc.plan(sc.schedule(sc.fuse(_items(circuit, qubits), k)), n)
    kinds = {step.kind for step in steps}
    assert kinds <= {"dense", "diag", "perm"}
    resolved = cirq.resolve_parameters(circuit, VALUES)
    expected = cirq.final_state_vector(
        cirq.Circuit(cirq.I.on_each(qubits), resolved), qubit_order=qubits, dtype=np.complex128
    )
    np.testing.assert_allclose(_run_plan(steps, layout, n, _values()), expected, atol=1e-9)


def test_plan_merges_neighbouring_permutations_and_records_layouts():
    n = 4
    q = cirq.LineQubit.range(n)
    circuit = cirq.Circuit(cirq.CNOT(q[0], q[1]), cirq.X(q[2]), cirq.SWAP(q[1], q[3]), cirq.S(q[3]))
    steps, layout = sc.plan(sc.schedule(sc.fuse(_items(circuit, q), 1)), n)
    perms = [s for s in steps if isinstance(s, sc.PermStep)]
    assert len(perms) < 3, "neighbouring permutations were not merged"
    for s in steps:
        assert sorted(s.layout_in) == list(range(n)) and sorted(s.layout_out) == list(range(n))
    expected = cirq.final_state_vector(circuit, qubit_order=q, dtype=np.complex128)
    np.testing.assert_allclose(_run_plan(steps, layout, n, _values()), expected, atol=1e-12)


def test_plan_gives_each_channel_its_own_column_of_random_numbers():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]),
        cirq.bit_flip(0.1).on(q[1]),
        cirq.CNOT(q[0], q[2]),
        cirq.amplitude_damp(0.2)(q[2]),
    )
    steps, _ = sc.plan(sc.schedule(sc.fuse(_items(circuit, q), 2)), 3)
    channels = [s for s in steps if isinstance(s, sc.ChannelStep)]
    assert [c.channel_id for c in channels] == [0, 1]
    assert [c.targets for c in channels] == [(1,), (2,)]
    assert all(not s.parameterized for s in steps)
