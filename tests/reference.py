"""Independent reference computations for the tests: Cirq's own simulators, in float64."""

import os
import subprocess
import sys

import cirq
import numpy as np
import sympy

#: This directory (``tests/``: reference.py, compat_cases.py) and the repository root above it.
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)


def expectations(circuit, observables, resolver, qubits=None):
    """<O> for each observable after ``circuit`` resolved with ``resolver``, by cirq.Simulator."""
    qubits = qubits or sorted(set(circuit.all_qubits()).union(*[o.qubits for o in observables]))
    resolved = cirq.resolve_parameters(circuit, resolver)
    padded = resolved + cirq.Circuit(cirq.I(q) for q in qubits)
    state = (
        cirq.Simulator(dtype=np.complex128).simulate(padded, qubit_order=qubits).final_state_vector
    )
    qmap = {q: i for i, q in enumerate(qubits)}
    return np.array([o.expectation_from_state_vector(state, qmap).real for o in observables])


def batch_expectations(circuit, observables, input_symbols, features, weight_values):
    """Reference layer output: one row per feature row."""
    rows = []
    for row in np.atleast_2d(features):
        resolver = dict(weight_values)
        resolver.update({str(s): float(v) for s, v in zip(input_symbols, row)})
        rows.append(expectations(circuit, observables, resolver))
    return np.array(rows)


def central_difference(fn, x, h=1e-4):
    """Jacobian-vector style gradient of scalar ``fn`` at float64 vector ``x``."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        grad.flat[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return grad


def run_python(code, env_extra=None, timeout=300):
    """Run ``code`` in a fresh Python process in the repository root; return its stdout.

    The child imports this checkout's ``tfq_layers`` and ``models`` and the helpers of ``tests/``
    (``PYTHONPATH`` starts with the root, then ``tests/``); ``TF_CPP_MIN_LOG_LEVEL=2`` unless set.
    ``env_extra`` adds or overrides variables. A non-zero exit raises ``RuntimeError`` with the
    end of the child's output.
    """
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join([ROOT, TESTS] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"a fresh Python process failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def affine_by_expansion(expr):
    """Whether sympy ``expr`` is affine in its symbols, decided by expanding it to a polynomial.

    The slow, obvious check (it expands, so ``(x0 + ... + x9)**1000`` is out of reach) against
    which ``tfq_layers.expressions.is_affine`` (which never expands) is tested.
    """
    symbols = sorted(expr.free_symbols, key=str)
    if not symbols:
        return True
    try:
        return sympy.Poly(sympy.expand(expr), *symbols).total_degree() <= 1
    except sympy.PolynomialError:
        return False


# -- random circuits over every gate the TFQ backend supports, with expression angles ------------
def random_expression(rng, inputs, weights):
    x = inputs[rng.integers(len(inputs))] if inputs else sympy.Integer(1)
    x2 = inputs[rng.integers(len(inputs))] if inputs else sympy.Float(0.3)
    w = weights[rng.integers(len(weights))]
    b = weights[rng.integers(len(weights))]
    kinds = [
        lambda: w,
        lambda: -0.7 * w,
        lambda: w * x + b,
        lambda: sympy.atan(x) + w,
        lambda: 2 * sympy.pi * x * w,
        lambda: x * x2 + w,
        lambda: sympy.sin(w) * x,
        lambda: sympy.exp(-x * x) * w / 2,
    ]
    return kinds[rng.integers(len(kinds))]()


def random_circuit(rng, qubits, n_ops, inputs, weights):
    """A circuit drawing uniformly from every supported gate family, angles random expressions."""

    def e():
        return random_expression(rng, inputs, weights)

    single = [
        lambda q: cirq.rx(e()).on(q),
        lambda q: cirq.ry(e()).on(q),
        lambda q: cirq.rz(e()).on(q),
        lambda q: cirq.XPowGate(exponent=e(), global_shift=0.25).on(q),
        lambda q: cirq.YPowGate(exponent=e()).on(q),
        lambda q: cirq.ZPowGate(exponent=e()).on(q),
        lambda q: cirq.HPowGate(exponent=e()).on(q),
        lambda q: cirq.H(q),
        lambda q: cirq.PhasedXPowGate(phase_exponent=e(), exponent=e()).on(q),
        lambda q: cirq.I(q),
        lambda q: cirq.S(q),
        lambda q: cirq.T(q),
    ]
    double = [
        lambda a, b: cirq.CZPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.CNOT(a, b),
        lambda a, b: cirq.CXPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.SwapPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.ISwapPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.XXPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.YYPowGate(exponent=e()).on(a, b),
        lambda a, b: cirq.ZZPowGate(exponent=e(), global_shift=-0.5).on(a, b),
        lambda a, b: cirq.PhasedISwapPowGate(phase_exponent=e(), exponent=e()).on(a, b),
        lambda a, b: cirq.FSimGate(theta=e(), phi=e()).on(a, b),
    ]
    ops = [cirq.H(q) for q in qubits]
    for _ in range(n_ops):
        kind = rng.integers(3)
        if kind == 0 or len(qubits) < 2:
            ops.append(single[rng.integers(len(single))](qubits[rng.integers(len(qubits))]))
        elif kind == 1:
            a, b = rng.choice(len(qubits), 2, replace=False)
            ops.append(double[rng.integers(len(double))](qubits[a], qubits[b]))
        else:  # a controlled single-qubit gate
            a, b = rng.choice(len(qubits), 2, replace=False)
            gate = single[rng.integers(9)](qubits[b])
            ops.append(gate.controlled_by(qubits[a], control_values=[int(rng.integers(2))]))
    return cirq.Circuit(ops)


def random_observables(rng, qubits, n):
    paulis = [cirq.X, cirq.Y, cirq.Z]
    out = []
    for _ in range(n):
        k = rng.integers(1, min(3, len(qubits)) + 1)
        chosen = rng.choice(len(qubits), k, replace=False)
        term = cirq.PauliString(
            {qubits[i]: paulis[rng.integers(3)] for i in chosen}, coefficient=float(rng.normal())
        )
        out.append(term + 0.5 * cirq.Z(qubits[0]))
    return out


def toml_module():
    """tomllib (Python 3.11+), or tomli, which pytest and build bring on 3.10."""
    import pytest

    try:
        import tomllib
    except ImportError:
        tomllib = pytest.importorskip("tomli")
    return tomllib
