"""The one workload every benchmark times (step time, simulator, crossovers, peers).

n qubits on a row of ``cirq.GridQubit``; ``rx`` angle encoding of n input features; L layers of
``ry``, ``rz`` on every qubit followed by a CNOT ring; ``<Z_i>`` on every qubit. One *step* is the
forward pass and the gradient of the batch's summed output with respect to the weights and the
inputs.

This module imports Cirq, SymPy and NumPy only (no TensorFlow), so the peers' processes, which run
in their own virtual environment, can import the angles and the weights too: see
:func:`workload_weights`, :func:`workload_inputs` and :func:`workload_spec`.
"""

import numpy as np

DEFAULT_CASES = ((4, 2, 32), (8, 4, 64), (12, 4, 64), (16, 4, 32), (20, 2, 8))


def workload(n, layers, noise=None):
    """``(circuit, input symbols, weight symbols, [Z_i observables])`` of the benchmark; with
    ``noise=p``, ``cirq.depolarize(p)`` on every qubit after each layer's CNOT ring."""
    import cirq
    import sympy

    qubits = cirq.GridQubit.rect(1, n)
    xs = sympy.symbols(f"x0:{n}")
    ws = sympy.symbols(f"w0:{2 * n * layers}")
    circuit = cirq.Circuit(cirq.rx(xs[i]).on(q) for i, q in enumerate(qubits))
    k = 0
    for _ in range(layers):
        for q in qubits:
            circuit.append([cirq.ry(ws[k]).on(q), cirq.rz(ws[k + 1]).on(q)])
            k += 2
        circuit.append(cirq.CNOT(qubits[i], qubits[(i + 1) % n]) for i in range(n))
        if noise is not None:
            circuit.append(cirq.depolarize(noise).on_each(*qubits))
    return circuit, list(xs), list(ws), [cirq.Z(q) for q in qubits]


def workload_weights(n_weights):
    """The weight values every contender uses (so their gradients can be compared).

    Weight ``2 * (l * n + i)`` is the ``ry`` angle and ``2 * (l * n + i) + 1`` the ``rz`` angle of
    qubit ``i`` in layer ``l``.
    """
    return np.random.default_rng(0).uniform(0, 6.28, n_weights).astype(np.float32)


def workload_inputs(n, batch, count=4, seed=1):
    """``count`` distinct input batches ``(batch, n)`` (float32), the ``rx`` angles."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 3, (batch, n)).astype(np.float32) for _ in range(count)]
