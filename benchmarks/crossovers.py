"""Where ``backend="auto"`` should switch: both backends timed on a grid (``make bench-crossovers``).

``python -m benchmarks.crossovers [--quick] [--rounds R] [--json PATH]``

Each point is the PQC layer on :mod:`benchmarks.workload` with ``backend="tfq"`` and with
``backend="statevector"`` (everything else equal), one step = forward + gradient of the summed
output with respect to the weights and the inputs in a ``tf.function``, the two timed interleaved
in one process (alternating order each round; the quartiles of the per-round ratio give the
spread). Points from
20 qubits on run in a fresh process each, so one size's memory does not weigh on the next.

Kinds of point:

* ``exact``: analytic expectations (TFQ: its expectation op with the adjoint differentiator;
  statevector: exact autodiff or adjoint).
* ``shots``: ``repetitions=R`` on the noiseless workload (TFQ: sampled expectation op with
  parameter-shift gradients; statevector: shot noise drawn from the exact expectation, exact
  straight-through gradient).
* ``noisy``: the workload with ``cirq.depolarize(p)`` on every qubit after every layer,
  ``repetitions=R`` trajectories (TFQ: its noisy expectation op, parameter shift; statevector:
  R trajectories per example, autodiff).

Before a point is timed its two contenders are checked to agree: gradients within float32
tolerance for ``exact``, outputs within 6 standard errors of the sampling for ``shots``/``noisy``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.workload import workload, workload_inputs, workload_weights  # noqa: E402

NOISE = 0.01  # depolarizing probability per qubit per layer in "noisy" points

# (kind, n, layers, batch, repetitions)
GRID = (
    [("exact", n, L, b, None) for n in (4, 8, 12, 16) for L in (1, 4) for b in (1, 32)]
    + [
        ("exact", 20, 1, 1, None),
        ("exact", 20, 2, 8, None),
        ("exact", 20, 4, 8, None),
        ("exact", 22, 1, 1, None),
        ("exact", 22, 2, 4, None),
        ("exact", 24, 1, 2, None),
    ]
    + [("shots", n, 2, b, r) for n in (4, 8, 12) for b in (8,) for r in (100, 1000)]
    + [
        ("noisy", 4, 2, 8, 100),
        ("noisy", 8, 2, 8, 100),
        ("noisy", 8, 1, 8, 100),
        ("noisy", 12, 1, 8, 100),
        ("noisy", 4, 1, 32, 1000),
    ]
)
QUICK = [
    ("exact", 4, 2, 32, None),
    ("exact", 12, 4, 8, None),
    ("shots", 4, 2, 8, 100),
    ("noisy", 4, 2, 8, 100),
]
FRESH_PROCESS_FROM = 20  # qubits


def noisy_workload(n, layers, p=NOISE):
    """The workload with ``cirq.depolarize(p)`` on every qubit after each layer's CNOT ring."""
    return workload(n, layers, noise=p)


def layer_step(kind, n, layers, repetitions, backend):
    """``(step(inputs) -> [weight gradient, input gradient, outputs], layer)``."""
    import tensorflow as tf

    from tfq_layers import PQC

    circuit, xs, ws, obs = (noisy_workload if kind == "noisy" else workload)(n, layers)
    layer = PQC(circuit, obs, input_symbols=xs, backend=backend, repetitions=repetitions)
    layer.build((None, n))
    values = dict(zip([w.name for w in ws], workload_weights(len(ws))))
    layer.circuit_weights.assign([values[w.name] for w in layer.weight_symbols])

    @tf.function
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            out = layer(inputs)
            loss = tf.reduce_sum(out)
        return tape.gradient(loss, [layer.circuit_weights, inputs]) + [out]

    return step, layer


def check_agree(kind, results, repetitions):
    """Raise unless the two backends computed the same thing (see the module docstring)."""
    (ga, gxa, outa), (gb, gxb, outb) = results
    if kind == "exact":
        scale = max(1.0, float(np.max(np.abs(ga))), float(np.max(np.abs(gxa))))
        err = max(float(np.max(np.abs(ga - gb))), float(np.max(np.abs(gxa - gxb))))
        if not err <= 2e-3 * scale:
            raise AssertionError(f"gradients disagree by {err:.2e} (scale {scale:.1f})")
        return err
    # each output is a mean of +-1 outcomes over `repetitions` shots/trajectories
    err = float(np.max(np.abs(outa - outb)))
    bound = 6 * np.sqrt(2.0 / repetitions)
    if not err <= bound:
        raise AssertionError(f"outputs disagree by {err:.3f} > {bound:.3f} (6 standard errors)")
    return err


def measure(kind, n, layers, batch, repetitions, budget_s=6.0, min_rounds=3, max_rounds=30):
    """Time both backends at one point; return a dict with medians, the ratio and its spread."""
    import tensorflow as tf

    from tfq_layers import PQC

    steps = {b: layer_step(kind, n, layers, repetitions, b)[0] for b in ("tfq", "statevector")}
    inputs = [tf.constant(x) for x in workload_inputs(n, batch)]
    first = {b: [t.numpy() for t in fn(inputs[0])] for b, fn in steps.items()}  # also traces
    err = check_agree(kind, [first["tfq"], first["statevector"]], repetitions)
    probe = {}
    for b, fn in steps.items():
        _block(fn(inputs[1]))  # a second warm-up call (first-run allocations, thread pools)
        t0 = time.perf_counter()
        _block(fn(inputs[2]))
        probe[b] = time.perf_counter() - t0
    rounds = int(min(max_rounds, max(min_rounds, budget_s / max(sum(probe.values()), 1e-6))))
    times = {b: [] for b in steps}
    order = list(steps)
    for r in range(rounds):
        for b in order if r % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            _block(steps[b](inputs[r % len(inputs)]))
            times[b].append(time.perf_counter() - t0)
    ratios = sorted(t / s for t, s in zip(times["tfq"], times["statevector"]))
    q1, q3 = ratios[(len(ratios) - 1) // 4], ratios[(3 * (len(ratios) - 1) + 3) // 4]
    circuit = (noisy_workload if kind == "noisy" else workload)(n, layers)
    auto = PQC(circuit[0], circuit[3], input_symbols=circuit[1], repetitions=repetitions)
    auto.build((None, n))
    return dict(
        kind=kind,
        n=n,
        layers=layers,
        batch=batch,
        repetitions=repetitions,
        tfq=statistics.median(times["tfq"]),
        sv=statistics.median(times["statevector"]),
        ratio=statistics.median(ratios),
        ratio_q1=q1,
        ratio_q3=q3,
        rounds=rounds,
        agree=err,
        auto=auto.backend,
    )


def _block(result):
    for t in result:
        t.numpy()


def _in_fresh_process(point, budget_s):
    spec = ",".join("" if v is None else str(v) for v in point)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.crossovers", "--point", spec, "--budget", str(budget_s)],
        capture_output=True,
        text=True,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    kind, n, layers, batch, reps = point
    return dict(
        kind=kind,
        n=n,
        layers=layers,
        batch=batch,
        repetitions=reps,
        failed=f"process exited with code {out.returncode}: {out.stderr[-300:].strip()}",
    )


def _parse_point(spec):
    kind, n, layers, batch, reps = spec.split(",")
    return kind, int(n), int(layers), int(batch), int(reps) if reps else None


def table(rows):
    """The rows as a Markdown table."""
    lines = [
        "| kind | n | L | batch | R | TFQ | statevector | TFQ / statevector (quartiles of rounds) | faster "
        "| auto | auto / best |",
        "|---" * 11 + "|",
    ]
    for r in rows:
        if "failed" in r:
            lines.append(
                f"| {r['kind']} | {r['n']} | {r['layers']} | {r['batch']} | "
                f"{r['repetitions'] or '-'} | failed: {r['failed'][:60]} |"
            )
            continue
        best = "statevector" if r["sv"] < r["tfq"] else "tfq"
        picked = r["sv"] if r["auto"] == "statevector" else r["tfq"]
        lines.append(
            f"| {r['kind']} | {r['n']} | {r['layers']} | {r['batch']} | {r['repetitions'] or '-'} "
            f"| {_fmt(r['tfq'])} | {_fmt(r['sv'])} | {r['ratio']:.2f} ({r['ratio_q1']:.2f}-"
            f"{r['ratio_q3']:.2f}) | {best} | {r['auto']} | {picked / min(r['sv'], r['tfq']):.2f} |"
        )
    return "\n".join(lines)


def _fmt(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="four small points only")
    parser.add_argument("--budget", type=float, default=6.0, help="seconds of timing per point")
    parser.add_argument("--only", default=None, help="only points of this kind (exact/shots/noisy)")
    parser.add_argument("--max-qubits", type=int, default=24)
    parser.add_argument("--min-qubits", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    parser.add_argument("--point", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        print(
            "RESULT " + json.dumps(measure(*_parse_point(args.point), budget_s=args.budget)),
            flush=True,
        )
        return
    from benchmarks.step_time import machine_summary

    print(f"machine: {machine_summary()}", flush=True)
    points = [
        p
        for p in (QUICK if args.quick else GRID)
        if (args.only is None or p[0] == args.only) and args.min_qubits <= p[1] <= args.max_qubits
    ]
    rows = []
    for point in points:
        if point[1] >= FRESH_PROCESS_FROM:
            row = _in_fresh_process(point, args.budget)
        else:
            row = measure(*point, budget_s=args.budget)
        rows.append(row)
        if "failed" in row:
            print(f"{point}: {row['failed']}", flush=True)
            continue
        print(
            f"{row['kind']:>5} n={row['n']:>2} L={row['layers']} batch={row['batch']:>2} "
            f"R={row['repetitions'] or '-':>4}: tfq {_fmt(row['tfq'])}, statevector "
            f"{_fmt(row['sv'])}, tfq/sv {row['ratio']:.2f} ({row['ratio_q1']:.2f}-"
            f"{row['ratio_q3']:.2f} over {row['rounds']} rounds), auto={row['auto']}",
            flush=True,
        )
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
