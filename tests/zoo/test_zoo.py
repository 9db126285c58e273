"""The model zoo: quick runs of every recipe (the loss falls), data checks, no downloads.

The full recipes (the numbers in models/README.md) are not run here; see ``python -m models.zoo``.
Model outputs are checked against Cirq's simulator on the recipes' own circuits, and data sets
against independent recomputations.
"""

import os
import socket

import cirq
import numpy as np
import pytest
import tensorflow as tf

import reference
from models import _common, digits_qnn, hybrid_classifier, iris, qcnn, reuploading, zoo
from tfq_layers._keras import LEGACY, keras
from tfq_layers.circuits import cluster_state_circuit, qnn


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test (data must ship or be generated)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _loss(model, x, y):
    out = model.evaluate(x, y, verbose=0, batch_size=len(y), return_dict=True)
    return out["loss"]


def _assert_loss_falls(model, x, y, steps):
    """``steps`` full-batch steps (no shuffling noise) must lower the full-batch loss."""
    before = _loss(model, x, y)
    model.fit(x, y, epochs=steps, batch_size=len(y), verbose=0)
    after = _loss(model, x, y)
    assert np.isfinite(before) and after < before - 1e-3, (before, after)
    return before, after


def _state(circuit, qubits):
    return (
        cirq.Simulator(dtype=np.complex128)
        .simulate(circuit + cirq.Circuit(cirq.I.on_each(*qubits)), qubit_order=qubits)
        .final_state_vector
    )


# --- hybrid_classifier (make demo) -----------------------------------------------------------
def test_hybrid_classifier_data_is_standardized_on_train_only(offline):
    from sklearn.datasets import load_breast_cancer

    d = hybrid_classifier.load_data(seed=0)
    assert d["x_train"].shape == (455, 30) and d["x_test"].shape == (114, 30)
    np.testing.assert_allclose(d["x_train"].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(d["x_train"].std(0), 1.0, atol=1e-4)
    assert np.abs(d["x_test"].mean(0)).max() > 1e-3  # test split NOT re-standardized
    assert set(np.unique(d["y_train"])) == {0, 1}
    assert len(d["y_train"]) + len(d["y_test"]) == len(load_breast_cancer().target)


@pytest.mark.slow  # a recipe run end to end: `make test-slow`
def test_hybrid_classifier_quick_demo_trains_exports_and_reloads(tmp_path, capsys, offline):
    export = str(tmp_path / "export")
    result = hybrid_classifier.main(
        ["--quick", "--demo", "--export", export, "--plots", str(tmp_path)]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"test accuracy: {result.value:.3f}"
    assert "max |diff| = 0.00e+00 (identical)" in "\n".join(out)  # fresh process == export
    loss = result.history.history["loss"]
    assert loss[-1] < loss[0]
    assert (result.quantum_params, result.classical_params) == (16, 129)
    assert os.path.exists(os.path.join(export, "saved_model.pb"))
    assert os.path.exists(tmp_path / "hybrid_classifier_training.png")
    # the .keras file reloads (safe mode) to the same predictions
    model = result.history.model
    x = hybrid_classifier.load_data(seed=0, quick=True)["x_test"]
    reloaded = keras.models.load_model(os.path.join(export, _common.KERAS_FILE), safe_mode=True)
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )


def test_hybrid_classifier_quantum_layer_matches_cirq():
    keras.utils.set_random_seed(3)
    model = hybrid_classifier.build_model(n_features=5)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    layer = model.get_layer("quantum")
    h = model.get_layer("compress")(x).numpy()
    circuit, xs, obs = hybrid_classifier.quantum_circuit()
    expected = reference.batch_expectations(circuit, obs, xs, h, layer.symbol_values())
    np.testing.assert_allclose(layer(h).numpy(), expected, atol=1e-5)


# --- iris --------------------------------------------------------------------------------------
def test_iris_data_and_quick_training(offline):
    d = iris.load_data(seed=0)
    assert d["x_train"].shape == (105, 4) and d["x_test"].shape == (45, 4)
    np.testing.assert_allclose(d["x_train"].min(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(d["x_train"].max(0), np.pi, atol=1e-5)
    assert np.bincount(d["y_test"]).tolist() == [15, 15, 15]  # stratified
    keras.utils.set_random_seed(0)
    model = iris.build_model(layers=2)
    assert model.get_layer("quantum").circuit_weights.shape == (24,)
    q = iris.load_data(seed=0, quick=True)
    _assert_loss_falls(model, q["x_train"], q["y_train"], steps=3)


# --- reuploading -------------------------------------------------------------------------------
def test_reuploading_data_labels_are_the_circle(offline):
    d = reuploading.load_data(seed=1)
    for x, y in ((d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])):
        assert x.min() >= -1 and x.max() <= 1
        np.testing.assert_array_equal(y, (x[:, 0] ** 2 + x[:, 1] ** 2 < 2 / np.pi).astype(int))
    assert 0.4 < d["y_train"].mean() < 0.6  # the radius halves the square


def test_reuploading_expressions_match_cirq_and_training_lowers_loss(tmp_path, offline):
    keras.utils.set_random_seed(0)
    model = reuploading.build_model(layers=2)
    layer = model.get_layer("quantum")
    x = np.array([[0.3, -0.7], [-0.9, 0.1]], np.float32)
    # independent circuit: angles w*x + b written out by hand from the documented layout
    q = cirq.GridQubit.rect(1, 2)
    vals = layer.symbol_values()
    ops = []
    for point in x.astype(np.float64):
        c = cirq.Circuit()
        for lay in range(2):
            for qi in range(2):
                w = [vals[f"w_{lay}_{qi}_{k}"] for k in range(2)]
                b = [vals[f"b_{lay}_{qi}_{k}"] for k in range(3)]
                c.append(
                    [
                        cirq.ry(w[0] * point[0] + b[0]).on(q[qi]),
                        cirq.rz(w[1] * point[1] + b[1]).on(q[qi]),
                        cirq.ry(b[2]).on(q[qi]),
                    ]
                )
            c.append(cirq.CZ(*q))
        ops.append(reference.expectations(c, [cirq.Z(q[0]), cirq.Z(q[1])], {}))
    np.testing.assert_allclose(layer(x).numpy(), np.array(ops), atol=1e-5)
    result = reuploading.main(["--quick", "--plots", str(tmp_path)])
    assert result.history.history["loss"][-1] < result.history.history["loss"][0]
    assert os.path.getsize(tmp_path / "reuploading_boundary.png") > 10_000


# --- digits_qnn --------------------------------------------------------------------------------
def test_digits_downsample_and_contradictions():
    img = np.zeros((1, 8, 8))
    img[0, :2, :2] = 16  # top-left 2x2 block full -> pixel (0, 0) = 1
    img[0, 6, 6] = 8  # one of four pixels at half intensity -> 0.125
    small = digits_qnn.downsample(img)[0]
    assert small[0, 0] == 1.0 and small[3, 3] == 0.125 and small.sum() == 1.125
    x = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1]])
    y = np.array([1, -1, 1, 1, -1])
    kept_x, kept_y, removed = digits_qnn.remove_contradicting(x, y)
    assert removed == 2
    assert kept_x.tolist() == [[0, 1], [0, 1], [1, 1]] and kept_y.tolist() == [1, 1, -1]
    with pytest.raises(ValueError, match=r"\(N, 8, 8\)"):
        digits_qnn.downsample(np.zeros((2, 4, 4)))


@pytest.mark.tfq  # 17 qubits of quantum data: TFQ's op (statevector builds a 2**17 unitary)
def test_digits_data_encoding_and_qnn_match_cirq(offline):
    from sklearn.datasets import load_digits

    d = digits_qnn.load_data(seed=0)
    n36 = int(np.isin(load_digits().target, (3, 6)).sum())
    assert d["n_train_before"] + len(d["y_test"]) == n36
    assert len(d["y_train"]) == d["n_train_before"] - d["n_contradicting"]
    assert d["circuits_train"].dtype == tf.string and d["bits_train"].shape[1:] == (4, 4)
    # a data circuit prepares the basis state of its image (pixel (r, c) -> GridQubit(r, c))
    qubits = digits_qnn.DATA_QUBITS
    circuit = qnn.bits_to_circuits(d["bits_train"][:1], qubits)[0]
    index = int("".join(str(b) for b in d["bits_train"][0].ravel()), 2)
    assert abs(_state(circuit, qubits)[index]) == pytest.approx(1.0)
    # QNN output on two examples vs Cirq on data circuit + resolved model circuit
    keras.utils.set_random_seed(0)
    model = digits_qnn.build_model()
    layer = model.get_layer("quantum")
    assert layer.circuit_weights.shape == (32,)
    out = model(d["circuits_test"][:2]).numpy().ravel()
    data = qnn.bits_to_circuits(d["bits_test"][:2], qubits)
    expected = [
        reference.expectations(
            c + layer.circuit,
            [cirq.Z(digits_qnn.READOUT)],
            layer.symbol_values(),
            qubits=[digits_qnn.READOUT] + qubits,
        )[0]
        for c in data
    ]
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.tfq  # 17 qubits of quantum data: TFQ's op (statevector builds a 2**17 unitary)
@pytest.mark.slow  # a recipe run end to end: `make test-slow`
def test_digits_quick_training_lowers_hinge_loss():
    d = digits_qnn.load_data(seed=0, quick=True)
    keras.utils.set_random_seed(0)
    model = digits_qnn.build_model(learning_rate=0.05)
    _assert_loss_falls(model, d["circuits_train"][:24], d["y_train"][:24], steps=4)
    classical = digits_qnn.build_classical_model()
    assert classical.count_params() == 37


# --- qcnn --------------------------------------------------------------------------------------
def test_qcnn_data_is_the_excited_cluster_state_with_a_rotation(offline):
    d = qcnn.load_data(seed=0, quick=True)
    assert d["circuits_train"].shape == (32,) and d["y_test"].shape == (16,)
    rng = np.random.default_rng(5)
    circuits, labels, thetas = qcnn.make_examples(12, rng)
    assert set(labels.tolist()) == {-1.0, 1.0}
    qubits = qcnn.QUBITS
    cluster = cluster_state_circuit(qubits)  # independent of tfq.datasets
    for c, y, theta in zip(circuits, labels, thetas):
        # the one rotated qubit is the last operation's qubit; the state must be rx(theta) there
        (k,) = list(c.all_operations())[-1].qubits
        expected = _state(cluster + cirq.Circuit(cirq.rx(float(theta)).on(k)), qubits)
        overlap = abs(np.vdot(expected, _state(c, qubits)))
        assert overlap == pytest.approx(1.0, abs=1e-6)
        wrapped = (theta + np.pi) % (2 * np.pi) - np.pi
        assert (y > 0) == (abs(wrapped) > np.pi / 2)


@pytest.mark.slow  # a recipe run end to end: `make test-slow`
def test_qcnn_quick_training_lowers_hinge_loss():
    d = qcnn.load_data(seed=0, quick=True)
    keras.utils.set_random_seed(0)
    model = qcnn.build_model()
    assert model.count_params() == 63
    _assert_loss_falls(model, d["circuits_train"], d["y_train"], steps=3)


# --- qnn circuit builders ----------------------------------------------------------------------
def test_readout_qnn_structure_and_errors():
    data, readout = cirq.GridQubit.rect(1, 3), cirq.GridQubit(-1, -1)
    circuit, ws = qnn.readout_qnn(data, readout, gates=("xx", "zz"))
    assert [str(w) for w in ws] == ["w_0_0", "w_0_1", "w_0_2", "w_1_0", "w_1_1", "w_1_2"]
    assert qnn.readout_qnn_shape(data) == (2, 3)
    # all weights zero: X, H, H on the readout leaves |1>, so <Z> = -1 whatever the data
    zero = cirq.resolve_parameters(circuit, {w: 0.0 for w in ws})
    for bits in ([0, 0, 0], [1, 0, 1]):
        c = qnn.bits_to_circuits([bits], data)[0] + zero
        assert reference.expectations(c, [cirq.Z(readout)], {}, [readout] + data)[
            0
        ] == pytest.approx(-1.0)
    # XX weights zero, ZZ weights s_i: the readout |-> picks up the relative phase
    # phi = pi * sum_i z_i s_i (z_i = +1 for bit 0, -1 for bit 1), so <Z> = -cos(phi) after H.
    s = np.array([0.37, -0.21, 0.8])
    resolver = {w: 0.0 for w in ws[:3]}
    resolver.update({w: float(v) for w, v in zip(ws[3:], s)})
    resolved = cirq.resolve_parameters(circuit, resolver)
    for index in range(8):
        bits = [(index >> (2 - i)) & 1 for i in range(3)]
        c = qnn.bits_to_circuits([bits], data)[0] + resolved
        phi = np.pi * np.sum((1 - 2 * np.array(bits)) * s)
        assert reference.expectations(c, [cirq.Z(readout)], {}, [readout] + data)[
            0
        ] == pytest.approx(-np.cos(phi), abs=1e-9)
    with pytest.raises(ValueError, match="must not be one of the data_qubits"):
        qnn.readout_qnn(data, data[0])
    with pytest.raises(ValueError, match="'yz'"):
        qnn.readout_qnn(data, readout, gates=("xx", "yz"))
    with pytest.raises(ValueError, match="only 0 and 1"):
        qnn.bits_to_circuits([[0, 2, 1]], data)
    with pytest.raises(ValueError, match="3 qubits"):
        qnn.bits_to_circuits([[0, 1]], data)


# --- zoo table -----------------------------------------------------------------------------------
def test_zoo_table_and_cli_errors():
    r = _common.Result(
        "iris", "Iris", 4, 36, 15, 30, "test accuracy", 0.9555, 12.3, "python -m models.iris", {}
    )
    assert r.line() == "test accuracy: 0.956"
    table = zoo.format_table([r]).splitlines()
    assert len(table) == 3 and table[2].count("|") == table[0].count("|")
    assert "36 / 15" in table[2] and "0.956" in table[2]
    assert set(zoo.CLASSIFIERS) <= set(zoo.available())
    with pytest.raises(SystemExit):
        _common.make_parser("p", "d", epochs=3).parse_args(["--epochs", "0"])


@pytest.mark.slow  # a recipe in a tf_keras subprocess: `make test-slow`
@pytest.mark.skipif(LEGACY, reason="this test starts the legacy lane itself")
def test_legacy_keras_lane_runs_a_recipe_and_exports(tmp_path):
    pytest.importorskip("tf_keras", reason="the legacy lane (tf_keras) is not installed here")
    export = str(tmp_path / "legacy_export")
    out = reference.run_python(
        "from models import iris\n"
        f"r = iris.main(['--quick', '--epochs', '1', '--export', {export!r}])\n"
        "import tf_keras, tfq_layers._keras as k\n"
        "assert k.LEGACY and isinstance(r.history.model, tf_keras.Model)\n",
        env_extra={"TF_USE_LEGACY_KERAS": "1"},
    )
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    x = iris.load_data(seed=0, quick=True)["x_test"]
    served, _ = _common.serve_export(export, x)  # this (Keras 3) process did not create it
    assert served.shape == (len(x), 3)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)  # softmax rows
