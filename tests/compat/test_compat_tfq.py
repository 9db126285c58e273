"""Each compat layer against TFQ's own layer on identical inputs.

TFQ runs in a subprocess under TF_USE_LEGACY_KERAS=1 (TFQ's layers work only there); this process
runs ``tfq_layers.compat.layers`` under Keras 3 on both backends. Exact outputs agree to 1e-5,
sampled ones within statistical bounds, and shapes, dtypes and raggedness are equal.
"""

import json
import os
import subprocess
import sys

import cirq
import numpy as np
import pytest
import tensorflow as tf

import compat_cases as K
from tfq_layers._keras import LEGACY
from tfq_layers.compat import layers as L

# Every test compares with TFQ itself, run in a subprocess (the tfq_out fixture).
pytestmark = [
    pytest.mark.tfq,
    pytest.mark.skipif(LEGACY, reason="compares the Keras 3 lane with TFQ's legacy lane"),
]
# The subprocess imports compat_cases (K) from where this process found it.
HELPERS = os.path.dirname(os.path.abspath(K.__file__))


@pytest.fixture(scope="module")
def tfq_out(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfq") / "tfq.json")
    env = dict(
        os.environ,
        TF_USE_LEGACY_KERAS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=HELPERS + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, "-c", K.TFQ_SCRIPT, path],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]
    with open(path) as f:
        return json.load(f)


def _value(entry):
    if "re" in entry:
        return _nested(_combine(entry["re"], entry["im"]))
    return _nested(entry["value"])


def _combine(re, im):
    if isinstance(re, list):
        return [_combine(r, i) for r, i in zip(re, im)]
    return complex(re, im)


def _nested(x):
    try:
        return np.array(x)
    except ValueError:  # ragged rows
        return [np.array(r) if not isinstance(r[0], list) else _nested(r) for r in x]


def _same_kind(ours, entry):
    assert isinstance(ours, tf.RaggedTensor) == entry["ragged"]
    assert ours.dtype.name == entry["dtype"]
    if entry["ragged"]:
        assert ours.ragged_rank == entry["rank"]


def _exact(ours, entry, atol=1e-5):
    _same_kind(ours, entry)
    np.testing.assert_allclose(
        np.asarray(ours.to_list() if isinstance(ours, tf.RaggedTensor) else ours),
        _value(entry),
        atol=atol,
    )


def _exact_values(c, vals):
    return np.array(
        [
            [
                np.real(
                    o.expectation_from_state_vector(
                        cirq.Simulator(dtype=np.complex128)
                        .simulate(
                            cirq.resolve_parameters(c, dict(zip(K.NAMES, map(float, v)))),
                            qubit_order=K.QUBITS,
                        )
                        .final_state_vector,
                        {q: i for i, q in enumerate(K.QUBITS)},
                    )
                )
                for o in K.operators()
            ]
            for v in vals
        ]
    )


def test_expectation_matches_tfq_for_circuit_list_and_tensor_inputs(tfq_out, backend):
    import tensorflow_quantum as tfq

    c, cl, vals, ops = K.circuit(), K.circuit_list(), K.values(), K.operators()
    _exact(
        L.Expectation(backend=backend)(c, symbol_names=K.NAMES, symbol_values=vals, operators=ops),
        tfq_out["expectation_circuit"],
    )
    _exact(
        L.Expectation(backend=backend)(cl, symbol_names=K.NAMES, symbol_values=vals, operators=ops),
        tfq_out["expectation_list"],
    )
    _exact(
        L.Expectation(backend=backend)(
            cl, symbol_names=K.NAMES, symbol_values=vals, operators=K.per_circuit_operators()
        ),
        tfq_out["expectation_per_circuit_ops"],
    )
    if backend == "tfq":  # a symbolic tf.string tensor is TFQ's format
        _exact(
            L.Expectation(backend=backend)(
                tfq.convert_to_tensor(cl), symbol_names=K.NAMES, symbol_values=vals, operators=ops
            ),
            tfq_out["expectation_tensor"],
        )


def test_default_backend_reads_string_tensors_like_tfq(tfq_out):
    import tensorflow_quantum as tfq

    layer = L.Expectation()
    out = layer(
        tfq.convert_to_tensor(K.circuit_list()),
        symbol_names=K.NAMES,
        symbol_values=K.values(),
        operators=K.operators(),
    )
    _exact(out, tfq_out["expectation_tensor"])
    assert layer.simulator_backend.name == "tfq"


def test_sampled_expectation_within_shot_noise_of_tfq(tfq_out, backend):
    c, vals = K.circuit(), K.values()
    ours = L.SampledExpectation(backend=backend)(
        c, symbol_names=K.NAMES, symbol_values=vals, operators=K.operators(), repetitions=K.REPS
    )
    entry = tfq_out["sampled_expectation"]
    _same_kind(ours, entry)
    exact = _exact_values(c, vals)
    # each estimate: mean of REPS +/-1 outcomes per term; 5 sigma with sum |coefficients| = 1.5
    bound = 5 * 1.5 / np.sqrt(K.REPS)
    assert np.max(np.abs(ours.numpy() - exact)) < bound
    assert np.max(np.abs(_value(entry) - exact)) < bound


def test_sample_matches_tfq_bits_dtype_and_raggedness(tfq_out, backend):
    det_vals = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    ours = L.Sample(backend=backend)(
        K.deterministic_circuit(), symbol_names=K.NAMES[:2], symbol_values=det_vals, repetitions=5
    )
    _exact(ours, tfq_out["sample_deterministic"])


def test_sample_of_mixed_size_tensor_is_ragged_like_tfq(tfq_out):
    import tensorflow_quantum as tfq

    ours = L.Sample()(tfq.convert_to_tensor(K.mixed_size_circuits()), repetitions=3)
    _same_kind(ours, tfq_out["sample_mixed"])
    assert ours.to_list() == tfq_out["sample_mixed"]["value"]
    ours_state = L.State()(tfq.convert_to_tensor(K.mixed_size_circuits()))
    _same_kind(ours_state, tfq_out["state_mixed"])
    for mine, theirs in zip(ours_state.to_list(), _value(tfq_out["state_mixed"])):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


def test_state_and_unitary_match_tfq(tfq_out, backend):
    c, vals = K.circuit(), K.values()
    _exact(
        L.State(backend=backend)(c, symbol_names=K.NAMES, symbol_values=vals),
        tfq_out["state_circuit"],
    )
    _exact(
        L.Unitary(backend=backend)(c, symbol_names=K.NAMES, symbol_values=vals),
        tfq_out["unitary_circuit"],
    )


def test_add_circuit_matches_tfq(tfq_out):
    import tensorflow_quantum as tfq

    out = L.AddCircuit()(tfq.convert_to_tensor(K.data_circuits()), append=K.circuit())
    assert [repr(x) for x in tfq.from_tensor(out)] == tfq_out["add_append"]
    out = L.AddCircuit()(K.data_circuits(), prepend=K.deterministic_circuit())
    assert [repr(x) for x in tfq.from_tensor(out)] == tfq_out["add_prepend"]


def test_high_level_layers_match_tfq(tfq_out):
    import tensorflow_quantum as tfq

    c, ops, vals = K.circuit(), K.operators(), K.values()
    data = tfq.convert_to_tensor(K.data_circuits())
    pqc = L.PQC(c, ops)
    pqc.build(data.shape)
    pqc.set_weights([K.weights()])
    _exact(pqc(data), tfq_out["pqc"])
    assert [str(s) for s in pqc.symbols] == tfq_out["pqc_symbols"]
    assert set(pqc.symbol_values()) == set(pqc.symbols)
    _exact(L.ControlledPQC(c, ops)([data, vals]), tfq_out["controlled_pqc"])


def test_noisy_layers_within_trajectory_noise_of_tfq_and_the_density_matrix(tfq_out):
    import tensorflow_quantum as tfq

    nc, ops, vals = K.noisy_circuit(), K.operators(), K.values()
    data_circuits = K.data_circuits()
    data = tfq.convert_to_tensor(data_circuits)

    def exact(params):
        rows = []
        for d, p in zip(data_circuits, params):
            rho = (
                cirq.DensityMatrixSimulator(dtype=np.complex128)
                .simulate(
                    cirq.resolve_parameters(d + nc, dict(zip(K.NAMES, map(float, p)))),
                    qubit_order=K.QUBITS,
                )
                .final_density_matrix
            )
            qmap = {q: i for i, q in enumerate(K.QUBITS)}
            rows.append([np.real(o.expectation_from_density_matrix(rho, qmap)) for o in ops])
        return np.array(rows)

    bound = 5 * 1.5 / np.sqrt(K.REPS)
    npqc = L.NoisyPQC(nc, ops, repetitions=K.REPS, sample_based=False)
    npqc.build(data.shape)
    npqc.set_weights([K.weights()])
    ours = npqc(data)
    _same_kind(ours, tfq_out["noisy_pqc"])
    ref = exact([K.weights()] * 4)
    assert np.max(np.abs(ours.numpy() - ref)) < bound
    assert np.max(np.abs(_value(tfq_out["noisy_pqc"]) - ref)) < bound
    ours = L.NoisyControlledPQC(nc, ops, repetitions=K.REPS, sample_based=True)([data, vals])
    _same_kind(ours, tfq_out["noisy_controlled_pqc"])
    ref = exact(vals)
    assert np.max(np.abs(ours.numpy() - ref)) < bound
    assert np.max(np.abs(_value(tfq_out["noisy_controlled_pqc"]) - ref)) < bound
