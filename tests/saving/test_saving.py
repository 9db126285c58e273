"""Saving (.keras) and export (SavedModel) round trips, checked in fresh processes."""

import json
import zipfile

import cirq
import numpy as np
import pytest
import sympy

import reference
from tfq_layers import PQC, SerializationError, backends, serialization
from tfq_layers._keras import LEGACY, keras


# TFQ's differentiator where TFQ runs (its spec must survive saving); none where it cannot (the
# statevector backend differentiates by autodiff and takes no differentiator).
DIFFERENTIATOR = "parameter_shift" if backends.is_available("tfq") else None


def _hybrid_model():
    q = cirq.GridQubit.rect(1, 3)
    xs = sympy.symbols("x0:3")
    ws = sympy.symbols("w0:9")
    circuit = cirq.Circuit(
        [cirq.rx(sympy.atan(xs[i]) * ws[i] + ws[3 + i]).on(q[i]) for i in range(3)],
        cirq.CNOT(q[0], q[1]),
        cirq.CNOT(q[1], q[2]),
        [cirq.ry(ws[6 + i] * 2 * sympy.pi).on(q[i]) for i in range(3)],
        cirq.rz(xs[0] * xs[1]).on(q[2]),
    )
    keras.utils.set_random_seed(1)
    inp = keras.Input((5,), name="features")
    h = keras.layers.Dense(3, activation="tanh")(inp)
    h = PQC(
        circuit,
        [cirq.Z(q[0]), cirq.X(q[1]) * cirq.Z(q[2]), cirq.Y(q[2])],
        input_symbols=xs,
        differentiator=DIFFERENTIATOR,
        regularizer=keras.regularizers.L2(1e-3),
        name="quantum",
    )(h)
    out = keras.layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x


def _serve_in_fresh_process(export_dir, x, tmp_path):
    """Outputs of the export's ``serve`` endpoint on ``x``, in a new Python process."""
    np.save(tmp_path / "x.npy", x)
    reference.run_python(f"""
import numpy as np, tensorflow as tf
import tfq_layers  # registers the TFQ ops a TFQ-backend SavedModel uses
loaded = tf.saved_model.load({export_dir!r})
x = np.load({str(tmp_path / "x.npy")!r})
np.save({str(tmp_path / "served.npy")!r}, loaded.serve(tf.constant(x)).numpy())
""")
    return np.load(tmp_path / "served.npy")


def test_keras_file_round_trip_is_exact_in_a_fresh_process(tmp_path):
    model, x = _hybrid_model()
    path = str(tmp_path / "model.keras")
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model.predict(x, verbose=0))
    reference.run_python(f"""
import numpy as np, tfq_layers
from tfq_layers._keras import keras
m = keras.models.load_model({path!r}, safe_mode=True)
x = np.load({str(tmp_path / "x.npy")!r})
np.save({str(tmp_path / "y2.npy")!r}, m.predict(x, verbose=0))
layer = m.get_layer("quantum")
assert layer.differentiator["name"] == {DIFFERENTIATOR or "autodiff"!r}, layer.differentiator
assert [s.name for s in layer.input_symbols] == ["x0", "x1", "x2"]
""")
    diff = np.abs(np.load(tmp_path / "y2.npy") - np.load(tmp_path / "y.npy")).max()
    assert diff == 0.0


@pytest.mark.skipif(LEGACY, reason="tf_keras exports through tf.saved_model.save; covered below")
def test_export_reloads_in_a_fresh_process_with_identical_outputs(tmp_path):
    model, x = _hybrid_model()
    export_dir = str(tmp_path / "export")
    import tensorflow as tf

    model.export(export_dir)
    # The export's own graph, served in this process: the fresh process must match it bit for bit.
    reloaded = tf.saved_model.load(export_dir)  # keep a reference: it owns the variables
    expected = reloaded.serve(tf.constant(x)).numpy()
    # Against Keras's predict, graph optimizations (op fusion) may change the last float32 bit.
    np.testing.assert_allclose(expected, model.predict(x, verbose=0), atol=1e-6)
    assert np.abs(_serve_in_fresh_process(export_dir, x, tmp_path) - expected).max() == 0.0


def test_saved_model_reload_in_a_fresh_process(tmp_path):
    """tf.saved_model.save works in both Keras lanes."""
    import tensorflow as tf

    model, x = _hybrid_model()
    export_dir = str(tmp_path / "sm")
    serve = tf.function(
        lambda t: model(t, training=False), input_signature=[tf.TensorSpec((None, 5), tf.float32)]
    )
    module = tf.Module()
    module.model = model
    module.serve = serve
    tf.saved_model.save(module, export_dir)
    reloaded = tf.saved_model.load(export_dir)  # keep a reference: it owns the variables
    expected = reloaded.serve(tf.constant(x)).numpy()
    np.testing.assert_allclose(expected, model.predict(x, verbose=0), atol=1e-6)
    assert np.abs(_serve_in_fresh_process(export_dir, x, tmp_path) - expected).max() == 0.0


def test_config_round_trip_keeps_circuit_observables_and_expressions():
    model, _ = _hybrid_model()
    layer = model.get_layer("quantum")
    config = json.loads(json.dumps(layer.get_config()))  # must be plain JSON
    clone = PQC.from_config(config)
    assert clone.circuit == layer.circuit
    assert clone.observables == layer.observables
    assert clone.weight_symbols == layer.weight_symbols
    assert isinstance(clone.regularizer, keras.regularizers.L2)


def _tampered(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def test_tampered_configs_are_refused_without_running_code(tmp_path):
    x = sympy.Symbol("x")
    q = cirq.LineQubit(0)
    text = serialization.dumps(cirq.Circuit(cirq.rx(sympy.atan(x)).on(q)))
    marker = tmp_path / "pwned"
    # 1. a function name outside the allow-list (would be code if looked up or evaluated)
    bad = _tampered(
        text, '"name":"atan"', "\"name\":\"__import__('os').system('touch %s')\"" % marker
    )
    with pytest.raises(SerializationError, match="allow-list"):
        serialization.loads(bad)
    # 2. a type outside the allow-list
    bad = _tampered(text, '"cirq_type":"Rx"', '"cirq_type":"pandas.Index"')
    with pytest.raises(SerializationError, match="does not load"):
        serialization.loads(bad)
    # 3. truncated JSON
    with pytest.raises(SerializationError, match="corrupt or truncated"):
        serialization.loads(text[: len(text) // 2])
    assert not marker.exists()


def test_corrupt_keras_file_is_rejected(tmp_path):
    model, _ = _hybrid_model()
    path = tmp_path / "model.keras"
    model.save(str(path))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(Exception) as info:
        keras.models.load_model(str(truncated), safe_mode=True)
    assert isinstance(info.value, (ValueError, OSError, zipfile.BadZipFile))
    # A config whose circuit was replaced by another object type.
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                payload = payload.replace(
                    b'\\"cirq_type\\":\\"Circuit\\"', b'\\"cirq_type\\":\\"pandas.MultiIndex\\"'
                )
                assert b"pandas.MultiIndex" in payload
            dst.writestr(item, payload)
    with pytest.raises(Exception, match="does not load"):
        keras.models.load_model(str(tampered), safe_mode=True)
    assert path.read_bytes() == data  # the user's file is untouched


@pytest.mark.skipif(LEGACY, reason="save_own_variables stores of Keras 3")
def test_weights_load_by_symbol_name_not_position(tmp_path):
    """Saved weights carry their symbol names: a model whose weight symbols are listed in
    another order gets the same values; one whose symbols differ is refused with the list."""
    q = cirq.GridQubit.rect(1, 2)
    x, a, b, c = sympy.symbols("x a b c")
    circuit = cirq.Circuit(
        cirq.rx(x)(q[0]), cirq.ry(a)(q[0]), cirq.rz(b)(q[1]), cirq.CNOT(*q), cirq.ry(2 * b)(q[1])
    )

    def model(weight_symbols=None, circ=circuit):
        i = keras.Input((1,))
        return keras.Model(
            i, PQC(circ, [cirq.Z(q[1])], input_symbols=["x"], weight_symbols=weight_symbols)(i)
        )

    f = np.array([[0.3], [-1.0]], np.float32)
    m = model(["a", "b"])
    path = str(tmp_path / "w.weights.h5")
    m.save_weights(path)
    m2 = model(["b", "a"])
    m2.load_weights(path)
    np.testing.assert_array_equal(m2.predict(f, verbose=0), m.predict(f, verbose=0))
    other = cirq.Circuit(cirq.rx(x)(q[0]), cirq.ry(a)(q[0]), cirq.rz(c)(q[1]))
    with pytest.raises(ValueError, match=r"belong to symbols \['a', 'b'\].*missing here: \['b'\]"):
        model(None, other).load_weights(path)
