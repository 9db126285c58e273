"""``ParameterMap``: the placeholder values of a program from (features, weights), in both forms
(``__call__``: every placeholder per example; ``split``: batched and shared parts), against sympy's
own evaluation of each placeholder expression."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers.expressions import ParameterMap
from tfq_layers.program import CompileOptions, Program

Q = cirq.LineQubit.range(3)
X0, X1, W0, W1, W2 = sympy.symbols("x0 x1 w0 w1 w2")


def _circuit(direct):
    if direct:
        return cirq.Circuit(cirq.rx(X0)(Q[0]), cirq.ry(2 * W0)(Q[1]), cirq.rz(X1)(Q[2]))
    return cirq.Circuit(
        cirq.rx(X0 * W0 + 0.5)(Q[0]),  # affine, batched
        cirq.ry(W1 - 2 * W2)(Q[1]),  # affine, shared (weights only)
        cirq.rz(sympy.atan(X1))(Q[2]),  # nonlinear, batched
        cirq.rx(sympy.cos(W2) * W0)(Q[1]),  # nonlinear, shared
        cirq.CNOT(Q[0], Q[2]),
    )


def _expected(program, features, weights):
    """Each placeholder's expression evaluated by sympy, one row per example."""
    rows = []
    for f in features:
        values = {s: float(v) for s, v in zip(program.input_symbols, f)}
        values.update({s: float(v) for s, v in zip(program.weight_symbols, weights)})
        rows.append([float(e.subs(values).evalf()) for e in program.expressions])
    return np.array(rows)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("allow_direct", [True, False])
def test_call_and_split_agree_with_sympy(direct, allow_direct):
    program = Program._with_options(
        CompileOptions(allow_direct=allow_direct), _circuit(direct), input_symbols=["x0", "x1"]
    )
    assert program.direct == (direct and allow_direct)
    rng = np.random.default_rng(3)
    features = rng.normal(size=(4, 2)).astype(np.float32)
    weights = rng.normal(size=program.n_weights).astype(np.float32)
    pm = ParameterMap(program)
    values = pm(tf.constant(features), tf.constant(weights), tf.constant(4)).numpy()
    expected = _expected(program, features, weights)
    if program.direct:  # the placeholders are the symbols themselves
        expected = np.concatenate([features, np.tile(weights, (4, 1))], axis=1)
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    batched, shared = pm.split(tf.constant(features), tf.constant(weights), tf.constant(4))
    batched_names, shared_names = pm.split_names()
    column = {name: j for j, name in enumerate(program.placeholder_names)}
    for j, name in enumerate(batched_names):
        np.testing.assert_allclose(batched.numpy()[:, j], values[:, column[name]], rtol=1e-6)
    for j, name in enumerate(shared_names):
        np.testing.assert_allclose(shared.numpy()[j], values[:, column[name]], rtol=1e-6)
    assert sorted(batched_names + shared_names) == sorted(program.placeholder_names)


def test_compile_options_refuse_an_unknown_symbol_order():
    with pytest.raises(ValueError, match="symbol_order must be 'natural' or 'lexicographic'"):
        CompileOptions(symbol_order="alphabetical")
    program = Program._with_options(
        CompileOptions(symbol_order="lexicographic"),
        cirq.Circuit(cirq.rx(sympy.Symbol("w10"))(Q[0]), cirq.rx(sympy.Symbol("w2"))(Q[1])),
    )
    assert [s.name for s in program.weight_symbols] == ["w10", "w2"]
    assert [s.name for s in Program(program.circuit).weight_symbols] == ["w2", "w10"]
