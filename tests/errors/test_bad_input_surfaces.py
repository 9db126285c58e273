"""The bad-input catalogue of the newer surfaces (issue 23): quantum data, compat executors,
unitaries, shot counts, tampered saved configs, import-time state; and the public surfaces added
since: optional TFQ (``backends.require``, ``choose_backend(available=)``), Cirq objects as
backends, the migration tool, the wire format, TFLite export, the QHBM/QGAN/energy models.

Same style as ``tests/errors/test_bad_input_catalogue.py``: each entry raises an early error of the given
type whose message matches the phrase naming the problem or the fix. Every case fails before any
large allocation (that is the point), so the whole catalogue stays fast. Cases that need
TensorFlow Quantum carry ``@pytest.mark.tfq``; the cases whose right outcome is a result (``ok``)
are the tests after the catalogue, each checked against Cirq.
"""

import json
import os
import subprocess
import sys
import zipfile

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
from tfq_layers import (
    PQC,
    BornMachine,
    CircuitError,
    PQCProbabilities,
    PQCSample,
    PQCState,
    PQCUnitary,
    SerializationError,
    backends,
    export,
    saving,
    serialization,
    wire,
)
from tfq_layers._keras import keras
from tfq_layers.compat import convert_to_tensor, from_tensor
from tfq_layers.compat import layers as compat
from tfq_layers.errors import BackendUnavailableError
from unavailable import without_tfq
from tfq_layers.generative.energy import BernoulliEnergy
from tfq_layers.generative.qgan import QGAN
from tfq_layers.generative.qhbm import QHBM, thermal_state

Q = cirq.GridQubit.rect(1, 2)
X, W, V = sympy.symbols("x w v")
CIRCUIT = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[1]), cirq.CNOT(*Q), cirq.rz(V).on(Q[0]))
NOISY = cirq.Circuit(cirq.ry(W).on(Q[0]), cirq.CNOT(*Q), cirq.depolarize(0.1).on(Q[0]))
TFQ = pytest.mark.tfq


def _data(circuits):
    import tensorflow_quantum as tfq

    return tfq.convert_to_tensor(circuits)


def _one_qubit_layer():
    return PQC(cirq.Circuit(cirq.ry(W).on(Q[0])), cirq.Z(Q[0]), backend="tfq")


def _model(backend="tfq"):
    return keras.Sequential(
        [keras.Input((1,)), PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"], backend=backend)]
    )


def _load_edited(tmp_path, edit, backend="statevector"):
    """Save a model, edit the PQC's config in config.json, load under safe_mode and call it."""
    path = tmp_path / "m.keras"
    _model(backend).save(str(path))
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(payload)
                edit(config["config"]["layers"][-1]["config"])
                payload = json.dumps(config).encode()
            dst.writestr(item, payload)
    model = keras.models.load_model(str(bad), safe_mode=True)
    return model(np.zeros((1, 1), np.float32))


def _with_kraus_3i(config):
    circuit = serialization.loads(config["circuit"]) + cirq.KrausChannel([3 * np.eye(2)]).on(Q[0])
    config.update(circuit=serialization.dumps(circuit), repetitions=10, differentiator=None)


def _weights_with_one_value(tmp_path):
    import h5py

    path = str(tmp_path / "w.weights.h5")
    _model("statevector").save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["layers/pqc/vars/0"]
        f["layers/pqc/vars/0"] = np.array([0.5], np.float32)
    _model("statevector").load_weights(path)


def _port_in_use(tmp_path):
    import socket

    from tfq_layers.distribute import bootstrap, tf_config

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    old = os.environ.get("TF_CONFIG")
    os.environ["TF_CONFIG"] = tf_config(0, [port, 1])
    try:
        bootstrap.check_own_port()
    finally:
        busy.close()
        if old is None:
            del os.environ["TF_CONFIG"]
        else:
            os.environ["TF_CONFIG"] = old


def _controlled_pqc_model():
    circuits = keras.Input((), dtype="string")
    controls = keras.Input((2,))
    layer = compat.ControlledPQC(
        cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[1])), cirq.Z(Q[0]), backend="tfq"
    )
    return keras.Model([circuits, controls], layer([circuits, controls]))


def _unitary_17():
    return PQCUnitary(
        cirq.Circuit(cirq.rx(X).on_each(cirq.LineQubit.range(17))),
        input_symbols=["x"],
        backend="statevector",
    )


def tfq_case(*case):
    """A catalogue entry that needs TensorFlow Quantum."""
    return pytest.param(case, marks=TFQ, id=case[0])


def _expectation(values, backend="statevector"):
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[1]))
    return compat.Expectation(backend=backend)(
        circuit, symbol_names=[X, W], symbol_values=values, operators=[cirq.Z(Q[0])]
    )


# -- the newer public surfaces: optional TFQ, Cirq objects as backends, the migration tool, the
# wire format, TFLite export, the QHBM/QGAN generators ----------------------------------------
def _evil_gate_id():
    """A serialized circuit whose gate id is not TFQ's (the bytes otherwise well formed)."""
    from tfq_layers import wire

    program = wire.serialize_circuit(cirq.Circuit(cirq.X(Q[0])))
    program.circuit.moments[0].operations[0].gate.id = "EVIL"
    return tf.constant([program.SerializeToString()])


def _migrate(tmp_path, name, content, *options):
    """``python -m tfq_layers.migrate`` on a file ``name`` holding ``content`` (None: no file),
    its usage error re-raised as ``SystemExit(<what it printed>)``."""
    import contextlib
    import io

    from tfq_layers import migrate

    src = tmp_path / name
    if content is not None:
        src.write_bytes(content)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            migrate.main([str(src), *[str(o).replace("{tmp}", str(tmp_path)) for o in options]])
        except SystemExit as stop:
            raise SystemExit(err.getvalue()) from stop


def _circuit_bytes():
    from tfq_layers import wire

    return wire.serialize_circuit(
        cirq.Circuit(cirq.X(Q[0]), cirq.rx(0.3).on(Q[1]))
    ).SerializeToString()


def _tflite_model():
    return keras.Sequential(
        [keras.Input((1,)), PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"], backend="statevector")]
    )


def _qhbm(**kwargs):
    circuit = cirq.Circuit(cirq.ry(W).on(Q[0]), cirq.CNOT(*Q))
    return QHBM(BernoulliEnergy(2), circuit, backend="statevector", **kwargs)


def _qgan(**kwargs):
    disc = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    return QGAN(BornMachine(2, layers=1, backend="statevector"), disc, **kwargs)


def _qgan_fit_rows(t):
    gan = _qgan()
    gan.compile(keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01))
    gan.fit(np.zeros((4, 3), np.float32), epochs=1, verbose=0)


def _energy_call(method, bits):
    return getattr(BernoulliEnergy(2), method)(bits)


CATALOGUE = [
    # (id, action, error type, phrase naming the problem or the fix)
    # -- crashes --
    tfq_case(
        "quantum data on 34 qubits into a 1-qubit PQC",
        lambda t: _one_qubit_layer()(
            _data([cirq.Circuit(cirq.X.on_each(cirq.LineQubit.range(34)))])
        ),
        tf.errors.InvalidArgumentError,
        r"act on qubits the layer's circuit does not have(.|\n)*add cirq.I",
    ),
    tfq_case(
        "quantum data on 34 qubits into compat Expectation",
        lambda t: compat.Expectation()(
            _data([cirq.Circuit(cirq.X.on_each(cirq.GridQubit.rect(1, 34)))]),
            operators=[cirq.Z(Q[0])],
        ),
        tf.errors.InvalidArgumentError,
        r"quantum data does not fit in memory(.|\n)*Use data on fewer qubits",
    ),
    tfq_case(
        "compat Sample of 20 qubits with 10**9 repetitions",
        lambda t: compat.Sample()(
            cirq.Circuit(cirq.X.on_each(cirq.LineQubit.range(20))), repetitions=10**9
        ),
        MemoryError,
        r"GiB of samples \(1000000000 shots each\).*fewer repetitions",
    ),
    tfq_case(
        "compat Sample of 20-qubit quantum data with 10**9 repetitions",
        lambda t: compat.Sample()(
            _data([cirq.Circuit(cirq.X.on_each(cirq.LineQubit.range(20)))]), repetitions=10**9
        ),
        tf.errors.InvalidArgumentError,
        r"does not fit in memory(.|\n)*fewer repetitions",
    ),
    (
        "compat Sample on the statevector backend with 10**9 repetitions",
        lambda t: compat.Sample(backend="statevector")(
            cirq.Circuit(cirq.X.on_each(cirq.LineQubit.range(20))), repetitions=10**9
        ),
        MemoryError,
        r"GiB of samples.*fewer repetitions",
    ),
    (
        "differentiator spec with a string instance",
        lambda t: _load_edited(
            t,
            lambda c: c.update(
                backend="tfq",
                differentiator={
                    "name": "custom",
                    "class": None,
                    "config": {},
                    "instance": "rm -rf /",
                },
            ),
        ),
        ValueError,
        r"'instance' must be a tfq.differentiators.Differentiator; got str",
    ),
    (
        "differentiator spec with an out-of-range setting",
        lambda t: _load_edited(
            t,
            lambda c: c.update(
                backend="tfq",
                differentiator={"name": "forward_difference", "config": {"error_order": 10**9}},
            ),
        ),
        ValueError,
        r"error_order=1000000000 is not a number in \[1, 8\]",
    ),
    (
        "differentiator spec with an unknown field",
        lambda t: _load_edited(
            t,
            lambda c: c.update(
                backend="tfq", differentiator={"name": "adjoint", "config": {}, "eval": "1"}
            ),
        ),
        ValueError,
        r"unknown field\(s\) \['eval'\]",
    ),
    tfq_case(
        "to_statevector of a compat ControlledPQC fed quantum data",
        lambda t: export.to_statevector(_controlled_pqc_model()),
        ValueError,
        r"controlled_pqc.*is fed quantum data.*no portable statevector form",
    ),
    # -- silent results --
    (
        "repetitions=2**32 + 3 (int32 wraparound)",
        lambda t: PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"], repetitions=2**32 + 3),
        ValueError,
        r"repetitions=4294967299 exceeds 2147483647 \(2\*\*31 - 1\)",
    ),
    tfq_case(
        "quantum data on a qubit the layer lacks",
        lambda t: _one_qubit_layer()(_data([cirq.Circuit(cirq.X(Q[1]), cirq.X(Q[0]))])),
        tf.errors.InvalidArgumentError,
        r"qubits the layer's circuit does not have(.|\n)*0_1",
    ),
    tfq_case(
        "quantum data with a control qubit the layer lacks",
        lambda t: _one_qubit_layer()(
            _data([cirq.Circuit(cirq.rx(0.5).on(Q[0]).controlled_by(cirq.GridQubit(3, 3)))])
        ),
        tf.errors.InvalidArgumentError,
        r"outside the register(.|\n)*3_3",
    ),
    (
        "compat Expectation with NaN symbol_values",
        lambda t: _expectation([[np.nan, 0.0]]),
        tf.errors.InvalidArgumentError,
        r"symbol_values contain NaN or Inf",
    ),
    tfq_case(
        "compat Expectation (TFQ) with NaN symbol_values",
        lambda t: _expectation([[np.nan, 0.0]], backend="noiseless"),
        tf.errors.InvalidArgumentError,
        r"symbol_values contain NaN or Inf",
    ),
    (
        "noisy circuit in a Born machine on the statevector backend",
        lambda t: BornMachine(2, circuit=NOISY, backend="statevector"),
        ValueError,
        r"noise channels.*Pass trajectories=N",
    ),
    tfq_case(
        "noisy circuit in a Born machine on the TFQ backend",
        lambda t: BornMachine(2, circuit=NOISY, backend="tfq"),
        ValueError,
        r"noise channels.*Pass trajectories=N",
    ),
    (
        "KrausChannel 3*I in a saved circuit",
        lambda t: _load_edited(t, _with_kraus_3i, backend="statevector"),
        SerializationError,
        r"KrausChannel.*not trace preserving.*off the identity by 8",
    ),
    # -- hang --
    (
        "SampledExpectation with repetitions=10**11",
        lambda t: compat.SampledExpectation(backend="statevector")(
            cirq.Circuit(cirq.rx(X).on(Q[0])),
            symbol_names=[X],
            symbol_values=[[0.1]],
            operators=[cirq.Z(Q[0])],
            repetitions=10**11,
        ),
        ValueError,
        r"repetitions=100000000000 exceeds 2147483647",
    ),
    # -- opaque cases --
    (
        "layer(None)",
        lambda t: PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"])(None),
        TypeError,
        r"input features are None; pass a float tensor",
    ),
    (
        "SparseTensor features",
        lambda t: PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"])(
            tf.sparse.from_dense(tf.constant([[1.0]]))
        ),
        TypeError,
        r"sparse tensor.*tf.sparse.to_dense",
    ),
    (
        "string symbol_values",
        lambda t: _expectation(tf.constant([["1", "0"]])),
        TypeError,
        r"symbol_values hold strings.*tf.strings.to_number",
    ),
    tfq_case(
        "string controller input",
        lambda t: compat.ControlledPQC(
            cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[1])), cirq.Z(Q[0])
        )([_data([cirq.Circuit()]), tf.constant([["1", "2"]])]),
        TypeError,
        r"input features hold strings",
    ),
    (
        "PQCUnitary on 17 qubits",
        lambda t: PQCUnitary(
            cirq.Circuit(cirq.rx(X).on_each(cirq.LineQubit.range(17))),
            input_symbols=["x"],
            backend="statevector",
        )(np.zeros((1, 1), np.float32)),
        MemoryError,
        r"17 qubits needs about .* GiB of unitary matrices",
    ),
    (
        "PQCUnitary on 17 qubits in a graph, batch unknown",
        lambda t: tf.function(
            _unitary_17(), input_signature=[tf.TensorSpec([None, 1])], autograph=False
        ).get_concrete_function(),
        MemoryError,
        r"one example on 17 qubits needs about .* GiB of unitary matrices",
    ),
    (
        "PQCUnitary on 17 qubits under XLA",
        lambda t: tf.function(_unitary_17(), jit_compile=True, autograph=False)(
            np.zeros((1, 1), np.float32)
        ),
        MemoryError,
        r"17 qubits needs about .* GiB of unitary matrices",
    ),
    (
        "PQCSample with 10**9 shots under XLA, batch unknown",
        lambda t: tf.function(
            PQCSample(
                cirq.Circuit(cirq.rx(X).on_each(cirq.LineQubit.range(20))),
                input_symbols=["x"],
                repetitions=10**9,
                backend="statevector",
            ),
            jit_compile=True,
            autograph=False,
            input_signature=[tf.TensorSpec([None, 1])],
        ).get_concrete_function(),
        MemoryError,
        r"GiB of samples \(1000000000 shots each\).*fewer repetitions",
    ),
    tfq_case(
        "compat Unitary of 17-qubit quantum data",
        lambda t: compat.Unitary()(_data([cirq.Circuit(cirq.H.on_each(cirq.LineQubit.range(17)))])),
        tf.errors.InvalidArgumentError,
        r"unitaries only up to \d+ qubits",
    ),
    tfq_case(
        "compat Unitary on 17 qubits",
        lambda t: compat.Unitary()(cirq.Circuit(cirq.H.on_each(cirq.LineQubit.range(17)))),
        MemoryError,
        r"17 qubits needs about .* GiB of unitary matrices",
    ),
    (
        "tampered repetitions=10**12 in a saved model",
        lambda t: _load_edited(t, lambda c: c.update(repetitions=10**12), backend="statevector"),
        ValueError,
        r"repetitions=1000000000000 exceeds 2147483647",
    ),
    (
        "one weight value for two weight symbols in a .weights.h5",
        _weights_with_one_value,
        ValueError,
        r"saved weights hold 1 value\(s\).*for the 2 weight symbols",
    ),
    (
        "BornMachine.sample(10**12)",
        lambda t: BornMachine(2, layers=1, backend="statevector").sample(10**12),
        MemoryError,
        r"k=1000000000000 bitstrings of 2 bits needs about .* GiB.*Draw fewer samples",
    ),
    (
        "Born sample_circuit(10**12)",
        lambda t: BornMachine(2, layers=1, backend="statevector").sample_circuit(10**12),
        ValueError,
        r"repetitions=1000000000000 exceeds",
    ),
    (
        "Born machine layers=10**9 (a tampered count)",
        lambda t: BornMachine.from_config(
            {**BornMachine(2, layers=1, backend="statevector").get_config(), "layers": 10**9}
        ),
        ValueError,
        r"layers=1000000000 exceeds 1000",
    ),
    (
        "multi-worker port in use",
        _port_in_use,
        RuntimeError,
        r"cannot listen on port \d+.*Another process uses the port",
    ),
    (
        "Born trajectories not an int",
        lambda t: BornMachine(2, circuit=NOISY, trajectories=2.5),
        ValueError,
        r"trajectories\): repetitions must be a positive int",
    ),
    # -- opaque: an unknown gate id, a malformed differentiator spec --
    tfq_case(
        "quantum data with an unknown gate id",
        lambda t: _one_qubit_layer()(_evil_gate_id()),
        tf.errors.InvalidArgumentError,
        r"unknown gate id(.|\n)*convert_to_tensor(.|\n)*EVIL",
    ),
    tfq_case(
        "compat Expectation of data with an unknown gate id",
        lambda t: compat.Expectation()(_evil_gate_id(), operators=[cirq.Z(Q[0])]),
        tf.errors.InvalidArgumentError,
        r"unknown gate id(.|\n)*EVIL",
    ),
    (
        "unknown gate id read by from_tensor",
        lambda t: from_tensor(_evil_gate_id()),
        ValueError,
        r"gate id 'EVIL', which is not in TFQ's gate set",
    ),
    (
        "differentiator spec not an object",
        lambda t: _load_edited(t, lambda c: c.update(backend="tfq", differentiator=["adjoint"])),
        ValueError,
        r"differentiator spec must be a name or an object; got list",
    ),
    (
        "differentiator spec with an unknown name",
        lambda t: _load_edited(
            t, lambda c: c.update(backend="tfq", differentiator={"name": "eval", "config": {}})
        ),
        ValueError,
        r"differentiator spec 'name' 'eval' is not one of",
    ),
    # -- optional TFQ --
    (
        "backends.require('tfq') where TFQ cannot run",
        lambda t: without_tfq(lambda: backends.require("tfq")),
        BackendUnavailableError,
        r"backend='tfq' cannot run here.*pip install 'tfq-layers\[tfq\]'",
    ),
    (
        "backends.require of an unknown name",
        lambda t: backends.require("tpu"),
        ValueError,
        r"backend must be one of .*got 'tpu'",
    ),
    (
        "choose_backend with a TFQ differentiator where TFQ is not available",
        lambda t: backends.choose_backend(2, differentiator="adjoint", available=("statevector",)),
        BackendUnavailableError,
        r"differentiator= applies to TFQ's backend only.*drop differentiator",
    ),
    (
        "choose_backend available= naming an unknown backend",
        lambda t: backends.choose_backend(2, available=("gpu",)),
        ValueError,
        r"`available` names unknown backend\(s\) \['gpu'\]",
    ),
    (
        "choose_backend available= as one string",
        lambda t: backends.choose_backend(2, available="statevector"),
        ValueError,
        r"`available` must be a tuple of backend names, e.g. \('statevector',\)",
    ),
    (
        "choose_backend n_qubits not an int",
        lambda t: backends.choose_backend("2"),
        ValueError,
        r"`n_qubits` must be an int >= 0; got '2'",
    ),
    # -- Cirq objects as backends --
    (
        "Cirq sampler asked for a state",
        lambda t: PQCState(CIRCUIT, input_symbols=["x"], backend=cirq.ZerosSampler())(
            np.zeros((1, 1), np.float32)
        ),
        TypeError,
        r"cannot run state: it is not a cirq.SimulatesFinalState. Give a cirq.Simulator",
    ),
    (
        "compat Expectation on a Cirq object that only samples",
        lambda t: compat.Expectation(backend=cirq.ZerosSampler()),
        TypeError,
        r"Sampler backends are not supported by Expectation; use SampledExpectation",
    ),
    (
        "Cirq simulator asked for a unitary",
        lambda t: PQCUnitary(CIRCUIT, input_symbols=["x"], backend=cirq.Simulator())(
            np.zeros((1, 1), np.float32)
        ),
        TypeError,
        r"cannot compute unitaries.*Use backend='statevector'",
    ),
    (
        "Cirq simulator class instead of an object",
        lambda t: PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"], backend=cirq.Simulator),
        ValueError,
        r"backend must be one of .*or a cirq.Sampler / cirq.SimulatesExpectationValues object",
    ),
    (
        "Cirq simulator fed quantum data on qubits the layer lacks, asked for a state",
        lambda t: PQCState(cirq.Circuit(cirq.ry(W).on(Q[0])), backend=cirq.Simulator())(
            convert_to_tensor([cirq.Circuit(cirq.X(Q[1]))])
        ),
        tf.errors.InvalidArgumentError,
        r"a quantum-data circuit acts on qubits .*that the model's circuit does not use",
    ),
    # -- the migration tool (python -m tfq_layers.migrate) --
    (
        "migrate a missing file",
        lambda t: _migrate(t, "missing.py", None),
        SystemExit,
        r"missing.py: no such file",
    ),
    (
        "migrate a file that is neither Python nor a notebook",
        lambda t: _migrate(t, "notes.txt", b"import tensorflow_quantum as tfq\n"),
        SystemExit,
        r"notes.txt: give a .py or .ipynb file",
    ),
    (
        "migrate a corrupt notebook",
        lambda t: _migrate(t, "nb.ipynb", b'{"cells": ['),
        SystemExit,
        r"nb.ipynb: not a notebook \(its JSON does not parse.*re-save it",
    ),
    (
        "migrate a notebook without cells",
        lambda t: _migrate(t, "nb.ipynb", b"[1, 2]"),
        SystemExit,
        r"nb.ipynb: not a notebook \(no list of cells",
    ),
    (
        "migrate a file that is not UTF-8",
        lambda t: _migrate(t, "a.py", b"\xff\xfe x = 1\n"),
        SystemExit,
        r"a.py: not UTF-8 text.*save the program as UTF-8",
    ),
    (
        "migrate onto the input itself",
        lambda t: _migrate(t, "a.py", b"import tensorflow_quantum as tfq\n", "-o", "{tmp}/a.py"),
        SystemExit,
        r"would overwrite the program being migrated; give another path with -o",
    ),
    (
        "migrate into a folder that cannot be written",
        lambda t: _migrate(t, "a.py", b"x = 1\n", "-o", "{tmp}/a.py/out.py"),
        SystemExit,
        r"cannot write there \(the folder .* is not a folder\)",
    ),
    # -- the wire format (tfq_layers.wire, compat.from_tensor) --
    (
        "wire: garbage bytes",
        lambda t: from_tensor(tf.constant([b"garbage\xff\x00"])),
        ValueError,
        r"element \(0,\).*cannot be read: it does not parse.*written by convert_to_tensor",
    ),
    (
        "wire: truncated circuit",
        lambda t: from_tensor(tf.constant([_circuit_bytes()[:-7]])),
        ValueError,
        r"serialized circuit .* cannot be read: it does not parse as a serialized circuit",
    ),
    (
        "wire: oversized element",
        lambda t: wire.deserialize_circuit(b"\n" + b"\xff" * (wire.MAX_ELEMENT_BYTES + 1)),
        ValueError,
        r"cannot be read: it is \d+ bytes long \(at most 16777216 are read\)",
    ),
    (
        "wire: a float tensor",
        lambda t: from_tensor(tf.constant([1.0])),
        TypeError,
        r"from_tensor takes a tf.string tensor; got dtype float32",
    ),
    (
        "wire: convert_to_tensor of a number",
        lambda t: convert_to_tensor([1]),
        TypeError,
        r"items_to_convert\[0\] is a int; convert_to_tensor takes .*cirq.Circuit",
    ),
    # -- TFLite export --
    (
        "to_tflite of a sampling model",
        lambda t: export.to_tflite(
            keras.Sequential(
                [
                    keras.Input((1,)),
                    PQCSample(CIRCUIT, input_symbols=["x"], repetitions=3, backend="statevector"),
                ]
            ),
            str(t / "m.tflite"),
        ),
        ValueError,
        r"samples \(repetitions=3\).*cannot be converted to TFLite.*without repetitions=",
    ),
    (
        "to_tflite of something that is not a model",
        lambda t: export.to_tflite("model.keras", str(t / "m.tflite")),
        TypeError,
        r"to_tflite converts a Keras model; got str",
    ),
    (
        "to_tflite of a model never built",
        lambda t: export.to_tflite(
            keras.Sequential([PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"])]),
            str(t / "m.tflite"),
        ),
        ValueError,
        r"has no defined inputs.*Build it with keras.Input",
    ),
    (
        "to_tflite into a missing folder",
        lambda t: export.to_tflite(_tflite_model(), str(t / "no" / "m.tflite")),
        ValueError,
        r"cannot write .*is not a folder.*os.makedirs",
    ),
    (
        "to_tflite with sample_inputs of the wrong width",
        lambda t: export.to_tflite(
            _tflite_model(), str(t / "m.tflite"), sample_inputs=np.zeros((2, 5))
        ),
        ValueError,
        r"sample_inputs of shape \(2, 5\) do not fit the model input",
    ),
    # -- QHBM / QGAN / energy models --
    (
        "QHBM circuit on more qubits than the energy has bits",
        lambda t: QHBM(
            BernoulliEnergy(2),
            cirq.Circuit(cirq.ry(W).on_each(cirq.GridQubit.rect(1, 3))),
        ),
        CircuitError,
        r"acts on 3 qubits .* n_bits=2: one qubit per bit. Add cirq.I",
    ),
    (
        "QHBM Hamiltonian on a qubit the model lacks",
        lambda t: _qhbm().vqt_loss(cirq.Z(cirq.GridQubit(5, 5)), 1.0),
        ValueError,
        r"`hamiltonian` acts on qubit\(s\) \[cirq.GridQubit\(5, 5\)\].*build the operator",
    ),
    (
        "thermal_state of a Hamiltonian on other qubits",
        lambda t: thermal_state(cirq.Z(cirq.GridQubit(5, 5)), 1.0, Q),
        ValueError,
        r"outside `qubits`.*Pass every qubit the Hamiltonian acts on",
    ),
    (
        "QHBM beta = 0",
        lambda t: _qhbm().vqt_loss(cirq.Z(Q[0]), 0.0),
        ValueError,
        r"`beta` \(inverse temperature\) must be positive and finite; got 0.0",
    ),
    (
        "QHBM beta not finite",
        lambda t: _qhbm().compile(loss="vqt", hamiltonian=cirq.Z(Q[0]), beta=float("nan")),
        ValueError,
        r"`beta` \(inverse temperature\) must be positive and finite; got nan",
    ),
    (
        "energy of bitstrings of the wrong width",
        lambda t: _energy_call("energy", np.zeros((2, 3), np.int32)),
        ValueError,
        r"bitstrings must have shape \(batch, 2\).*got shape \(2, 3\)",
    ),
    (
        "log_prob of values that are not bits",
        lambda t: _energy_call("log_prob", np.array([[2, 0]])),
        ValueError,
        r"bitstrings must hold only 0 and 1; got the values \[2\]",
    ),
    (
        "QHBM bitstrings of the wrong width",
        lambda t: _qhbm().circuit_energies(cirq.Z(Q[0]), np.zeros((2, 3), np.float32)),
        ValueError,
        r"has 3 columns but the simulator has 2 symbols.*pass shape \(batch, 2\)",
    ),
    (
        "energy model sample(10**12)",
        lambda t: _energy_call("sample", 10**12),
        MemoryError,
        r"drawing k=1000000000000 bitstrings of 2 bits needs about .* GiB.*Draw fewer samples",
    ),
    (
        "QHBM sample(10**12)",
        lambda t: _qhbm().sample(10**12),
        MemoryError,
        r"measuring k=1000000000000 samples of the 2-qubit model needs .*Draw fewer samples",
    ),
    (
        "QHBM tampered num_samples in a saved config",
        lambda t: type(_qhbm()).from_config({**_qhbm().get_config(), "num_samples": 10**12}),
        ValueError,
        r"num_samples: repetitions=1000000000000 exceeds 2147483647",
    ),
    (
        "QHBM tampered estimator in a saved config",
        lambda t: type(_qhbm()).from_config({**_qhbm().get_config(), "estimator": "eval"}),
        ValueError,
        r"`estimator` must be one of \['auto', 'exact', 'sampled'\]; got 'eval'",
    ),
    (
        "QHBM tampered energy class in a saved config",
        lambda t: type(_qhbm()).from_config(
            {**_qhbm().get_config(), "energy": {"class_name": "os.system", "config": {}}}
        ),
        TypeError,
        r"Could not locate class 'os.system'",
    ),
    (
        "QGAN target with NaN",
        lambda t: _qgan(target=[np.nan, 0.5, 0.25, 0.25]),
        ValueError,
        r"`target` must be a probability vector of length 4 \(non-negative, finite",
    ),
    (
        "QGAN epsilon not in (0, 1)",
        lambda t: _qgan(epsilon=-1.0),
        ValueError,
        r"`epsilon` .* must be in \(0, 1\), e.g. 1e-8; got -1.0",
    ),
    (
        "QGAN fit on rows instead of values",
        _qgan_fit_rows,
        ValueError,
        r"samples of one real value each: x of shape \(N,\) or \(N, 1\); got shape \(4, 3\)",
    ),
]


def _case_id(case):
    return case.values[0][0] if hasattr(case, "values") else case[0]


def test_catalogue_is_distinct(capsys):
    ids = [_case_id(case) for case in CATALOGUE]
    with capsys.disabled():
        print(f"\nbad-input catalogue (newer surfaces): {len(ids)} distinct kinds")
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CATALOGUE, ids=[_case_id(c) for c in CATALOGUE])
def test_bad_input_is_refused_with_a_fix(case, tmp_path):
    _, action, error, phrase = case
    with pytest.raises(error, match=phrase):
        action(tmp_path)


# -- the cases whose right outcome is a result, checked against Cirq ---------------------------
@pytest.mark.tfq
def test_quantum_data_inside_the_register_matches_cirq():
    layer = _one_qubit_layer()
    data = cirq.Circuit(cirq.X(Q[0]), cirq.rx(0.4).on(Q[0]))
    got = layer(_data([data])).numpy()[0, 0]
    (w,) = layer.circuit_weights.numpy()
    full = data + cirq.Circuit(cirq.ry(float(w)).on(Q[0]))
    want = reference.expectations(full, [cirq.Z(Q[0])], {})[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("backend", [pytest.param("tfq", marks=TFQ), "statevector"])
def test_noisy_born_machine_with_trajectories_matches_the_density_matrix(backend):
    model = BornMachine(2, circuit=NOISY, backend=backend, trajectories=3000)
    model.build()
    (w,) = model.circuit_weights.numpy()
    resolved = cirq.resolve_parameters(NOISY, {"w": float(w)})
    rho = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(resolved).final_density_matrix
    np.testing.assert_allclose(model.probabilities().numpy(), np.real(np.diag(rho)), atol=0.04)


@pytest.mark.tfq
def test_to_statevector_rebuilds_pqc_probabilities_as_itself():
    circuit = cirq.Circuit(cirq.rx(X).on(Q[0]), cirq.ry(W).on(Q[1]), cirq.CNOT(*Q))
    model = keras.Sequential(
        [keras.Input((1,)), PQCProbabilities(circuit, input_symbols=["x"], backend="tfq")]
    )
    portable = export.to_statevector(model)
    assert type(portable.layers[-1]) is PQCProbabilities
    assert portable.layers[-1].backend == "statevector"
    x = np.array([[0.3], [1.1]], np.float32)
    w = float(model.layers[-1].circuit_weights.numpy()[0])
    for row, value in zip(portable(x).numpy(), x[:, 0]):
        state = cirq.final_state_vector(
            cirq.resolve_parameters(circuit, {"x": float(value), "w": w}), dtype=np.complex128
        )
        np.testing.assert_allclose(row, np.abs(state) ** 2, atol=1e-5)


def test_save_model_writes_through_a_symlink_like_keras(tmp_path):
    target = tmp_path / "real.keras"
    link = tmp_path / "link.keras"
    link.symlink_to(target)
    model = _model("statevector")
    saving.save_model(model, str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.is_file()
    loaded = saving.load_model(str(link))
    x = np.array([[0.4]], np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    # Keras' own writer does the same: the link stays, its target is written
    keras.Model.save(model, str(link))
    assert link.is_symlink() and target.is_file()


def test_next_save_removes_the_temporaries_of_a_killed_save(tmp_path):
    # a finished process's id: its temporaries are orphans
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f".m.tmp-{dead.pid}-0123abcd.keras"
    orphan.write_bytes(b"half a zip")
    alive = tmp_path / f".m.tmp-{os.getppid()}-89abcdef.keras"  # a live process: kept
    alive.write_bytes(b"being written")
    other = tmp_path / f".n.tmp-{dead.pid}-0123abcd.keras"  # another target's: kept
    other.write_bytes(b"not ours")
    saving.save_model(_model("statevector"), str(tmp_path / "m.keras"))
    assert not orphan.exists()
    assert alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.keras", alive.name, other.name])


def test_no_false_custom_gradient_warning_at_savedmodel_load(tmp_path):
    import logging

    export.save_serving(_model("statevector"), str(tmp_path / "served"))
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("absl").addHandler(handler)
    try:
        loaded = tf.saved_model.load(str(tmp_path / "served"))
    finally:
        logging.getLogger("absl").removeHandler(handler)
    assert not [r for r in records if "unsaved custom gradients" in r.getMessage()]
    # and the first-order gradient through the loaded model is right
    x = tf.constant([[0.3]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = loaded.serve(x)
    grad = tape.gradient(y, x).numpy()[0, 0]
    f = lambda v: float(loaded.serve(tf.constant([[v[0]]], tf.float32)).numpy()[0, 0])  # noqa: E731
    np.testing.assert_allclose(grad, reference.central_difference(f, [0.3], h=1e-2)[0], atol=1e-3)


def test_tf_config_works_after_import_in_a_fresh_process():
    out = reference.run_python(
        "import tfq_layers\n"
        "import tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
        "print(len(tf.config.list_logical_devices('CPU')), "
        "tf.config.threading.get_intra_op_parallelism_threads())\n",
        timeout=120,
    )
    assert out.split() == ["2", "1"], out


def test_a_non_tensorflow_keras_backend_is_refused_at_import():
    pytest.importorskip("jax")
    with pytest.raises(
        RuntimeError, match=r"Keras is set to the 'jax' backend(.|\n)*KERAS_BACKEND"
    ):
        reference.run_python("import tfq_layers", env_extra={"KERAS_BACKEND": "jax"}, timeout=120)
