"""Inputs shared by the compat-layer tests and the TFQ reference run (a legacy-lane subprocess).

Everything here is plain Cirq/NumPy, built deterministically, and TFQ-serializable (gate angles are
``c * symbol``), so TFQ's own layers can run the very same cases.
"""

import cirq
import numpy as np
import sympy

QUBITS = cirq.GridQubit.rect(1, 3)
NAMES = ["a", "b", "c"]
A, B, C = sympy.symbols(NAMES)
REPS = 4000


def circuit():
    q = QUBITS
    return cirq.Circuit(
        cirq.H(q[0]),
        cirq.rx(A).on(q[1]),
        cirq.ry(2.0 * B).on(q[2]),
        cirq.CNOT(q[0], q[1]),
        cirq.CZPowGate(exponent=0.3).on(q[1], q[2]),
        cirq.PhasedXPowGate(phase_exponent=0.25, exponent=C).on(q[0]),
        cirq.XXPowGate(exponent=-0.5 * A).on(q[0], q[2]),
        cirq.rz(C).on(q[1]),
        cirq.FSimGate(theta=B, phi=0.2).on(q[1], q[2]),
    )


def circuit_list():
    """Four different circuits sharing the symbols (the barren-plateaus pattern)."""
    rng = np.random.RandomState(3)
    gates = [cirq.rx, cirq.ry, cirq.rz]
    out = []
    for _ in range(4):
        c = cirq.Circuit(cirq.ry(np.pi / 4).on_each(*QUBITS))
        for q, s in zip(QUBITS, (A, B, C)):
            c.append(gates[rng.randint(3)](s).on(q))
        c.append([cirq.CZ(QUBITS[0], QUBITS[1]), cirq.CZ(QUBITS[1], QUBITS[2])])
        out.append(c)
    return out


def values(rows=4, seed=0):
    return np.random.RandomState(seed).uniform(-2.0, 2.0, (rows, 3)).astype(np.float32)


def operators():
    q = QUBITS
    return [cirq.Z(q[0]), cirq.X(q[1]) * cirq.Y(q[2]) + 0.5 * cirq.Z(q[2])]


def per_circuit_operators():
    q = QUBITS
    return [[cirq.Z(q[i % 3]), cirq.X(q[(i + 1) % 3])] for i in range(4)]


def data_circuits():
    """Quantum data: basis states prepared by X gates (one per example)."""
    out = []
    for bits in ((0, 0, 0), (1, 0, 0), (0, 1, 1), (1, 1, 1)):
        out.append(
            cirq.Circuit(
                [cirq.X(q) for q, b in zip(QUBITS, bits) if b]
                + [cirq.I(q) for q, b in zip(QUBITS, bits) if not b]
            )
        )
    return out


def mixed_size_circuits():
    """Circuits on 2 and 3 qubits (TFQ pads; its outputs are ragged)."""
    q = QUBITS
    return [
        cirq.Circuit(cirq.X(q[0]), cirq.I(q[1])),
        cirq.Circuit(cirq.X(q[1]), cirq.I(q[0]), cirq.X(q[2])),
    ]


def deterministic_circuit():
    q = QUBITS
    return cirq.Circuit(cirq.X(q[0]) ** A, cirq.X(q[2]) ** B, cirq.I(q[1]))


def noisy_circuit():
    q = QUBITS
    return cirq.Circuit(
        cirq.rx(A).on(q[0]),
        cirq.ry(B).on(q[1]),
        cirq.CNOT(q[0], q[1]),
        cirq.depolarize(0.05).on(q[0]),
        cirq.rx(C).on(q[2]),
        cirq.amplitude_damp(0.1).on(q[2]),
        cirq.bit_flip(0.05).on(q[1]),
    )


def weights():
    return np.array([0.3, -1.1, 0.7], np.float32)


# The reference script: TFQ's own layers on these cases, run under TF_USE_LEGACY_KERAS=1.
TFQ_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq
import compat_cases as K

out = {}
def part(x, fn):
    return [part(v, fn) for v in x] if isinstance(x, list) else fn(x)
def put(key, t):
    ragged = isinstance(t, tf.RaggedTensor)
    value = t.to_list() if ragged else np.asarray(t).tolist()
    entry = {"ragged": ragged, "dtype": t.dtype.name, "rank": t.ragged_rank if ragged else 0}
    if t.dtype.is_complex:
        entry["re"] = part(value, lambda z: complex(z).real)
        entry["im"] = part(value, lambda z: complex(z).imag)
    else:
        entry["value"] = value
    out[key] = entry

c, cl, vals, ops = K.circuit(), K.circuit_list(), K.values(), K.operators()
L = tfq.layers
put("expectation_circuit", L.Expectation()(c, symbol_names=K.NAMES, symbol_values=vals,
                                          operators=ops))
put("expectation_list", L.Expectation()(cl, symbol_names=K.NAMES, symbol_values=vals,
                                        operators=ops))
put("expectation_tensor", L.Expectation()(tfq.convert_to_tensor(cl), symbol_names=K.NAMES,
                                          symbol_values=vals, operators=ops))
put("expectation_per_circuit_ops", L.Expectation()(cl, symbol_names=K.NAMES, symbol_values=vals,
                                                   operators=K.per_circuit_operators()))
put("sampled_expectation", L.SampledExpectation()(c, symbol_names=K.NAMES, symbol_values=vals,
                                                  operators=ops, repetitions=K.REPS))
det_vals = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
put("sample_deterministic", L.Sample()(K.deterministic_circuit(), symbol_names=K.NAMES[:2],
                                       symbol_values=det_vals, repetitions=5))
put("sample_mixed", L.Sample()(tfq.convert_to_tensor(K.mixed_size_circuits()), repetitions=3))
put("state_circuit", L.State()(c, symbol_names=K.NAMES, symbol_values=vals))
put("state_mixed", L.State()(tfq.convert_to_tensor(K.mixed_size_circuits())))
put("unitary_circuit", L.Unitary()(c, symbol_names=K.NAMES, symbol_values=vals))
added = L.AddCircuit()(tfq.convert_to_tensor(K.data_circuits()), append=c)
out["add_append"] = [repr(x) for x in tfq.from_tensor(added)]
added = L.AddCircuit()(K.data_circuits(), prepend=K.deterministic_circuit())
out["add_prepend"] = [repr(x) for x in tfq.from_tensor(added)]
data = tfq.convert_to_tensor(K.data_circuits())
pqc = L.PQC(c, ops)
pqc.set_weights([K.weights()])
put("pqc", pqc(data))
out["pqc_symbols"] = [str(s) for s in pqc.symbols]
put("controlled_pqc", L.ControlledPQC(c, ops)([data, vals]))
npqc = L.NoisyPQC(K.noisy_circuit(), ops, repetitions=K.REPS, sample_based=False)
npqc.set_weights([K.weights()])
put("noisy_pqc", npqc(data))
put("noisy_controlled_pqc", L.NoisyControlledPQC(K.noisy_circuit(), ops, repetitions=K.REPS,
                                                 sample_based=True)([data, vals]))
json.dump(out, open(sys.argv[1], "w"))
print("OK")
"""
