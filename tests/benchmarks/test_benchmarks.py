"""The benchmark harness compares like with like: every contender computes the same gradients.

No timing is asserted here (speed is measured by ``make bench``); these tests keep the contenders
honest, so a benchmark can never report a fast step that computes something else.
"""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import step_time as B

# Every contender is checked against TFQ's own op ("raw") or runs the TFQ backend.
pytestmark = pytest.mark.tfq


@pytest.fixture(scope="module")
def small_case():
    n, layers, batch = 3, 2, 5
    circuit, xs, ws, obs = B.workload(n, layers)
    steps = {
        "raw": B.raw_step_fn(circuit, xs, ws, obs),
        "sv": B.layer_step_fn(circuit, xs, ws, obs, backend="statevector"),
        "sv_xla": B.layer_step_fn(circuit, xs, ws, obs, backend="statevector", jit_compile=True),
        "tfq": B.layer_step_fn(circuit, xs, ws, obs, backend="tfq"),
        "dense": B.dense_step_fn(n, layers),
        "dense_xla": B.dense_step_fn(n, layers, jit_compile=True),
        "floor": B.floor_step_fn(n, len(ws)),
    }
    x = tf.constant(np.random.default_rng(3).uniform(0, 3, (batch, n)).astype(np.float32))
    return steps, x, ws


def test_contenders_agree_with_the_raw_tfq_op(small_case):
    steps, x, _ = small_case
    # TFQ's float32 adjoint gradient is itself off by ~2e-4 here (see the next test)
    B.check_agree(steps, x, atol=1e-3)  # raises on any disagreement


def test_contenders_agree_with_finite_differences(small_case):
    """Every contender's weight gradient matches central differences of the summed expectation
    computed by Cirq in double precision (the pure-TF ones to 1e-4; TFQ's op, in float32 with the
    adjoint method, to 1e-3)."""
    steps, x, ws = small_case
    w0 = B.workload_weights(len(ws)).astype(np.float64)
    n, layers = x.shape[1], len(ws) // (2 * x.shape[1])
    eps = 1e-5
    fd = []
    for k in range(len(ws)):
        e = np.zeros_like(w0)
        e[k] = eps
        fd.append(
            (_cirq_loss(n, layers, w0 + e, x.numpy()) - _cirq_loss(n, layers, w0 - e, x.numpy()))
            / (2 * eps)
        )
    for name, step in steps.items():
        if name == "floor":
            continue
        g_w = step(x)[0].numpy()
        tol = 1e-3 if name in ("raw", "tfq") else 1e-4
        np.testing.assert_allclose(g_w, fd, atol=tol, err_msg=name)


def _cirq_loss(n, layers, w, x):
    """Summed <Z_i> of the workload by cirq (float64): the independent reference."""
    import cirq

    circuit, xs, ws, obs = B.workload(n, layers)
    qubits = sorted(circuit.all_qubits())
    total = 0.0
    sim = cirq.Simulator(dtype=np.complex128)
    for row in x:
        resolver = {s.name: float(v) for s, v in zip(ws, w)}
        resolver.update({s.name: float(v) for s, v in zip(xs, row)})
        state = sim.simulate(
            cirq.resolve_parameters(circuit, resolver), qubit_order=qubits
        ).final_state_vector
        index = {q: i for i, q in enumerate(qubits)}
        total += sum(np.real(o.expectation_from_state_vector(state, index)) for o in obs)
    return total


def test_check_agree_refuses_a_contender_that_computes_something_else(small_case):
    steps, x, _ = small_case
    wrong = dict(steps)
    wrong["broken"] = lambda inputs: [tf.zeros_like(g) for g in steps["raw"](inputs)]
    with pytest.raises(AssertionError, match="broken"):
        B.check_agree(wrong, x)


def test_time_interleaved_reports_every_contender(small_case):
    steps, x, _ = small_case
    t = B.time_interleaved(
        {k: steps[k] for k in ("raw", "floor")}, [x, x + 1.0], repeats=2, block=2
    )
    assert set(t) == {"raw", "floor"} and all(v > 0 for v in t.values())


def test_fit_comparison_runs_each_backend():
    t = B.run_fit(n=2, layers=1, batch=8, examples=32, n_features=3, rounds=1)
    assert set(t) == {"tfq", "sv", "sv_xla"} and all(v > 0 for v in t.values())
    model = B.fit_model(2, 1, 3, "statevector", False)
    assert [layer.backend for layer in model.layers if hasattr(layer, "backend")] == ["statevector"]


def test_fit_throughput_covers_each_backend_and_steps_per_execution():
    t = B.run_fit_throughput(n=2, layers=1, batch=8, examples=16, n_features=3, epochs=1, rounds=1)
    assert set(t) == {
        (b, spe) for b in ("tfq", "statevector", "statevector, XLA") for spe in (1, 16)
    }
    assert all(v > 0 for v in t.values())
