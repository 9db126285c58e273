"""Statevector-backend exports load and serve in a process that imports neither TFQ nor tfq_layers."""

import cirq
import numpy as np
import pytest
import sympy

import reference
from tfq_layers import PQC
from tfq_layers._keras import keras
from tfq_layers.export import export_portable

SERVE_WITHOUT_TFQ = """
import sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load({export_dir!r})
x = np.load({x_path!r})
np.save({out_path!r}, loaded.serve(tf.constant(x)).numpy())
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tfq_layers', 'tensorflow_quantum'))
assert not bad, bad
print('modules clean')
"""


def _trained_tfq_model():
    q = cirq.GridQubit.rect(1, 3)
    xs, ws = sympy.symbols("x0:3"), sympy.symbols("w0:9")
    circuit = cirq.Circuit(
        [cirq.rx(sympy.atan(xs[i]) * ws[i]).on(q[i]) for i in range(3)],
        cirq.CNOT(q[0], q[1]),
        cirq.CNOT(q[1], q[2]),
        [cirq.ry(ws[3 + i]).on(q[i]) for i in range(3)],
        cirq.ZZPowGate(exponent=ws[8]).on(q[0], q[2]),
        [cirq.rz(ws[6 + i] + xs[i]).on(q[i]) for i in range(2)],
    )
    keras.utils.set_random_seed(3)
    inp = keras.Input((4,))
    h = keras.layers.Dense(3, activation="tanh")(inp)
    h = PQC(
        circuit,
        [cirq.Z(q[0]), cirq.X(q[1]) * cirq.X(q[2])],
        input_symbols=xs,
        backend="tfq",
        name="quantum",
    )(h)
    model = keras.Model(inp, keras.layers.Dense(1)(h))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(48, 4)).astype(np.float32)
    model.fit(x, x[:, :1] * x[:, 1:2], epochs=2, batch_size=16, verbose=0)
    return model, x


@pytest.mark.tfq  # a model trained on TFQ's backend is the input
def test_tfq_model_converts_and_serves_without_tfq(tmp_path):
    import tensorflow as tf

    model, x = _trained_tfq_model()
    assert model.get_layer("quantum").backend == "tfq"
    export_dir = str(tmp_path / "portable")
    portable = export_portable(model, export_dir)
    layer = [l for l in portable.layers if isinstance(l, PQC)][0]
    assert layer.backend == "statevector"
    # Same function as the trained TFQ model, to float32 rounding.
    np.testing.assert_allclose(
        portable.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )
    served_here = tf.saved_model.load(export_dir)
    expected = served_here.serve(tf.constant(x)).numpy()
    np.save(tmp_path / "x.npy", x)
    out = reference.run_python(
        SERVE_WITHOUT_TFQ.format(
            export_dir=export_dir, x_path=str(tmp_path / "x.npy"), out_path=str(tmp_path / "y.npy")
        )
    )
    assert "modules clean" in out
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
    # No TFQ op in the exported graph at all.
    with open(f"{export_dir}/saved_model.pb", "rb") as f:
        assert b"Tfq" not in f.read()
