"""The bad-input catalogue: every entry raises an early error naming the problem and the fix.

The same list, in words, is the README's troubleshooting table. Each case asserts the error type
and a phrase of the message that tells the user what to do. ``test_catalogue_is_long_enough``
reports how many distinct kinds of bad input are covered.
"""

import json
import zipfile

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers import (
    PQC,
    BornMachine,
    CircuitError,
    QuantumBoltzmannMachine,
    SerializationError,
    expressions,
    saving,
    serialization,
)
from tfq_layers._keras import keras
from tfq_layers.datasets import bars_and_stripes
from tfq_layers.errors import BackendUnavailableError
from unavailable import without_tfq

Q = cirq.GridQubit.rect(1, 2)
X0, X1, W = sympy.symbols("x0 x1 w")
CIRCUIT = cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(W * X1).on(Q[1]), cirq.CNOT(*Q))


def pqc(**kwargs):
    args = dict(circuit=CIRCUIT, observables=cirq.Z(Q[0]), input_symbols=["x0", "x1"])
    args.update(kwargs)
    return PQC(**args)


def compiled_born(**kwargs):
    model = BornMachine(4, layers=1, **kwargs)
    model.compile("adam", loss="kl")
    return model


def _saved_model_file(tmp_path):
    model = keras.Sequential([keras.Input((2,)), pqc()])
    path = tmp_path / "m.keras"
    model.save(str(path))
    return path


def _data(operations):
    """One serialized data circuit, as TFQ's users make quantum data."""
    from tfq_layers.compat import convert_to_tensor

    return convert_to_tensor([cirq.Circuit(operations)])


def truncated_file(tmp_path):
    path = _saved_model_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    keras.models.load_model(str(path), safe_mode=True)


def tampered_expression(tmp_path):
    def inject(circuit):
        circuit = circuit.replace(
            '"cirq_type":"sympy.Symbol","name":"w"',
            '"cirq_type":"tfq_layers.SympyFunction","name":"exec","args":["print(1)"]',
        )
        assert "exec" in circuit
        return circuit

    keras.models.load_model(str(_edit_circuit(tmp_path, inject)), safe_mode=True)


def _rewrite_config(tmp_path, edit):
    """A copy of a saved model whose config.json bytes are ``edit(bytes)``."""
    path = _saved_model_file(tmp_path)
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                payload = edit(payload)
                if payload is None:
                    continue
            dst.writestr(item, payload)
    return bad


def _edit_circuit(tmp_path, edit):
    def change(payload):
        config = json.loads(payload)
        layer = config["config"]["layers"][-1]["config"]
        layer["circuit"] = edit(layer["circuit"])
        return json.dumps(config).encode()

    return _rewrite_config(tmp_path, change)


def _deep_config(payload):
    """config.json with 5000 nested objects added (json.dumps itself would recurse: by hand)."""
    text = payload.decode()
    assert text.endswith("}")
    return (text[:-1] + ', "extra": ' + '{"a": ' * 5000 + "{}" + "}" * 5000 + "}").encode()


def _nan_labels(t):
    circuit = cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(W).on(Q[1]), cirq.CNOT(*Q))
    model = keras.Sequential([keras.Input((1,)), PQC(circuit, cirq.Z(Q[0]), input_symbols=["x0"])])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(
        np.zeros((8, 1), np.float32),
        np.full((8, 1), np.nan, np.float32),
        epochs=2,
        batch_size=4,
        verbose=0,
    )


def _bits_dataset(array, batch=2):
    return tf.data.Dataset.from_tensor_slices(array).batch(batch)


def _unshaped_dataset(array):
    return tf.data.Dataset.from_generator(
        lambda: iter([array]), output_signature=tf.TensorSpec((None, None), array.dtype)
    )


def _with_value(value, dtype=np.float32):
    data = np.array([[0, 1, 0, 1], [1, 1, 0, 0]], dtype)
    data[1, 2] = value
    return data


def _deep_expression(levels):
    expr = X0
    for _ in range(levels):
        expr = sympy.sin(expr)
    return expr


def _statevector(circuit, inputs=("x0",), **kwargs):
    return PQC(circuit, cirq.Z(Q[0]), input_symbols=list(inputs), backend="statevector", **kwargs)


CATALOGUE = [
    # (id, action, error type, phrase naming the problem or the fix)
    (
        "feature count",
        lambda t: keras.Sequential([keras.Input((3,)), pqc()]),
        ValueError,
        r"expects inputs of shape \(batch, 2\).*Make the previous layer output 2",
    ),
    (
        "unknown input symbol",
        lambda t: pqc(input_symbols=["x0", "y"]),
        CircuitError,
        r"\['y'\] do not appear in the circuit.*Remove them",
    ),
    pytest.param(
        "gate TFQ cannot simulate",
        lambda t: pqc(circuit=CIRCUIT + cirq.MatrixGate(np.eye(2)).on(Q[0]), backend="tfq"),
        CircuitError,
        r"not supported by the TFQ backend.*Decompose it.*backend='statevector'",
        marks=pytest.mark.tfq,
    ),
    (
        "TFQ asked for where it cannot run",
        lambda t: without_tfq(lambda: pqc(backend="tfq")),
        BackendUnavailableError,
        r"backend='tfq' cannot run here.*Python 3\.\d+, TensorFlow .*pip install 'tfq-layers\[tfq\]'",
    ),
    (
        "NamedQubit",
        lambda t: pqc(
            circuit=cirq.Circuit(cirq.rx(X0).on(cirq.NamedQubit("a"))),
            observables=cirq.Z(cirq.NamedQubit("a")),
            input_symbols=["x0"],
        ),
        CircuitError,
        r"GridQubit and cirq.LineQubit.*transform_qubits",
    ),
    (
        "mid-circuit measurement",
        lambda t: pqc(circuit=CIRCUIT + cirq.measure(Q[0]) + cirq.H(Q[0])),
        CircuitError,
        r"mid-circuit measurements.*Remove the measurement",
    ),
    (
        "non-Pauli observable",
        lambda t: pqc(observables=cirq.H(Q[0])),
        CircuitError,
        r"must be cirq.PauliSum or cirq.PauliString",
    ),
    (
        "too many qubits",
        lambda t: PQC(
            cirq.Circuit(cirq.rx(W).on(q) for q in cirq.LineQubit.range(38)),
            cirq.Z(cirq.LineQubit(0)),
        ),
        MemoryError,
        r"38 qubits.*GiB.*Use fewer qubits",
    ),
    (
        "batch too large for memory",
        lambda t: PQC(
            cirq.Circuit(cirq.rx(X0).on(q) for q in cirq.LineQubit.range(22)),
            cirq.Z(cirq.LineQubit(0)),
            input_symbols=["x0"],
            backend="statevector",
        )(np.zeros((200000, 1), np.float32)),
        MemoryError,
        r"batch of 200000 on 22 qubits needs about .* GiB.*smaller batch_size",
    ),
    (
        "NaN features",
        lambda t: pqc()(np.array([[np.nan, 0.0]], np.float32)),
        tf.errors.InvalidArgumentError,
        r"NaN or Inf; clean or impute",
    ),
    (
        "unsupported expression",
        lambda t: pqc(
            circuit=cirq.Circuit(cirq.rx(sympy.gamma(X0)).on(Q[0])), input_symbols=["x0"]
        ),
        CircuitError,
        r"gamma.*Supported: \+ - \* /",
    ),
    (
        "unknown differentiator",
        lambda t: pqc(differentiator="adjiont"),
        ValueError,
        r"unknown differentiator 'adjiont'; choose one of",
    ),
    (
        "noise without repetitions",
        lambda t: pqc(circuit=CIRCUIT + cirq.depolarize(0.1).on(Q[0])),
        ValueError,
        r"noise channels.*pass repetitions=N",
    ),
    (
        "generator data of wrong width",
        lambda t: compiled_born().fit(np.zeros((4, 3), int), verbose=0),
        ValueError,
        r"width 3.*expects n = 4",
    ),
    (
        "generator data not 0/1",
        lambda t: compiled_born().fit(np.full((4, 4), 3), verbose=0),
        ValueError,
        r"only 0 and 1.*Binarize",
    ),
    (
        "empty generator data",
        lambda t: compiled_born().fit(np.zeros((0, 4), int), verbose=0),
        ValueError,
        r"empty.*at least one bitstring",
    ),
    (
        "NaN generator data",
        lambda t: compiled_born().fit(np.array([[0, 1, np.nan, 1]]), verbose=0),
        ValueError,
        r"NaN",
    ),
    (
        "QBM too large",
        lambda t: QuantumBoltzmannMachine(10, n_hidden=4),
        ValueError,
        r"14 exceeds the limit of 12 units. Use fewer",
    ),
    (
        "shot Born machine with KL",
        lambda t: BornMachine(4, layers=1, repetitions=100).compile("adam", loss="kl"),
        ValueError,
        r"compile\(loss='mmd'\)",
    ),
    (
        "Born circuit qubit count",
        lambda t: BornMachine(3, circuit=CIRCUIT),
        CircuitError,
        r"acts on 2 qubits.*n_qubits=3",
    ),
    (
        "bad dataset size",
        lambda t: bars_and_stripes(0, 2),
        ValueError,
        r"`rows` must be a positive integer; received 0",
    ),
    ("truncated .keras file", truncated_file, (ValueError, OSError, zipfile.BadZipFile), r"."),
    (
        "tampered expression in a saved model",
        tampered_expression,
        SerializationError,
        r"not on the allow-list",
    ),
    (
        "tampered type in saved JSON",
        lambda t: serialization.loads('{"cirq_type": "pandas.Index", "data": [1]}'),
        SerializationError,
        r"does not load",
    ),
    # -- saving and loading (issue 14, items 1 and 2) --
    (
        "truncated .keras file via saving.load_model",
        lambda t: (lambda p: (p.write_bytes(p.read_bytes()[:500]), saving.load_model(str(p))))(
            _saved_model_file(t)
        ),
        SerializationError,
        r"m.keras is not a complete .keras archive.*cut short",
    ),
    (
        "empty config.json",
        lambda t: saving.load_model(str(_rewrite_config(t, lambda b: b""))),
        SerializationError,
        r"bad.keras: its config.json is empty",
    ),
    (
        "malformed config.json",
        lambda t: saving.load_model(str(_rewrite_config(t, lambda b: b[: len(b) // 2]))),
        SerializationError,
        r"bad.keras: its config.json is not valid JSON",
    ),
    (
        "config.json not an object",
        lambda t: saving.load_model(str(_rewrite_config(t, lambda b: b"[1, 2]"))),
        SerializationError,
        r"bad.keras: its config.json holds a list",
    ),
    (
        "deeply nested config.json",
        lambda t: saving.load_model(str(_rewrite_config(t, _deep_config))),
        SerializationError,
        r"bad.keras: its config.json is nested",
    ),
    (
        "archive without config.json",
        lambda t: saving.load_model(str(_rewrite_config(t, lambda b: None))),
        SerializationError,
        r"bad.keras has no config.json",
    ),
    (
        "missing model file",
        lambda t: saving.load_model(str(t / "nothing.keras")),
        FileNotFoundError,
        r"nothing.keras: no such file",
    ),
    (
        "save_model onto an existing file with overwrite=False",
        lambda t: saving.save_model(
            keras.Sequential([keras.Input((2,)), pqc()]), str(_saved_model_file(t)), overwrite=False
        ),
        FileExistsError,
        r"exists and overwrite=False",
    ),
    (
        "saved expression with a huge exponent",
        lambda t: keras.models.load_model(
            str(
                _edit_circuit(
                    t,
                    lambda c: c.replace(
                        '"name":"w"}',
                        '"name":"w"},{"cirq_type":"sympy.Pow","args":['
                        '{"cirq_type":"sympy.Symbol","name":"w"},'
                        '{"cirq_type":"sympy.Integer","i":100000000}]}',
                    ),
                )
            ),
            safe_mode=True,
        ),
        SerializationError,
        r"power 100000000, beyond 1000",
    ),
    (
        "deeply nested saved circuit JSON",
        lambda t: serialization.loads("[" * 50000 + "]" * 50000),
        SerializationError,
        r"nested more than \d+ levels deep",
    ),
    (
        "NaN in a saved circuit",
        lambda t: keras.models.load_model(
            str(
                _edit_circuit(
                    t,
                    lambda c: c.replace(
                        '"cirq_type":"CXPowGate","exponent":1.0',
                        '"cirq_type":"CXPowGate","exponent":NaN',
                    ),
                )
            ),
            safe_mode=True,
        ),
        SerializationError,
        r"contains NaN",
    ),
    (
        "number beyond float32 in a saved circuit",
        lambda t: keras.models.load_model(
            str(
                _edit_circuit(
                    t,
                    lambda c: c.replace(
                        '"cirq_type":"CXPowGate","exponent":1.0',
                        '"cirq_type":"CXPowGate","exponent":1e39',
                    ),
                )
            ),
            safe_mode=True,
        ),
        SerializationError,
        r"not a finite float32 number",
    ),
    (
        "saved expression too large",
        lambda t: serialization.loads(serialization.dumps(sympy.Add(*sympy.symbols("s0:6000")))),
        SerializationError,
        r"more than 5000 nodes",
    ),
    # -- gate angles (issue 14, items 2 and 6) --
    (
        "constant NaN angle",
        lambda t: _statevector(CIRCUIT + cirq.rx(float("nan")).on(Q[0]), ("x0", "x1")),
        CircuitError,
        r"Rx.*gate parameter nan is not finite.*Gate angles must be finite",
    ),
    (
        "sympy nan angle",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(sympy.nan).on(Q[0])),
        CircuitError,
        r"expression nan is not finite",
    ),
    (
        "infinite term in an angle",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(X0 + sympy.oo).on(Q[0]), backend="statevector"),
        CircuitError,
        r"\(x0 \+ oo\)/pi is not finite.*Remove the infinite",
    ),
    (
        "constant overflowing float32",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(X0 * sympy.exp(1000)).on(Q[0])),
        CircuitError,
        r"constant exp\(1000\).*not finite in float32",
    ),
    (
        "huge integer power",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(X0 ** (10**7)).on(Q[0]), backend="statevector"),
        CircuitError,
        r"exponent exceeds 1000",
    ),
    (
        "expression nested too deeply",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(_deep_expression(150)).on(Q[0])),
        CircuitError,
        r"nested more than 100 levels",
    ),
    (
        "expression with too many nodes",
        lambda t: _statevector(
            cirq.Circuit(cirq.rx(sympy.Add(*[sympy.sin(X0 + k) for k in range(2000)])).on(Q[0]))
        ),
        CircuitError,
        r"more than 5000 nodes",
    ),
    (
        "angle overflowing at run time",
        lambda t: _statevector(cirq.Circuit(cirq.rx(sympy.exp(X0)).on(Q[0])))(
            np.array([[100.0]], np.float32)
        ),
        tf.errors.InvalidArgumentError,
        r"gate parameter exp\(x0\)/pi of the gate Rx.*NaN or Inf",
    ),
    (
        "NaN circuit weight",
        lambda t: (
            lambda layer: (
                layer(np.zeros((1, 2), np.float32)),
                layer.circuit_weights.assign([np.nan]),
                layer(np.zeros((1, 2), np.float32)),
            )
        )(pqc(backend="statevector")),
        tf.errors.InvalidArgumentError,
        r"gate parameter .*w.* is NaN or Inf.*circuit weights are NaN",
    ),
    ("NaN labels", _nan_labels, tf.errors.InvalidArgumentError, r"circuit weight w .*NaN labels"),
    (
        "complex features",
        lambda t: pqc()(np.ones((1, 2), np.complex64)),
        TypeError,
        r"complex dtype complex64.*drop the imaginary part",
    ),
    (
        "complex features to as_real_features",
        lambda t: expressions.as_real_features(np.ones((2, 2), np.complex64), "pqc"),
        TypeError,
        r"complex dtype complex64.*drop the imaginary part",
    ),
    # -- generator data from tf.data (issue 14, item 5) --
    (
        "NaN in a tf.data set",
        lambda t: compiled_born().fit(_bits_dataset(_with_value(np.nan)), verbose=0),
        tf.errors.InvalidArgumentError,
        r"`x` contains NaN or infinite values",
    ),
    (
        "value 3 in a tf.data set",
        lambda t: compiled_born().fit(_bits_dataset(_with_value(3, np.int64)), verbose=0),
        tf.errors.InvalidArgumentError,
        r"`x` must contain only 0 and 1.*Binarize",
    ),
    (
        "width known only at run time",
        lambda t: compiled_born().fit(_unshaped_dataset(np.zeros((2, 5), np.int32)), verbose=0),
        tf.errors.InvalidArgumentError,
        r"wrong width.*expects n = 4",
    ),
    (
        "unbatched tf.data set",
        lambda t: compiled_born().fit(
            tf.data.Dataset.from_tensor_slices(np.zeros((4, 4), np.int32)), verbose=0
        ),
        ValueError,
        r"forget `.batch\(...\)`",
    ),
    (
        "complex generator data",
        lambda t: compiled_born().fit(np.ones((2, 4), np.complex64), verbose=0),
        TypeError,
        r"must hold numbers 0 and 1",
    ),
    (
        "string generator data",
        lambda t: compiled_born().fit(np.array([["0", "1", "1", "0"]]), verbose=0),
        TypeError,
        r"Convert bitstrings such as '0110'",
    ),
    (
        "single bitstring",
        lambda t: compiled_born().fit(np.array([0, 1, 1, 0]), verbose=0),
        ValueError,
        r"single bitstring.*Wrap it",
    ),
    # -- other refused arguments, already clear --
    ("empty observables", lambda t: pqc(observables=[]), CircuitError, r"observables is empty"),
    (
        "complex observable coefficient",
        lambda t: pqc(observables=1j * cirq.Z(Q[0])),
        CircuitError,
        r"complex coefficient.*use real coefficients",
    ),
    (
        "circuit not a cirq.Circuit",
        lambda t: pqc(circuit=[cirq.rx(X0).on(Q[0])]),
        CircuitError,
        r"circuit must be a cirq.Circuit.*got",
    ),
    (
        "complex gate parameter",
        lambda t: pqc(circuit=CIRCUIT + cirq.rx(sympy.I * X0).on(Q[0])),
        CircuitError,
        r"is complex; gate angles must be real",
    ),
    (
        "symbolic global_shift",
        lambda t: pqc(circuit=CIRCUIT + cirq.XPowGate(exponent=X0, global_shift=W).on(Q[0])),
        CircuitError,
        r"symbolic global_shift",
    ),
    (
        "sub-circuit operation",
        lambda t: pqc(
            circuit=CIRCUIT
            + cirq.CircuitOperation(
                cirq.FrozenCircuit(cirq.rx(X0).on(Q[0])), use_repetition_ids=False
            )
        ),
        CircuitError,
        r"has no gate.*flatten it first",
    ),
    (
        "weight_symbols not the circuit's",
        lambda t: pqc(weight_symbols=["w", "v"]),
        CircuitError,
        r"must list exactly",
    ),
    (
        "repetitions not a positive int",
        lambda t: pqc(repetitions=0),
        ValueError,
        r"repetitions must be a positive int",
    ),
    ("unknown backend", lambda t: pqc(backend="gpu"), ValueError, r"backend must be one of"),
    (
        "differentiator with the statevector backend",
        lambda t: pqc(backend="statevector", differentiator="adjoint"),
        ValueError,
        r"differentiator applies to backend='tfq'",
    ),
    (
        "circuit on no qubits",
        lambda t: PQC(cirq.Circuit(), [], backend="statevector"),
        CircuitError,
        r"observables is empty|acts on no qubits",
    ),
    (
        "quantum-data layer given features",
        lambda t: PQC(cirq.Circuit(cirq.ry(W).on(Q[0])), cirq.Z(Q[0]))(
            np.zeros((1, 2), np.float32)
        ),
        TypeError,
        r"has no input_symbols, so its input must be quantum data",
    ),
    (
        "quantum data that is not serialized circuits",
        lambda t: PQC(cirq.Circuit(cirq.ry(W).on(Q[0])), cirq.Z(Q[0]))(tf.constant(["0: -X-"])),
        ValueError,
        r"must hold serialized circuits.*element 0.*convert_to_tensor",
    ),
    (
        "quantum data with an unresolved symbol",
        lambda t: PQC(cirq.Circuit(cirq.ry(W).on(Q[0])), cirq.Z(Q[0]))(
            _data([cirq.rx(X0).on(Q[0])])
        ),
        tf.errors.InvalidArgumentError,
        r"symbol\(s\) that get no value.*resolve_parameters(.|\n)*x0",
    ),
    (
        "quantum data sharing a symbol with the layer",
        lambda t: PQC(cirq.Circuit(cirq.ry(W).on(Q[0])), cirq.Z(Q[0]))(
            _data([cirq.rx(W).on(Q[0])])
        ),
        tf.errors.InvalidArgumentError,
        r"appears both in the quantum-data circuits(.|\n)*b'w'",
    ),
    (
        "generator fit with labels",
        lambda t: compiled_born().fit(np.zeros((2, 4), int), np.zeros(2)),
        ValueError,
        r"learns a distribution from x alone",
    ),
    (
        "generator fit before compile",
        lambda t: BornMachine(4, layers=1, backend="statevector").fit(np.zeros((2, 4), int)),
        RuntimeError,
        r"must be compiled before training",
    ),
    (
        "unsupported generator loss",
        lambda t: BornMachine(4, layers=1).compile("adam", loss="mse"),
        ValueError,
        r"Unsupported loss 'mse'.*Use one of",
    ),
    (
        "non-positive MMD bandwidth",
        lambda t: BornMachine(4, layers=1).compile("adam", loss="mmd", mmd_bandwidths=[0.0]),
        ValueError,
        r"`mmd_bandwidths` must be positive",
    ),
    (
        "negative kl_epsilon",
        lambda t: BornMachine(4, layers=1).compile("adam", kl_epsilon=-1),
        ValueError,
        r"`kl_epsilon` must be a small non-negative",
    ),
    (
        "Keras metric on a generator",
        lambda t: BornMachine(4, layers=1).compile("adam", metrics=["accuracy"]),
        TypeError,
        r"take metric objects that read a probability vector",
    ),
    (
        "Born circuit and layers together",
        lambda t: BornMachine(2, circuit=CIRCUIT, layers=2),
        ValueError,
        r"pass either circuit= or layers=",
    ),
    (
        "Born repetitions below 2",
        lambda t: BornMachine(4, layers=1, repetitions=1),
        ValueError,
        r"repetitions must be an int >= 2",
    ),
    (
        "QBM restricted without hidden units",
        lambda t: QuantumBoltzmannMachine(4, connectivity="restricted"),
        ValueError,
        r"needs n_hidden >= 1",
    ),
    (
        "QBM bound gradient with MMD",
        lambda t: QuantumBoltzmannMachine(
            3, gradient="bound", train_transverse_field=False
        ).compile("adam", loss="mmd"),
        ValueError,
        r"supports loss='kl' or 'nll'",
    ),
    (
        "QBM bound gradient training the field",
        lambda t: QuantumBoltzmannMachine(3, gradient="bound", train_transverse_field=True),
        ValueError,
        r"does not train the transverse field",
    ),
    (
        "QBM non-finite transverse field",
        lambda t: QuantumBoltzmannMachine(3, transverse_field=float("nan")),
        ValueError,
        r"transverse field must be finite",
    ),
    (
        "QBM without visible units",
        lambda t: QuantumBoltzmannMachine(0),
        ValueError,
        r"`n_visible` must be an integer >= 1",
    ),
]


def test_catalogue_is_long_enough_and_distinct(capsys):
    ids = [_case_id(case) for case in CATALOGUE]
    with capsys.disabled():
        print(f"\nbad-input catalogue: {len(ids)} distinct kinds")
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 60


def _case_id(case):
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize(
    "case",
    [
        c if not hasattr(c, "values") else pytest.param(c.values, marks=c.marks, id=c.values[0])
        for c in CATALOGUE
    ],
    ids=[_case_id(c) for c in CATALOGUE],
)
def test_bad_input_is_refused_with_a_fix(case, tmp_path):
    _, action, error, phrase = case
    with pytest.raises(error, match=phrase):
        action(tmp_path)
