"""TFQ's behaviour where TFQ's users observe it, in ``tfq_layers.compat`` (issue #22).

Numbers are checked against Cirq; what TFQ does (which calls raise, with which exception class
and key phrase, what the PQC layers hold right after construction, output widths) against TFQ
itself in a legacy-lane subprocess (``@pytest.mark.tfq``), on the same cases.
"""

import json
import warnings

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from reference import run_python
from tfq_layers._keras import LEGACY
from tfq_layers.compat import differentiators as tfq_differentiators
from tfq_layers.compat import layers as L
from tfq_layers.errors import CircuitError

pytestmark = pytest.mark.skipif(LEGACY, reason="the Keras 3 lane's compat layers against TFQ")

Q = cirq.GridQubit.rect(1, 3)
A = sympy.Symbol("a")


def _mixed_circuits():
    """Circuits on 1, 2 and 3 qubits (and none), some not starting at qubit 0."""
    return [
        cirq.Circuit(cirq.rx(A).on(Q[1])),
        cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(Q[0], Q[2]), cirq.ry(A).on(Q[2])),
        cirq.Circuit(cirq.X(Q[0]), cirq.H(Q[1]), cirq.rz(A).on(Q[2])),
        cirq.Circuit(),
    ]


VALUES = [[0.3], [1.1], [-0.7], [0.2]]


def _resolved(i):
    return cirq.resolve_parameters(_mixed_circuits()[i], {A: VALUES[i][0]})


# -- numbers, against Cirq ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["statevector", pytest.param("tfq", marks=pytest.mark.tfq)])
def test_state_and_unitary_of_mixed_circuits_are_each_on_their_own_qubits(backend):
    circuits = _mixed_circuits()
    states = L.State(backend=backend)(circuits, symbol_names=["a"], symbol_values=VALUES)
    unitaries = L.Unitary(backend=backend)(circuits, symbol_names=["a"], symbol_values=VALUES)
    assert states.ragged_rank == 1 and unitaries.ragged_rank == 2
    for i, (psi, u) in enumerate(zip(states.to_list(), unitaries.to_list())):
        c = _resolved(i)
        if not c.all_qubits():  # an empty circuit: TFQ's [1+0j] and [[1+0j]]
            np.testing.assert_allclose(psi, [1.0])
            np.testing.assert_allclose(u, [[1.0]])
            continue
        ref = cirq.final_state_vector(c, qubit_order=sorted(c.all_qubits()), dtype=np.complex128)
        np.testing.assert_allclose(psi, ref, atol=1e-5)
        np.testing.assert_allclose(u, cirq.unitary(c), atol=1e-5)


def test_sample_of_mixed_circuits_has_each_circuit_width():
    circuits = [cirq.Circuit(cirq.X.on_each(*Q[:n])) for n in (1, 3, 2)] + [cirq.Circuit()]
    out = L.Sample()(circuits, repetitions=3)
    assert out.to_list() == [[[1] * n] * 3 for n in (1, 3, 2, 0)]
    # a circuit not starting at the first qubit keeps its own bits (not the union's zeros)
    out = L.Sample()([cirq.Circuit(cirq.X(Q[2])), cirq.Circuit(cirq.I(Q[0]))], repetitions=2)
    assert out.to_list() == [[[1], [1]], [[0], [0]]]


def test_empty_circuit_alone():
    assert L.State()(cirq.Circuit()).to_list() == [[1 + 0j]]
    assert L.Unitary()(cirq.Circuit()).to_list() == [[[1 + 0j]]]
    out = L.Sample()(
        cirq.Circuit(), symbol_names=["x"], symbol_values=[[0.5], [0.1]], repetitions=4
    )
    assert out.to_list() == [[[]] * 4] * 2


def test_per_operator_repetitions_sample_each_count():
    """Counts per operator: the 1-shot column takes only +-1 values, the many-shot one is near
    Cirq's exact value."""
    c = cirq.Circuit(cirq.ry(A).on(Q[0]))
    ops = [cirq.Z(Q[0]), cirq.X(Q[0])]
    exact = [np.cos(0.9), np.sin(0.9)]
    out = L.SampledExpectation()(
        c,
        symbol_names=["a"],
        symbol_values=[[0.9]] * 40,
        operators=ops,
        repetitions=[1, 4000],
    ).numpy()
    assert set(np.round(out[:, 0], 6)) <= {-1.0, 1.0}
    np.testing.assert_allclose(out[:, 1], exact[1], atol=5 / np.sqrt(4000))
    per_circuit = L.SampledExpectation()(
        [c, c],
        symbol_names=["a"],
        symbol_values=[[0.9], [0.9]],
        operators=[ops, ops],
        repetitions=tf.constant([[4000, 1], [4000, 4000]]),
    ).numpy()
    np.testing.assert_allclose(per_circuit[0, 0], exact[0], atol=5 / np.sqrt(4000))
    assert round(abs(float(per_circuit[0, 1])), 6) == 1.0
    np.testing.assert_allclose(per_circuit[1], exact, atol=5 / np.sqrt(4000))
    with pytest.raises(ValueError, match="do not match"):  # 3 counts for 2 operators
        L.SampledExpectation()(c, operators=ops, repetitions=[5, 4, 3])


# -- behaviour, no TFQ needed ----------------------------------------------------------------
def test_pqc_weights_exist_after_construction():
    c = cirq.Circuit(cirq.X(Q[0]) ** A, cirq.rz(sympy.Symbol("b")).on(Q[0]))
    layer = L.PQC(c, cirq.Z(Q[0]), initializer="ones", regularizer="l2")
    assert [w.tolist() for w in layer.get_weights()] == [[1.0, 1.0]]
    assert len(layer.losses) == 1
    assert layer.parameters is layer.circuit_weights
    assert layer.symbol_values() == {A: 1.0, sympy.Symbol("b"): 1.0}
    noisy = L.NoisyPQC(c, cirq.Z(Q[0]), repetitions=5, sample_based=False, initializer="zeros")
    assert [w.tolist() for w in noisy.get_weights()] == [[0.0, 0.0]]


def test_add_circuit_failed_call_leaves_nothing_behind():
    add = L.AddCircuit()
    with pytest.raises(TypeError, match="cannot be parsed"):
        add("junk", prepend=cirq.Circuit(cirq.X(Q[0])))
    with pytest.raises(ValueError, match="append or prepend"):
        add(cirq.Circuit(cirq.X(Q[0])))


def test_unknown_symbol_names_warn_once_and_are_ignored():
    c = cirq.Circuit(cirq.rx(A).on(Q[0]))
    layer = L.Expectation()
    with pytest.warns(UserWarning, match=r"\['zz'\] do not appear"):
        out = layer(c, symbol_names=["a", "zz"], symbol_values=[[0.4, 9.0]], operators=cirq.Z(Q[0]))
    np.testing.assert_allclose(out.numpy(), [[np.cos(0.4)]], atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same configuration again: no second warning
        layer(c, symbol_names=["a", "zz"], symbol_values=[[0.4, 9.0]], operators=cirq.Z(Q[0]))


def test_exception_classes_catch_as_tfq_and_as_ours():
    c = cirq.Circuit(cirq.H(Q[0]) ** A)
    with pytest.raises(TypeError) as info:
        L.Expectation(backend="junk")
    assert isinstance(info.value, CircuitError)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        L.Expectation()(c, symbol_names=["a"], symbol_values=[0.5], operators=cirq.Z(Q[0]))
    assert isinstance(info.value, CircuitError) and "rank 2" in str(info.value)


# -- against TFQ itself ------------------------------------------------------------------------
# Each case: a call on TFQ's layers (``M`` is the module: tfq.layers there, compat.layers here)
# and the key phrase TFQ's message holds (None: any message).
_CASES = {
    "pqc_no_symbols": ("M.PQC(cirq.Circuit(cirq.X(q)), cirq.Z(q))", "has no sympy.Symbols"),
    "controlled_no_symbols": (
        "M.ControlledPQC(cirq.Circuit(cirq.X(q)), cirq.Z(q))",
        "has no sympy.Symbols",
    ),
    "noisy_sample_based_junk": (
        "M.NoisyPQC(flip, cirq.Z(q), repetitions=10, sample_based='junk')",
        "True or False",
    ),
    "noisy_sample_based_missing": (
        "M.NoisyPQC(flip, cirq.Z(q), repetitions=10)",
        "specify sample_based=False",
    ),
    "pqc_repetitions_junk": ("M.PQC(flip, cirq.Z(q), repetitions='junk')", "positive integer"),
    "pqc_operators_nested": ("M.PQC(flip, [[cirq.Z(q)]])", "Each element"),
    "pqc_noisy_backend": ("M.PQC(flip, cirq.Z(q), backend='noisy')", "tfq.layers.NoisyPQC"),
    "expectation_backend_junk": ("M.Expectation(backend='junk')", "or None"),
    "sample_backend_junk": ("M.Sample(backend='junk')", "junk is invalid"),
    "expectation_differentiator_junk": (
        "M.Expectation(differentiator='junk')",
        "tfq.differentiators.Differentiator",
    ),
    "sample_names_without_values": (
        "M.Sample()([flip, flip], symbol_names=['alpha'], repetitions=5)",
        None,
    ),
    "sample_values_rank_1": (
        "M.Sample()(cirq.Circuit(), symbol_values=[0.5], symbol_names=['n'], repetitions=10)",
        "rank 2. Got rank 1",
    ),
    "sample_nested_circuits": (
        "M.Sample()([[cirq.Circuit()]], symbol_values=[[0.5]], symbol_names=['n'], repetitions=10)",
        "rank 1. Got rank 2",
    ),
    "sample_repetitions_list": (
        "M.Sample()([cirq.Circuit()], repetitions=[10])",
        "cannot be parsed to int32",
    ),
    "expectation_one_circuit_two_rows": (
        "M.Expectation()(flip, symbol_names=['alpha'], operators=[[cirq.Z(q)], [cirq.Z(q)]])",
        "do not match",
    ),
    "expectation_values_rows": (
        "M.Expectation()([flip], symbol_names=['alpha'], symbol_values=np.zeros((3, 1)), "
        "operators=cirq.Z(q))",
        "do not match",
    ),
    "addcircuit_nested": (
        "M.AddCircuit()(cirq.Circuit(cirq.X(q)), append=[[cirq.Circuit(cirq.X(q))]])",
        "rank 1",
    ),
    "addcircuit_sizes": (
        "M.AddCircuit()(cirq.Circuit(cirq.X(q)), append=[cirq.Circuit(cirq.X(q))] * 2)",
        "matching sizes",
    ),
    "state_unknown_name": (
        "M.State()(cirq.Circuit(), symbol_names=['name'], symbol_values=[[0.5]])",
        "",
    ),
    "sampled_per_operator": (
        "M.SampledExpectation()(flip, symbol_names=['alpha'], symbol_values=[[0.5]], "
        "operators=[cirq.Z(q), cirq.X(q)], repetitions=[5, 1])",
        "",
    ),
}

_RUN = r"""
import json, sys
import cirq, numpy as np, sympy, tensorflow as tf
q = cirq.GridQubit(0, 0)
flip = cirq.Circuit(cirq.X(q) ** sympy.Symbol('alpha'))
CLASSES = (tf.errors.InvalidArgumentError, TypeError, ValueError, RuntimeError)

def outcome(code):
    try:
        eval(code)
    except Exception as e:
        kinds = [c.__name__ for c in CLASSES if isinstance(e, c)]
        return {"raised": True, "kinds": kinds, "message": str(e)}
    return {"raised": False}

def pqc_state(M):
    (a, b) = sympy.symbols("a b")
    c = cirq.Circuit(cirq.X(q) ** a, cirq.Y(q) ** b)
    layer = M.PQC(c, cirq.Z(q), initializer="ones", regularizer="l2")
    return {"weights": [w.tolist() for w in layer.get_weights()],
            "losses": len(layer.losses),
            "parameters": list(layer.parameters.shape),
            "symbol_values": {str(k): float(v) for k, v in layer.symbol_values().items()}}

def widths(M):
    bits = cirq.GridQubit.rect(1, 3)
    cs = [cirq.Circuit(cirq.X.on_each(*bits[:n])) for n in (1, 3, 2)] + [cirq.Circuit()]
    s = M.Sample()(cs, repetitions=2).to_list()
    st = M.State()(cs).to_list()
    u = M.Unitary()(cs).to_list()
    return {"sample": s, "state": [len(r) for r in st], "unitary": [len(r) for r in u]}
"""


def _tfq_reference():
    code = (
        _RUN
        + "import tensorflow_quantum as tfq\nM = tfq.layers\n"
        + f"CASES = json.loads({json.dumps(_CASES)!r})\n"
        + "out = {'cases': {k: outcome(v[0]) for k, v in CASES.items()},\n"
        + "       'pqc': pqc_state(M), 'widths': widths(M)}\n"
        + "print('JSON' + json.dumps(out))\n"
    )
    out = run_python(code, env_extra={"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(out.split("JSON", 1)[1])


def _ours():
    ns = {}
    exec(_RUN, ns)
    ns["M"] = L
    return ns


@pytest.fixture(scope="module")
def tfq_ref():
    return _tfq_reference()


@pytest.mark.tfq
def test_same_calls_raise_with_tfq_class_and_phrase(tfq_ref):
    ns = _ours()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = {k: ns["outcome"](code) for k, (code, _) in _CASES.items()}
    for key, (_, phrase) in _CASES.items():
        theirs, mine = tfq_ref["cases"][key], ours[key]
        assert theirs["raised"] == mine["raised"], (key, theirs, mine)
        if not theirs["raised"]:
            continue
        # ours is an instance of every class TFQ's exception is an instance of
        assert set(theirs["kinds"]) <= set(mine["kinds"]), (key, theirs, mine)
        if phrase:
            assert phrase in theirs["message"], (key, theirs["message"])
            assert phrase in mine["message"], (key, mine["message"])


@pytest.mark.tfq
def test_pqc_after_construction_and_widths_as_tfq(tfq_ref):
    ns = _ours()
    assert ns["pqc_state"](L) == tfq_ref["pqc"]
    assert ns["widths"](L) == tfq_ref["widths"]


@pytest.mark.tfq
def test_repetitions_as_a_model_input():
    import tensorflow_quantum as tfq

    q = Q[0]
    circuit = tfq.convert_to_tensor([cirq.Circuit(cirq.ry(A).on(q))] * 2)
    ops_in = tf.keras.Input(shape=(2,), dtype=tf.string)
    reps_in = tf.keras.Input(shape=(2,), dtype=tf.int32)
    circuits_in = tf.keras.Input(shape=(), dtype=tf.string)
    out = L.SampledExpectation()(
        circuits_in,
        symbol_names=["a"],
        symbol_values=tf.constant([[0.9]] * 2),
        operators=ops_in,
        repetitions=reps_in,
    )
    model = tf.keras.Model([circuits_in, ops_in, reps_in], out)
    ops = tfq.convert_to_tensor([[cirq.Z(q), cirq.X(q)]] * 2)
    got = model([circuit, ops, tf.constant([[1, 4000], [4000, 1]])]).numpy()
    assert abs(got[0, 0]) == 1.0 and abs(got[1, 1]) == 1.0
    np.testing.assert_allclose([got[0, 1], got[1, 0]], [np.sin(0.9), np.cos(0.9)], atol=0.08)


# -- the tfq-shaped namespace ---------------------------------------------------------------------
@pytest.mark.tfq  # circuits are serialized with TFQ's convert_to_tensor here
def test_ops_and_math_match_cirq_and_differentiate():
    import tensorflow_quantum as real

    import tfq_layers.compat as tfq

    circuits = _mixed_circuits()[:3]
    programs = real.convert_to_tensor(circuits)
    names, values = tf.constant(["a"]), tf.constant(VALUES[:3])
    refs = [cirq.final_state_vector(_resolved(i), dtype=np.complex128) for i in range(3)]
    ops = real.convert_to_tensor([[cirq.Z(Q[1])], [cirq.X(Q[0])], [cirq.Z(Q[0])]])
    exp = tfq.get_expectation_op()(programs, names, values, ops).numpy()[:, 0]
    np.testing.assert_allclose(exp, [np.cos(0.3), 0.0, -1.0], atol=1e-5)
    states = tfq.get_state_op()(programs, names, values).to_list()
    for psi, ref in zip(states, refs):
        np.testing.assert_allclose(psi, ref, atol=1e-5)
    samples = tfq.get_sampling_op()(programs, names, values, tf.constant([3]))
    assert [len(r[0]) for r in samples.to_list()] == [1, 2, 3]
    unitaries = tfq.get_unitary_op()(programs, names, values).to_list()
    np.testing.assert_allclose(unitaries[2], cirq.unitary(_resolved(2)), atol=1e-5)
    # fidelity of rx(a)|0> with |0> and |1>: cos^2(a/2), sin^2(a/2); its gradient
    one = [cirq.Circuit(cirq.rx(A).on(Q[0]))]
    other = real.convert_to_tensor([[cirq.Circuit(cirq.I(Q[0])), cirq.Circuit(cirq.X(Q[0]))]])
    v = tf.Variable([[0.7]])
    with tf.GradientTape() as tape:
        fid = tfq.math.fidelity(real.convert_to_tensor(one), names, v, other)
        first = fid[:, 0]
    np.testing.assert_allclose(fid.numpy(), [[np.cos(0.35) ** 2, np.sin(0.35) ** 2]], atol=1e-5)
    np.testing.assert_allclose(tape.gradient(first, v).numpy(), [[-np.sin(0.7) / 2]], atol=1e-4)
    # <psi|phi> with psi = cos(a/2)|0> - i sin(a/2)|1>
    ip = tfq.math.inner_product(real.convert_to_tensor(one), names, v, other).numpy()
    np.testing.assert_allclose(ip, [[np.cos(0.35), 1j * np.sin(0.35)]], atol=1e-5)
    padded = tf.constant([[1.0, 0.0, -2.0], [0.5, 0.5, 0.5]])
    assert tfq.padded_to_ragged(padded).to_list() == [[1.0, 0.0], [0.5, 0.5, 0.5]]


def test_differentiators_stand_for_specs():
    from tfq_layers import backends
    from tfq_layers.compat import differentiators as D

    cases = {
        D.Adjoint(): "adjoint",
        D.ParameterShift(): "parameter_shift",
        D.ForwardDifference(error_order=2, grid_spacing=0.01): "forward_difference",
        D.CentralDifference(): "central_difference",
    }
    for diff, name in cases.items():
        assert backends.differentiator_spec(diff, sampled=False)["name"] == name
    spec = backends.differentiator_spec(D.ForwardDifference(2, 0.01), sampled=False)
    assert spec["config"] == {"error_order": 2, "grid_spacing": 0.01}
    with pytest.raises(ValueError, match="error_order must be one of"):
        D.CentralDifference(error_order=3)
    with pytest.raises(ValueError, match="sampled"):
        backends.differentiator_spec(D.Adjoint(), sampled=True)


# -- tfq.util, tfq.resolve_parameters, tfq.datasets (what TFQ's tutorials call) -------------------
def _pauli_exp(term, t, qubits):
    """``exp(-i t c P)`` in closed form (``P**2 = I``): ``cos(ct) I - i sin(ct) P``."""
    c = float(np.real(term.coefficient))
    p = term.with_coefficient(1).matrix(qubits) if term else np.eye(2 ** len(qubits))
    return np.cos(c * t) * np.eye(2 ** len(qubits)) - 1j * np.sin(c * t) * p


def test_util_exponential_is_the_matrix_exponential():
    import tfq_layers.compat as tfq

    q = cirq.LineQubit.range(3)
    h = 0.7 * cirq.X(q[0]) * cirq.Y(q[1]) * cirq.Z(q[2]) - 0.4 * cirq.Z(q[0]) * cirq.X(q[1]) + 0.3
    circuit = tfq.util.exponential([h, cirq.Y(q[1])], ["t", 0.5])
    got = cirq.unitary(cirq.resolve_parameters(circuit, {"t": 0.9}))
    want = np.eye(8)
    for term in h:  # commuting terms: the product of their exponentials, any order
        want = _pauli_exp(term, 0.9, q) @ want
    want = _pauli_exp(cirq.Y(q[1]) * 1.0, 0.5, q) @ want
    np.testing.assert_allclose(got, want, atol=1e-12)  # the identity's global phase included
    with pytest.raises(ValueError, match="do not commute"):
        tfq.util.exponential([cirq.X(q[0]) + cirq.Z(q[0])])
    with pytest.raises(TypeError, match="cirq.PauliSum or cirq.PauliString"):
        tfq.util.exponential([cirq.X])
    with pytest.raises(ValueError, match="same as that of coefficients"):
        tfq.util.exponential([cirq.X(q[0])], [1.0, 2.0])


def test_resolve_parameters_as_cirq_leaving_unnamed_symbols():
    import tfq_layers.compat as tfq

    b = sympy.Symbol("b")
    circuit = cirq.Circuit(cirq.X(Q[0]) ** A, cirq.ry(b).on(Q[1]))
    values = np.array([[0.5], [0.25]], np.float32)
    out = tfq.resolve_parameters(  # float64 values are taken as float32, as by TFQ
        tfq.convert_to_tensor([circuit, circuit]),
        tf.constant(["a"]),
        tf.constant(values, tf.float64),
    )
    for got, v in zip(tfq.from_tensor(out), values[:, 0]):
        want = cirq.resolve_parameters(circuit, {"a": float(v)})
        assert cirq.parameter_names(got) == {"b"}
        np.testing.assert_allclose(
            cirq.unitary(cirq.resolve_parameters(got, {"b": 0.3})),
            cirq.unitary(cirq.resolve_parameters(want, {"b": 0.3})),
            atol=1e-6,
        )
    with pytest.raises(TypeError, match="batch_size, n_symbols"):
        tfq.resolve_parameters(tfq.convert_to_tensor([circuit]), ["a"], values)


def test_datasets_that_download_say_so():
    import tfq_layers.compat as tfq

    for fn in (tfq.datasets.xxz_chain, tfq.datasets.tfi_chain):
        with pytest.raises(OSError, match="storage.googleapis.com.*does not download"):
            fn(cirq.GridQubit.rect(4, 1), "closed")


def test_ops_take_cirq_objects_and_run_inside_tf_function():
    """``tfq.get_expectation_op(cirq_object)`` as TFQ's: Cirq's values, eagerly and in a graph
    (where TFQ's differentiators call an op)."""
    import tfq_layers.compat as tfq

    circuits = tfq.convert_to_tensor([cirq.Circuit(cirq.rx(A).on(Q[0]))] * 2)
    ops = tfq.convert_to_tensor([[cirq.Z(Q[0])], [cirq.Y(Q[0])]])
    values = tf.constant([[0.3], [1.0]])
    op = tfq.get_expectation_op(cirq.Simulator())
    want = [np.cos(0.3), -np.sin(1.0)]
    for run in (op, tf.function(op)):
        out = run(circuits, tf.constant(["a"]), values, ops)
        np.testing.assert_allclose(out.numpy()[:, 0], want, atol=1e-6)


class _ShiftRx(tfq_differentiators.Differentiator):
    """A user-written differentiator in TFQ's style: the two-term shift rule of ``rx``."""

    def get_gradient_circuits(self, programs, symbol_names, symbol_values):
        batch = tf.shape(programs)[0]
        shift = np.pi / 2
        return (
            tf.stack([programs, programs], axis=1),
            symbol_names,
            tf.stack([symbol_values + shift, symbol_values - shift], axis=1),
            tf.tile(tf.constant([[[0.5, -0.5]]]), [batch, 1, 1]),
            tf.tile(tf.constant([[[0, 1]]]), [batch, 1, 1]),
        )


@pytest.mark.tfq
def test_user_differentiator_with_gradient_circuits():
    """A subclass of our ``Differentiator`` implementing TFQ's ``get_gradient_circuits`` gives
    its gradient in a layer and through ``generate_differentiable_op`` (d cos/dx = -sin)."""
    import tfq_layers.compat as tfq

    circuit = cirq.Circuit(cirq.rx(A).on(Q[0]))
    values = tf.constant([[0.3], [1.2]])
    layer = L.Expectation(differentiator=_ShiftRx())
    op = _ShiftRx().refresh().generate_differentiable_op(analytic_op=tfq.get_expectation_op())
    for run in (
        lambda v: layer(circuit, symbol_names=[A], symbol_values=v, operators=cirq.Z(Q[0])),
        lambda v: op(
            tfq.convert_to_tensor([circuit] * 2),
            tf.constant(["a"]),
            v,
            tfq.convert_to_tensor([[cirq.Z(Q[0])]] * 2),
        ),
    ):
        with tf.GradientTape() as tape:
            tape.watch(values)
            out = run(values)
        np.testing.assert_allclose(out.numpy()[:, 0], np.cos(values.numpy()[:, 0]), atol=1e-5)
        grad = tape.gradient(out, values).numpy()[:, 0]
        np.testing.assert_allclose(grad, -np.sin(values.numpy()[:, 0]), atol=1e-5)
