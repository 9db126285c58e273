"""TFQ's ``operators`` as a ``tf.string`` tensor (``convert_to_tensor([[psum, ...], ...])``)
in the compat ``Expectation``/``SampledExpectation``: the same numbers as the PauliSum lists
(and as Cirq, and as TFQ's own layers in a legacy-lane subprocess), and clear errors on bad
tensors."""

import json
import os

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference
from tfq_layers._keras import LEGACY, keras
from tfq_layers.compat import convert_to_tensor
from tfq_layers.compat import layers as L
from tfq_layers.compat import operator_tensors
from tfq_layers.errors import CircuitError

QUBITS = cirq.GridQubit.rect(1, 3)
NAMES = ["a", "b", "c"]


def _circuit():
    a, b, c = sympy.symbols(NAMES)
    q = QUBITS
    return cirq.Circuit(
        cirq.rx(a)(q[0]),
        cirq.ry(b)(q[1]),
        cirq.H(q[2]),
        cirq.CNOT(q[0], q[1]),
        cirq.rz(c)(q[2]),
        cirq.CZ(q[1], q[2]),
        cirq.ry(a * 0.5)(q[2]),
    )


def _operators():
    """Two rows (one per circuit) of operators with several terms, constants and repeats."""
    q = QUBITS
    h = 0.5 * cirq.Z(q[0]) * cirq.X(q[1]) - 1.25 * cirq.Y(q[2]) + 0.3
    return [
        [h, cirq.Z(q[1]), cirq.X(q[0]) * cirq.Y(q[1]) * cirq.Z(q[2])],
        [cirq.Z(q[1]), 2.0 * cirq.X(q[2]) + 0.75 * cirq.Z(q[0]), h],
    ]


VALUES = np.array([[0.3, 0.7, -1.2], [1.1, -0.4, 0.25]], np.float32)


def _run(layer, operators, values=VALUES, circuits=None, **kwargs):
    """Output and d(sum of output * weights)/d(values) of one call."""
    values = tf.constant(values)
    circuits = [_circuit()] * len(VALUES) if circuits is None else circuits
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = layer(
            circuits, symbol_names=NAMES, symbol_values=values, operators=operators, **kwargs
        )
        loss = tf.reduce_sum(out * tf.range(1.0, 1.0 + out.shape[1])[None, :])
    return out.numpy(), tape.gradient(loss, values).numpy()


def _cirq_rows(ops, values=VALUES):
    return np.array(
        [
            reference.expectations(_circuit(), row, dict(zip(NAMES, map(float, v))), QUBITS)
            for row, v in zip(ops, values)
        ]
    )


def _shot_bound(ops, reps):
    """A bound on the standard deviation of a sampled expectation: each non-constant term is a
    mean of ``reps`` outcomes +-1, so its std is at most ``|coefficient| / sqrt(reps)``."""
    return (
        np.array(
            [
                [sum(abs(t.coefficient) for t in cirq.PauliSum.wrap(op) if len(t)) for op in row]
                for row in ops
            ]
        )
        / np.sqrt(reps)
        + 1e-6
    )


# -- the same numbers as PauliSum lists, and as Cirq -------------------------------------------
def test_expectation_tensor_equals_list_and_cirq(backend):
    ops = _operators()
    tensor = convert_to_tensor(ops)
    out_list, grad_list = _run(L.Expectation(backend=backend), ops)
    out_tensor, grad_tensor = _run(L.Expectation(backend=backend), tensor)
    np.testing.assert_array_equal(out_tensor, out_list)
    np.testing.assert_array_equal(grad_tensor, grad_list)
    np.testing.assert_allclose(out_tensor, _cirq_rows(ops), atol=2e-5)

    def loss(v):
        exp = _cirq_rows(ops, v.reshape(VALUES.shape))
        return float((exp * np.arange(1.0, 1.0 + exp.shape[1])[None, :]).sum())

    np.testing.assert_allclose(
        grad_tensor.reshape(-1), reference.central_difference(loss, VALUES.reshape(-1)), atol=2e-3
    )


def test_one_circuit_takes_one_operator_row_per_value_row(backend):
    """TFQ tiles one circuit to the batch of symbol_values, so rows of operators may differ."""
    ops = _operators()
    out, _ = _run(L.Expectation(backend=backend), convert_to_tensor(ops), circuits=_circuit())
    np.testing.assert_allclose(out, _cirq_rows(ops), atol=2e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="operators has 2 rows but the batch"):
        _run(
            L.Expectation(backend=backend),
            convert_to_tensor(ops),
            values=VALUES[:1],
            circuits=_circuit(),
        )


def test_one_circuit_without_values_takes_one_operator_row(backend):
    """Without symbol_values one circuit is one row (TFQ: "do not match" for two operator rows;
    tests/compat/test_compat_tfq_behaviour.py compares with TFQ)."""
    layer = L.Expectation(backend=backend)
    ops = _operators()
    with pytest.raises(tf.errors.InvalidArgumentError, match="do not match.*2 rows but the batch"):
        layer(_circuit(), symbol_names=NAMES, operators=convert_to_tensor(ops))
    out = layer(_circuit(), symbol_names=NAMES, operators=convert_to_tensor(ops[:1]))
    weights = layer.get_weights()[0]
    np.testing.assert_allclose(out.numpy(), _cirq_rows(ops[:1], [weights]), atol=2e-5)


def test_sampled_expectation_statevector_tensor_equals_list_seeded():
    """Seeded, the statevector backend draws the same shots: outputs and gradients agree exactly."""
    ops = _operators()
    results = []
    for operators in (ops, convert_to_tensor(ops)):
        tf.random.set_seed(11)
        results.append(
            _run(L.SampledExpectation(backend="statevector"), operators, repetitions=300)
        )
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_sampled_expectation_tensor_within_shot_noise_of_cirq(backend):
    ops = _operators()
    reps = 4000
    out, _ = _run(L.SampledExpectation(backend=backend), convert_to_tensor(ops), repetitions=reps)
    exact = _cirq_rows(ops)
    # per term, a mean of reps +-1 outcomes: std <= |coefficient| / sqrt(reps); 5 sigma
    np.testing.assert_array_less(np.abs(out - exact), 5 * _shot_bound(ops, reps))


def test_keras_model_with_a_tensor_of_operators(backend):
    """In a functional model (values from an Input), fit and predict as with the PauliSum list;
    the saved config holds the decoded PauliSums."""
    ops = _operators()[0]
    tensor = convert_to_tensor([ops])
    models = []
    for operators in (ops, tensor):
        keras.utils.set_random_seed(4)
        inp = keras.Input(shape=(3,))
        layer = L.Expectation(backend=backend)
        out = layer(
            _circuit(),
            symbol_names=NAMES,
            symbol_values=keras.layers.Dense(3)(inp),
            operators=operators,
        )
        model = keras.Model(inp, out)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        models.append((model, layer))
    x = VALUES
    y = np.zeros((2, 3), np.float32)
    for model, _ in models:
        model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    np.testing.assert_allclose(
        models[1][0].predict(x, verbose=0), models[0][0].predict(x, verbose=0), atol=1e-6
    )
    clone = L.Expectation.from_config(models[1][1].get_config())
    out = clone(_circuit(), symbol_names=NAMES, symbol_values=VALUES, operators=tensor)
    np.testing.assert_allclose(out.numpy(), _cirq_rows([ops, ops]), atol=2e-5)


# -- bad tensors ---------------------------------------------------------------------------------
def _call(operators, circuits=None):
    return L.Expectation()(
        [_circuit()] * 2 if circuits is None else circuits,
        symbol_names=NAMES,
        symbol_values=VALUES,
        operators=operators,
    )


def _tensor_with(element, row=1, col=0):
    flat = convert_to_tensor(_operators()).numpy()
    flat[row, col] = element
    return tf.constant(flat)


def test_wrong_dtype_and_shape_are_refused():
    with pytest.raises(TypeError, match="tf.string.*got a tensor of dtype float32"):
        _call(tf.zeros((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"shape \[batch, n_ops\].*got shape \(3,\).*"
        r"convert_to_tensor\(\[ops\]\)",
    ):
        _call(convert_to_tensor(_operators()[0]))
    with pytest.raises(ValueError, match=r"got shape \(2, 0\), which holds no operators"):
        _call(tf.zeros((2, 0), tf.string))
    with pytest.raises(ValueError, match="operators has 3 rows but there are 2 circuits"):
        _call(convert_to_tensor(_operators() + _operators()[:1]))


def test_bytes_that_are_not_pauli_sums_are_refused_naming_the_element():
    with pytest.raises(
        ValueError,
        match=r"operators\[1, 0\] \(starting b'bad_operator'\) is not a "
        "serialized cirq.PauliSum",
    ):
        _call(_tensor_with(b"bad_operator"))
    # serialized circuits parse as (empty) PauliSums: TFQ measures 0, this package refuses them
    circuit = convert_to_tensor([_circuit()]).numpy()[0]
    with pytest.raises(ValueError, match=r"operators\[0, 2\].*circuits belong in the layer's"):
        _call(_tensor_with(circuit, 0, 2))
    # a valid PauliSum with a field appended (an unknown field number 3)
    good = convert_to_tensor([[cirq.Z(QUBITS[0])]]).numpy()[0, 0]
    with pytest.raises(ValueError, match=r"operators\[1, 1\] .* is not a serialized"):
        _call(_tensor_with(good + b"\x1a\x00", 1, 1))


def test_tampered_fields_are_refused():
    good = convert_to_tensor([[cirq.Z(QUBITS[0])]]).numpy()[0, 0]
    assert good.count(b"Z") == 1
    with pytest.raises(ValueError, match="Pauli type b'W'.*altered"):
        _call(_tensor_with(good.replace(b"Z", b"W")))
    assert good.count(b"0_0") == 1
    with pytest.raises(ValueError, match="qubit id 'x_0'.*altered"):
        _call(_tensor_with(good.replace(b"0_0", b"x_0")))
    imaginary = convert_to_tensor([[0.5j * cirq.Z(QUBITS[0])]])
    with pytest.raises(ValueError, match=r"coefficient 0\.5j.*finite real coefficients"):
        _call(tf.tile(imaginary, [2, 1]))


def test_operator_on_a_qubit_not_in_the_circuit_is_refused():
    far = convert_to_tensor([[cirq.Z(cirq.GridQubit(5, 5))]] * 2)
    with pytest.raises(CircuitError, match=r"acts on \[cirq.GridQubit\(5, 5\)\].*add cirq.I"):
        _call(far)
    line = convert_to_tensor([[cirq.Z(cirq.LineQubit(0))]] * 2)
    with pytest.raises(CircuitError, match=r"acts on \[cirq.LineQubit\(0\)\]"):
        _call(line)


def test_too_large_is_refused_before_building_objects(monkeypatch):
    tensor = convert_to_tensor(_operators())
    monkeypatch.setattr(operator_tensors, "MAX_OPERATOR_TERMS", 5)
    with pytest.raises(ValueError, match="have 7 Pauli terms, more than the 5.*PauliSum objects"):
        _call(tensor)
    monkeypatch.setattr(operator_tensors, "MAX_OPERATOR_BYTES", 40)
    with pytest.raises(ValueError, match=r"hold \d+ bytes, more than the 40"):
        _call(tensor)


# -- operators known only when the graph runs (a keras.Input, a tf.function argument) -----------
def _functional(backend="noiseless"):
    """TFQ's functional form: circuits, values and operators all model inputs."""
    circuits_in = keras.Input(shape=(), dtype=tf.string)
    values_in = keras.Input(shape=(3,))
    ops_in = keras.Input(shape=(3,), dtype=tf.string)
    out = L.Expectation(backend=backend)(
        circuits_in, symbol_names=NAMES, symbol_values=values_in, operators=ops_in
    )
    return keras.Model([circuits_in, values_in, ops_in], out)


def _model_inputs(ops=None):
    return [
        convert_to_tensor([_circuit()] * 2),
        tf.constant(VALUES),
        convert_to_tensor(_operators() if ops is None else ops),
    ]


@pytest.mark.tfq
def test_operators_as_a_model_input_match_cirq_and_the_list(tmp_path):
    model = _functional()
    inputs = _model_inputs()
    values = inputs[1]
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = model([inputs[0], values, inputs[2]])
        loss = tf.reduce_sum(out * tf.range(1.0, 4.0)[None, :])
    np.testing.assert_allclose(out.numpy(), _cirq_rows(_operators()), atol=2e-5)
    _, grad_list = _run(L.Expectation(backend="tfq"), _operators())
    np.testing.assert_allclose(tape.gradient(loss, values).numpy(), grad_list, atol=1e-6)
    # other operators, same model: the operators are data
    swapped = [row[::-1] for row in _operators()]
    np.testing.assert_allclose(
        model.predict(_model_inputs(swapped), verbose=0), _cirq_rows(swapped), atol=2e-5
    )
    if not LEGACY:
        path = str(tmp_path / "ops.keras")
        model.save(path)
        again = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_allclose(again.predict(inputs, verbose=0), out.numpy(), atol=1e-6)


@pytest.mark.tfq
def test_tfq_simple_op_input_form_trains():
    """TFQ's own example of operator inputs: circuits and operators as inputs, weights managed by
    the layer; learn the |0> state measured by Z."""
    q = QUBITS[0]
    xs = sympy.symbols("x y z")
    circuit = cirq.Circuit(
        cirq.rx(0.4)(q), cirq.ry(1.3)(q), cirq.rz(xs[2])(q), cirq.ry(xs[1])(q), cirq.rx(xs[0])(q)
    )
    circuits_in = keras.Input(shape=(), dtype=tf.string)
    ops_in = keras.Input(shape=(1,), dtype=tf.string)
    out = L.Expectation()(
        circuits_in,
        symbol_names=xs,
        operators=ops_in,
        initializer=keras.initializers.RandomNormal(seed=2),
    )
    model = keras.Model([circuits_in, ops_in], out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = [convert_to_tensor([circuit] * 2), convert_to_tensor([[cirq.Z(q)]] * 2)]
    loss = model.fit(x, np.ones((2, 1)), batch_size=2, epochs=60, verbose=0).history["loss"]
    assert loss[-1] < 1e-3 < 0.1 < loss[0]


@pytest.mark.tfq
def test_operators_as_a_tf_function_argument_with_one_circuit():
    layer = L.Expectation()

    @tf.function
    def run(operators):
        return layer(_circuit(), symbol_names=NAMES, symbol_values=VALUES, operators=operators)

    out = run(convert_to_tensor(_operators()))
    np.testing.assert_allclose(out.numpy(), _cirq_rows(_operators()), atol=2e-5)
    sampled = L.SampledExpectation()

    @tf.function
    def run_sampled(operators):
        return sampled(
            _circuit(),
            symbol_names=NAMES,
            symbol_values=VALUES,
            operators=operators,
            repetitions=4000,
        )

    out = run_sampled(convert_to_tensor(_operators()))
    np.testing.assert_array_less(
        np.abs(out.numpy() - _cirq_rows(_operators())), 5 * _shot_bound(_operators(), 4000)
    )


@pytest.mark.tfq
def test_operators_as_a_model_input_are_checked_in_the_graph():
    model = _functional()
    inputs = _model_inputs()

    def run(element, row=1, col=0):
        return model(inputs[:2] + [_tensor_with(element, row, col)])

    good = convert_to_tensor([[cirq.Z(QUBITS[0])]]).numpy()[0, 0]
    with pytest.raises(tf.errors.OpError, match="operators_are_not_serialized_pauli_sums"):
        run(b"bad_operator")
    circuit = convert_to_tensor([_circuit()]).numpy()[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not a serialized PauliSum"):
        run(circuit)
    with pytest.raises(tf.errors.InvalidArgumentError, match="(?s)other than X, Y, Z.*W"):
        run(good.replace(b"Z", b"W"))
    imaginary = convert_to_tensor([[0.5j * cirq.Z(QUBITS[0])]]).numpy()[0, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="finite real coefficients"):
        run(imaginary)
    # a data circuit's qubits are not known before the run: TFQ's op names the problem
    far = convert_to_tensor([[cirq.Z(cirq.GridQubit(5, 5))]]).numpy()[0, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="qubits not found in circuit"):
        run(far)
    with pytest.raises(tf.errors.InvalidArgumentError, match="different number of rows"):
        model(inputs[:2] + [convert_to_tensor(_operators()[:1])])


@pytest.mark.tfq
def test_operators_input_with_known_circuits_names_foreign_qubits():
    ops_in = keras.Input(shape=(1,), dtype=tf.string)
    model = keras.Model(ops_in, L.Expectation()(_circuit(), symbol_names=NAMES, operators=ops_in))
    far = convert_to_tensor([[cirq.Z(cirq.GridQubit(5, 5))]])
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"(?s)acts on qubits the circuits do not use .*'0_2'.*5_5",
    ):
        model(far)


def test_operators_input_refused_where_it_cannot_run():
    ops_in = keras.Input(shape=(1,), dtype=tf.string)
    with pytest.raises(ValueError, match="statevector backend cannot read.*backend='noiseless'"):
        L.Expectation(backend="statevector")(_circuit(), symbol_names=NAMES, operators=ops_in)
    with pytest.raises(TypeError, match="tf.string.*dtype float32"):
        L.Expectation()(_circuit(), symbol_names=NAMES, operators=keras.Input(shape=(1,)))
    with pytest.raises(ValueError, match=r"shape \(None,\).*shape=\(n_ops,\)"):
        L.Expectation()(
            _circuit(), symbol_names=NAMES, operators=keras.Input(shape=(), dtype=tf.string)
        )


# -- TFQ's own layers ----------------------------------------------------------------------------
TFQ_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq
import test_compat_operator_tensors as T

ops = tfq.convert_to_tensor(T._operators())
out = {}
c = T._circuit()
out["list"] = tfq.layers.Expectation()([c, c], symbol_names=T.NAMES, symbol_values=T.VALUES,
                                       operators=ops).numpy().tolist()
out["one"] = tfq.layers.Expectation()(c, symbol_names=T.NAMES, symbol_values=T.VALUES,
                                      operators=ops).numpy().tolist()
out["sampled"] = tfq.layers.SampledExpectation()(
    [c, c], symbol_names=T.NAMES, symbol_values=T.VALUES, operators=ops,
    repetitions=4000).numpy().tolist()
circuit = tfq.convert_to_tensor([c]).numpy()[0]
out["circuit_as_operator"] = tfq.layers.Expectation()(
    [c, c], symbol_names=T.NAMES, symbol_values=T.VALUES,
    operators=tf.constant([[circuit], [circuit]])).numpy().tolist()
circuits_in = tf.keras.Input(shape=(), dtype=tf.string)
values_in = tf.keras.Input(shape=(3,))
ops_in = tf.keras.Input(shape=(3,), dtype=tf.string)
model = tf.keras.Model([circuits_in, values_in, ops_in], tfq.layers.Expectation()(
    circuits_in, symbol_names=T.NAMES, symbol_values=values_in, operators=ops_in))
out["model"] = model([tfq.convert_to_tensor([c, c]), tf.constant(T.VALUES), ops]).numpy().tolist()
print(json.dumps(out))
"""


@pytest.mark.tfq
@pytest.mark.skipif(LEGACY, reason="compares the Keras 3 lane with TFQ's legacy lane")
def test_tfq_itself_gives_the_same_numbers(backend):
    here = os.path.dirname(os.path.abspath(__file__))  # this module, imported as T
    stdout = reference.run_python(
        TFQ_SCRIPT,
        env_extra={
            "TF_USE_LEGACY_KERAS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": os.pathsep.join(
                [here, reference.TESTS, os.environ.get("PYTHONPATH", "")]
            ),
        },
    )
    theirs = json.loads(stdout.strip().splitlines()[-1])
    tensor = convert_to_tensor(_operators())
    ours, _ = _run(L.Expectation(backend=backend), tensor)
    np.testing.assert_allclose(ours, theirs["list"], atol=1e-5)
    ours_one, _ = _run(L.Expectation(backend=backend), tensor, circuits=_circuit())
    np.testing.assert_allclose(ours_one, theirs["one"], atol=1e-5)
    np.testing.assert_array_less(
        np.abs(np.array(theirs["sampled"]) - ours), 5 * _shot_bound(_operators(), 4000)
    )
    ours_model = _functional()(_model_inputs()).numpy()
    np.testing.assert_allclose(ours_model, theirs["model"], atol=1e-5)
    # TFQ measures 0 on a serialized circuit given as an operator; this package refuses it
    np.testing.assert_array_equal(theirs["circuit_as_operator"], [[0.0], [0.0]])
