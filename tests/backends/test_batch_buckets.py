"""The speed-ups of issue #26 keep results exact: batch buckets (padded batches equal unpadded
ones and Cirq; one XLA compile per bucket) and quantum-data checks run once per content
(outputs equal before and after caching, bad data still refused, no retrace for a repeated
call signature)."""

import json

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import tfq_layers
from tfq_layers.backends.batch_buckets import MIN_BUCKET, bucket_size, bucketed
from tfq_layers.backends.check_once import CheckOnce
from tests.reference import batch_expectations, central_difference, expectations, run_python

QUBITS = cirq.GridQubit.rect(1, 3)
XS = sympy.symbols("x0:3")
WS = sympy.symbols("w0:3")
OBS = [cirq.Z(QUBITS[0]), cirq.X(QUBITS[1]) * cirq.Z(QUBITS[2])]


def circuit():
    c = cirq.Circuit(cirq.rx(x)(q) for x, q in zip(XS, QUBITS))
    c += cirq.Circuit(cirq.ry(w)(q) for w, q in zip(WS, QUBITS))
    c += cirq.Circuit(cirq.CNOT(a, b) for a, b in zip(QUBITS, QUBITS[1:]))
    return c


def test_bucket_sizes_agree_in_python_and_tensorflow():
    sizes = list(range(0, 70)) + [127, 128, 129, 1000]
    in_tf = [int(bucket_size(tf.constant(b))) for b in sizes]
    assert in_tf == [bucket_size(b) for b in sizes]
    for b, s in zip(sizes, in_tf):
        assert (
            s == 0 if b == 0 else (s >= max(b, MIN_BUCKET) and s & (s - 1) == 0 and s < 2 * b + 8)
        )


@pytest.mark.parametrize("batch", [1, 5, 8, 13])
def test_padded_batches_equal_unpadded_and_cirq(batch):
    """The layer's outputs and gradients (bucketed under the simulator's XLA) equal the same
    simulator without XLA (no padding), Cirq and central differences."""
    layer = tfq_layers.PQC(circuit(), OBS, input_symbols=XS, backend="statevector")
    layer.build((None, 3))
    sim = layer.simulator_backend.simulators[0]
    assert sim.jit_compile  # the bucketed path
    rng = np.random.default_rng(batch)
    x = tf.constant(rng.uniform(-2, 2, (batch, 3)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        loss = tf.reduce_sum(out * tf.constant([1.0, -0.5]))
    gx, gw = tape.gradient(loss, [x, layer.circuit_weights])
    weights = layer.circuit_weights.numpy()
    resolver = {w.name: float(v) for w, v in zip(WS, weights)}
    want = batch_expectations(circuit(), OBS, XS, x.numpy(), resolver)
    np.testing.assert_allclose(out.numpy(), want, atol=2e-5)

    # the same simulator called directly, on the unpadded batch
    values, shared = layer._engine.parameters(x, tf.convert_to_tensor(layer.circuit_weights), batch)
    direct = sim.expectation(values, OBS, shared_values=shared)
    np.testing.assert_allclose(out.numpy(), direct.numpy(), atol=2e-6)

    def f(w):
        r = {n.name: v for n, v in zip(WS, w)}
        rows = [
            expectations(circuit(), OBS, {**r, **dict(zip(map(str, XS), map(float, row)))})
            for row in x.numpy()
        ]
        return float(np.sum(np.array(rows) @ np.array([1.0, -0.5])))

    np.testing.assert_allclose(gw.numpy(), central_difference(f, weights), atol=1e-3)
    assert gx.shape == (batch, 3)


def test_bucketed_state_and_probabilities_equal_cirq():
    layer = tfq_layers.PQC(circuit(), OBS, input_symbols=XS, backend="statevector")
    layer.build((None, 3))
    backend = layer.simulator_backend
    rng = np.random.default_rng(7)
    values = tf.constant(rng.uniform(-2, 2, (3, 3)), tf.float32)
    shared = tf.constant(rng.uniform(-2, 2, 3), tf.float32)
    state = backend.state(values, shared)
    probs = backend.probabilities(values, shared)
    assert state.shape[0] == probs.shape[0] == 3
    for row, psi, p in zip(values.numpy(), state.numpy(), probs.numpy()):
        full = list(row) + list(shared.numpy())
        resolved = cirq.resolve_parameters(
            circuit(), dict(zip(map(str, XS + WS), map(float, full)))
        )
        want = cirq.final_state_vector(resolved, qubit_order=QUBITS, dtype=np.complex128)
        np.testing.assert_allclose(psi, want, atol=2e-6)
        np.testing.assert_allclose(p, np.abs(want) ** 2, atol=2e-6)


def test_bucketed_passes_a_full_bucket_through():
    calls = []

    def fn(v):
        calls.append(v.shape[0])
        return 2 * v

    out = bucketed(fn, tf.ones((MIN_BUCKET, 2)))
    assert calls == [MIN_BUCKET] and out.shape == (MIN_BUCKET, 2)
    out = bucketed(fn, tf.ones((3, 2)))
    assert calls[-1] == MIN_BUCKET and out.shape == (3, 2)


# The start of a fresh process that counts XLA's compiles: it dumps one module per compile.
_XLA_PRELUDE = r"""
import json, os
import numpy as np
import tensorflow as tf
import tfq_layers
from tfq_layers.backends.statevector.engine import EAGER_PLAIN_CALLS
from tests.backends.test_batch_buckets import OBS, XS, circuit

dump = DUMP

def modules():
    return len([f for f in os.listdir(dump) if f.endswith(".before_optimizations.txt")]) \
        if os.path.isdir(dump) else 0

layer = tfq_layers.PQC(circuit(), OBS, input_symbols=XS, backend="statevector")
layer.build((None, 3))
"""


def _compiles(script, tmp_path):
    """The JSON the fresh process running :data:`_XLA_PRELUDE` + ``script`` prints last."""
    dump = str(tmp_path / "xla")
    out = run_python(
        (_XLA_PRELUDE + script).replace("DUMP", repr(dump)),
        env_extra={"XLA_FLAGS": f"--xla_dump_to={dump}"},
    )
    return json.loads(out.strip().splitlines()[-1])


# Batch sizes 9..16 share one bucket.
_XLA_COUNT = r"""
@tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
def step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    return tape.gradient(loss, layer.circuit_weights)

counts = []
# the first group calls often enough for the eager calls to reach XLA too (see _EAGER_TIERS)
for sizes in ((9,) * (EAGER_PLAIN_CALLS + 1), range(10, 17), (17,)):
    before = modules()
    for b in sizes:
        step(tf.ones([b, 3])).numpy()
        layer(np.ones((b, 3), np.float32)).numpy()
    counts.append(modules() - before)
print(json.dumps(counts))
"""


def test_new_batch_sizes_in_a_seen_bucket_compile_nothing(tmp_path):
    first, same_bucket, next_bucket = _compiles(_XLA_COUNT, tmp_path)
    assert first >= 1 and next_bucket >= 1, (first, same_bucket, next_bucket)  # counts compiles
    assert same_bucket == 0, (first, same_bucket, next_bucket)


# The first EAGER_PLAIN_CALLS eager calls compile nothing, the next compiles.
_EAGER_TIERS = r"""
x = np.linspace(0.1, 1.2, 12, dtype=np.float32).reshape(4, 3)
before = modules()
outs = [layer(x).numpy() for _ in range(EAGER_PLAIN_CALLS)]
plain = modules() - before
outs.append(layer(x).numpy())
diff = np.abs(outs[-1] - outs[0]).max().item()
print(json.dumps([EAGER_PLAIN_CALLS, plain, modules() - before - plain, diff]))
"""


def test_first_eager_calls_run_uncompiled_then_xla_compiles(tmp_path):
    tiers, plain, compiled, diff = _compiles(_EAGER_TIERS, tmp_path)
    assert tiers >= 1 and plain == 0, (tiers, plain, compiled)
    assert compiled >= 1, (plain, compiled)
    assert diff < 1e-5  # both tiers compute the same expectations


# -- quantum-data checks, once per content ---------------------------------------------------


def test_check_once_runs_a_check_once_per_content_and_traces_once():
    def positive(x):
        with tf.control_dependencies([tf.debugging.assert_positive(x, message="not positive")]):
            return tf.identity(x)

    check = CheckOnce(positive)
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    for _ in range(3):
        np.testing.assert_array_equal(check(a).numpy(), a.numpy())
    assert check.graph_runs == 1
    check(b)
    assert check.graph_runs == 2
    assert check._graph.experimental_get_tracing_count() == 1  # same signature: no retrace
    with pytest.raises(tf.errors.InvalidArgumentError, match="not positive"):
        check(tf.constant([1.0, -1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not positive"):
        check(tf.constant([1.0, -1.0]))  # a failure is never remembered
    check.graph_runs = 0
    check(a)
    assert check.graph_runs == 0


@pytest.mark.tfq
def test_quantum_data_outputs_equal_before_and_after_caching_and_bad_data_refused():
    import tensorflow_quantum as tfq

    from tfq_layers.compat import layers

    q = cirq.GridQubit(0, 0)
    t = sympy.symbols("t0:3")
    model = cirq.Circuit(cirq.rz(t[0])(q), cirq.ry(t[1])(q), cirq.rx(t[2])(q))
    layer = layers.ControlledPQC(model, cirq.Z(q))
    preps = [cirq.Circuit(cirq.rx(0.3)(q)), cirq.Circuit(cirq.ry(1.1)(q))]
    data = tfq.convert_to_tensor(preps)
    values = tf.constant([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    first = layer([data, values]).numpy()
    again = layer([data, values]).numpy()
    graph = tf.function(lambda d, v: layer([d, v]))(data, values).numpy()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, graph, atol=1e-6)
    for row, prep, v in zip(first, preps, values.numpy()):
        resolver = dict(zip(map(str, t), map(float, v)))
        np.testing.assert_allclose(
            row, expectations(prep + model, [cirq.Z(q)], resolver), atol=1e-5
        )
    checks = layer.simulator_backend._data_checks

    def runs_now():  # contents checked eagerly, on the host or by the traced check
        return checks.graph_runs + checks.host_runs

    runs = runs_now()  # 1 here; checks are shared by layers of one setting in a process
    traces = checks._graph.experimental_get_tracing_count()  # eager and in-graph signatures
    layer([data, values])
    layer([tfq.convert_to_tensor(preps[::-1]), values])
    assert runs_now() == runs + 1  # new content checked, ...
    assert checks._graph.experimental_get_tracing_count() == traces  # ... with no new trace
    bad = tfq.convert_to_tensor([cirq.Circuit(cirq.rx(sympy.Symbol("free"))(q))] * 2)
    for _ in range(2):
        with pytest.raises(tf.errors.InvalidArgumentError, match="get no value"):
            layer([bad, values])
    layer([data, values])
    assert runs_now() == runs + 1  # the good data still known; the bad never remembered
    again = layers.ControlledPQC(model, cirq.Z(q))  # a new layer of the same setting ...
    np.testing.assert_array_equal(again([data, values]).numpy(), first)
    assert again.simulator_backend._data_checks is checks  # ... shares the checks
    assert runs_now() == runs + 1


def test_repeated_compat_calls_trace_nothing_new():
    """Eager calls of TFQ's Expectation with the same signature (circuit, names, operators,
    batch shape) reuse the traced simulation: no new function after the first call."""
    from tensorflow.python.eager import context

    from tfq_layers.compat import layers

    layer = layers.Expectation()
    names = [s.name for s in XS + WS]
    rng = np.random.default_rng(3)

    def call():
        values = tf.constant(rng.uniform(-1, 1, (4, 6)), tf.float32)
        return layer(circuit(), symbol_names=names, symbol_values=values, operators=OBS)

    first = call().numpy()
    count = len(context.context().list_function_names())
    for _ in range(3):
        out = call().numpy()
    assert len(context.context().list_function_names()) == count
    assert out.shape == first.shape == (4, 2)


def test_host_decided_checks_never_pass_what_the_graph_checks_refuse():
    """An eager call skips tracing the quantum-data checks when the host decodes the data and
    finds it valid (``quantum_data.host_passes``): it passes exactly the valid circuits of this
    set (so the fast path is taken) and nothing the in-graph checks refuse; the host's register
    width equals the graph's."""
    import functools

    from tfq_layers import wire
    from tfq_layers.backends import quantum_data, tfq_backend

    a, b, c = cirq.GridQubit.rect(1, 3)
    d, w = sympy.symbols("d w")
    circuits = {
        "plain": cirq.Circuit(cirq.rx(0.3)(a), cirq.CNOT(a, b)),
        "empty": cirq.Circuit(),
        "data symbol": cirq.Circuit(cirq.rx(d)(a)),
        "layer symbol": cirq.Circuit(cirq.rx(w)(a)),
        "channel": cirq.Circuit(cirq.rx(0.3)(a), cirq.depolarize(0.1)(b)),
        "outside": cirq.Circuit(cirq.X(c)),
        "control outside": cirq.Circuit(cirq.X(a).controlled_by(c)),
        "control inside": cirq.Circuit(cirq.X(a).controlled_by(b)),
    }
    raws = {k: wire.convert_to_tensor([v]).numpy()[0] for k, v in circuits.items()}
    raws["text"] = b"hello"
    raws["truncated"] = raws["plain"][:-3]
    evil = wire.serialize_circuit(circuits["plain"])
    evil.circuit.moments[0].operations[0].gate.id = "EVIL"  # well-formed bytes, unknown gate
    raws["unknown gate id"] = evil.SerializeToString()
    settings = [
        dict(noisy=False, layer_names=["w"], names=["w"], register=["0_0", "0_1"]),
        dict(noisy=True, layer_names=["w"], names=["w", "d"], register=["0_0", "0_1"]),
        dict(noisy=False, layer_names=None, names=["d"], register=None),
    ]
    for setting in settings:
        graph = tf.function(
            functools.partial(tfq_backend._data_check, qubits=[a, b], **setting),
            autograph=False,
        )
        passed = set()
        for name, raw in raws.items():
            host = quantum_data.host_passes(
                [raw],
                noisy=setting["noisy"],
                layer_names=setting["layer_names"],
                value_names=setting["names"],
                channel_ids=tfq_backend._CHANNEL_IDS,
                register=setting["register"],
            )
            try:
                graph(tf.constant([raw]))
                ok = True
            except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
                ok = False
            assert host == ok, (setting, name, host, ok)
            if ok:
                passed.add(name)
        assert {"plain", "empty", "control inside"} <= passed, (setting, passed)
    width = tfq_backend._data_width()
    for name in ("plain", "empty", "outside", "control outside"):
        assert quantum_data.host_width([raws[name]]) == int(width(tf.constant([raws[name]])))
    assert quantum_data.host_width([raws["text"]]) is None
