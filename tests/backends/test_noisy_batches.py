"""Noisy circuits on the statevector backend at every batch size (issue #13).

Training with ``model.fit`` meets several batch sizes: the full batches, the partial last one,
the validation batches. The noisy layer must be right at each of them (checked against Cirq's
density-matrix simulator, within the statistical error of the trajectory average) and must not
compile anew for each of them (checked by counting the functions TensorFlow traces and the
modules XLA compiles, in a fresh process that dumps them).
"""

import json

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf
from tensorflow.python.eager import context

import tfq_layers
from tfq_layers.backends.statevector_backend import StatevectorBackend
from tests.reference import central_difference, run_python

Q = cirq.LineQubit.range(3)
XS = sympy.symbols("x0:3")
WS = sympy.symbols("w0:12")
P = 0.15  # strong enough that the noisy and the noiseless expectations differ by far more than
#           the statistical tolerance below (checked), so a layer ignoring the channels fails
TRAJECTORIES = 3000


def noisy_circuit(p=P):
    """rx angle encoding, then two layers of ry, rz and a CNOT chain, depolarize(p) after each."""
    c = cirq.Circuit(cirq.rx(x).on(q) for x, q in zip(XS, Q))
    k = 0
    for _ in range(2):
        for q in Q:
            c.append([cirq.ry(WS[k]).on(q), cirq.rz(WS[k + 1]).on(q)])
            k += 2
        c.append([cirq.CNOT(Q[0], Q[1]), cirq.CNOT(Q[1], Q[2])])
        if p:
            c.append(cirq.depolarize(p).on_each(*Q))
    return c


OBS = [cirq.Z(q) for q in Q]


def density_matrix_outputs(circuit, features, weights):
    """(batch, 3) exact <Z_i> of the noisy circuit by Cirq's density-matrix simulator (float64)."""
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    qmap = {q: i for i, q in enumerate(Q)}
    rows = []
    for row in np.atleast_2d(features):
        resolver = {w.name: float(v) for w, v in zip(WS, weights)}
        resolver.update({x.name: float(v) for x, v in zip(XS, row)})
        rho = sim.simulate(circuit, resolver, qubit_order=Q).final_density_matrix
        rows.append([o.expectation_from_density_matrix(rho, qmap).real for o in OBS])
    return np.array(rows)


@pytest.fixture(scope="module")
def layer():
    layer = tfq_layers.PQC(
        noisy_circuit(),
        OBS,
        input_symbols=XS,
        weight_symbols=WS,
        repetitions=TRAJECTORIES,
        backend="statevector",
    )
    layer.build((None, 3))
    layer.circuit_weights.assign(np.random.default_rng(5).uniform(0, 2 * np.pi, 12))
    return layer


def _keras_like_step(layer):
    """Forward and weight gradient of the batch-mean summed output, traced once for any batch
    size (as Keras traces its train step: the batch dimension unknown)."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def step(x):
        with tf.GradientTape() as tape:
            out = layer(x)
            loss = tf.reduce_mean(tf.reduce_sum(out, axis=1))
        return out, tape.gradient(loss, layer.circuit_weights)

    return step


@pytest.mark.parametrize("batch", [1, 3, 5, 7])
def test_odd_batches_match_the_density_matrix(layer, batch):
    """Outputs and weight gradients at odd batch sizes, inside a traced step, agree with Cirq's
    density matrix within 5 standard errors of the trajectory mean."""
    step = _keras_like_step(layer)
    x = np.random.default_rng(batch).uniform(0, np.pi, (batch, 3)).astype(np.float32)
    weights = layer.circuit_weights.numpy().astype(np.float64)
    ref = density_matrix_outputs(noisy_circuit(), x, weights)
    noiseless = density_matrix_outputs(noisy_circuit(p=0), x, weights)
    # one trajectory's <Z_i> lies in [-1, 1]: the mean of T has a standard error <= 1/sqrt(T)
    tol = 5 / np.sqrt(TRAJECTORIES)
    assert np.max(np.abs(noiseless - ref)) > 3 * tol  # the test can tell noise from none
    out, grad = step(tf.constant(x))
    assert out.shape == (batch, 3)
    np.testing.assert_array_less(np.abs(out.numpy() - ref), tol)

    # the gradient of the batch mean of sum_i <Z_i>: each weight enters one rotation, so one
    # trajectory's derivative of each <Z_i> is a sinusoid's, at most 1 in size; the mean over
    # T * batch trajectories of a sum of 3 has a standard error <= 3 / sqrt(T * batch)
    def loss(w):
        return density_matrix_outputs(noisy_circuit(), x, w).sum(axis=1).mean()

    fd = central_difference(loss, weights, h=1e-4)
    g_tol = 5 * 3 / np.sqrt(TRAJECTORIES * batch)
    np.testing.assert_array_less(np.abs(grad.numpy() - fd), g_tol)


@pytest.mark.parametrize("batch", [1, 5])
def test_odd_batches_reproducible_for_a_seed(batch):
    """The backend's trajectories are a function of the seed, at any batch size."""
    backend = StatevectorBackend(
        [noisy_circuit()], [x.name for x in XS], [w.name for w in WS], Q, trajectories=50
    )
    values = tf.constant(np.random.default_rng(9).uniform(0, 3, (batch, 3)), tf.float32)
    shared = tf.constant(np.random.default_rng(8).uniform(0, 6, 12), tf.float32)
    a, b, c = (backend.expectation(values, shared, OBS, seed=s).numpy() for s in (17, 17, 18))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_batch_sizes_trace_a_bounded_number_of_functions(layer):
    """Eager calls and a traced step over batch sizes 1..16: after the first few sizes no new
    function is traced, and the noisy simulation is not XLA-compiled per batch size."""
    assert layer.simulator_backend.noisy
    assert not any(sim.jit_compile for sim in layer.simulator_backend.simulators)
    step = _keras_like_step(layer)

    def functions():
        return len(context.context().list_function_names())

    rng = np.random.default_rng(0)
    for b in (1, 2, 3):
        layer(rng.uniform(0, 3, (b, 3)).astype(np.float32))
        step(tf.constant(rng.uniform(0, 3, (b, 3)), tf.float32))
    warm = functions()
    for b in range(4, 17):
        layer(rng.uniform(0, 3, (b, 3)).astype(np.float32))
        step(tf.constant(rng.uniform(0, 3, (b, 3)), tf.float32))
    assert functions() == warm


# In a fresh process XLA dumps one module per compile; count them over batch sizes 1..8.
_XLA_COUNT = r"""
import json, os, sys
import numpy as np
import tensorflow as tf
import tfq_layers
from tests.backends.test_noisy_batches import OBS, XS, noisy_circuit

dump = sys.argv[1]

def modules():
    return len([f for f in os.listdir(dump) if f.endswith(".before_optimizations.txt")]) \
        if os.path.isdir(dump) else 0

def run(p, sizes):
    layer = tfq_layers.PQC(noisy_circuit(p), OBS, input_symbols=XS, repetitions=20,
                           backend="statevector")
    layer.build((None, 3))

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.circuit_weights)

    before = modules()
    for b in sizes:
        step(tf.zeros([b, 3])).numpy()
    return modules() - before

noisy = run(0.15, range(1, 9))
noiseless = run(0.0, (1, 9, 17))  # three batch buckets: shows the dump counts compiles
print(json.dumps({"noisy": noisy, "noiseless": noiseless}))
"""


def test_noisy_layer_compiles_no_xla_module_per_batch_size(tmp_path):
    dump = str(tmp_path / "xla")
    out = run_python(
        _XLA_COUNT.replace("sys.argv[1]", repr(dump)),
        env_extra={"XLA_FLAGS": f"--xla_dump_to={dump}"},
    )
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts["noiseless"] >= 3, counts  # the count sees XLA's compiles ...
    assert counts["noisy"] <= 2, counts  # ... and 8 batch sizes of the noisy layer add none
