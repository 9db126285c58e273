"""``tfq_layers.export.to_tflite``: models converted to TensorFlow Lite and run in its interpreter.

The reference is the Keras model itself (whose outputs the rest of the suite checks against
Cirq): the interpreter's outputs must match it to 1e-5 on inputs the converter never saw.
"""

import os

import cirq
import numpy as np
import pytest
import sympy

import tfq_layers
from tfq_layers import export
from tfq_layers._keras import keras


def _two_qubit_model(angle=lambda v: v, backend="statevector", **pqc_kwargs):
    q = cirq.GridQubit.rect(1, 2)
    x = sympy.symbols("x0:2")
    w = sympy.symbols("w0:4")
    circuit = cirq.Circuit(
        [cirq.rx(angle(x[i]))(q[i]) for i in range(2)],
        cirq.ry(w[0])(q[0]),
        cirq.ry(w[1])(q[1]),
        cirq.CNOT(q[0], q[1]),
        cirq.rz(w[2])(q[0]),
        cirq.rx(w[3])(q[1]),
    )
    observables = [cirq.Z(q[0]), cirq.Z(q[1])]
    inputs = keras.Input((2,))
    pqc = tfq_layers.PQC(circuit, observables, input_symbols=x, backend=backend, **pqc_kwargs)
    return keras.Model(inputs, keras.layers.Dense(1)(pqc(inputs)))


def _check_outputs(model, path, x):
    np.testing.assert_allclose(export.run_tflite(path, x), np.asarray(model(x)), atol=1e-5)


def test_hybrid_classifier_builtin_ops(tmp_path):
    from models import hybrid_classifier

    keras.utils.set_random_seed(0)
    model = hybrid_classifier.build_model(n_features=6, n_qubits=3, layers=1)
    path = str(tmp_path / "hybrid.tflite")
    report = export.to_tflite(model, path)
    assert report.select_tf_ops == () and not any(op.startswith("Flex") for op in report.ops)
    assert os.path.getsize(path) == report.size_bytes and report.max_abs_error <= 1e-5
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    _check_outputs(model, path, x)


def test_iris_recipe(tmp_path):
    from models import iris

    keras.utils.set_random_seed(0)
    model = iris.build_model(layers=1)
    path = str(tmp_path / "iris.tflite")
    export.to_tflite(model, path, sample_inputs=np.full((2, 4), 1.5, np.float32))
    x = np.random.default_rng(2).uniform(0, np.pi, size=(6, 4)).astype(np.float32)
    _check_outputs(model, path, x)


def test_expression_outside_tflite_builtins_uses_select_ops(tmp_path):
    model = _two_qubit_model(sympy.atan)
    with pytest.raises(ValueError, match=r"tf\.Atan.*select_tf_ops=True"):
        export.to_tflite(model, str(tmp_path / "refused.tflite"), select_tf_ops=False)
    assert not os.path.exists(tmp_path / "refused.tflite")
    path = str(tmp_path / "atan.tflite")
    try:
        report = export.to_tflite(model, path)
    except ValueError as error:  # an interpreter without the Flex delegate cannot check it
        assert "tf.Atan" in str(error) and "cannot run" in str(error), error
        assert not os.path.exists(path)
        return
    assert report.select_tf_ops == ("Atan",) and "Atan" in str(report)
    _check_outputs(model, path, np.linspace(-3, 3, 8, dtype=np.float32).reshape(4, 2))


def test_sampling_layer_is_refused_by_name(tmp_path):
    model = _two_qubit_model(repetitions=100)
    layer = model.layers[1].name
    with pytest.raises(ValueError, match=rf"layer '{layer}' \(PQC\) samples \(repetitions=100\)"):
        export.to_tflite(model, str(tmp_path / "m.tflite"))


def test_failed_check_keeps_the_previous_file(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError, match="disagrees with Keras.*nothing was written"):
        # a tolerance no float32 conversion meets
        export.to_tflite(_two_qubit_model(), str(path), atol=-1.0)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["m.tflite"]
    with pytest.raises(ValueError, match=r"should end in \.tflite"):
        export.to_tflite(_two_qubit_model(), str(tmp_path / "m.bin"))


@pytest.mark.tfq
def test_tfq_backend_model_is_rebuilt_on_statevector(tmp_path):
    model = _two_qubit_model(backend="tfq")
    path = str(tmp_path / "tfq.tflite")
    report = export.to_tflite(model, path)
    assert report.select_tf_ops == ()
    _check_outputs(model, path, np.random.default_rng(3).normal(size=(4, 2)).astype(np.float32))
