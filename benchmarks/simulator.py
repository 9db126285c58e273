"""Timing of the pure-TF statevector simulator against TFQ on the reference workload.

Workload: :mod:`benchmarks.workload` (n qubits, rx angle encoding, L layers of (ry, rz on every
qubit + CNOT ring), <Z> on every qubit); forward + gradient w.r.t. all symbol values of a batch,
inside a `tf.function` graph. Both simulators are timed in the same process, interleaved, so the
ratio is meaningful on a shared machine.

Run: ``python -m benchmarks.simulator [--sizes 4,2,32 8,4,64 ...] [--no-tfq]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cirq  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.workload import DEFAULT_CASES, workload  # noqa: E402
from tfq_layers.backends.statevector import StatevectorSimulator  # noqa: E402

DEFAULT_SIZES = list(DEFAULT_CASES)


def _workload(n, layers):
    """The shared workload as ``(circuit, symbol names, observables, qubits)``."""
    circuit, xs, ws, obs = workload(n, layers)
    return circuit, [s.name for s in xs + ws], obs, cirq.GridQubit.rect(1, n)


def _timeit(fn, reps, batches):
    """Best wall and CPU seconds of ``fn(batch)``, cycling through distinct ``batches`` (so a
    compilation that depends on input values cannot hide behind a repeated batch)."""
    fn(batches[0])  # warm-up / compile
    best, cpu = float("inf"), float("inf")
    for i in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(batches[(i + 1) % len(batches)])
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def _simulator(circuit, names, qs, n, shared, **kwargs):
    """The simulator of the workload; ``shared``: the weights are shared symbols (as in PQC)."""
    if shared:
        return StatevectorSimulator(circuit, names[:n], qs, shared_symbols=names[n:], **kwargs)
    return StatevectorSimulator(circuit, names, qs, **kwargs)


def _sim_expectation(sim, v, n, obs):
    """Expectations for full values v (batch, n + n_weights) (row 0's weights when shared)."""
    if sim.shared_symbols:
        return sim.expectation(v[:, :n], obs, shared_values=v[0, n:])
    return sim.expectation(v, obs)


def bench(
    n,
    layers,
    batch,
    reps=5,
    tfq=True,
    gradients=("autodiff", "adjoint"),
    jit=(True,),
    fusion=(None,),
    shared=(True,),
):
    """Time forward+gradient for TFQ (adjoint differentiator) and our simulator variants."""
    circuit, names, obs, qs = _workload(n, layers)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(3):
        values = rng.uniform(-np.pi, np.pi, size=(batch, len(names))).astype(np.float32)
        values[:, n:] = values[0, n:]  # one set of weights for the batch, as in a layer
        batches.append(tf.constant(values))
    rows = []
    if tfq:
        try:
            import tensorflow_quantum as tfq_mod
        except ImportError:  # pragma: no cover
            tfq_mod = None
        if tfq_mod is not None:
            op = tfq_mod.differentiators.Adjoint().generate_differentiable_op(
                analytic_op=tfq_mod.get_expectation_op()
            )
            circ_t = tfq_mod.convert_to_tensor([circuit] * batch)
            ops_t = tfq_mod.convert_to_tensor([obs] * batch)
            names_t = tf.constant(names)

            @tf.function
            def run_tfq(v):
                with tf.GradientTape() as t:
                    t.watch(v)
                    e = op(circ_t, names_t, v, ops_t)
                    loss = tf.reduce_sum(e)
                return loss, t.gradient(loss, v)

            rows.append(("tfq adjoint", *_timeit(lambda v: run_tfq(v)[1].numpy(), reps, batches)))
    for grad in gradients:
        for j, fq, sh in [(j, fq, sh) for j in jit for fq in fusion for sh in shared]:
            sim = _simulator(
                circuit, names, qs, n, sh, gradient=grad, jit_compile=j, fusion_qubits=fq
            )

            @tf.function
            def run(v, sim=sim):
                with tf.GradientTape() as t:
                    t.watch(v)
                    e = _sim_expectation(sim, v, n, obs)
                    loss = tf.reduce_sum(e)
                return loss, t.gradient(loss, v)

            rows.append(
                (
                    f"sv {grad}{' xla' if sim.jit_compile else ''}{' shared' if sh else ''} "
                    f"k={sim.fusion_qubits} ({sim.n_steps} steps)",
                    *_timeit(lambda v: run(v)[1].numpy(), reps, batches),
                )
            )
    return rows


def memory_probe(n, layers, batch, gradient, jit):
    """Run one forward+gradient and print the TF allocator peak and the process peak RSS.

    Meant to run in a fresh process with TF_CPU_ALLOCATOR_USE_BFC=true (see `--memory`).
    """
    circuit, names, obs, qs = _workload(n, layers)
    values = tf.constant(
        np.random.default_rng(0).uniform(-3, 3, (batch, len(names))).astype(np.float32)
    )
    sim = _simulator(
        circuit,
        names,
        qs,
        n,
        True,
        gradient=gradient,
        jit_compile={"auto": "auto", "1": True, "0": False}[jit],
    )

    @tf.function
    def run(v):
        with tf.GradientTape() as t:
            t.watch(v)
            loss = tf.reduce_sum(_sim_expectation(sim, v, n, obs))
        return t.gradient(loss, v)

    run(values).numpy()
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
        run(values).numpy()
        peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20
    except (ValueError, RuntimeError):  # allocator without statistics
        peak = float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"MEMORY n={n} L={layers} batch={batch} {sim.gradient} xla={sim.jit_compile}: "
        f"TF allocator peak {peak:.0f} MiB (steady-state call), process peak RSS {rss:.0f} MiB"
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", nargs="*", default=None, help="n,L,batch triples, e.g. 8,4,64")
    p.add_argument("--no-tfq", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--gradients", default="autodiff,adjoint")
    p.add_argument("--jit", default="auto", help="jit_compile variants: auto, 1, 0 or both")
    p.add_argument("--fusion", default="", help="comma-separated fusion_qubits values to compare")
    p.add_argument(
        "--shared",
        default="1",
        help="weights as shared symbols (as PQC passes them): 1, 0 (tiled per example) or both",
    )
    p.add_argument(
        "--memory",
        action="store_true",
        help="measure memory of each size in a fresh subprocess instead of timing",
    )
    p.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.memory_probe:
        n, L, b, g, j = a.memory_probe.split(",")
        memory_probe(int(n), int(L), int(b), g, j)
        return
    if a.memory:
        import subprocess
        import sys

        sizes = (
            DEFAULT_SIZES if not a.sizes else [tuple(int(x) for x in s.split(",")) for s in a.sizes]
        )
        env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true"}
        for n, L, b in sizes:
            for g in a.gradients.split(","):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.simulator",
                        "--memory-probe",
                        f"{n},{L},{b},{g},{a.jit}",
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                )
                lines = [ln for ln in out.stdout.splitlines() if ln.startswith("MEMORY")]
                print(lines[-1] if lines else out.stderr[-1000:], flush=True)
        return
    sizes = DEFAULT_SIZES if not a.sizes else [tuple(int(x) for x in s.split(",")) for s in a.sizes]
    print(
        f"{'n':>3} {'L':>2} {'batch':>5}  {'variant':<36} {'wall ms':>9} {'cpu ms':>9} {'vs tfq':>7}"
    )
    for n, L, b in sizes:
        rows = bench(
            n,
            L,
            b,
            reps=a.reps,
            tfq=not a.no_tfq,
            gradients=a.gradients.split(","),
            jit={"auto": ("auto",), "1": (True,), "0": (False,), "both": (True, False)}[a.jit],
            fusion=tuple(int(f) for f in a.fusion.split(",")) if a.fusion else (None,),
            shared={"1": (True,), "0": (False,), "both": (True, False)}[a.shared],
        )
        ref = rows[0][1] if rows and rows[0][0].startswith("tfq") else None
        for name, wall, cpu in rows:
            ratio = f"{ref / wall:6.1f}x" if ref else ""
            print(
                f"{n:>3} {L:>2} {b:>5}  {name:<36} {wall * 1e3:9.2f} {cpu * 1e3:9.2f} {ratio:>7}",
                flush=True,
            )
    print(
        f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
