"""Quantum layers under mixed precision: float32 inside, the policy's compute dtype outside."""

import numpy as np
import pytest
import sympy
import cirq

from tfq_layers import PQC, PQCProbabilities, circuits
from tfq_layers._keras import keras


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_dense_pqc_dense_fits_under_mixed_precision(policy, backend):
    enc, xs = circuits.angle_encoding(2)
    ans, ws = circuits.hardware_efficient(2, layers=1)
    extra = cirq.Circuit(cirq.rx(sympy.atan(xs[0]) * ws[0]).on(cirq.GridQubit(0, 1)))
    circuit = enc + ans + (extra if backend == "statevector" else cirq.Circuit())
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(0))(inputs)
    layer = PQC(circuit, circuits.z_observables(2), input_symbols=xs, backend=backend)
    quantum = layer(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(quantum))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(32, 3)).astype("float32")
    y = (x[:, :1] > 0.5).astype("float32")
    hist = model.fit(x, y, epochs=8, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(hist)) and hist[-1] < hist[0]
    assert layer.compute_dtype == policy.split("_")[1]
    assert quantum.dtype == policy.split("_")[1]
    assert layer.circuit_weights.dtype == "float32"


def test_keras_mixed_precision_check_passes(backend, run_layer_test):
    enc, xs = circuits.angle_encoding(2)
    ans, _ = circuits.hardware_efficient(2, layers=1)
    feats = np.random.default_rng(1).uniform(size=(4, 2)).astype("float32")
    for cls, kw, shape in (
        (PQC, {"observables": circuits.z_observables(2)}, (4, 2)),
        (PQCProbabilities, {}, (4, 4)),
    ):
        run_layer_test(
            cls,
            dict(kw, circuit=enc + ans, input_symbols=xs, backend=backend),
            input_data=feats,
            expected_output_shape=shape,
            expected_num_trainable_weights=1,
            supports_masking=False,
        )
