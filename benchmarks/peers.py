"""Peers on the same workload: TensorCircuit-NG and PennyLane-lightning (``make bench-peers``).

``make bench-peers`` creates ``.venv-peers`` (TensorCircuit-NG with JAX and cotengra,
PennyLane-lightning) and runs ``python -m benchmarks.peers --python .venv-peers/bin/python`` in the
project's environment. For each case of :mod:`benchmarks.workload`:

* each peer runs in its own process (a worker of this module in the peers' environment), set up
  and compiled once, then driven step by step over a pipe;
* before any timing, each peer's gradients (weights and inputs, same weights and batch) are checked
  against this project's statevector layer (max difference below 2e-3 times the gradient scale);
* rounds then run every contender, in a fresh random order, for one block of calls each: ``raw``
  (TFQ's op with the adjoint differentiator), ``pqc sv`` (this project's statevector backend),
  ``tcng`` and ``lightning``. A peer's time is measured inside its own process (the pipe is not
  counted). The median per call over rounds is reported.

Peers as configured here:

* ``tcng``: TensorCircuit-NG on its JAX backend, complex64, ``jax.jit`` of the gradient of the
  batch's summed ``<Z_i>``, with ``vmap`` over the batch; the expectations are contracted as
  tensor networks with a cotengra path optimizer (``ReusableHyperOptimizer``, greedy, a few
  repeats, so the path search stays short).
* ``lightning``: PennyLane's ``lightning.qubit`` device, ``c_dtype=complex64``,
  ``diff_method="adjoint"``, one qnode call per example (a broadcast batch measured several times
  slower at 4 qubits), the ``<Z_i>`` as n outputs and autograd's gradient of their sum, with
  ``OMP_NUM_THREADS=1`` unless set (with its default two threads on this busy 2-core machine a
  4-qubit step took 7x longer: the threads spin against other processes).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from benchmarks.workload import DEFAULT_CASES, workload_inputs, workload_weights

PEERS = ("tcng", "lightning")


# ---------------------------------------------------------------- workers (peers' environment)


def _tcng_step(n, layers):
    import cotengra as ctg
    import tensorcircuit as tc

    K = tc.set_backend("jax")
    tc.set_dtype("complex64")
    opt = ctg.ReusableHyperOptimizer(
        methods=["greedy"], max_repeats=16, minimize="flops", parallel=False, progbar=False
    )
    tc.set_contractor("custom", optimizer=opt, preprocessing=True)

    def outputs(x, w):
        c = tc.Circuit(n)
        for i in range(n):
            c.rx(i, theta=x[i])
        k = 0
        for _ in range(layers):
            for i in range(n):
                c.ry(i, theta=w[k])
                c.rz(i, theta=w[k + 1])
                k += 2
            for i in range(n):
                c.cnot(i, (i + 1) % n)
        return K.stack([K.real(c.expectation_ps(z=[i])) for i in range(n)])

    def loss(x, w):
        return K.sum(K.vmap(outputs, vectorized_argnums=0)(x, w))

    grad = K.jit(K.grad(loss, argnums=(1, 0)))

    def step(x, w):
        gw, gx = grad(K.convert_to_tensor(x), K.convert_to_tensor(w))
        return np.asarray(gw), np.asarray(gx)

    return step


def _lightning_step(n, layers):
    import pennylane as qml
    from pennylane import numpy as pnp

    dev = qml.device("lightning.qubit", wires=n, c_dtype=np.complex64)

    @qml.qnode(dev, diff_method="adjoint", interface="autograd")
    def circuit(x, w):
        for i in range(n):
            qml.RX(x[i], wires=i)
        k = 0
        for _ in range(layers):
            for i in range(n):
                qml.RY(w[k], wires=i)
                qml.RZ(w[k + 1], wires=i)
                k += 2
            for i in range(n):
                qml.CNOT(wires=[i, (i + 1) % n])
        return [qml.expval(qml.PauliZ(i)) for i in range(n)]

    def loss(x, w):  # one circuit per example (a broadcast batch made autograd far slower)
        return sum(pnp.sum(pnp.stack(circuit(x[b], w))) for b in range(len(x)))

    grad = qml.grad(loss, argnums=[1, 0])

    def step(x, w):
        gw, gx = grad(pnp.array(x, requires_grad=True), pnp.array(w, requires_grad=True))
        return np.asarray(gw, np.float32), np.asarray(gx, np.float32)

    return step


def worker(peer, n, layers, batch):
    """Serve one peer over stdin/stdout: ``grad`` -> JSON gradients on batch 0; ``time K`` -> the
    seconds per call of K calls (cycling the batches); ``quit``."""
    step = {"tcng": _tcng_step, "lightning": _lightning_step}[peer](n, layers)
    w = workload_weights(2 * n * layers)
    batches = workload_inputs(n, batch)
    t0 = time.perf_counter()
    step(batches[0], w)  # compile / warm up
    setup = time.perf_counter() - t0
    print(json.dumps({"ready": peer, "first_call": setup}), flush=True)
    calls = 0
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "grad":
            gw, gx = step(batches[0], w)
            print(json.dumps({"gw": gw.tolist(), "gx": gx.tolist()}), flush=True)
        elif cmd[0] == "time":
            k = int(cmd[1])
            t0 = time.perf_counter()
            for i in range(k):
                step(batches[(calls + i) % len(batches)], w)
            calls += k
            print(json.dumps({"per_call": (time.perf_counter() - t0) / k}), flush=True)


# ---------------------------------------------------------------- driver (project's environment)


class Peer:
    """A peer worker process in the peers' environment."""

    def __init__(self, python, peer, n, layers, batch):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": root, "JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "0"}
        if peer == "lightning":  # its OpenMP threads spin against other processes on a busy
            env.setdefault("OMP_NUM_THREADS", "1")  # machine: 7x slower at 4 qubits with 2
        self.name = peer
        self.proc = subprocess.Popen(
            [python, "-m", "benchmarks.peers", "--worker", f"{peer},{n},{layers},{batch}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        self.ready = self._read()

    def _read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"peer {self.name} exited (code {self.proc.wait()}); run it "
                    "alone with --worker to see its error"
                )
            if line.startswith("{"):
                return json.loads(line)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)


def run(python, cases=DEFAULT_CASES, peers=PEERS, budget_s=6.0, min_rounds=3, max_rounds=15):
    import tensorflow as tf

    from benchmarks.step_time import _block, layer_step_fn, machine_summary, raw_step_fn
    from benchmarks.workload import workload

    print(f"machine: {machine_summary()}", flush=True)
    versions = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m; print(', '.join(p + ' ' + m.version(p) "
            "for p in ('tensorcircuit-ng', 'jax', 'cotengra', 'pennylane', 'pennylane-lightning')))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"peers: {versions}", flush=True)
    rows = []
    for n, layers, batch in cases:
        circuit, xs, ws, obs = workload(n, layers)
        ours = {
            "raw": raw_step_fn(circuit, xs, ws, obs),
            "sv": layer_step_fn(circuit, xs, ws, obs, backend="statevector"),
        }
        batches = [tf.constant(x) for x in workload_inputs(n, batch)]
        want = [t.numpy() for t in ours["sv"](batches[0])]
        workers = {p: Peer(python, p, n, layers, batch) for p in peers}
        try:
            for p, w in workers.items():  # agree before timing
                got = w.ask("grad")
                gw, gx = np.asarray(got["gw"]), np.asarray(got["gx"])
                scale = max(1.0, float(np.abs(want[0]).max()), float(np.abs(want[1]).max()))
                err = max(float(np.abs(gw - want[0]).max()), float(np.abs(gx - want[1]).max()))
                if not err <= 2e-3 * scale:
                    raise AssertionError(
                        f"peer {p} disagrees with the statevector layer at "
                        f"{(n, layers, batch)}: max |gradient difference| {err:.2e}"
                    )
            for fn in ours.values():
                _block(fn(batches[1]))
            probe = {}
            for name, fn in ours.items():
                t0 = time.perf_counter()
                _block(fn(batches[2]))
                probe[name] = time.perf_counter() - t0
            for p, w in workers.items():
                probe[p] = w.ask("time 1")["per_call"]
            fastest = min(probe.values())
            block = int(min(20, max(1, round(0.03 / max(fastest, 1e-6)))))
            per_round = sum(v * block for v in probe.values())
            rounds = int(min(max_rounds, max(min_rounds, budget_s / max(per_round, 1e-6))))
            times = {k: [] for k in probe}
            order = list(probe)
            rng = np.random.default_rng(0)
            calls = 0
            for _ in range(rounds):
                rng.shuffle(order)
                for name in order:
                    if name in ours:
                        t0 = time.perf_counter()
                        for i in range(block):
                            _block(ours[name](batches[(calls + i) % len(batches)]))
                        times[name].append((time.perf_counter() - t0) / block)
                    else:
                        times[name].append(workers[name].ask(f"time {block}")["per_call"])
                calls += block
            first = {p: w.ready["first_call"] for p, w in workers.items()}
        finally:
            for w in workers.values():
                w.close()
        t = {k: statistics.median(v) for k, v in times.items()}
        best_peer = min(t[p] for p in peers)
        row = dict(
            n=n,
            layers=layers,
            batch=batch,
            **t,
            best_peer_over_ours=best_peer / t["sv"],
            rounds=rounds,
            block=block,
            first_call=first,
        )
        rows.append(row)
        print(
            f"n={n:>2} L={layers} batch={batch:>2}: raw TFQ {_fmt(t['raw'])}, pqc sv "
            f"{_fmt(t['sv'])}, "
            + ", ".join(f"{p} {_fmt(t[p])}" for p in peers)
            + f"; best peer / ours {row['best_peer_over_ours']:.2f} ({rounds} rounds of {block}; "
            "peers' first call " + ", ".join(f"{p} {v:.1f} s" for p, v in first.items()) + ")",
            flush=True,
        )
    print(table(rows, peers))
    return rows


def table(rows, peers=PEERS):
    head = ["n", "L", "batch", "raw TFQ op", "pqc sv (ours)", *peers, "best peer / ours"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in rows:
        cells = [
            r["n"],
            r["layers"],
            r["batch"],
            _fmt(r["raw"]),
            _fmt(r["sv"]),
            *[_fmt(r[p]) for p in peers],
            f"{r['best_peer_over_ours']:.2f}",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _fmt(seconds):
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--python",
        default=".venv-peers/bin/python",
        help="the peers' environment's python (make bench-peers creates it)",
    )
    parser.add_argument("--quick", action="store_true", help="the two smallest cases only")
    parser.add_argument("--sizes", nargs="*", default=None, help="n,L,batch triples")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--budget", type=float, default=6.0, help="seconds of timing per case")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        peer, n, layers, batch = args.worker.split(",")
        worker(peer, int(n), int(layers), int(batch))
        return
    cases = DEFAULT_CASES[:2] if args.quick else DEFAULT_CASES
    if args.sizes:
        cases = [tuple(int(v) for v in s.split(",")) for s in args.sizes]
    run(args.python, cases, tuple(args.peers.split(",")), budget_s=args.budget)


if __name__ == "__main__":
    main()
