"""Side-by-side step-time benchmarks: ``python -m benchmarks`` (``make bench``).

Workload: :mod:`benchmarks.workload` (n qubits, RX angle encoding of n features, L layers of RY, RZ
on every qubit + a CNOT ring, <Z> on every qubit). One *step* is forward + gradient of the batch's
summed output with respect to the weights and the inputs, inside a ``tf.function``.

Contenders, timed interleaved in one process (round-robin, so drifting machine load hits all alike):
* ``raw``: TFQ's expectation op wrapped by ``tfq.differentiators.Adjoint`` called directly, with
  ``symbol_values = concat(inputs, tile(weights))``: the floor the TFQ-backend layer is compared to.
* ``pqc tfq``: ``tfq_layers.PQC(..., backend="tfq")`` on the same circuit (overhead = tfq / raw).
* ``pqc sv``: ``backend="statevector"`` (pure TensorFlow).
* ``pqc auto``: the default ``backend="auto"``.
* up to 12 qubits also the statevector layer with the whole step XLA-compiled
  (``model.compile(jit_compile=True)``).
* references that bound what is possible: a step with the same inputs and outputs but no
  simulation (``floor``, graph and XLA: TensorFlow's own cost per call), and up to 8 qubits a
  hand-written full-register TF simulation of the workload (``dense``, graph and XLA).
Before timing, every contender's gradients are checked against the raw op's (same weights, same
batch). The median over repeats is reported. Then ``model.fit`` of a small hybrid model (Dense -> PQC at 4
qubits -> Dense) is timed per step with each backend (what a training loop sees, Keras' own
per-step work included). Then the peak memory of a step of each backend at (16, 4, 32)
is measured in fresh processes: the process peak RSS (TFQ's simulator allocates outside
TensorFlow's allocator) and, for the statevector backend, TensorFlow's allocator peak.
"""

import argparse
import platform
import statistics
import time

import cirq
import numpy as np
import tensorflow as tf

from benchmarks.workload import DEFAULT_CASES, workload, workload_inputs, workload_weights
from tfq_layers import PQC


def raw_step_fn(circuit, xs, ws, observables):
    """A step that calls TFQ's op directly: the baseline every ratio divides."""
    import tensorflow_quantum as tfq  # the raw contender is TFQ's op itself

    op = tfq.differentiators.Adjoint().generate_differentiable_op(
        analytic_op=tfq.get_expectation_op()
    )
    program = tfq.convert_to_tensor([circuit])
    names = tf.constant([s.name for s in xs + ws])
    pauli = tfq.convert_to_tensor([observables])
    weights = tf.Variable(workload_weights(len(ws)))

    @tf.function
    def step(inputs):
        batch = tf.shape(inputs)[0]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            values = tf.concat([inputs, tf.tile(weights[None, :], [batch, 1])], axis=1)
            out = op(tf.tile(program, [batch]), names, values, tf.tile(pauli, [batch, 1]))
            loss = tf.reduce_sum(out)
        return tape.gradient(loss, [weights, inputs])

    return step


def layer_step_fn(circuit, xs, ws, observables, jit_compile=False, **layer_kwargs):
    """The same step through ``tfq_layers.PQC`` (``jit_compile=True``: the whole step under XLA,
    as ``model.compile(jit_compile=True)`` does; statevector backend only)."""
    layer = PQC(circuit, observables, input_symbols=xs, **layer_kwargs)
    layer.build((None, len(xs)))
    values = dict(zip([w.name for w in ws], workload_weights(len(ws))))
    layer.circuit_weights.assign([values[w.name] for w in layer.weight_symbols])

    @tf.function(jit_compile=jit_compile)
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(layer(inputs))
        return tape.gradient(loss, [layer.circuit_weights, inputs])

    step.layer = layer
    return step


def floor_step_fn(n_inputs, n_weights, jit_compile=False):
    """A step with the same inputs, weights and outputs as the others but no simulation at all
    (``sin(inputs)`` times ``cos(weights)``, summed, and its gradient): what TensorFlow alone costs
    per call in this harness. ``raw / floor`` is the largest speed-up any simulator could show."""
    weights = tf.Variable(workload_weights(n_weights))

    @tf.function(jit_compile=jit_compile)
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(tf.sin(inputs)) * tf.reduce_sum(tf.cos(weights))
        return tape.gradient(loss, [weights, inputs])

    return step


def dense_step_fn(n, layers, jit_compile=False):
    """The workload simulated by hand with full-register complex matrices (n <= 8): the encoding and
    first rotation layer as a product state, every later layer as one 2**n x 2**n matrix built from
    Kronecker products, then ``|psi|**2`` times the Z-sign table. A minimal TensorFlow simulation,
    independent of ``tfq_layers``, that shows what any TF implementation costs on this workload."""
    qubits = cirq.GridQubit.rect(1, n)
    ring = cirq.unitary(cirq.Circuit(cirq.CNOT(qubits[i], qubits[(i + 1) % n]) for i in range(n)))
    ring = tf.constant(ring.astype(np.complex64))
    zsign = np.array(
        [[1 - 2 * ((k >> (n - 1 - i)) & 1) for i in range(n)] for k in range(2**n)], np.float32
    )
    weights = tf.Variable(workload_weights(2 * n * layers))

    def rot(axis, t):  # 2x2 rotation matrices, batched over the shape of t
        c = tf.complex(tf.cos(t / 2), tf.zeros_like(t))
        s = tf.complex(tf.sin(t / 2), tf.zeros_like(t))
        if axis == "x":
            rows = [[c, -1j * s], [-1j * s, c]]
        elif axis == "y":
            rows = [[c, -s], [s, c]]
        else:
            e = tf.exp(tf.complex(tf.zeros_like(t), -t / 2))
            rows = [[e, tf.zeros_like(e)], [tf.zeros_like(e), tf.math.conj(e)]]
        return tf.stack([tf.stack(r, -1) for r in rows], -2)

    def expectation(inputs):
        w = tf.reshape(weights, [layers, n, 2])
        psi = None
        for i in range(n):  # encoding + first layer: one two-amplitude vector per qubit
            v = tf.linalg.matvec(
                rot("z", w[0, i, 1]) @ rot("y", w[0, i, 0]), rot("x", inputs[:, i])[..., 0]
            )
            psi = (
                v
                if psi is None
                else tf.reshape(psi[:, :, None] * v[:, None, :], [-1, 2 * psi.shape[1]])
            )
        u = ring
        for layer in range(1, layers):
            r = None
            for i in range(n):
                m = rot("z", w[layer, i, 1]) @ rot("y", w[layer, i, 0])
                r = (
                    m
                    if r is None
                    else tf.reshape(r[:, None, :, None] * m[None, :, None, :], [2 * r.shape[0]] * 2)
                )
            u = ring @ r @ u
        psi = psi @ tf.transpose(u)
        return tf.math.real(psi * tf.math.conj(psi)) @ zsign

    @tf.function(jit_compile=jit_compile)
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(expectation(inputs))
        return tape.gradient(loss, [weights, inputs])

    return step


# contenders that bound what is possible, not simulators of their own: they do not set the block size
REFERENCES = ("floor", "floor_xla", "dense", "dense_xla")


def check_agree(steps, inputs, reference="raw", atol=2e-3, skip=("floor", "floor_xla")):
    """Every contender must compute the reference's gradients (same weights, same batch) before it
    is timed: a fast step that computes something else is a bug, not a result."""
    want = [t.numpy() for t in steps[reference](inputs)]
    for name, fn in steps.items():
        if name in skip or name == reference:
            continue
        got = [t.numpy() for t in fn(inputs)]
        err = max(float(np.max(np.abs(a - b))) for a, b in zip(got, want))
        if not err <= atol:
            raise AssertionError(
                f"benchmark contender {name!r} disagrees with {reference!r}: "
                f"max |gradient difference| {err:.2e} > {atol}"
            )


def time_interleaved(steps, inputs, repeats, warmup=2, block=1):
    """Median seconds per call of each step.

    ``inputs`` is one batch or a list of batches; calls cycle through the list. Distinct batches
    keep a step whose compiled code depends on the input *values* (an XLA computation that treats
    them as compile-time constants and recompiles for each new batch) from looking fast because
    the same batch comes back every call.

    Each round runs every contender in a fresh random order (so drifting machine load hits all
    alike), each for ``block`` consecutive calls; a round's time of a contender is its block's mean
    per call. With ``block > 1`` this is the steady-state time a training loop sees (it calls the
    same step back to back), not the time of a step that has just been evicted from the caches by
    another contender (which penalises sub-millisecond steps by up to 50% on 2 cores).
    """
    batches = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for fn in steps.values():
        for i in range(warmup):
            _block(fn(batches[i % len(batches)]))
    times = {name: [] for name in steps}
    order = list(steps)
    rng = np.random.default_rng(0)
    calls = 0
    for _ in range(repeats):
        rng.shuffle(order)  # no contender always runs first (cache and frequency effects)
        for name in order:
            fn = steps[name]
            t0 = time.perf_counter()
            for i in range(block):
                _block(fn(batches[(calls + i) % len(batches)]))
            times[name].append((time.perf_counter() - t0) / block)
        calls += block
    return {name: statistics.median(ts) for name, ts in times.items()}


def _block(result):
    for t in tf.nest.flatten(result):
        t.numpy()


def machine_summary():
    import os

    import tensorflow_quantum as tfq

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, TF {tf.__version__}, TFQ {tfq.__version__}"


def statevector_device():
    """``(TF device string, label)`` where the statevector backend runs: the first GPU when
    TensorFlow sees one (TF places the backend's ops there by default; TFQ's ops stay on the CPU,
    where their only kernels are), else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return "/GPU:0", f"GPU {details.get('device_name', gpus[0].name)}"
    return "/CPU:0", f"CPU {machine_summary().split(',')[0]}"


def measure_bandwidth(device="/CPU:0", mib=256, repeats=7):
    """Bytes per second of copying a large array in this process (read + write counted), best of
    ``repeats``: the roofline a state-vector simulator's traffic is compared to. The NumPy copy and
    a TensorFlow copy on ``device`` are both measured; the larger rate is returned with both."""
    n = mib * 2**20 // 8
    src = np.ones(n, np.complex64)
    dst = np.empty_like(src)
    best_np = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best_np = min(best_np, time.perf_counter() - t0)
    del dst
    with tf.device(device):
        x = tf.constant(src)
        copy = tf.function(lambda v: v * tf.constant(0.5 + 0j, tf.complex64))  # not x1: folded
        _ = copy(x)  # trace
        best_tf = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            y = copy(x)
            _ = y[0].numpy()  # waits for the copy (a one-element read)
            best_tf = min(best_tf, time.perf_counter() - t0)
            del y
    moved = 2 * n * 8
    rates = {"numpy copy": moved / best_np, "tf copy": moved / best_tf}
    return max(rates.values()), rates


def step_traffic(layer, batch):
    """Bytes of state read and written by one step (forward + gradient) of a statevector PQC
    layer: ``(bytes, source)``.

    Uses ``StatevectorSimulator.traffic(batch)`` (``state_bytes``, ``passes_forward``,
    ``passes_gradient``; a pass reads and writes the batch's state once) when the simulator has it.
    Otherwise our own rough estimate: every fused step of the forward pass reads and writes the
    state once, plus one pass for the observables; the gradient reverses each step (autodiff:
    reads the saved input and the co-state, writes the co-state, about 1.5 passes; the adjoint
    method un-computes the state as well, about 2 passes). It ignores that the first steps of a
    product-state prefix touch less than the full state, and that a cache may serve a pass."""
    from tfq_layers.backends import memory

    sim = layer._engine.backend.simulators[0]
    traffic = getattr(sim, "traffic", None)
    if traffic is not None:
        t = traffic(batch)  # its "gradient" call is the whole step: forward + gradient
        return float(t["bytes_gradient"]), "simulator's traffic()"
    state = memory.state_bytes(sim.n_qubits, batch)
    forward = sim.n_steps + 1
    backward = (2.0 if sim.gradient == "adjoint" else 1.5) * sim.n_steps
    return 2.0 * state * (forward + backward), "own estimate (no traffic() in this simulator)"


ROOFLINE_FROM = 16  # qubits: below, per-call overheads, not memory traffic, set the step time


def run(cases=DEFAULT_CASES, budget_s=4.0, min_repeats=5, max_repeats=50, block=None):
    print(f"machine: {machine_summary()}")
    device, label = statevector_device()
    print(f"statevector backend on: {label}; TFQ on the CPU")
    bandwidth = None
    if any(n >= ROOFLINE_FROM for n, _, _ in cases):
        bandwidth, rates = measure_bandwidth(device)
        print(
            "memory bandwidth (copy of a 256 MiB array, read + write): "
            + ", ".join(f"{k} {v / 1e9:.1f} GB/s" for k, v in rates.items()),
            flush=True,
        )
    head = (
        f"{'n':>3} {'L':>2} {'batch':>5} | {'raw TFQ op':>10} {'pqc tfq':>10} {'pqc sv':>10} "
        f"{'pqc auto':>10} | {'tfq/raw':>7} {'raw/sv':>7} {'auto/best':>9} auto="
    )
    print(head)
    rows = []
    for n, layers, batch in cases:
        circuit, xs, ws, obs = workload(n, layers)
        sv_step = layer_step_fn(circuit, xs, ws, obs, backend="statevector")
        steps = {
            "raw": raw_step_fn(circuit, xs, ws, obs),
            "tfq": layer_step_fn(circuit, xs, ws, obs, backend="tfq"),
            "sv": sv_step,
            "auto": layer_step_fn(circuit, xs, ws, obs),
        }
        if n <= 12:  # XLA compile time grows with the unrolled circuit; the step gains little above
            steps["sv_xla"] = layer_step_fn(
                circuit, xs, ws, obs, backend="statevector", jit_compile=True
            )
        if n <= 8:  # full-register matrices: 2**n x 2**n
            steps["dense"] = dense_step_fn(n, layers)
            steps["dense_xla"] = dense_step_fn(n, layers, jit_compile=True)
        steps["floor"] = floor_step_fn(n, len(ws))
        steps["floor_xla"] = floor_step_fn(n, len(ws), jit_compile=True)
        inputs = [tf.constant(x) for x in workload_inputs(n, batch)]
        check_agree(steps, inputs[0])
        probe = time_interleaved(steps, inputs, repeats=1)
        # blocks of back-to-back calls lasting ~30 ms for the fastest contender (see time_interleaved)
        fastest = min(v for k, v in probe.items() if k not in REFERENCES)
        calls = block or int(min(20, max(1, round(0.03 / max(fastest, 1e-6)))))
        repeats = int(
            min(max_repeats, max(min_repeats, budget_s / max(calls * sum(probe.values()), 1e-6)))
        )
        t = time_interleaved(steps, inputs, repeats, warmup=0, block=calls)
        auto_name = PQC(circuit, obs, input_symbols=xs)
        auto_name.build((None, n))
        row = dict(
            n=n,
            layers=layers,
            batch=batch,
            **t,
            auto_backend=auto_name.backend,
            overhead=t["tfq"] / t["raw"],
            speedup=t["raw"] / t["sv"],
            auto_vs_best=t["auto"] / min(t["tfq"], t["sv"]),
            repeats=repeats,
            block=calls,
        )
        rows.append(row)
        xla = (
            f"; sv with the whole step under XLA {_ms(t['sv_xla'])}, raw/that "
            f"{t['raw'] / t['sv_xla']:.1f}x"
            if "sv_xla" in t
            else ""
        )
        print(
            f"{n:>3} {layers:>2} {batch:>5} | {_ms(t['raw'])} {_ms(t['tfq'])} {_ms(t['sv'])} "
            f"{_ms(t['auto'])} | {row['overhead']:7.3f} {row['speedup']:6.1f}x "
            f"{row['auto_vs_best']:9.3f} {auto_name.backend}  ({repeats} rounds of {calls} calls{xla})",
            flush=True,
        )
        dense = (
            f"; hand-written dense TF simulation {_ms(t['dense']).strip()} graph, "
            f"{_ms(t['dense_xla']).strip()} XLA"
            if "dense" in t
            else ""
        )
        print(
            f"{'':15}  no-simulation floor {_ms(t['floor']).strip()} graph, "
            f"{_ms(t['floor_xla']).strip()} XLA: raw/floor {t['raw'] / t['floor']:.1f}x, "
            f"{t['raw'] / t['floor_xla']:.1f}x{dense}",
            flush=True,
        )
        if bandwidth is not None and n >= ROOFLINE_FROM:
            moved, source = step_traffic(sv_step.layer, batch)
            row.update(
                traffic_bytes=moved, bandwidth=bandwidth, roofline=moved / bandwidth / t["sv"]
            )
            print(
                f"{'':15}  roofline (statevector): {moved / 2**30:.2f} GiB of state read + "
                f"written per step ({source}); at {bandwidth / 1e9:.1f} GB/s that is "
                f"{_ms(moved / bandwidth).strip()}, the step takes {_ms(t['sv']).strip()}: "
                f"{100 * row['roofline']:.0f}% of the roofline",
                flush=True,
            )
    return rows


def fit_model(n, layers, n_features, backend, jit_compile, steps_per_execution=1):
    """``Dense(n, tanh) -> PQC(workload circuit) -> Dense(1, sigmoid)``, compiled as a user would
    (Adam, binary cross-entropy, accuracy)."""
    from tfq_layers._keras import keras

    circuit, xs, ws, obs = workload(n, layers)
    inputs = keras.Input((n_features,))
    h = keras.layers.Dense(n, activation="tanh")(inputs)
    z = PQC(circuit, obs, input_symbols=xs, backend=backend)(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(z))
    model.compile(
        keras.optimizers.Adam(0.01),
        "binary_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def _fit_data(examples, n_features):
    """Random features and a learnable 0/1 label (the timing does not depend on the values)."""
    x = np.random.default_rng(0).normal(size=(examples, n_features)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.float32)


def run_fit(n=4, layers=2, batch=32, examples=512, n_features=30, rounds=5):
    """Median seconds per ``model.fit`` step of the hybrid model (:func:`fit_model`) with each
    backend: the time between consecutive ``on_train_batch_end`` calls, so it includes everything
    Keras does per step (data, optimizer, metrics) and nothing ``fit`` does once per call. The
    backends take turns, one epoch each, for ``rounds`` rounds."""
    from tfq_layers._keras import keras

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.marks, self.deltas = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.marks = []

        def on_train_batch_end(self, batch, logs=None):
            self.marks.append(time.perf_counter())
            if len(self.marks) > 1:
                self.deltas.append(self.marks[-1] - self.marks[-2])

    x, y = _fit_data(examples, n_features)
    models = {
        "tfq": fit_model(n, layers, n_features, "tfq", False),
        "sv": fit_model(n, layers, n_features, "statevector", False),
        "sv_xla": fit_model(n, layers, n_features, "statevector", True),
    }
    clocks = {name: Clock() for name in models}
    for model in models.values():  # trace and compile
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    order = list(models)
    shuffle = np.random.default_rng(0)
    for _ in range(rounds):
        shuffle.shuffle(order)
        for name in order:
            models[name].fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[clocks[name]])
    t = {name: statistics.median(clock.deltas) for name, clock in clocks.items()}
    print(
        f"model.fit, Dense({n_features}->{n}) -> PQC(n={n}, L={layers}) -> Dense(1), batch {batch}, "
        f"per step: tfq {_ms(t['tfq']).strip()}, statevector {_ms(t['sv']).strip()}, statevector "
        f"with jit_compile=True {_ms(t['sv_xla']).strip()}; tfq/sv {t['tfq'] / t['sv']:.1f}x, "
        f"tfq/(sv, XLA) {t['tfq'] / t['sv_xla']:.1f}x",
        flush=True,
    )
    return t


def run_fit_throughput(n=4, layers=2, batch=32, examples=512, n_features=30, epochs=10, rounds=3):
    """Whole-training time per step (``fit(epochs=epochs)`` divided by its steps, so including what
    Keras does once per epoch) for each backend with ``steps_per_execution`` 1 and 16."""
    x, y = _fit_data(examples, n_features)
    models = {}
    for backend, jit in (("tfq", False), ("statevector", False), ("statevector", True)):
        for spe in (1, 16):
            model = fit_model(n, layers, n_features, backend, jit, steps_per_execution=spe)
            model.fit(x, y, batch_size=batch, epochs=2, verbose=0)  # trace and compile
            models[(backend + (", XLA" if jit else ""), spe)] = model
    steps = epochs * (examples // batch)
    times = {key: [] for key in models}
    for _ in range(rounds):
        for key, model in models.items():
            t0 = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
            times[key].append((time.perf_counter() - t0) / steps)
    t = {key: statistics.median(v) for key, v in times.items()}
    for key, value in t.items():
        print(
            f"model.fit throughput, {key[0]}, steps_per_execution={key[1]}: {_ms(value).strip()} "
            "per step",
            flush=True,
        )
    return t


def _ms(seconds):
    return f"{seconds * 1e3:8.2f}ms"


def _vm_kib(field):
    """``VmHWM``/``VmRSS`` of this process in KiB (Linux). Unlike ``ru_maxrss``, ``VmHWM`` starts
    afresh at ``execve``, so a probe started by a large parent is not charged the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory_probe(n, layers, batch, backend):
    """One step of the PQC layer with ``backend`` in this (fresh) process; print peak memory."""
    circuit, xs, ws, obs = workload(n, layers)
    step = layer_step_fn(circuit, xs, ws, obs, backend=backend)
    inputs = tf.constant(np.random.default_rng(1).uniform(0, 3, (batch, n)).astype(np.float32))
    before = _vm_kib("VmHWM") / 1024
    _block(step(inputs))
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
        _block(step(inputs))
        peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20
    except (ValueError, RuntimeError):
        peak = float("nan")
    after = _vm_kib("VmHWM") / 1024
    print(
        f"MEMORY n={n} L={layers} batch={batch} backend={backend}: process peak RSS "
        f"{after:.0f} MiB (of which {before:.0f} MiB before the first step: TF, TFQ, Cirq and "
        f"the model), TF allocator peak {peak:.0f} MiB",
        flush=True,
    )


def run_memory(cases):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true"}
    for n, layers, batch in cases:
        for backend in ("tfq", "statevector"):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.step_time",
                    "--memory-probe",
                    f"{n},{layers},{batch},{backend}",
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("MEMORY")]
            print(lines[-1] if lines else out.stderr[-1500:], flush=True)


def run_many_circuits(sizes=(4, 8), depth=10, count=100, repeats=5, seed=0):
    """The barren-plateaus pattern: ``count`` different random circuits sharing symbols in one
    compat ``Expectation`` call, forward + gradient, per backend (first call = set-up and
    tracing; then the median of ``repeats`` calls). Outputs and gradients are checked to agree
    before timing is reported."""
    import sympy

    from tfq_layers.compat import layers as compat

    rng = np.random.default_rng(seed)
    for n in sizes:
        qubits = cirq.GridQubit.rect(1, n)
        symbols = sympy.symbols(f"t0:{n * depth}")
        circuits = []
        for _ in range(count):
            c = cirq.Circuit(cirq.ry(np.pi / 4).on_each(*qubits))
            for d in range(depth):
                c.append(
                    [cirq.rx, cirq.ry, cirq.rz][rng.integers(3)](symbols[d * n + i]).on(q)
                    for i, q in enumerate(qubits)
                )
                c.append(cirq.CZ(qubits[i], qubits[i + 1]) for i in range(n - 1))
            circuits.append(c)
        values = tf.constant(rng.uniform(0, 2 * np.pi, (count, len(symbols))), tf.float32)
        op = cirq.Z(qubits[0]) * cirq.Z(qubits[1])
        results, times = {}, {}
        for backend in ("tfq", "statevector"):
            layer = compat.Expectation(backend=backend)
            spent = []
            for _ in range(repeats + 1):
                start = time.perf_counter()
                with tf.GradientTape() as tape:
                    tape.watch(values)
                    out = layer(
                        circuits,
                        symbol_names=[s.name for s in symbols],
                        symbol_values=values,
                        operators=op,
                    )
                grad = tape.gradient(out, values)
                spent.append(time.perf_counter() - start)
            results[backend] = (out.numpy(), grad.numpy())
            times[backend] = (spent[0], float(np.median(spent[1:])))
        diff = max(np.abs(results["tfq"][i] - results["statevector"][i]).max() for i in (0, 1))
        if diff > 1e-3:
            raise RuntimeError(f"backends disagree by {diff} at n={n}; not timing")
        print(
            f"many circuits n={n} depth={depth} count={count}: "
            + ", ".join(f"{b} first {t[0]:.2f} s, then {t[1]:.3f} s" for b, t in times.items())
            + f"; statevector/tfq {times['statevector'][1] / times['tfq'][1]:.2f}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=4.0,
        help="seconds of timing per case (more repeats = less noise)",
    )
    parser.add_argument("--quick", action="store_true", help="only the two smallest cases")
    parser.add_argument(
        "--sizes",
        nargs="*",
        default=None,
        help="n,L,batch triples instead of the default cases, e.g. 16,4,32",
    )
    parser.add_argument("--min-repeats", type=int, default=5, help="fewest rounds per case")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    parser.add_argument(
        "--block",
        type=int,
        default=None,
        help="calls per contender per round (default: ~30 ms worth; 1 = strictly "
        "alternating single calls)",
    )
    parser.add_argument(
        "--no-fit",
        action="store_true",
        help="skip the model.fit comparison (hybrid model at 4 qubits)",
    )
    parser.add_argument(
        "--fit-throughput",
        action="store_true",
        help="only: whole-training time per step by backend and steps_per_execution",
    )
    parser.add_argument(
        "--many-circuits",
        action="store_true",
        help="only the batch-of-different-circuits comparison (barren plateaus)",
    )
    parser.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        n, layers, batch, backend = args.memory_probe.split(",")
        memory_probe(int(n), int(layers), int(batch), backend)
        return
    if args.fit_throughput:
        run_fit_throughput()
        return
    if args.many_circuits:
        run_many_circuits()
        return
    cases = DEFAULT_CASES[:2] if args.quick else DEFAULT_CASES
    if args.sizes:
        cases = [tuple(int(v) for v in s.split(",")) for s in args.sizes]
    run(cases, budget_s=args.budget, block=args.block, min_repeats=args.min_repeats)
    if not args.no_fit:
        run_fit()
    if not args.no_memory:
        run_memory([(16, 4, 32)] if not args.quick else [(8, 4, 64)])


if __name__ == "__main__":
    main()
