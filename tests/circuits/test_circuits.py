"""Tests for tfq_layers.circuits: symbols, shapes, unitaries vs numpy references, TFQ acceptance.

The references below are built from 2x2 / 4x4 numpy matrices written out by hand (not from Cirq
gates) and composed on a state tensor, following the circuits as the docstrings describe them.
"""

import math
import os
import textwrap

import cirq
import numpy as np
import pytest
import sympy

from tfq_layers._symbols import natural_sorted
from tfq_layers import circuits as C

import reference

RNG = np.random.default_rng(1234)

# --------------------------------------------------------------------------- numpy reference
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
CZ = np.diag([1, 1, 1, -1]).astype(complex)


def rx(t):
    return np.array([[np.cos(t / 2), -1j * np.sin(t / 2)], [-1j * np.sin(t / 2), np.cos(t / 2)]])


def ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]], dtype=complex)


def rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


ROT = {"rx": rx, "ry": ry, "rz": rz}


def ppow(p, t):
    """P**t for a Pauli (string) matrix P with eigenvalues +-1: (I+P)/2 + e^{i pi t}(I-P)/2."""
    eye = np.eye(p.shape[0])
    return (eye + p) / 2 + np.exp(1j * np.pi * t) * (eye - p) / 2


def apply(state, gate, idx, n):
    """Apply a k-qubit matrix to qubits ``idx`` of a (2,)*n + rest tensor (qubit 0 = MSB)."""
    k = len(idx)
    g = gate.reshape((2,) * (2 * k))
    out = np.tensordot(g, state, axes=(list(range(k, 2 * k)), list(idx)))
    return np.moveaxis(out, list(range(k)), list(idx))


def ref_unitary(gates, n):
    """Unitary of a list of (matrix, qubit indices) applied in order."""
    u = np.eye(2**n, dtype=complex).reshape((2,) * n + (2**n,))
    for gate, idx in gates:
        u = apply(u, gate, idx, n)
    return u.reshape(2**n, 2**n)


def resolved_unitary(circuit, qubits, values):
    """Cirq unitary of ``circuit`` with symbols resolved from ``values`` (name -> float)."""
    resolved = cirq.resolve_parameters(circuit, cirq.ParamResolver(values))
    assert not cirq.is_parameterized(resolved)
    return resolved.unitary(qubit_order=qubits)


def random_values(symbols, low=-np.pi, high=np.pi):
    return {str(s): float(RNG.uniform(low, high)) for s in symbols}


def circuit_symbol_names(circuit):
    return {str(s) for s in cirq.parameter_symbols(circuit)}


# --------------------------------------------------------------------------- builders under test
def _builders():
    """(name, callable(qubits) -> (circuit, trainable-or-input symbols list), expected count fn)."""
    return {
        "angle": lambda q: C.angle_encoding(q, rotation="ry"),
        "basis": lambda q: C.basis_encoding(q),
        "dense": lambda q: C.dense_angle_encoding(q),
        "iqp": lambda q: C.iqp_encoding(q, reps=2),
        "reupload": lambda q: (lambda c, x, w: (c, x + w))(*C.reuploading_circuit(q, 3, 2)),
        "hea": lambda q: C.hardware_efficient(q, layers=2),
        "strong": lambda q: C.strongly_entangling(q, layers=2),
        "basic": lambda q: C.basic_entangler(q, layers=2),
        "qcnn": lambda q: C.qcnn(q)[:2],
        "conv": lambda q: C.quantum_conv(q),
        "cluster": lambda q: (C.cluster_state_circuit(q), []),
    }


BUILDERS = _builders()

# Gate types TFQ 0.7.6 serializes (cirq.rx & co. are subclasses of the power gates).
ALLOWED = (
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.HPowGate,
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.SwapPowGate,
    cirq.ISwapPowGate,
    cirq.XXPowGate,
    cirq.YYPowGate,
    cirq.ZZPowGate,
    cirq.PhasedXPowGate,
    cirq.FSimGate,
)


# --------------------------------------------------------------------------- qubits argument
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_qubits_int_line_and_rejections(name):
    build = BUILDERS[name]
    circuit, _ = build(4)
    assert sorted(circuit.all_qubits()) == list(cirq.GridQubit.rect(1, 4))
    line = cirq.LineQubit.range(4)
    circuit, _ = build(line)
    assert circuit.all_qubits() == set(line)
    with pytest.raises(TypeError, match="GridQubit or cirq.LineQubit"):
        build([cirq.NamedQubit(f"a{i}") for i in range(4)])
    with pytest.raises(ValueError, match="duplicates"):
        build([cirq.LineQubit(0)] * 4)
    with pytest.raises(TypeError, match="got 'abcd'"):
        build("abcd")
    with pytest.raises(TypeError, match="bool"):
        build(True)
    with pytest.raises(ValueError, match="got 0"):
        build(0)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_only_tfq_serializable_gates(name):
    circuit, _ = BUILDERS[name](4)
    for op in circuit.all_operations():
        assert isinstance(op.gate, ALLOWED), op


# --------------------------------------------------------------------------- symbols and shapes
@pytest.mark.parametrize("name", sorted(set(BUILDERS) - {"cluster"}))
def test_symbols_are_natural_unique_and_exactly_the_circuit_parameters(name):
    circuit, symbols = BUILDERS[name](8)
    names = [str(s) for s in symbols]
    assert len(set(names)) == len(names)
    assert all(isinstance(s, sympy.Symbol) for s in symbols)
    assert set(names) == circuit_symbol_names(circuit)
    if name != "reupload":  # reupload's list is inputs + weights, each natural on its own
        assert names == [str(s) for s in natural_sorted(symbols)]


def test_natural_order_w2_before_w10():
    _, xs = C.angle_encoding(12)
    assert [str(s) for s in xs] == [f"x{i}" for i in range(12)]
    assert sorted(str(s) for s in xs) != [str(s) for s in xs]  # lexicographic would differ
    _, ws = C.basic_entangler(11, layers=12)
    names = [str(s) for s in ws]
    assert names.index("w_2_3") < names.index("w_10_3")
    assert names.index("w_3_2") < names.index("w_3_10")
    _, ws, _ = C.qcnn(8)
    assert [str(s) for s in ws] == [f"w{i}" for i in range(63)]


@pytest.mark.parametrize("n,layers", [(1, 1), (2, 3), (5, 2)])
def test_shape_helpers_match_symbols(n, layers):
    for rots in (("ry", "rz"), ("rx",), ("rx", "ry", "rz")):
        _, ws = C.hardware_efficient(n, layers, rotations=rots)
        shape = C.hardware_efficient_shape(n, layers, rotations=rots)
        assert shape == (layers, n, len(rots)) and math.prod(shape) == len(ws)
        assert str(ws[-1]) == "w" + "".join(f"_{d - 1}" for d in shape)
    _, ws = C.strongly_entangling(n, layers)
    assert C.strongly_entangling_shape(n, layers) == (layers, n, 3) and len(ws) == layers * n * 3
    _, ws = C.basic_entangler(n, layers)
    assert C.basic_entangler_shape(n, layers) == (layers, n) and len(ws) == layers * n
    for f in (1, 3, 4):
        _, xs, ws = C.reuploading_circuit(n, f, layers)
        shapes = C.reuploading_shape(n, f, layers)
        padded = 3 * math.ceil(f / 3)
        assert shapes == {"inputs": (f,), "weights": (layers, n, f), "biases": (layers, n, padded)}
        assert len(xs) == f
        assert len(ws) == layers * n * f + layers * n * padded
    assert C.hardware_efficient_shape(cirq.LineQubit.range(3), 2) == (2, 3, 2)


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_qcnn_shape_and_readout(n):
    qs = cirq.LineQubit.range(n)
    circuit, ws, readout = C.qcnn(qs)
    assert C.qcnn_shape(n) == (21 * int(math.log2(n)),) == (len(ws),)
    assert readout == qs[-1]
    assert circuit.all_qubits() == set(qs)


# --------------------------------------------------------------------------- encoders vs numpy
@pytest.mark.parametrize("rotation", ["rx", "ry", "rz", "RY"])
def test_angle_encoding_state_is_product_state(rotation):
    qs = cirq.LineQubit.range(3)
    circuit, xs = C.angle_encoding(qs, rotation=rotation)
    vals = random_values(xs)
    resolved = cirq.resolve_parameters(circuit, vals)
    sim = cirq.Simulator(dtype=np.complex128)
    state = sim.simulate(resolved, qubit_order=qs).final_state_vector
    zero = np.array([1, 0], dtype=complex)
    expected = np.array([1.0 + 0j])
    for s in xs:
        expected = np.kron(expected, ROT[rotation.lower()](vals[str(s)]) @ zero)
    np.testing.assert_allclose(state, expected, atol=1e-10)


def test_dense_angle_encoding_state():
    qs = cirq.GridQubit.rect(1, 3)
    circuit, xs = C.dense_angle_encoding(qs)
    assert len(xs) == 6
    vals = random_values(xs)
    state = (
        cirq.Simulator(dtype=np.complex128)
        .simulate(cirq.resolve_parameters(circuit, vals), qubit_order=qs)
        .final_state_vector
    )
    expected = np.array([1.0 + 0j])
    for i in range(3):
        theta, phi = vals[f"x{2 * i}"], vals[f"x{2 * i + 1}"]
        single = np.exp(-0.5j * phi) * np.array(
            [np.cos(theta / 2), np.exp(1j * phi) * np.sin(theta / 2)]
        )
        expected = np.kron(expected, single)
    np.testing.assert_allclose(state, expected, atol=1e-10)


def test_basis_encoding_prepares_bitstring():
    qs = cirq.LineQubit.range(4)
    circuit, xs = C.basis_encoding(qs)
    for bits in [(0, 0, 0, 0), (1, 0, 1, 1), (0, 1, 1, 0)]:
        vals = {str(s): b for s, b in zip(xs, bits)}
        state = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(cirq.resolve_parameters(circuit, vals), qubit_order=qs)
            .final_state_vector
        )
        index = int("".join(map(str, bits)), 2)
        np.testing.assert_allclose(np.abs(state), np.eye(16)[index], atol=1e-10)


@pytest.mark.parametrize(
    "pairs,expected_pairs",
    [
        ("all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
        ("line", [(0, 1), (1, 2), (2, 3)]),
        ("ring", [(0, 1), (1, 2), (2, 3), (3, 0)]),
    ],
)
@pytest.mark.parametrize("reps", [1, 2])
def test_iqp_encoding_unitary(pairs, expected_pairs, reps):
    n = 4
    qs = cirq.LineQubit.range(n)
    circuit, xs = C.iqp_encoding(qs, reps=reps, pairs=pairs)
    assert C.iqp_pairs(n, pairs) == expected_pairs
    vals = random_values(xs)
    x = np.array([vals[f"x{i}"] for i in range(n)])
    # Diagonal U_Phi: exp(-i/2 [sum x_i z_i + sum_{pairs} x_i x_j z_i z_j]), z = 1 - 2 b.
    bits = np.array([[(k >> (n - 1 - i)) & 1 for i in range(n)] for k in range(2**n)])
    z = 1 - 2 * bits
    phase = z @ x + sum(x[i] * x[j] * z[:, i] * z[:, j] for i, j in expected_pairs)
    diag = np.diag(np.exp(-0.5j * phase))
    hn = ref_unitary([(H, (i,)) for i in range(n)], n)
    expected = np.linalg.matrix_power(diag @ hn, reps)
    np.testing.assert_allclose(resolved_unitary(circuit, qs, vals), expected, atol=1e-10)


@pytest.mark.parametrize(
    "n,f,layers,topology", [(1, 1, 2, "line"), (2, 4, 2, "line"), (3, 2, 1, "ring")]
)
def test_reuploading_unitary(n, f, layers, topology):
    qs = cirq.GridQubit.rect(1, n)
    circuit, xs, ws = C.reuploading_circuit(qs, f, layers, topology=topology)
    vals = random_values(xs + ws)
    p = 3 * math.ceil(f / 3)
    gates = []
    for l in range(layers):
        for q in range(n):
            for k in range(p):
                angle = vals[f"b_{l}_{q}_{k}"]
                if k < f:
                    angle += vals[f"w_{l}_{q}_{k}"] * vals[f"x{k}"]
                gates.append(((ry if k % 3 != 1 else rz)(angle), (q,)))
        pairs = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if topology == "ring" else [])
        gates += [(CZ, pr) for pr in pairs]
    np.testing.assert_allclose(
        resolved_unitary(circuit, qs, vals), ref_unitary(gates, n), atol=1e-10
    )
    # angles really are w*x + b expressions
    angle = next(iter(circuit.all_operations())).gate.exponent * sympy.pi
    assert (
        sympy.simplify(
            angle - (sympy.Symbol("w_0_0_0") * sympy.Symbol("x0") + sympy.Symbol("b_0_0_0"))
        )
        == 0
    )


# --------------------------------------------------------------------------- ansatze vs numpy
@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("entangler", ["cz", "cnot"])
@pytest.mark.parametrize("topology", ["ring", "line"])
def test_hardware_efficient_unitary(n, entangler, topology):
    rots = ("rx", "rz", "ry")
    qs = cirq.LineQubit.range(n)
    layers = 2
    circuit, ws = C.hardware_efficient(
        qs, layers, rotations=rots, entangler=entangler, topology=topology
    )
    vals = random_values(ws)
    two = {"cz": CZ, "cnot": CNOT}[entangler]
    pairs = [(i, i + 1) for i in range(n - 1)]
    if topology == "ring" and n > 2:
        pairs.append((n - 1, 0))
    gates = []
    for l in range(layers):
        for q in range(n):
            gates += [(ROT[r](vals[f"w_{l}_{q}_{k}"]), (q,)) for k, r in enumerate(rots)]
        gates += [(two, pr) for pr in pairs]
    np.testing.assert_allclose(
        resolved_unitary(circuit, qs, vals), ref_unitary(gates, n), atol=1e-10
    )
    n_two = sum(len(op.qubits) == 2 for op in circuit.all_operations())
    assert n_two == layers * len(pairs)


@pytest.mark.parametrize(
    "n,layers,ranges,expected_ranges",
    [
        (4, 3, None, [1, 2, 3]),
        (4, 4, None, [1, 2, 3, 1]),
        (3, 2, [2, 2], [2, 2]),
        (2, 2, None, [1, 1]),
        (1, 2, None, [None, None]),
    ],
)
def test_strongly_entangling_unitary_and_ranges(n, layers, ranges, expected_ranges):
    qs = cirq.GridQubit.rect(1, n)
    circuit, ws = C.strongly_entangling(qs, layers, ranges=ranges)
    assert C.strongly_entangling_ranges(n, layers, ranges) == expected_ranges
    vals = random_values(ws)
    gates = []
    for l in range(layers):
        for q in range(n):
            a, b, c = (vals[f"w_{l}_{q}_{k}"] for k in range(3))
            gates.append((rz(c) @ ry(b) @ rz(a), (q,)))  # Rot(a, b, c) = Rz(c) Ry(b) Rz(a)
        if n > 1:
            gates += [(CNOT, (i, (i + expected_ranges[l]) % n)) for i in range(n)]
    np.testing.assert_allclose(
        resolved_unitary(circuit, qs, vals), ref_unitary(gates, n), atol=1e-10
    )
    cnots = [
        tuple(qs.index(q) for q in op.qubits)
        for op in circuit.all_operations()
        if op.gate == cirq.CNOT
    ]
    assert cnots == [(i, (i + r) % n) for r in expected_ranges if r for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("rotation", ["rx", "ry", "rz"])
def test_basic_entangler_unitary(n, rotation):
    qs = cirq.LineQubit.range(n)
    layers = 3
    circuit, ws = C.basic_entangler(qs, layers, rotation=rotation)
    vals = random_values(ws)
    ring = [] if n == 1 else [(0, 1)] if n == 2 else [(i, (i + 1) % n) for i in range(n)]
    gates = []
    for l in range(layers):
        gates += [(ROT[rotation](vals[f"w_{l}_{q}"]), (q,)) for q in range(n)]
        gates += [(CNOT, pr) for pr in ring]
    np.testing.assert_allclose(
        resolved_unitary(circuit, qs, vals), ref_unitary(gates, n), atol=1e-10
    )


# --------------------------------------------------------------------------- observables
def _kron_all(mats):
    out = np.array([[1.0 + 0j]])
    for m in mats:
        out = np.kron(out, m)
    return out


def test_observables_matrices():
    n = 3
    qs = cirq.GridQubit.rect(1, n)
    paulis = {"X": X, "Y": Y, "Z": Z}
    for label, mat in paulis.items():
        for obs_list in (
            C.pauli_observables(n, label),
            C.pauli_observables(qs, label.lower()),
            C.pauli_observables(n, getattr(cirq, label)),
        ):
            assert len(obs_list) == n
            for i, obs in enumerate(obs_list):
                assert isinstance(obs, cirq.PauliSum)
                expected = _kron_all([mat if j == i else I2 for j in range(n)])
                np.testing.assert_allclose(obs.matrix(qs), expected, atol=1e-12)
    zs = C.z_observables(n)
    assert [str(o) for o in zs] == [str(o) for o in C.pauli_observables(n, "Z")]
    total = C.total_z(qs)
    assert isinstance(total, cirq.PauliSum)
    expected = sum(_kron_all([Z if j == i else I2 for j in range(n)]) for i in range(n))
    np.testing.assert_allclose(total.matrix(qs), expected, atol=1e-12)
    par = C.parity(qs)
    assert isinstance(par, cirq.PauliSum)
    np.testing.assert_allclose(par.matrix(qs), _kron_all([Z] * n), atol=1e-12)


def test_parity_expectation_on_basis_states():
    qs = cirq.LineQubit.range(3)
    circuit, xs = C.basis_encoding(qs)
    par = C.parity(qs)
    for bits in [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 1, 1)]:
        state = cirq.final_state_vector(
            cirq.resolve_parameters(circuit, dict(zip(map(str, xs), bits))), qubit_order=qs
        )
        value = par.expectation_from_state_vector(state, {q: i for i, q in enumerate(qs)})
        assert value.real == pytest.approx((-1) ** sum(bits), abs=1e-6)


# --------------------------------------------------------------------------- QCNN blocks
def _one_qubit_ref(a, b, c):
    return ppow(Z, c) @ ppow(Y, b) @ ppow(X, a)


def _two_qubit_unitary_ref(s):
    return (
        np.kron(_one_qubit_ref(*s[9:12]), _one_qubit_ref(*s[12:15]))
        @ ppow(np.kron(X, X), s[8])
        @ ppow(np.kron(Y, Y), s[7])
        @ ppow(np.kron(Z, Z), s[6])
        @ np.kron(_one_qubit_ref(*s[0:3]), _one_qubit_ref(*s[3:6]))
    )


def _pool_ref(s):
    """Qubit order (source, sink): V_sink^dag CNOT(source->sink) (V_source (x) V_sink)."""
    v_sink = _one_qubit_ref(*s[0:3])
    v_src = _one_qubit_ref(*s[3:6])
    return np.kron(I2, v_sink.conj().T) @ CNOT @ np.kron(v_src, v_sink)


def test_two_qubit_unitary_and_pool_match_reference():
    a, b = cirq.LineQubit.range(2)
    ss = sympy.symbols("s0:15")
    vals = random_values(ss, -2, 2)
    got = resolved_unitary(C.two_qubit_unitary(a, b, ss), [a, b], vals)
    np.testing.assert_allclose(
        got, _two_qubit_unitary_ref([vals[f"s{i}"] for i in range(15)]), atol=1e-10
    )
    ps = sympy.symbols("p0:6")
    vals = random_values(ps, -2, 2)
    got = resolved_unitary(C.two_qubit_pool(a, b, ps), [a, b], vals)
    np.testing.assert_allclose(got, _pool_ref([vals[f"p{i}"] for i in range(6)]), atol=1e-10)
    # numbers and names are accepted as parameters too
    numeric = [vals[f"p{i}"] for i in range(6)]
    np.testing.assert_allclose(
        C.two_qubit_pool(a, b, numeric).unitary([a, b]), _pool_ref(numeric), atol=1e-10
    )
    assert circuit_symbol_names(C.two_qubit_pool(a, b, [f"n{i}" for i in range(6)])) == {
        f"n{i}" for i in range(6)
    }


def _conv_gates(active, params, periodic=True):
    n = len(active)
    pairs = [(i, i + 1) for i in range(0, n - 1, 2)] + [(i, i + 1) for i in range(1, n - 1, 2)]
    if periodic and n % 2 == 0:
        pairs.append((n - 1, 0))
    return [(_two_qubit_unitary_ref(params), (active[i], active[j])) for i, j in pairs]


@pytest.mark.parametrize("n,periodic", [(2, True), (4, True), (4, False), (5, True)])
def test_quantum_conv_shared_parameters(n, periodic):
    qs = cirq.LineQubit.range(n)
    circuit, ss = C.quantum_conv(qs, prefix="c", periodic=periodic)
    assert [str(s) for s in ss] == [f"c{i}" for i in range(15)]
    vals = random_values(ss, -2, 2)
    params = [vals[f"c{i}"] for i in range(15)]
    expected = ref_unitary(_conv_gates(list(range(n)), params, periodic), n)
    np.testing.assert_allclose(resolved_unitary(circuit, qs, vals), expected, atol=1e-10)


def test_quantum_pool_shared_parameters():
    qs = cirq.LineQubit.range(4)
    circuit, ss = C.quantum_pool(qs[:2], qs[2:], prefix="p")
    assert len(ss) == 6
    vals = random_values(ss, -2, 2)
    params = [vals[f"p{i}"] for i in range(6)]
    expected = ref_unitary([(_pool_ref(params), (0, 2)), (_pool_ref(params), (1, 3))], 4)
    np.testing.assert_allclose(resolved_unitary(circuit, qs, vals), expected, atol=1e-10)


def test_qcnn_8_qubits_matches_reference_stack():
    qs = cirq.GridQubit.rect(1, 8)
    circuit, ws, readout = C.qcnn(qs)
    assert len(ws) == 63 and readout == qs[7]
    vals = random_values(ws, -2, 2)
    w = [vals[f"w{i}"] for i in range(63)]
    gates, active = [], list(range(8))
    for m in range(3):
        gates += _conv_gates(active, w[21 * m : 21 * m + 15])
        half = len(active) // 2
        gates += [
            (_pool_ref(w[21 * m + 15 : 21 * m + 21]), (src, dst))
            for src, dst in zip(active[:half], active[half:])
        ]
        active = active[half:]
    assert active == [7]
    np.testing.assert_allclose(
        resolved_unitary(circuit, qs, vals), ref_unitary(gates, 8), atol=1e-9
    )


@pytest.mark.parametrize("n", [2, 3, 5])
def test_cluster_state_stabilizers(n):
    qs = cirq.LineQubit.range(n)
    state = cirq.final_state_vector(
        C.cluster_state_circuit(qs), qubit_order=qs, dtype=np.complex128
    )
    for i in range(n):
        neighbours = {(i - 1) % n, (i + 1) % n} - {i}
        mats = [X if j == i else Z if j in neighbours else I2 for j in range(n)]
        np.testing.assert_allclose(_kron_all(mats) @ state, state, atol=1e-10)


# --------------------------------------------------------------------------- argument errors
@pytest.mark.parametrize(
    "call,exc,phrase",
    [
        (lambda: C.hardware_efficient(3, 0), ValueError, "layers must be >= 1; got 0"),
        (lambda: C.hardware_efficient(3, 1.5), TypeError, "layers must be an int"),
        (lambda: C.hardware_efficient(3, 1, rotations=("ry", "rq")), ValueError, "got 'rq'"),
        (lambda: C.hardware_efficient(3, 1, rotations=()), ValueError, "at least one rotation"),
        (
            lambda: C.hardware_efficient(3, 1, entangler="swap"),
            ValueError,
            "entangler must be one of",
        ),
        (lambda: C.hardware_efficient(3, 1, topology="star"), ValueError, "got 'star'"),
        (lambda: C.angle_encoding(3, rotation="rw"), ValueError, "rotation must be one of"),
        (lambda: C.basic_entangler(3, 2, rotation="x"), ValueError, "got 'x'"),
        (lambda: C.strongly_entangling(3, 2, ranges=[1]), ValueError, "one int per layer"),
        (lambda: C.strongly_entangling(3, 2, ranges=[1, 3]), ValueError, "1 <= r <= n_qubits - 1"),
        (lambda: C.strongly_entangling(3, 1, ranges=[0]), ValueError, "got 0"),
        (lambda: C.strongly_entangling(1, 1, ranges=[1]), ValueError, "2 or more qubits"),
        (lambda: C.angle_encoding(3, prefix="x1"), ValueError, "ends with a digit"),
        (lambda: C.angle_encoding(3, prefix="1x"), ValueError, "non-empty identifier"),
        (lambda: C.angle_encoding(3, prefix=""), ValueError, "non-empty identifier"),
        (lambda: C.angle_encoding(3, prefix=5), TypeError, "prefix must be a string"),
        (lambda: C.iqp_encoding(3, reps=0), ValueError, "reps must be >= 1"),
        (lambda: C.iqp_encoding(3, pairs="some"), ValueError, "pairs must be one of"),
        (lambda: C.reuploading_circuit(2, 0, 1), ValueError, "n_features must be >= 1"),
        (lambda: C.reuploading_circuit(2, 2, 1, prefix_w="b"), ValueError, "clashing symbol names"),
        (
            lambda: C.reuploading_circuit(1, 3, 1, prefix_w="v", prefix_b="v"),
            ValueError,
            "clashing symbol names",
        ),
        (
            lambda: C.reuploading_circuit(2, 2, 1, input_prefix="x9"),
            ValueError,
            "input_prefix='x9' ends with a digit",
        ),
        (lambda: C.pauli_observables(2, "W"), ValueError, "got 'W'"),
        (lambda: C.z_observables([cirq.NamedQubit("a")]), TypeError, "NamedQubit"),
        (lambda: C.qcnn(6), ValueError, "power-of-two number of qubits >= 2 .*got 6"),
        (lambda: C.qcnn(1), ValueError, "got 1"),
        (lambda: C.quantum_conv(1), ValueError, "at least 2"),
        (
            lambda: C.two_qubit_unitary(*cirq.LineQubit.range(2), sympy.symbols("s0:14")),
            ValueError,
            "exactly 15 parameters; got 14",
        ),
        (
            lambda: C.two_qubit_pool(cirq.LineQubit(0), cirq.LineQubit(0), sympy.symbols("s0:6")),
            ValueError,
            "duplicates",
        ),
        (lambda: C.two_qubit_pool(*cirq.LineQubit.range(2), [None] * 6), TypeError, "got None"),
        (
            lambda: C.quantum_pool(cirq.LineQubit.range(2), [cirq.LineQubit(5)]),
            ValueError,
            "same length",
        ),
        (
            lambda: C.quantum_pool(cirq.LineQubit.range(2), cirq.LineQubit.range(1, 3)),
            ValueError,
            "must not share a qubit",
        ),
    ],
)
def test_bad_arguments(call, exc, phrase):
    with pytest.raises(exc, match=phrase):
        call()


# --------------------------------------------------------------------------- no TensorFlow import
def test_circuits_package_does_not_import_tensorflow():
    root = reference.ROOT
    code = textwrap.dedent(f"""
        import sys, types
        pkg = types.ModuleType("tfq_layers")
        pkg.__path__ = [{os.path.join(root, "tfq_layers")!r}]
        sys.modules["tfq_layers"] = pkg  # bypass the top-level package __init__
        import tfq_layers.circuits as c
        c.qcnn(4); c.reuploading_circuit(2, 2, 1)
        heavy = ("tensorflow", "tensorflow_quantum", "keras")
        bad = [m for m in sys.modules if m.split(".")[0] in heavy]
        assert not bad, bad
    """)
    reference.run_python(code, timeout=120)


# --------------------------------------------------------------------------- TFQ acceptance
@pytest.mark.tfq  # TFQ's own serializer and dataset are the reference
def test_tfq_accepts_every_builder():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow_quantum as tfq

    for qubits in (cirq.GridQubit.rect(1, 4), cirq.LineQubit.range(4)):
        pieces = {name: build(qubits) for name, build in BUILDERS.items()}
        pieces["reupload_1q"] = (lambda c, x, w: (c, x + w))(
            *C.reuploading_circuit(qubits[:1], 4, 2)
        )
        pieces["pool"] = C.quantum_pool(qubits[:2], qubits[2:])
        for name, (circuit, symbols) in pieces.items():
            resolved = cirq.resolve_parameters(circuit, random_values(symbols))
            back = tfq.from_tensor(tfq.convert_to_tensor([resolved]))[0]
            np.testing.assert_allclose(
                back.unitary(qubit_order=qubits),
                resolved.unitary(qubit_order=qubits),
                atol=1e-4,
                err_msg=name,
            )  # float32 angles
        # Builders whose angles are plain symbols (or c*symbol) are accepted even unresolved.
        for name in ("angle", "basis", "dense", "hea", "strong", "basic", "qcnn", "conv", "pool"):
            tfq.convert_to_tensor([pieces[name][0]])
        obs = (
            C.z_observables(qubits)
            + C.pauli_observables(qubits, "X")
            + [C.total_z(qubits), C.parity(qubits)]
        )
        assert tuple(tfq.convert_to_tensor([obs]).shape) == (1, len(obs))
    # The cluster state matches TFQ's own dataset reference circuit.
    qs = cirq.GridQubit.rect(1, 4)
    data, labels = tfq.datasets.excited_cluster_states(qs)
    assert labels[-1] == -1
    np.testing.assert_allclose(
        C.cluster_state_circuit(qs).unitary(qs), data[-1].unitary(qs), atol=1e-12
    )
    # and the zoo's excited cluster states (built without TFQ) are TFQ's, in TFQ's order
    from models.qcnn import excited_cluster_states

    ours, our_labels = excited_cluster_states(qs)
    assert list(our_labels) == list(labels) and len(ours) == len(data)
    for mine, theirs in zip(ours, data):
        np.testing.assert_allclose(mine.unitary(qs), theirs.unitary(qs), atol=1e-12)
