"""The bad-input catalogue: every entry raises an early error naming the problem and the fix.

The same list, in words, is the README's troubleshooting table. Each case asserts the error type
and a phrase of the message that tells the user what to do.
"""
import json
import zipfile

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers import (PQC, BornMachine, CircuitError, QuantumBoltzmannMachine,
                        SerializationError, serialization)
from tfq_layers._keras import keras
from tfq_layers.datasets import bars_and_stripes

Q = cirq.GridQubit.rect(1, 2)
X0, X1, W = sympy.symbols("x0 x1 w")
CIRCUIT = cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(W * X1).on(Q[1]), cirq.CNOT(*Q))


def pqc(**kwargs):
    args = dict(circuit=CIRCUIT, observables=cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    args.update(kwargs)
    return PQC(**args)


def compiled_born(**kwargs):
    model = BornMachine(4, layers=1, backend="tfq", **kwargs)
    model.compile("adam", loss="kl")
    return model


def _saved_model_file(tmp_path):
    model = keras.Sequential([keras.Input((2,)), pqc()])
    path = tmp_path / "m.keras"
    model.save(str(path))
    return path


def truncated_file(tmp_path):
    path = _saved_model_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    keras.models.load_model(str(path), safe_mode=True)


def tampered_expression(tmp_path):
    path = _saved_model_file(tmp_path)
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(payload)
                layer = config["config"]["layers"][-1]["config"]
                layer["circuit"] = layer["circuit"].replace(
                    '"cirq_type":"sympy.Symbol","name":"w"',
                    '"cirq_type":"tfq_layers.SympyFunction","name":"exec","args":["print(1)"]')
                assert "exec" in layer["circuit"]
                payload = json.dumps(config).encode()
            dst.writestr(item, payload)
    keras.models.load_model(str(bad), safe_mode=True)


CATALOGUE = [
    # (id, action, error type, phrase naming the problem or the fix)
    ("feature count", lambda t: keras.Sequential([keras.Input((3,)), pqc()]),
     ValueError, r"expects inputs of shape \(batch, 2\).*Make the previous layer output 2"),
    ("unknown input symbol", lambda t: pqc(input_symbols=["x0", "y"]),
     CircuitError, r"\['y'\] do not appear in the circuit.*Remove them"),
    ("gate TFQ cannot simulate", lambda t: pqc(circuit=CIRCUIT + cirq.MatrixGate(np.eye(2)).on(Q[0]),
                                              backend="tfq"),
     CircuitError, r"not supported by the TFQ backend.*Decompose it.*backend='statevector'"),
    ("NamedQubit", lambda t: pqc(circuit=cirq.Circuit(cirq.rx(X0).on(cirq.NamedQubit("a"))),
                                 observables=cirq.Z(cirq.NamedQubit("a")), input_symbols=["x0"]),
     CircuitError, r"GridQubit and cirq.LineQubit.*transform_qubits"),
    ("mid-circuit measurement", lambda t: pqc(circuit=CIRCUIT + cirq.measure(Q[0]) + cirq.H(Q[0])),
     CircuitError, r"mid-circuit measurements.*Remove the measurement"),
    ("non-Pauli observable", lambda t: pqc(observables=cirq.H(Q[0])),
     CircuitError, r"must be cirq.PauliSum or cirq.PauliString"),
    ("too many qubits", lambda t: PQC(cirq.Circuit(cirq.rx(W).on(q) for q in cirq.LineQubit.range(38)),
                                      cirq.Z(cirq.LineQubit(0))),
     MemoryError, r"38 qubits.*GiB.*Use fewer qubits"),
    ("batch too large for memory",
     lambda t: PQC(cirq.Circuit(cirq.rx(X0).on(q) for q in cirq.LineQubit.range(22)),
                   cirq.Z(cirq.LineQubit(0)), input_symbols=["x0"],
                   backend="statevector")(np.zeros((200000, 1), np.float32)),
     MemoryError, r"batch of 200000 on 22 qubits needs about .* GiB.*smaller batch_size"),
    ("NaN features", lambda t: pqc()(np.array([[np.nan, 0.0]], np.float32)),
     tf.errors.InvalidArgumentError, r"NaN or Inf; clean or impute"),
    ("unsupported expression", lambda t: pqc(circuit=cirq.Circuit(cirq.rx(sympy.gamma(X0)).on(Q[0])),
                                             input_symbols=["x0"]),
     CircuitError, r"gamma.*Supported: \+ - \* /"),
    ("unknown differentiator", lambda t: pqc(differentiator="adjiont"),
     ValueError, r"unknown differentiator 'adjiont'; choose one of"),
    ("noise without repetitions", lambda t: pqc(circuit=CIRCUIT + cirq.depolarize(0.1).on(Q[0])),
     ValueError, r"noise channels.*pass repetitions=N"),
    ("generator data of wrong width", lambda t: compiled_born().fit(np.zeros((4, 3), int), verbose=0),
     ValueError, r"width 3.*expects n = 4"),
    ("generator data not 0/1", lambda t: compiled_born().fit(np.full((4, 4), 3), verbose=0),
     ValueError, r"only 0 and 1.*Binarize"),
    ("empty generator data", lambda t: compiled_born().fit(np.zeros((0, 4), int), verbose=0),
     ValueError, r"empty.*at least one bitstring"),
    ("NaN generator data", lambda t: compiled_born().fit(np.array([[0, 1, np.nan, 1]]), verbose=0),
     ValueError, r"NaN"),
    ("QBM too large", lambda t: QuantumBoltzmannMachine(10, n_hidden=4),
     ValueError, r"14 exceeds the limit of 12 units. Use fewer"),
    ("shot Born machine with KL", lambda t: BornMachine(4, layers=1, repetitions=100,
                                                        backend="tfq").compile("adam", loss="kl"),
     ValueError, r"compile\(loss='mmd'\)"),
    ("Born circuit qubit count", lambda t: BornMachine(3, circuit=CIRCUIT, backend="tfq"),
     CircuitError, r"acts on 2 qubits.*n_qubits=3"),
    ("bad dataset size", lambda t: bars_and_stripes(0, 2),
     ValueError, r"`rows` must be a positive integer; received 0"),
    ("truncated .keras file", truncated_file, (ValueError, OSError, zipfile.BadZipFile), r"."),
    ("tampered expression in a saved model", tampered_expression,
     SerializationError, r"not on the allow-list"),
    ("tampered type in saved JSON",
     lambda t: serialization.loads('{"cirq_type": "pandas.Index", "data": [1]}'),
     SerializationError, r"does not load"),
]


def test_catalogue_is_long_enough_and_distinct():
    ids = [case[0] for case in CATALOGUE]
    assert len(ids) >= 15 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input_is_refused_with_a_fix(case, tmp_path):
    _, action, error, phrase = case
    with pytest.raises(error, match=phrase):
        action(tmp_path)
