"""Bounded expressions and finite gate angles (issue 14, items 2 and 6).

* ``x**n`` compiles to O(log n) operations, never n multiplications;
* saved expressions beyond the size bounds, NaN/Inf literals and deeply nested JSON are refused by
  the loader with ``SerializationError`` before anything is built;
* non-finite constants (``rx(nan)``, ``rx(x + oo)``) are refused when a layer is built, and gate
  angles computed at run time (an overflowing ``exp``, a NaN weight) raise an error naming the gate.
"""

import json
import zipfile

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import reference

from tfq_layers import PQC, CircuitError, SerializationError, serialization
from tfq_layers._keras import keras
from tfq_layers import expressions
from tfq_layers.expressions import to_tensorflow

Q = cirq.GridQubit.rect(1, 2)
X0, X1, W = sympy.symbols("x0 x1 w")


# -- item 2: powers -----------------------------------------------------------------------------


def _graph_op_count(expr, values):
    fn = tf.function(lambda t: to_tensorflow(expr, {"x": t}))
    return len(fn.get_concrete_function(tf.constant(values)).graph.get_operations())


def test_integer_power_builds_a_logarithmic_number_of_ops():
    x = sympy.Symbol("x")
    # the old code emitted n - 1 multiplications: 4999 ops here
    assert _graph_op_count(x**5000, [0.5]) < 40
    assert _graph_op_count(x**64, [0.5]) < 40


@pytest.mark.parametrize("n", [-7, -2, -1, 0, 1, 2, 3, 5, 8, 13, 31, 64, 65, 100, 999])
def test_integer_power_matches_numpy(n):
    x = sympy.Symbol("x")
    values = np.array([1.01, -0.99, 0.9, -1.2, 1.0], np.float64)
    got = to_tensorflow(x**n, {"x": tf.constant(values, tf.float32)}).numpy()
    with np.errstate(over="ignore"):
        want = (values**n).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_huge_power_evaluates_without_one_multiplication_per_unit():
    x = sympy.Symbol("x")
    got = to_tensorflow(x ** (10**7), {"x": tf.constant([1.0, -1.0, 0.5])}).numpy()
    np.testing.assert_array_equal(got, [1.0, 1.0, 0.0])


def test_gradient_of_a_power_is_exact():
    x = sympy.Symbol("x")
    t = tf.Variable([0.7, -1.3])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(to_tensorflow(x**7 + x**-3, {"x": t}))
    got = tape.gradient(y, t).numpy()
    v = np.array([0.7, -1.3])
    np.testing.assert_allclose(got, 7 * v**6 - 3 * v**-4, rtol=1e-5)


# -- item 2: bounded loading --------------------------------------------------------------------


def _saved(tmp_path, circuit, inputs):
    model = keras.Sequential(
        [keras.Input((len(inputs),)), PQC(circuit, cirq.Z(Q[0]), input_symbols=inputs)]
    )
    path = tmp_path / "m.keras"
    model.save(str(path))
    return path


def _tamper(path, out, edit):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(payload)
                layer = config["config"]["layers"][-1]["config"]
                layer["circuit"] = edit(layer["circuit"])
                payload = json.dumps(config).encode()
            dst.writestr(item, payload)
    return out


def test_tampered_file_with_a_huge_exponent_is_refused_on_load(tmp_path):
    path = _saved(tmp_path, cirq.Circuit(cirq.rx(X0**3 * W).on(Q[0])), ["x0"])
    bad = _tamper(path, tmp_path / "bad.keras", lambda text: text.replace('"i":3', f'"i":{10**8}'))
    with pytest.raises(SerializationError, match=r"power 100000000, beyond 1000"):
        keras.models.load_model(str(bad), safe_mode=True)


def test_deeply_nested_json_is_a_serialization_error_not_recursion_error():
    with pytest.raises(SerializationError, match="nested more than"):
        serialization.loads("[" * 100000 + "]" * 100000)
    with pytest.raises(SerializationError, match="nested more than"):
        serialization.loads("[" * 500 + "]" * 500)


def test_deep_or_large_saved_expressions_are_refused():
    expr = X0
    for _ in range(150):
        expr = sympy.sin(expr)
    with pytest.raises(SerializationError, match="nested more than 100 levels"):
        serialization.loads(serialization.dumps(expr))
    big = sympy.Add(*sympy.symbols("s0:6000"))
    with pytest.raises(SerializationError, match="more than 5000 nodes"):
        serialization.loads(serialization.dumps(big))


@pytest.mark.parametrize(
    "literal, phrase",
    [
        ("NaN", "contains NaN"),
        ("Infinity", "contains Infinity"),
        ("1e999", "holds the number inf"),
        ("1e39", "holds the number 1e\\+39"),
        ("123456789012345678901", "larger than 9007199254740992"),
    ],
)
def test_non_finite_or_out_of_range_numbers_in_saved_circuits_are_refused(literal, phrase):
    text = serialization.dumps(cirq.Circuit(cirq.rx(0.25).on(Q[0])))
    assert "0.25" in text
    with pytest.raises(SerializationError, match=phrase):
        serialization.loads(text.replace("0.25", literal))


def test_expressions_inside_the_bounds_round_trip():
    expr = sympy.atan(X0) ** 3 * W + X1**1000 + sympy.Rational(2, 7) * sympy.pi
    assert serialization.loads(serialization.dumps(expr)) == expr


# -- item 6: constants refused at construction --------------------------------------------------


@pytest.mark.parametrize(
    "gate, phrase",
    [
        (cirq.rx(float("nan")), r"moment 0, Rx.*gate parameter nan is not finite"),
        (cirq.rx(sympy.nan), r"moment 0, Rx.*expression nan is not finite"),
        (cirq.rx(X0 + sympy.oo), r"moment 0, Rx.*\(x0 \+ oo\)/pi is not finite"),
        (cirq.ry(1e39), r"not finite in float32 \(or beyond"),
        (cirq.rx(X0 * sympy.exp(1000)), r"constant exp\(1000\).*not finite"),
        (cirq.rx(X0 ** (10**7)), r"exponent exceeds 1000"),
    ],
)
def test_non_finite_constant_angles_are_refused_when_the_layer_is_built(backend, gate, phrase):
    circuit = cirq.Circuit(cirq.rx(X0).on(Q[0]), gate.on(Q[1]))
    with pytest.raises(CircuitError, match=phrase):
        PQC(circuit, cirq.Z(Q[1]), input_symbols=["x0"], backend=backend)


def test_check_expression_accepts_ordinary_angles():
    for expr in (sympy.atan(X0) * W + 2 * sympy.pi, X0**3, X0 / 3, 0.5, np.float32(2.0), 7):
        expressions.check_expression(expr, "test")


def test_check_expression_bounds_size_without_expanding():
    with pytest.raises(CircuitError, match="exponent exceeds 1000"):
        expressions.check_expression((X0 + W + X1) ** (10**8), "test")  # sympy.expand would hang


# -- item 6: angles computed at run time --------------------------------------------------------


@pytest.mark.parametrize("graph", [False, True])
def test_overflowing_expression_raises_naming_the_gate(backend, graph):
    circuit = cirq.Circuit(cirq.rx(sympy.exp(X0)).on(Q[0]), cirq.ry(W * X1).on(Q[1]), cirq.CNOT(*Q))
    layer = PQC(circuit, cirq.Z(Q[0]), input_symbols=["x0", "x1"], backend=backend)
    call = tf.function(layer) if graph else layer
    fine = call(tf.constant([[1.0, 0.5]])).numpy()
    assert np.isfinite(fine).all()
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"gate parameter exp\(x0\)/pi of the gate Rx.* is NaN or Inf",
    ):
        call(tf.constant([[100.0, 0.5]]))  # exp(100) overflows float32


def test_nan_weight_raises_naming_the_weight_and_the_labels(backend):
    circuit = cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(W).on(Q[1]), cirq.CNOT(*Q))
    layer = PQC(circuit, cirq.Z(Q[0]), input_symbols=["x0"], backend=backend)
    layer(tf.zeros((1, 1)))
    layer.circuit_weights.assign([np.nan])
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"circuit weight w of the gate Ry.*NaN or Inf.*NaN labels",
    ):
        layer(tf.zeros((1, 1)))


def test_nan_labels_stop_training_with_a_message():
    circuit = cirq.Circuit(cirq.rx(X0).on(Q[0]), cirq.ry(W).on(Q[1]), cirq.CNOT(*Q))
    model = keras.Sequential([keras.Input((1,)), PQC(circuit, cirq.Z(Q[0]), input_symbols=["x0"])])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.zeros((8, 1), np.float32)
    y = np.full((8, 1), np.nan, np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"circuit weight w .*NaN labels"):
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)


def test_xla_compiles_and_documents_that_it_cannot_check():
    circuit = cirq.Circuit(cirq.rx(sympy.exp(X0)).on(Q[0]), cirq.CNOT(*Q))
    layer = PQC(circuit, cirq.Z(Q[0]), input_symbols=["x0"], backend="statevector")
    xla = tf.function(layer, jit_compile=True)
    np.testing.assert_allclose(
        xla(tf.constant([[0.3]])).numpy(), layer(tf.constant([[0.3]])).numpy(), atol=1e-6
    )
    assert np.isnan(xla(tf.constant([[100.0]])).numpy()).all()  # documented: unchecked under XLA


def test_is_affine_agrees_with_expansion_and_never_expands():
    expanded_is_affine = reference.affine_by_expansion
    x, w, b = sympy.symbols("x w b")
    cases = [
        x,
        2 * x,
        x + w,
        2 * (x + 3 * w) + 1,
        x / 3 + sympy.pi * w,
        -x,
        sympy.Integer(3),
        w * x,
        x**2,
        sympy.atan(x),
        sympy.exp(w) + x,
        (x + w) * (x - w),
        x * (w + 1),
        sympy.sqrt(2) * x - b,
    ]
    for expr in cases:
        got = expressions.is_affine(expr)
        assert not got or expanded_is_affine(expr), expr  # never claims a false affine
        if (
            isinstance(expr, (sympy.Symbol, sympy.Add))
            or expr.is_number
            or expr in (2 * x, -x, sympy.sqrt(2) * x - b, x / 3 + sympy.pi * w)
        ):
            assert got == expanded_is_affine(expr), expr
    assert not expressions.is_affine(x + sympy.oo)  # the expansion-based check says affine
    assert not expressions.is_affine(sympy.Add(*sympy.symbols("y0:10")) ** 1000)
