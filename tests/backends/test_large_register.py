"""The statevector simulator's large-register plan (adjoint sweep, 5-qubit blocks, factored Pauli
readout in the final qubit layout) against Cirq: outputs, and gradients against Cirq's
parameter-shift values. Timings live in the benchmarks, not here."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers.backends.statevector import LARGE_REGISTER_QUBITS, StatevectorSimulator

BATCHED = sympy.symbols("x0:2")
SHARED = sympy.symbols("w0:3")


def random_circuit(n, seed, layers=2):
    """Random rotations (each symbol used once, in an rx/ry/rz, so the parameter-shift rule is
    exact), numeric single-qubit gates and random two-qubit gates (permutations, diagonals and
    dense ones), on ``n`` qubits."""
    rng = np.random.default_rng(seed)
    qs = cirq.LineQubit.range(n)
    symbols = list(BATCHED + SHARED)
    slots = set(rng.choice(layers * n, size=len(symbols), replace=False).tolist())
    rot = (cirq.rx, cirq.ry, cirq.rz)
    ops = [cirq.H(q) for q in qs]
    for layer in range(layers):
        for i, q in enumerate(qs):
            gate = rot[rng.integers(3)]
            angle = symbols.pop() if layer * n + i in slots else float(rng.uniform(-np.pi, np.pi))
            ops.append(gate(angle).on(q))
        for i in rng.permutation(n - 1)[: n // 2]:
            two = [
                cirq.CNOT,
                cirq.CZ,
                cirq.ISWAP**0.5,
                cirq.FSimGate(0.3, 0.7),
                cirq.SWAP,
                cirq.ZZ**0.37,
            ][rng.integers(6)]
            ops.append(two.on(qs[i], qs[i + 1]))
    return cirq.Circuit(ops), qs


def observables(qs):
    n = len(qs)
    return [
        cirq.Z(qs[0]) + 0.5 * cirq.Z(qs[1]) * cirq.Z(qs[n - 1]),
        cirq.X(qs[2]) * cirq.Y(qs[n // 2]) * cirq.Z(qs[n - 2]) - 0.25 * cirq.X(qs[n - 1]),
        # X on every other qubit: more flipped runs than one tf.reverse can take
        cirq.PauliString({q: cirq.X for q in qs[::2]}) + cirq.Y(qs[1]) * cirq.Y(qs[3]),
    ]


def cirq_expectations(circuit, qs, obs, resolver):
    psi = (
        cirq.Simulator(dtype=np.complex128)
        .simulate(circuit, resolver, qubit_order=qs)
        .final_state_vector
    )
    qmap = {q: i for i, q in enumerate(qs)}
    return np.array([o.expectation_from_state_vector(psi, qmap).real for o in obs])


def check_against_cirq(n, seed, wrt, circuit=None, **kwargs):
    """Values and gradients (of sum_k c_k <O_k>) w.r.t. the symbols ``wrt`` match Cirq's
    simulation and parameter-shift rule to 1e-4 (``circuit``: on ``cirq.LineQubit.range(n)``,
    each symbol in one rx/ry/rz; default a random one)."""
    if circuit is None:
        circuit, qs = random_circuit(n, seed)
    else:
        qs = cirq.LineQubit.range(n)
    obs = observables(qs)
    rng = np.random.default_rng(seed + 1)
    values = rng.uniform(-np.pi, np.pi, (2, len(BATCHED))).astype(np.float32)
    shared = rng.uniform(-np.pi, np.pi, len(SHARED)).astype(np.float32)
    weights = np.array([1.0, -0.7, 0.4], np.float32)  # the loss sum_k weights[k] <O_k>
    sim = StatevectorSimulator(circuit, BATCHED, qubits=qs, shared_symbols=SHARED, **kwargs)
    v, s = tf.constant(values), tf.constant(shared)
    with tf.GradientTape() as tape:
        tape.watch([v, s])
        out = sim.expectation(v, obs, shared_values=s)
        loss = tf.reduce_sum(out * weights)
    gv, gs = (g.numpy() for g in tape.gradient(loss, [v, s]))

    def resolver(b, shift=None):
        r = {x.name: float(values[b, j]) for j, x in enumerate(BATCHED)}
        r.update({w.name: float(shared[j]) for j, w in enumerate(SHARED)})
        if shift is not None:
            r[shift[0]] += shift[1]
        return r

    for b in range(2):
        want = cirq_expectations(circuit, qs, obs, resolver(b))
        np.testing.assert_allclose(out.numpy()[b], want, atol=1e-4)
    for name in wrt:
        shift = []  # d<O>/dtheta = (<O>(theta + pi/2) - <O>(theta - pi/2)) / 2 for exp(-i theta P / 2)
        for b in range(2):
            plus = cirq_expectations(circuit, qs, obs, resolver(b, (name, np.pi / 2)))
            minus = cirq_expectations(circuit, qs, obs, resolver(b, (name, -np.pi / 2)))
            shift.append(float(weights @ (plus - minus) / 2))
        if name in [x.name for x in BATCHED]:
            got = gv[:, [x.name for x in BATCHED].index(name)]
            np.testing.assert_allclose(got, shift, atol=1e-4)
        else:
            got = gs[[w.name for w in SHARED].index(name)]
            np.testing.assert_allclose(got, sum(shift), atol=1e-4)
    return sim


def test_large_register_plan_matches_cirq_at_18_qubits():
    sim = check_against_cirq(18, seed=5, wrt=["x1", "w0"], large_register=True)
    assert sim.large_register and sim.gradient == "adjoint" and sim.fusion_qubits in (4, 5)


def test_large_register_plan_is_the_default_from_20_qubits():
    qs = cirq.LineQubit.range(LARGE_REGISTER_QUBITS)
    circuit = cirq.Circuit(cirq.rx(sympy.Symbol("a")).on(qs[0]))
    sim = StatevectorSimulator(circuit, ["a"], qubits=qs)
    assert sim.large_register and sim.gradient == "adjoint" and not sim.jit_compile
    small = StatevectorSimulator(circuit, ["a"], qubits=qs[:-1])
    assert not small.large_register and small.gradient == "autodiff"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_register_plan_forced_on_a_small_register_matches_cirq(seed):
    check_against_cirq(7, seed=seed, wrt=["x0", "x1", "w0", "w1", "w2"], large_register=True)


def test_forced_plan_agrees_with_the_small_register_plan_and_autodiff():
    circuit, qs = random_circuit(8, seed=3)
    obs = observables(qs)
    values = tf.constant(np.random.default_rng(0).uniform(-3, 3, (3, 2)).astype(np.float32))
    shared = tf.constant([0.3, -1.2, 2.0])
    results = []
    for kwargs in ({}, {"large_register": True}, {"large_register": True, "gradient": "autodiff"}):
        sim = StatevectorSimulator(
            circuit, BATCHED, qubits=qs, shared_symbols=SHARED, jit_compile=False, **kwargs
        )
        with tf.GradientTape() as tape:
            tape.watch([values, shared])
            out = sim.expectation(values, obs, shared_values=shared)
        results.append([out.numpy()] + [g.numpy() for g in tape.gradient(out, [values, shared])])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, atol=2e-5)


def test_traffic_counts_state_bytes_and_grows_with_the_circuit():
    qs = cirq.LineQubit.range(6)
    x = sympy.Symbol("x")
    layer = cirq.Circuit(
        [cirq.rx(x).on(q) for q in qs] + [cirq.CZ(qs[i], qs[i + 1]) for i in range(5)]
    )
    short = StatevectorSimulator(layer, ["x"], qubits=qs, large_register=True)
    deep = StatevectorSimulator(layer * 3, ["x"], qubits=qs, large_register=True)
    t1, t3 = short.traffic(4), deep.traffic(4)
    assert t1["state_bytes"] == 4 * 2**6 * 8
    for t in (t1, t3):
        assert 0 < t["passes_forward"] < t["passes_gradient"]
        assert t["bytes_gradient"] == pytest.approx(
            t["passes_gradient"] * 2 * t["state_bytes"], rel=1e-2
        )
    assert (
        t3["passes_forward"] > t1["passes_forward"] and t3["flops_gradient"] > t1["flops_gradient"]
    )
    with pytest.raises(ValueError, match="batch must be >= 1"):
        short.traffic(0)


def encoding_ring_circuit(n):
    """An angle encoding of the batched symbols, rotations by the shared ones, then constant
    permutations only: a CNOT ring, an iSWAP and a Y (phases), a CNOT chain. The shape of the
    reference workload at one layer."""
    qs = cirq.LineQubit.range(n)
    ops = [cirq.rx(BATCHED[i] if i < 2 else 0.3 * i).on(q) for i, q in enumerate(qs)]
    ops += [
        cirq.ry(SHARED[i // 2] if i % 2 == 0 and i < 6 else 0.2 + 0.1 * i).on(q)
        for i, q in enumerate(qs)
    ]
    ops += [cirq.CNOT(qs[i], qs[(i + 1) % n]) for i in range(n)] + [
        cirq.ISWAP(qs[1], qs[2]),
        cirq.Y(qs[3]),
    ]
    ops += [cirq.CNOT(qs[i], qs[i + 1]) for i in range(n - 1)]
    return cirq.Circuit(ops)


def test_prefix_and_local_permutations_on_the_large_register_plan(monkeypatch):
    """The large-register plan takes the product-state prefix when its cost model says so (here:
    the encoding would otherwise make every block per-example), runs permutations of adjacent
    qubits as gathers along their run of axes, and still matches Cirq; full-register gathers are
    switched off as they are above 16 qubits."""
    from tfq_layers.backends.statevector import compile as sv_compile

    monkeypatch.setattr(sv_compile, "FULL_PERM_QUBITS", 0)
    n = 8
    sim = check_against_cirq(
        n,
        seed=0,
        wrt=["x0", "x1", "w0", "w1", "w2"],
        circuit=encoding_ring_circuit(n),
        large_register=True,
    )
    assert sim.prefix, "the cost model should take the product-state prefix here"
    spans = [st.step.span for st in sim.steps if st.kind == "perm"]
    assert spans and all(0 < m < n and start + m < n for start, m in spans)
    assert any(st.step.phase is not None for st in sim.steps if st.kind == "perm")


def test_local_permutation_merges_compose_like_cirq():
    """Runs of permutations merge into one gather over the union of their spans (lifting each
    index to the wider span); the composed index and phases equal Cirq's unitary."""
    from tfq_layers.backends.statevector.compile import _lift_perm, _perm_step

    def as_matrix(step, n):
        full = np.zeros((2**n, 2**n), complex)
        ph = step.phase if step.phase is not None else np.ones(step.index.size)
        idx, ph = _lift_perm(step.span, step.index, ph, (0, n))
        full[np.arange(2**n), idx] = ph  # y[i] = ph[i] x[idx[i]]
        return full

    n = 5
    qs = cirq.LineQubit.range(n)
    layout = tuple(range(n))
    first, merged = _perm_step(cirq.unitary(cirq.ISWAP), (1, 2), layout, n, None)
    assert first.span == (1, 2) and not merged
    both, merged = _perm_step(cirq.unitary(cirq.CNOT), (2, 3), layout, n, first)
    assert merged and both.span == (1, 3) and both.index.size == 8
    want = cirq.Circuit(cirq.ISWAP(qs[1], qs[2]), cirq.CNOT(qs[2], qs[3])).unitary(qubit_order=qs)
    np.testing.assert_allclose(as_matrix(both, n), want, atol=1e-12)
    np.testing.assert_allclose(
        as_matrix(first, n),
        cirq.Circuit(cirq.ISWAP(qs[1], qs[2])).unitary(qubit_order=qs),
        atol=1e-12,
    )
    # a permutation touching the last axis gathers 8-byte slices: a full index (small n) instead
    last, _ = _perm_step(cirq.unitary(cirq.CNOT), (3, 4), layout, n, None)
    assert last.span == (0, n)


def _loss_and_gradients(sim, obs, values, shared, batch_known=True):
    """(loss, d loss / d values, d loss / d shared) inside a tf.function, the batch static or not."""
    batch = values.shape[0] if batch_known else None

    @tf.function(
        input_signature=[
            tf.TensorSpec([batch, values.shape[1]], tf.float32),
            tf.TensorSpec([shared.shape[0]], tf.float32),
        ]
    )
    def run(v, s):
        with tf.GradientTape() as tape:
            tape.watch([v, s])
            out = sim.expectation(v, obs, shared_values=s)
            loss = tf.reduce_sum(out * tf.constant([1.0, -0.7, 0.4]))
        return (out, loss) + tuple(tape.gradient(loss, [v, s]))

    return [t.numpy() for t in run(tf.constant(values), tf.constant(shared))]


def _autodiff_reference(circuit, qs, obs, values, shared):
    sim = StatevectorSimulator(
        circuit, BATCHED, qubits=qs, shared_symbols=SHARED, gradient="autodiff"
    )
    return _loss_and_gradients(sim, obs, values, shared)


@pytest.mark.parametrize(
    "budget,batch_known", [(2**30, True), (0, True), (2**30, False), (0, False)]
)
def test_adjoint_checkpoints_kept_or_not_give_the_same_gradients(monkeypatch, budget, batch_known):
    """The adjoint sweep reads kept input states (checkpoints) when the batch's states fit the
    memory module's budget and un-computes them otherwise (for a batch unknown while tracing, as
    many as fit the largest unchunked batch). All ways agree with the autodiff plan (checked
    against Cirq above), and keeping states means fewer passes over the state."""
    from tfq_layers.backends import memory

    monkeypatch.setattr(memory, "CHECKPOINT_BYTES", budget)
    circuit, qs = random_circuit(7, seed=4)
    obs = observables(qs)
    sim = StatevectorSimulator(
        circuit, BATCHED, qubits=qs, shared_symbols=SHARED, large_register=True
    )
    values = np.random.default_rng(2).uniform(-3, 3, (2, 2)).astype(np.float32)
    shared = np.array([0.4, -1.1, 2.2], np.float32)
    got = _loss_and_gradients(sim, obs, values, shared, batch_known)
    for a, b in zip(got, _autodiff_reference(circuit, qs, obs, values, shared)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert (memory.checkpoint_states(7, 5, 2) == 5) == bool(budget)
    if batch_known:
        monkeypatch.setattr(memory, "CHECKPOINT_BYTES", 0)
        uncomputing = StatevectorSimulator(
            circuit, BATCHED, qubits=qs, shared_symbols=SHARED, large_register=True
        )
        passes = uncomputing.traffic(2)["passes_gradient"]  # the budget is read when tracing
        monkeypatch.setattr(memory, "CHECKPOINT_BYTES", budget)
        assert (sim.traffic(2)["passes_gradient"] < passes) == bool(budget)


@pytest.mark.parametrize("batch,batch_known", [(5, True), (5, False), (2, False), (1, True)])
def test_lean_adjoint_in_chunks_gives_the_same_values_and_gradients(
    monkeypatch, batch, batch_known
):
    """A batch whose states exceed the memory module's lean budget runs in chunks (here 2 examples
    of 7 qubits per chunk, the last chunk shorter), recomputed one after the other in the
    backward pass; a batch unknown while tracing picks chunks or not at run time. Values and
    gradients agree with the autodiff plan."""
    from tfq_layers.backends import memory

    monkeypatch.setattr(memory, "LEAN_STATE_BYTES", 2 * memory.state_bytes(7, 1))
    assert memory.adjoint_chunk(7) == 2 and memory.checkpoint_states(7, 10) == 0
    circuit, qs = random_circuit(7, seed=6)
    obs = observables(qs)
    sim = StatevectorSimulator(
        circuit, BATCHED, qubits=qs, shared_symbols=SHARED, large_register=True
    )
    values = np.random.default_rng(3).uniform(-3, 3, (batch, 2)).astype(np.float32)
    shared = np.array([-0.4, 0.9, 1.7], np.float32)
    got = _loss_and_gradients(sim, obs, values, shared, batch_known)
    for a, b in zip(got, _autodiff_reference(circuit, qs, obs, values, shared)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    # traffic counts the chunks: the batch's share of one chunk's forward, and its forward again
    # (recomputed) in the gradient
    one_chunk, lean = sim.traffic(2, obs), sim.traffic(5, obs)
    assert lean["bytes_forward"] == pytest.approx(2.5 * one_chunk["bytes_forward"])
    assert lean["bytes_gradient"] == pytest.approx(
        2.5 * (one_chunk["bytes_gradient"] + one_chunk["bytes_forward"])
    )
