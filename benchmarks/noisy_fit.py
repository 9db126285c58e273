"""Training a small noisy classifier end to end: ``python -m benchmarks.noisy_fit`` (issue #13).

Workload: :func:`benchmarks.workload.workload` at 4 qubits, 2 layers (``--qubits``,
``--layers``), ``cirq.depolarize(p)`` on every qubit after each layer (``--noise``, default 0.01);
the ``rx`` angles are the input features; ``<Z_i>`` on every qubit, then ``Dense(1)`` (logits);
the label says whether the first half of the features sums to more than the rest. 80 training
examples, 40
validation examples, ``batch_size=32`` (so the last training batch holds 16 examples and the
validation batches 32 and 8), 20 epochs, Adam(0.05), binary cross-entropy. Every contender
averages ``--repetitions`` trajectories (default 100; TFQ's NoisyPQC ``repetitions``).

Contenders, each in its own fresh process (nothing compiled or cached carries over), in turn
for every round so that machine load drifts hit all alike:

* ``pqc auto``, ``pqc statevector``, ``pqc tfq``: ``tfq_layers.PQC(circuit, ..., input_symbols=
  x, repetitions=R, backend=...)`` on the features;
* ``compat NoisyPQC``: ``tfq_layers.compat.NoisyPQC(model_circuit, ..., repetitions=R,
  sample_based=False)`` on TFQ-style input, the encoding circuits as ``tf.string`` quantum data
  (only TFQ reads quantum data, so it runs on TFQ's noisy op: there is no statevector variant).

Each child reports the wall time of ``model.fit`` (with ``validation_data``), of its first
epoch and of the mean later epoch, and the losses. ``--diagnose`` instead times the statevector
simulator's steps per batch size with and without XLA (see ``diagnose``).
"""

import argparse
import json
import platform
import statistics
import sys

CONTENDERS = {
    "pqc auto": ("pqc", "auto"),
    "pqc statevector": ("pqc", "statevector"),
    "pqc tfq": ("pqc", "tfq"),
    "compat NoisyPQC": ("compat", "noisy"),
}

# The child: builds the data and the model, times model.fit, prints one JSON line.
CHILD = r"""
import json, sys, time
import numpy as np
import tensorflow as tf
import keras
from benchmarks.noisy_fit import build_data, build_model

kind, backend, reps, noise, epochs, batch, n, layers = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), \
    int(sys.argv[8])
keras.utils.set_random_seed(0)
data = build_data(kind, noise, n)
model, layer = build_model(kind, backend, reps, noise, n, layers)
ends = []

class Clock(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        ends.append(time.perf_counter())

start = time.perf_counter()
hist = model.fit(data["x"], data["y"], batch_size=batch, epochs=epochs, verbose=0,
                 validation_data=(data["vx"], data["vy"]), callbacks=[Clock()], shuffle=True)
fit = time.perf_counter() - start
epoch_times = np.diff([start] + ends)
print(json.dumps({"backend": layer.backend, "fit": fit, "first": float(epoch_times[0]),
                  "rest": float(np.mean(epoch_times[1:])) if epochs > 1 else float("nan"),
                  "loss": hist.history["loss"][-1], "val_loss": hist.history["val_loss"][-1],
                  "val_accuracy": hist.history["val_accuracy"][-1]}))
"""


def build_data(kind, noise, n=4, n_train=80, n_val=40, seed=7):
    """Features in [0, pi), labels: the first half of them sums to more than the second half;
    ``kind="compat"`` gives the features
    as encoding circuits (``tf.string``), the input of TFQ's high-level layers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, np.pi, (n_train + n_val, n)).astype(np.float32)
    y = (x[:, : n // 2].sum(1) > x[:, n // 2 :].sum(1)).astype(np.float32)[:, None]
    if kind == "compat":
        x = _encode(x, n)  # a tf.string tensor (Keras takes no numpy array of bytes objects)
    return {"x": x[:n_train], "y": y[:n_train], "vx": x[n_train:], "vy": y[n_train:]}


def _encode(x, n):
    import cirq
    import tensorflow_quantum as tfq

    from benchmarks.workload import workload

    circuit, xs, _, _ = workload(n, 1)
    encoder = cirq.Circuit(circuit[0])  # the rx(x_i) moment
    return tfq.convert_to_tensor(
        [cirq.resolve_parameters(encoder, dict(zip(xs, row))) for row in x]
    )


def build_model(kind, backend, repetitions, noise, n=4, layers=2):
    """``(model, quantum layer)``: the quantum layer, then ``Dense(1)`` (logits); compiled."""
    import keras

    import tfq_layers
    from benchmarks.workload import workload
    from tfq_layers.compat import layers as compat

    circuit, xs, _, obs = workload(n, layers, noise=noise)
    if kind == "compat":
        inputs = keras.Input(shape=(), dtype="string")
        layer = compat.NoisyPQC(
            circuit[1:], obs, repetitions=repetitions, sample_based=False, backend=backend
        )
    else:
        inputs = keras.Input(shape=(n,))
        layer = tfq_layers.PQC(
            circuit, obs, input_symbols=xs, repetitions=repetitions, backend=backend
        )
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(
        keras.optimizers.Adam(0.05),
        keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
    )
    return model, layer


def run_contender(name, args):
    from models._fresh import run_python

    kind, backend = CONTENDERS[name]
    out = run_python(
        CHILD,
        [
            kind,
            backend,
            str(args.repetitions),
            str(args.noise),
            str(args.epochs),
            str(args.batch),
            str(args.qubits),
            str(args.layers),
        ],
        timeout=3600,
    )
    return json.loads(out.strip().splitlines()[-1])


def diagnose(args):
    """Where the statevector backend's time goes: forward + gradient steps of the noisy circuit
    (``--qubits``, ``--layers``) with the simulator XLA-compiled and in plain graph mode, called
    the way Keras calls a layer (inside a ``tf.function`` whose batch dimension is unknown), for
    the batch sizes ``model.fit`` meets here (32, 16, 8: the full, the last training and the last
    validation batch) and two more; the first call of a new batch size pays XLA's compile. The
    two are timed interleaved in one process. Then the layer's own simulator (``backend="auto"``):
    whether it XLA-compiles and how often its functions were traced over batch sizes 1..40."""
    import time

    import numpy as np
    import tensorflow as tf

    import tfq_layers
    from benchmarks.workload import workload
    from tfq_layers.backends.statevector import StatevectorSimulator

    n, reps = args.qubits, args.repetitions
    circuit, xs, ws, obs = workload(n, args.layers, noise=args.noise)
    steps = {}
    for jit in (True, False):
        sim = StatevectorSimulator(
            circuit, xs, shared_symbols=ws, trajectories=reps, jit_compile=jit
        )
        w = tf.Variable(np.random.default_rng(0).uniform(0, 6, len(ws)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, n], tf.float32)])
        def step(x, sim=sim, w=w):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(sim.expectation(x, obs, shared_values=w))
            return tape.gradient(loss, w)

        steps["xla" if jit else "graph"] = step
    print(
        f"{n} qubits, {args.layers} layers, depolarize({args.noise}), {reps} trajectories: "
        "forward + gradient inside a tf.function with an unknown batch dimension"
    )
    print(
        f"{'batch':>6} {'XLA first s':>12} {'XLA later s':>12} {'graph first s':>14} "
        f"{'graph later s':>14}"
    )
    for b in (32, 16, 8, 5, 1):
        x = tf.constant(np.random.default_rng(b).uniform(0, 3, (b, n)).astype(np.float32))
        times = {name: [] for name in steps}
        for _ in range(6):
            for name, step in steps.items():
                t0 = time.perf_counter()
                step(x).numpy()
                times[name].append(time.perf_counter() - t0)
        print(
            f"{b:>6} {times['xla'][0]:>12.3f} {np.median(times['xla'][1:]):>12.4f} "
            f"{times['graph'][0]:>14.3f} {np.median(times['graph'][1:]):>14.4f}"
        )

    layer = tfq_layers.PQC(circuit, obs, input_symbols=xs, repetitions=reps)
    layer.build((None, n))
    for b in range(1, 41):
        layer(np.zeros((b, n), np.float32))
    sim = layer.simulator_backend.simulators[0]
    print(
        f"PQC(backend='auto') -> {layer.backend}, XLA-compiled: {sim.jit_compile}; traces "
        "of its simulator functions after eager calls with batch sizes 1..40:",
        {k[0]: _traces(f) for k, f in sim._fn_cache.items()},
    )


def _traces(fn):
    import tensorflow as tf

    if isinstance(fn, tf.types.experimental.PolymorphicFunction):
        return fn.experimental_get_tracing_count()
    return "(XLA custom-gradient wrapper)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=100, help="trajectories (default 100)")
    parser.add_argument("--noise", type=float, default=0.01, help="depolarizing p (default 0.01)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="runs of every contender (median)")
    parser.add_argument("--only", nargs="*", choices=list(CONTENDERS), help="a subset")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="instead: per-batch-size step costs, XLA vs graph (see diagnose)",
    )
    parser.add_argument("--qubits", type=int, default=4, help="default 4")
    parser.add_argument("--layers", type=int, default=2, help="default 2")
    args = parser.parse_args(argv)
    if args.diagnose:
        return diagnose(args)
    names = args.only or list(CONTENDERS)
    runs = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names:
            res = run_contender(name, args)
            runs[name].append(res)
            print(
                f"round {r + 1} {name:<16} [{res['backend']}] fit {res['fit']:7.1f} s "
                f"(first epoch {res['first']:.1f} s, later {res['rest']:.2f} s/epoch), "
                f"loss {res['loss']:.3f}, val_loss {res['val_loss']:.3f}",
                flush=True,
            )
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("fit", "first", "rest")}
        for name, rs in runs.items()
    }
    ref = "compat NoisyPQC" if "compat NoisyPQC" in med else None
    print(
        f"\n{platform.processor() or platform.machine()}, {platform.python_version()}; "
        f"{args.qubits} qubits, {args.layers} layers, depolarize({args.noise}), {args.repetitions} trajectories, "
        f"80 + 40 examples, batch {args.batch}, {args.epochs} epochs; median of {args.rounds}"
    )
    head = "| contender | backend | fit s | first epoch s | later epoch s |"
    if ref:
        head += " fit / NoisyPQC |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for name, m in med.items():
        line = (
            f"| {name} | {runs[name][0]['backend']} | {m['fit']:.1f} | {m['first']:.2f} | "
            f"{m['rest']:.3f} |"
        )
        if ref:
            line += f" {m['fit'] / med[ref]['fit']:.2f} |"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
