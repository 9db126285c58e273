"""Tests of the pure-TensorFlow statevector simulator against Cirq (independent reference)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cirq  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfq_layers.backends.statevector import StatevectorSimulator, estimate_memory_bytes  # noqa: E402

import reference  # noqa: E402

Q = cirq.LineQubit.range(4)
SYMS = sympy.symbols("s0:8")
NAMES = [s.name for s in SYMS]


def _ref_state(circuit, names, values, qubits):
    res = cirq.ParamResolver({n: float(v) for n, v in zip(names, values)})
    return (
        cirq.Simulator(dtype=np.complex128)
        .simulate(circuit, res, qubit_order=qubits)
        .final_state_vector
    )


def _ref_expectations(circuit, names, values, qubits, observables):
    psi = _ref_state(circuit, names, values, qubits)
    qmap = {q: i for i, q in enumerate(qubits)}
    return np.array([o.expectation_from_state_vector(psi, qmap).real for o in observables])


def _random_unitary(d, rng):
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _gate_zoo(rng):
    """One operation factory per supported gate family (symbolic where the family allows)."""
    s = lambda: SYMS[rng.integers(len(SYMS))]  # noqa: E731
    sh = lambda: float(rng.choice([0.0, -0.5, 0.25]))  # noqa: E731
    return [
        lambda a, b, c: cirq.rx(s()).on(a),
        lambda a, b, c: cirq.ry(s()).on(a),
        lambda a, b, c: cirq.rz(s()).on(a),
        lambda a, b, c: cirq.XPowGate(exponent=s(), global_shift=sh()).on(a),
        lambda a, b, c: cirq.YPowGate(exponent=s(), global_shift=sh()).on(a),
        lambda a, b, c: cirq.ZPowGate(exponent=s(), global_shift=sh()).on(a),
        lambda a, b, c: cirq.HPowGate(exponent=s()).on(a),
        lambda a, b, c: cirq.CZPowGate(exponent=s(), global_shift=sh()).on(a, b),
        lambda a, b, c: cirq.CNotPowGate(exponent=s()).on(a, b),
        lambda a, b, c: cirq.SwapPowGate(exponent=s()).on(a, b),
        lambda a, b, c: cirq.ISwapPowGate(exponent=s()).on(a, b),
        lambda a, b, c: cirq.XXPowGate(exponent=s(), global_shift=sh()).on(a, b),
        lambda a, b, c: cirq.YYPowGate(exponent=s()).on(a, b),
        lambda a, b, c: cirq.ZZPowGate(exponent=s()).on(a, b),
        lambda a, b, c: cirq.PhasedXPowGate(phase_exponent=s(), exponent=s(), global_shift=sh()).on(
            a
        ),
        lambda a, b, c: cirq.PhasedISwapPowGate(phase_exponent=s(), exponent=s()).on(a, b),
        lambda a, b, c: cirq.FSimGate(theta=s(), phi=s()).on(a, b),
        lambda a, b, c: cirq.PhasedXZGate(
            x_exponent=s(), z_exponent=s(), axis_phase_exponent=s()
        ).on(a),
        lambda a, b, c: cirq.CCXPowGate(exponent=s()).on(a, b, c),
        lambda a, b, c: cirq.CCZPowGate(exponent=s()).on(a, b, c),
        lambda a, b, c: cirq.rx(s()).on(a).controlled_by(b, control_values=[0]),
        lambda a, b, c: cirq.ZZPowGate(exponent=s()).on(a, b).controlled_by(c),
        lambda a, b, c: cirq.ry(2.0 * s() - 0.3).on(a),  # affine expression of one symbol
        lambda a, b, c: cirq.IdentityGate(2).on(a, b),
        lambda a, b, c: cirq.MatrixGate(_random_unitary(4, rng)).on(a, b),
        lambda a, b, c: cirq.TOFFOLI(a, b, c),
        lambda a, b, c: cirq.CSWAP(a, b, c),
        lambda a, b, c: cirq.CCZ(a, b, c),
        lambda a, b, c: cirq.CNOT(a, b),
        lambda a, b, c: cirq.SWAP(a, b),
        lambda a, b, c: cirq.ISWAP(a, b),
        lambda a, b, c: cirq.S(a),
        lambda a, b, c: cirq.T(a),
        lambda a, b, c: cirq.H(a),
        lambda a, b, c: cirq.Y(a),
        lambda a, b, c: cirq.PhasedXZGate(
            x_exponent=0.3, z_exponent=-0.2, axis_phase_exponent=0.7
        ).on(a),
        lambda a, b, c: cirq.X(a).controlled_by(b, c, control_values=[1, 0]),
        lambda a, b, c: cirq.global_phase_operation(np.exp(0.3j)),
    ]


def _random_circuit(rng, n_ops=40, qubits=Q):
    zoo = _gate_zoo(rng)
    ops = []
    # every family at least once, then random ones
    order = list(range(len(zoo))) + list(rng.integers(len(zoo), size=max(0, n_ops - len(zoo))))
    for i in order:
        a, b, c = rng.choice(len(qubits), size=3, replace=False)
        ops.append(zoo[i](qubits[a], qubits[b], qubits[c]))
    return cirq.Circuit(ops)


@pytest.mark.parametrize(
    "fusion,gradient", [(1, "autodiff"), (2, "adjoint"), (3, "autodiff"), (4, "adjoint")]
)
def test_random_circuits_state_matches_cirq(fusion, gradient):
    rng = np.random.default_rng(fusion)
    circuit = _random_circuit(rng)
    sim = StatevectorSimulator(
        circuit, NAMES, Q, fusion_qubits=fusion, gradient=gradient, jit_compile=False
    )
    values = rng.uniform(-2, 2, size=(3, len(NAMES)))
    got = sim.state(values.astype(np.float32)).numpy()
    assert got.shape == (3, 16) and got.dtype == np.complex64
    for i in range(3):
        np.testing.assert_allclose(got[i], _ref_state(circuit, NAMES, values[i], Q), atol=1e-5)
    probs = sim.probabilities(values.astype(np.float32)).numpy()
    np.testing.assert_allclose(probs, np.abs(got) ** 2, atol=1e-6)


def test_permutations_as_dense_matrices_beyond_the_gather_limit(monkeypatch):
    """Above FULL_PERM_QUBITS, constant permutations that span too many axes for a local gather
    are applied as dense blocks instead of a full-register gather index; lower both limits to
    check that path on a small register."""
    from tfq_layers.backends.statevector import compile as sv_compile

    monkeypatch.setattr(sv_compile, "FULL_PERM_QUBITS", 0)
    monkeypatch.setattr(sv_compile, "LOCAL_PERM_SPAN", 0)
    rng = np.random.default_rng(21)
    circuit = _random_circuit(rng, n_ops=45)
    sim = StatevectorSimulator(circuit, NAMES, Q, fusion_qubits=1, jit_compile=False)
    assert not any(st.kind == "perm" for st in sim.steps)
    values = rng.uniform(-2, 2, size=(2, len(NAMES)))
    got = sim.state(values.astype(np.float32)).numpy()
    for i in range(2):
        np.testing.assert_allclose(got[i], _ref_state(circuit, NAMES, values[i], Q), atol=1e-5)


def test_register_order_idle_qubits_and_terminal_measurements():
    q = cirq.GridQubit.rect(1, 3)
    extra = cirq.GridQubit(5, 5)
    a = sympy.Symbol("a")
    circuit = cirq.Circuit(
        cirq.rx(a).on(q[2]),
        cirq.CNOT(q[2], q[0]),
        cirq.H(q[1]),
        cirq.measure(q[0], key="m"),
        cirq.measure(q[1], q[2], key="n"),
    )
    order = [q[2], extra, q[0], q[1]]  # non-sorted register with an idle qubit
    sim = StatevectorSimulator(circuit, ["a"], order, jit_compile=False)
    assert sim.n_qubits == 4
    got = sim.state(np.array([[0.7]], np.float32)).numpy()[0]
    ref = _ref_state(cirq.drop_terminal_measurements(circuit), ["a"], [0.7], order)
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_expectations_of_pauli_sums_match_cirq():
    rng = np.random.default_rng(11)
    circuit = _random_circuit(rng, n_ops=30)
    obs = [
        cirq.Z(Q[0]),
        0.5 * cirq.X(Q[1]) * cirq.Y(Q[3]) - 1.5 * cirq.Z(Q[2]) * cirq.Z(Q[0]) + 0.25,
        cirq.Y(Q[0]) * cirq.Y(Q[1]) * cirq.X(Q[2]) * cirq.Z(Q[3]) + 2.0 * cirq.X(Q[0]),
        -cirq.Y(Q[2]) + cirq.X(Q[2]) * cirq.X(Q[3]) + cirq.Z(Q[1]) * cirq.Y(Q[3]),
        cirq.PauliString(cirq.X(Q[3])),
    ]
    values = rng.uniform(-2, 2, size=(4, len(NAMES)))
    sim = StatevectorSimulator(circuit, NAMES, Q, jit_compile=False)
    got = sim.expectation(values.astype(np.float32), obs).numpy()
    assert got.shape == (4, 5) and got.dtype == np.float32
    ref = np.stack([_ref_expectations(circuit, NAMES, v, Q, obs) for v in values])
    np.testing.assert_allclose(got, ref, atol=2e-5)
    # observables given at construction are used when none are passed
    sim2 = StatevectorSimulator(circuit, NAMES, Q, observables=obs, jit_compile=False)
    np.testing.assert_allclose(sim2.expectation(values.astype(np.float32)).numpy(), ref, atol=2e-5)


def _fd_gradient(circuit, names, values, qubits, obs, weights, eps=1e-4):
    g = np.zeros_like(values)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            vp, vm = values[i].copy(), values[i].copy()
            vp[j] += eps
            vm[j] -= eps
            ep = _ref_expectations(circuit, names, vp, qubits, obs) @ weights
            em = _ref_expectations(circuit, names, vm, qubits, obs) @ weights
            g[i, j] = (ep - em) / (2 * eps)
    return g


@pytest.mark.parametrize("gradient,fusion", [("autodiff", 2), ("adjoint", 3), ("adjoint", 1)])
def test_gradients_match_finite_differences(gradient, fusion):
    rng = np.random.default_rng(5)
    circuit = _random_circuit(rng, n_ops=40)
    obs = [
        cirq.Z(Q[0]) + 0.5 * cirq.X(Q[1]) * cirq.X(Q[2]),
        cirq.Y(Q[3]) - cirq.Z(Q[1]) * cirq.Y(Q[0]),
    ]
    weights = np.array([1.0, -0.7])
    values = rng.uniform(-2, 2, size=(2, len(NAMES)))
    sim = StatevectorSimulator(
        circuit, NAMES, Q, gradient=gradient, fusion_qubits=fusion, jit_compile=False
    )
    v = tf.constant(values.astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(v)
        loss = tf.reduce_sum(sim.expectation(v, obs) * weights.astype(np.float32))
    got = tape.gradient(loss, v).numpy()
    ref = _fd_gradient(circuit, NAMES, values, Q, obs, weights)
    np.testing.assert_allclose(got, ref, atol=2e-4)


@pytest.mark.parametrize(
    "gradient,jit,large",
    [
        ("autodiff", False, False),
        ("adjoint", False, False),
        ("autodiff", True, False),
        ("autodiff", False, True),
        ("adjoint", False, True),
    ],
)
def test_shared_symbols_match_cirq_and_finite_differences(gradient, jit, large, monkeypatch):
    """Symbols shared by the whole batch (a layer's weights) passed once as shared_values: states
    match Cirq, and the gradient of a shared value is the batch sum of per-example derivatives.
    ``large``: the code paths of large registers (no product-state prefix, shared matrices
    broadcast over a batched matmul), forced on this small one."""
    from tfq_layers.backends.statevector import engine, steps

    if large:
        monkeypatch.setattr(engine, "_PREFIX_MAX_QUBITS", 0)
        monkeypatch.setattr(steps.DenseRun, "one_gemm", property(lambda self: False))
    rng = np.random.default_rng(17)
    circuit = _random_circuit(rng, n_ops=40)
    # an encoding layer first, so the product-state prefix mixes batched and shared symbols (on
    # Q[3] a chain too long to merge into one factor: applied factor by factor)
    enc = cirq.Circuit(
        [
            cirq.rx(SYMS[0]).on(Q[0]),
            cirq.ry(SYMS[5]).on(Q[0]),
            cirq.H(Q[1]),
            cirq.rz(SYMS[6]).on(Q[2]),
            cirq.ry(SYMS[1]).on(Q[3]),
            cirq.rz(SYMS[4]).on(Q[3]),
            cirq.rx(SYMS[2]).on(Q[3]),
            cirq.ry(SYMS[3]).on(Q[3]),
            cirq.rz(SYMS[7]).on(Q[3]),
        ]
    )
    circuit = enc + circuit
    batched, shared = NAMES[:3], NAMES[3:]
    obs = [
        cirq.Z(Q[0]) + 0.5 * cirq.X(Q[1]) * cirq.X(Q[2]),
        cirq.Y(Q[3]) - cirq.Z(Q[1]) * cirq.Y(Q[0]),
    ]
    weights = np.array([1.0, -0.7])
    sim = StatevectorSimulator(
        circuit, batched, Q, shared_symbols=shared, gradient=gradient, jit_compile=jit
    )
    assert any(key[2] for key in sim.parameter_blocks), "no block was recognised as shared"
    if not large:
        assert max(len(item) for kind, item in sim.prefix if kind == "param") > 1
    vb = rng.uniform(-2, 2, size=(3, len(batched)))
    vs = rng.uniform(-2, 2, size=len(shared))
    full = np.concatenate([vb, np.tile(vs, (3, 1))], axis=1)
    states = sim.state(vb.astype(np.float32), shared_values=vs.astype(np.float32)).numpy()
    for i in range(3):
        np.testing.assert_allclose(states[i], _ref_state(circuit, NAMES, full[i], Q), atol=1e-5)
    tb, ts = tf.constant(vb.astype(np.float32)), tf.constant(vs.astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch([tb, ts])
        loss = tf.reduce_sum(
            sim.expectation(tb, obs, shared_values=ts) * weights.astype(np.float32)
        )
    gb, gs = tape.gradient(loss, [tb, ts])
    ref = _fd_gradient(circuit, NAMES, full, Q, obs, weights)
    np.testing.assert_allclose(gb.numpy(), ref[:, :3], atol=2e-4)
    np.testing.assert_allclose(gs.numpy(), ref[:, 3:].sum(axis=0), atol=5e-4)
    with pytest.raises(ValueError, match="shared_values"):
        sim.expectation(tb, obs)
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        sim.expectation(tb, obs, shared_values=ts[:2])


@pytest.mark.parametrize("jit", [False, True])
def test_product_state_prefix_is_used_and_exact(jit):
    """Leading single-qubit gates become a product state (no simulation step), exactly; with and
    without XLA (which joins the halves of the register and applies long per-qubit chains by
    broadcasting instead of batched matmuls)."""
    a, b = sympy.symbols("a b")
    q = cirq.LineQubit.range(4)
    long_chain = [cirq.rx(a), cirq.ry(b), cirq.rz(a), cirq.rx(b), cirq.ry(a), cirq.rz(b)]
    circuit = cirq.Circuit(
        cirq.rx(a).on(q[0]),
        cirq.H(q[1]),
        cirq.ry(b).on(q[0]),
        cirq.T(q[1]),
        [g.on(q[3]) for g in long_chain],
        cirq.CNOT(q[0], q[2]),
        cirq.rz(a).on(q[0]),
        cirq.CZ(q[1], q[3]),
    )
    sim = StatevectorSimulator(circuit, ["a"], shared_symbols=["b"], jit_compile=jit)
    # q0 by symbols; q1, q2 constant; q3 by symbols, a chain too long to merge into one factor
    assert [g[0] for g in sim.prefix] == ["param", "const", "param"]
    assert len(sim.prefix[2][1]) > 1
    assert sim.n_steps == 2  # (CNOT, rz) and CZ: nothing before them is simulated
    vals = np.array([[0.3], [-1.2]], np.float32)
    got = sim.state(vals, shared_values=np.array([0.8], np.float32)).numpy()
    for i in range(2):
        ref = _ref_state(circuit, ["a", "b"], [vals[i, 0], 0.8], q)
        np.testing.assert_allclose(got[i], ref, atol=1e-6)


def test_sparse_symbol_gather_path_matches_dense(monkeypatch):
    """Large circuits gather each gate's few symbols instead of a dense (P, G*K) matmul."""
    from tfq_layers.backends.statevector import steps

    rng = np.random.default_rng(8)
    circuit = _random_circuit(rng, n_ops=40)
    obs = [cirq.Z(Q[0]) + cirq.X(Q[1]) * cirq.Y(Q[2])]
    v = tf.constant(rng.uniform(-2, 2, size=(3, len(NAMES))).astype(np.float32))
    out = []
    for limit in (steps._DENSE_W_LIMIT, 0):
        monkeypatch.setattr(steps, "_DENSE_W_LIMIT", limit)
        sim = StatevectorSimulator(circuit, NAMES, Q, jit_compile=False)
        assert {a[0] for a in sim.parameter_blocks.values()} == ({"dense"} if limit else {"gather"})
        with tf.GradientTape() as t:
            t.watch(v)
            e = sim.expectation(v, obs)
            loss = tf.reduce_sum(e)
        out.append((e.numpy(), t.gradient(loss, v).numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], atol=1e-5)
    np.testing.assert_allclose(out[0][1], out[1][1], atol=1e-5)


@pytest.mark.parametrize("jit", [False, True])
def test_hessian_with_autodiff_matches_finite_differences(jit):
    a, b = sympy.symbols("a b")
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(
        cirq.rx(a).on(q[0]),
        cirq.ry(b).on(q[1]),
        cirq.CNOT(*q),
        cirq.FSimGate(theta=a, phi=b).on(*q),
        cirq.rz(b).on(q[0]),
    )
    obs = [cirq.X(q[0]) * cirq.Z(q[1]) + cirq.Y(q[1])]
    sim = StatevectorSimulator(circuit, ["a", "b"], gradient="autodiff", jit_compile=jit)
    x0 = np.array([0.4, -1.1])
    v = tf.constant(x0[None].astype(np.float32))
    with tf.GradientTape() as t2:
        t2.watch(v)
        with tf.GradientTape() as t1:
            t1.watch(v)
            e = tf.reduce_sum(sim.expectation(v, obs))
        g = t1.gradient(e, v)
    hess = t2.jacobian(g, v).numpy().reshape(2, 2)

    def f(x):
        return _ref_expectations(circuit, ["a", "b"], x, q, obs)[0]

    eps = 1e-3
    ref = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * eps, np.eye(2)[j] * eps
            ref[i, j] = (f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)) / (
                4 * eps**2
            )
    np.testing.assert_allclose(hess, ref, atol=2e-3)


def test_jit_compile_matches_eager_forward_and_gradient():
    rng = np.random.default_rng(3)
    circuit = _random_circuit(rng, n_ops=45)
    obs = [cirq.Z(Q[0]) * cirq.X(Q[2]), cirq.Y(Q[1]) + 0.3 * cirq.Z(Q[3])]
    values = tf.constant(rng.uniform(-2, 2, size=(3, len(NAMES))).astype(np.float32))
    results = {}
    for jit, grad in [(False, "autodiff"), (True, "autodiff"), (True, "adjoint")]:
        sim = StatevectorSimulator(
            circuit, NAMES, Q, jit_compile=jit, gradient=grad, fusion_qubits=2
        )

        @tf.function(jit_compile=True)  # the simulator also works inside a user's XLA function
        def run(v, sim=sim):
            with tf.GradientTape() as t:
                t.watch(v)
                e = sim.expectation(v, obs)
                loss = tf.reduce_sum(e * [1.0, -0.6])
            return e, t.gradient(loss, v), sim.state(v)

        results[(jit, grad)] = [r.numpy() for r in run(values)]
    ref = results[(False, "autodiff")]
    for key, res in results.items():
        for a, b in zip(res, ref):
            np.testing.assert_allclose(a, b, atol=2e-5, err_msg=str(key))


NOISY_CHANNELS = [
    lambda q: cirq.depolarize(0.2).on(q[0]),
    lambda q: cirq.asymmetric_depolarize(0.1, 0.15, 0.05).on(q[1]),
    lambda q: cirq.amplitude_damp(0.3).on(q[0]),
    lambda q: cirq.generalized_amplitude_damp(0.4, 0.3).on(q[1]),
    lambda q: cirq.phase_damp(0.35).on(q[1]),
    lambda q: cirq.phase_flip(0.25).on(q[0]),
    lambda q: cirq.bit_flip(0.2).on(q[1]),
    lambda q: cirq.reset(q[0]),
    lambda q: cirq.depolarize(0.1, n_qubits=2).on(q[0], q[1]),
]


def test_noise_channels_trajectories_match_density_matrix():
    a, b = sympy.symbols("a b")
    q = cirq.LineQubit.range(2)
    ops = [cirq.rx(a).on(q[0]), cirq.ry(b).on(q[1]), cirq.CNOT(*q)]
    for ch in NOISY_CHANNELS:
        ops += [ch(q), cirq.ry(a).on(q[0]), cirq.rx(b).on(q[1])]
    circuit = cirq.Circuit(ops)
    obs = [cirq.Z(q[0]), cirq.Z(q[1]), cirq.X(q[0]) * cirq.X(q[1]), cirq.Y(q[1])]
    values = np.array([[0.6, -1.2], [2.0, 0.4]])
    T = 4000
    sim = StatevectorSimulator(circuit, ["a", "b"], trajectories=T, jit_compile=False)
    assert sim.has_noise
    got = sim.expectation(values.astype(np.float32), obs, seed=1234).numpy()
    probs = sim.probabilities(values.astype(np.float32), seed=99).numpy()
    for i, v in enumerate(values):
        res = cirq.ParamResolver({"a": v[0], "b": v[1]})
        rho = (
            cirq.DensityMatrixSimulator(dtype=np.complex128)
            .simulate(circuit, res, qubit_order=q)
            .final_density_matrix
        )
        ref = np.array(
            [o.expectation_from_density_matrix(rho, {q[0]: 0, q[1]: 1}).real for o in obs]
        )
        # each estimate is a mean of T values in [-1, 1]: 5 standard errors at most
        assert np.all(np.abs(got[i] - ref) < 5.0 / np.sqrt(T)), (got[i], ref)
        np.testing.assert_allclose(probs[i], np.real(np.diag(rho)), atol=5 * 0.5 / np.sqrt(T))
    # the same seed gives the same trajectories
    again = sim.expectation(values.astype(np.float32), obs, seed=1234).numpy()
    np.testing.assert_array_equal(got, again)


def test_sampling_frequencies_match_probabilities():
    from scipy import stats

    a = sympy.Symbol("a")
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]), cirq.ry(a).on(q[1]), cirq.CNOT(q[0], q[2]), cirq.rx(0.7).on(q[2])
    )
    sim = StatevectorSimulator(circuit, ["a"], jit_compile=False)
    values = np.array([[0.3], [2.1]], np.float32)
    reps = 4000
    bits = sim.sample(values, reps, seed=7).numpy()
    assert bits.shape == (2, reps, 3) and bits.dtype == np.int32
    probs = sim.probabilities(values).numpy().astype(np.float64)
    for i in range(2):
        idx = bits[i] @ (2 ** np.arange(2, -1, -1))
        counts = np.bincount(idx, minlength=8)
        keep = probs[i] > 1e-9
        assert counts[~keep].sum() == 0
        chi2 = stats.chisquare(counts[keep], probs[i][keep] / probs[i][keep].sum() * reps)
        assert chi2.pvalue > 1e-3, chi2
    np.testing.assert_array_equal(bits, sim.sample(values, reps, seed=7).numpy())


def test_noisy_sampling_matches_density_matrix():
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(
        cirq.H(q[0]), cirq.CNOT(*q), cirq.amplitude_damp(0.4).on(q[0]), cirq.bit_flip(0.2).on(q[1])
    )
    sim = StatevectorSimulator(circuit, [], trajectories=3000, jit_compile=False)
    reps = 3000
    bits = sim.sample(np.zeros((1, 0), np.float32), reps, seed=3).numpy()[0]
    rho = (
        cirq.DensityMatrixSimulator(dtype=np.complex128)
        .simulate(circuit, qubit_order=q)
        .final_density_matrix
    )
    p = np.real(np.diag(rho))
    freq = np.bincount(bits @ np.array([2, 1]), minlength=4) / reps
    np.testing.assert_allclose(freq, p, atol=5 * 0.5 / np.sqrt(reps))


def test_sampled_expectation_statistics_and_straight_through_gradient():
    a = sympy.Symbol("a")
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.ry(a).on(q[0]), cirq.CNOT(*q), cirq.rx(0.4).on(q[1]))
    obs = [cirq.Z(q[0]) + 0.5 * cirq.X(q[1]) + 1.0, cirq.Z(q[0]) * cirq.Z(q[1])]
    sim = StatevectorSimulator(circuit, ["a"], jit_compile=False)
    v = tf.constant(np.full((200, 1), 0.9, np.float32))
    reps = 50
    with tf.GradientTape() as t:
        t.watch(v)
        est = sim.sampled_expectation(v, obs, repetitions=reps, seed=11)
        loss = tf.reduce_sum(est)
    g = t.gradient(loss, v).numpy()
    exact = sim.expectation(v[:1], obs).numpy()[0]
    est = est.numpy()
    # 200 independent estimates, each averaging `reps` shots per term
    sd = np.array([np.sqrt(1 + 0.25) / np.sqrt(reps), 1 / np.sqrt(reps)])
    assert np.all(np.abs(est.mean(0) - exact) < 5 * sd / np.sqrt(200))
    assert np.all(est.std(0) > 0.2 * sd)  # really sampled
    with tf.GradientTape() as t:
        t.watch(v)
        loss = tf.reduce_sum(sim.expectation(v, obs))
    np.testing.assert_allclose(g, t.gradient(loss, v).numpy(), atol=1e-5)


_NO_TFQ_SCRIPT = r"""
import os, sys, types
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.modules["tensorflow_quantum"] = None  # any import of TFQ now raises ImportError
root = sys.argv[1]
# bare package objects, so that tfq_layers/__init__.py (which loads TFQ) does not run
for name, sub in (("tfq_layers", "tfq_layers"), ("tfq_layers.backends", "tfq_layers/backends")):
    m = types.ModuleType(name)
    m.__path__ = [os.path.join(root, sub)]
    sys.modules[name] = m
import numpy as np, cirq, sympy, tensorflow as tf
from tfq_layers.backends.statevector import StatevectorSimulator
a, b = sympy.symbols("a b")
q = cirq.LineQubit.range(3)
c = cirq.Circuit(cirq.rx(a).on(q[0]), cirq.CNOT(q[0], q[1]), cirq.ry(b).on(q[2]), cirq.CZ(q[1], q[2]))
sim = StatevectorSimulator(c, ["a", "b"])  # default: XLA kernels with a fused gradient
assert sim.jit_compile
obs = [cirq.Z(q[0]), cirq.X(q[2]) * cirq.Z(q[1])]
class M(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def serve(self, v):
        return sim.expectation(v, obs)
path = sys.argv[2]
tf.saved_model.save(M(), path)
v = np.array([[0.3, 1.2], [-0.5, 2.0]], np.float32)
np.save(os.path.join(path, "expected.npy"), sim.expectation(v, obs).numpy())
print("TFQ_LOADED", any(k.startswith("tensorflow_quantum") and sys.modules[k] is not None for k in sys.modules))
"""

_LOAD_SCRIPT = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.modules["tensorflow_quantum"] = None
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
v = np.array([[0.3, 1.2], [-0.5, 2.0]], np.float32)
err = np.abs(loaded.serve(tf.constant(v)).numpy() - np.load(os.path.join(sys.argv[1], "expected.npy"))).max()
print("MAXERR", err)
"""


def test_savedmodel_export_without_tfq(tmp_path):
    """The module imports and exports without TFQ; the SavedModel loads in a fresh process
    where importing TFQ is impossible (so it holds no custom ops)."""
    import subprocess
    import sys

    root = reference.ROOT
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    path = str(tmp_path / "sm")
    out = subprocess.run(
        [sys.executable, "-c", _NO_TFQ_SCRIPT, root, path],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TFQ_LOADED False" in out.stdout
    assert b"Tfq" not in open(os.path.join(path, "saved_model.pb"), "rb").read()
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, path],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    err = float(out.stdout.strip().splitlines()[-1].split()[-1])
    assert err < 1e-6


def test_construction_errors_are_clear():
    a, b = sympy.symbols("a b")
    q = cirq.LineQubit.range(2)
    with pytest.raises(ValueError, match="symbol 'b'.*not in symbol_names"):
        StatevectorSimulator(cirq.Circuit(cirq.rx(b).on(q[0])), ["a"])
    with pytest.raises(ValueError, match="not supported.*affine"):
        StatevectorSimulator(cirq.Circuit(cirq.rx(a * b).on(q[0])), ["a", "b"])
    with pytest.raises(ValueError, match="not supported"):
        StatevectorSimulator(cirq.Circuit(cirq.rx(sympy.sin(a)).on(q[0])), ["a"])
    with pytest.raises(ValueError, match="after the measurement"):
        StatevectorSimulator(cirq.Circuit(cirq.measure(q[0]), cirq.X(q[0])), [])
    with pytest.raises(ValueError, match="parameterized channel"):
        StatevectorSimulator(cirq.Circuit(cirq.X.with_probability(a).on(q[0])), ["a"])

    class NoUnitary(cirq.Gate):
        def _num_qubits_(self):
            return 1

    with pytest.raises(ValueError, match="no unitary, mixture or Kraus"):
        StatevectorSimulator(cirq.Circuit(NoUnitary().on(q[0])), [])
    with pytest.raises(ValueError, match="adjoint"):
        StatevectorSimulator(cirq.Circuit(cirq.depolarize(0.1).on(q[0])), [], gradient="adjoint")
    with pytest.raises(ValueError, match="duplicates"):
        StatevectorSimulator(cirq.Circuit(cirq.rx(a).on(q[0])), ["a", "a"])
    with pytest.raises(ValueError, match="misses circuit qubits"):
        StatevectorSimulator(cirq.Circuit(cirq.CNOT(*q)), [], qubits=[q[0]])
    with pytest.raises(TypeError, match="cirq.Circuit"):
        StatevectorSimulator("not a circuit", [])
    with pytest.raises(ValueError, match="gradient must be"):
        StatevectorSimulator(cirq.Circuit(cirq.X(q[0])), [], gradient="backprop")


def test_call_errors_are_clear():
    a = sympy.Symbol("a")
    q = cirq.LineQubit.range(2)
    sim = StatevectorSimulator(cirq.Circuit(cirq.rx(a).on(q[0])), ["a"], jit_compile=False)
    with pytest.raises(ValueError, match="has 2 columns.*1 symbols"):
        sim.state(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"shape \(batch, 1\)"):
        sim.state(np.zeros((3,), np.float32))
    with pytest.raises(ValueError, match="not in the simulated register"):
        sim.expectation(np.zeros((1, 1), np.float32), [cirq.Z(cirq.LineQubit(7))])
    with pytest.raises(ValueError, match="non-real coefficient"):
        sim.expectation(np.zeros((1, 1), np.float32), [1j * cirq.Z(q[0])])
    with pytest.raises(TypeError, match="PauliSum"):
        sim.expectation(np.zeros((1, 1), np.float32), [np.eye(2)])
    with pytest.raises(ValueError, match="repetitions must be >= 1"):
        sim.sample(np.zeros((1, 1), np.float32), 0)


def test_memory_estimate():
    state = 32 * 2**16 * 8
    assert estimate_memory_bytes(16, 32, gradient="none") == 3 * state
    assert estimate_memory_bytes(16, 32, n_steps=20) == 25 * state
    assert estimate_memory_bytes(16, 32, gradient="adjoint") < estimate_memory_bytes(
        16, 32, n_steps=20
    )
    assert estimate_memory_bytes(17, 32) > estimate_memory_bytes(16, 32)
