"""The compat layers against Cirq, finite differences and Keras's own contract check; training,
saving and exporting; what they do better than TFQ; and their errors on bad input."""

import os

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import compat_cases as K
import reference
from tfq_layers import backends
from tfq_layers._keras import LEGACY, keras
from tfq_layers.compat import convert_to_tensor
from tfq_layers.compat import layers as L
from tfq_layers.errors import BackendUnavailableError, CircuitError

keras3_only = pytest.mark.skipif(LEGACY, reason="Keras 3 API (keras.src.testing, model.export)")


def _state(circuit, resolver, qubits):
    return (
        cirq.Simulator(dtype=np.complex128)
        .simulate(cirq.resolve_parameters(circuit, resolver), qubit_order=qubits)
        .final_state_vector
    )


# -- against Cirq ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_random_expression_circuits_match_cirq(backend, seed):
    """Expressions TFQ cannot take (w*x + b, atan(x), x0*x1) in every executor layer."""
    rng = np.random.default_rng(seed)
    qubits = cirq.GridQubit.rect(1, 3)
    xs, ws = list(sympy.symbols("x0 x1")), list(sympy.symbols("w0 w1 w2"))
    circuit = reference.random_circuit(rng, qubits, 10, xs, ws)
    circuit += cirq.Circuit(cirq.I.on_each(*qubits))
    names = sorted({s.name for s in cirq.parameter_symbols(circuit)})
    values = rng.uniform(-1.5, 1.5, (3, len(names))).astype(np.float32)
    ops = reference.random_observables(rng, qubits, 2)
    out = L.Expectation(backend=backend)(
        circuit, symbol_names=names, symbol_values=values, operators=ops
    )
    states = L.State(backend=backend)(circuit, symbol_names=names, symbol_values=values)
    unitaries = L.Unitary(backend=backend)(circuit, symbol_names=names, symbol_values=values)
    for row, exp, st, u in zip(values, out.numpy(), states.to_list(), unitaries.to_list()):
        resolver = dict(zip(names, map(float, row)))
        np.testing.assert_allclose(
            exp, reference.expectations(circuit, ops, resolver, qubits), atol=2e-5
        )
        np.testing.assert_allclose(st, _state(circuit, resolver, qubits), atol=2e-5)
        np.testing.assert_allclose(
            u, cirq.unitary(cirq.resolve_parameters(circuit, resolver)), atol=2e-5
        )


def test_repeated_eager_calls_follow_circuits_and_names_changed_in_place(backend):
    """An eager loop calls the layer with the same objects (TFQ's tutorials do); a circuit or a
    names list changed in place between calls is read again, not taken from the last call."""
    qubit = cirq.GridQubit(0, 0)
    a, b = sympy.symbols("a b")
    circuit = cirq.Circuit(cirq.rx(a)(qubit))
    names = ["a"]
    values = np.array([[0.3], [1.1]], np.float32)
    layer = L.Expectation(backend=backend)

    def call():
        return layer(circuit, symbol_names=names, symbol_values=values, operators=cirq.Z(qubit))

    def cirq_z(resolved):
        return [
            cirq.Simulator()
            .simulate_expectation_values(
                cirq.resolve_parameters(resolved, {names[0]: v[0]}), [cirq.Z(qubit)]
            )[0]
            .real
            for v in values
        ]

    first, again = call().numpy()[:, 0], call().numpy()[:, 0]
    np.testing.assert_allclose(first, cirq_z(circuit), atol=1e-5)
    np.testing.assert_array_equal(again, first)
    circuit.append(cirq.X(qubit))  # in place: the same object, another circuit
    np.testing.assert_allclose(call().numpy()[:, 0], cirq_z(circuit), atol=1e-5)
    circuit = cirq.Circuit(cirq.ry(b)(qubit))
    names[0] = "b"  # the same list, another name
    np.testing.assert_allclose(call().numpy()[:, 0], cirq_z(circuit), atol=1e-5)


def test_gates_tfq_rejects_run_on_the_statevector_backend():
    q = cirq.LineQubit.range(3)
    a = sympy.Symbol("a")
    u = cirq.testing.random_unitary(4, random_state=np.random.RandomState(2))
    circuit = cirq.Circuit(
        cirq.H.on_each(*q),
        cirq.MatrixGate(u).on(q[0], q[1]),
        cirq.TOFFOLI(*q),
        cirq.PhasedXZGate(x_exponent=a, z_exponent=0.3, axis_phase_exponent=0.1).on(q[2]),
    )
    values = np.array([[0.4], [-0.2]], np.float32)
    ops = [cirq.Z(q[0]) * cirq.X(q[2]), cirq.Y(q[1])]
    out = L.Expectation()(circuit, symbol_names=["a"], symbol_values=values, operators=ops)
    for row, exp in zip(values, out.numpy()):
        np.testing.assert_allclose(
            exp, reference.expectations(circuit, ops, {"a": row[0]}, q), atol=2e-5
        )
    if not backends.is_available("tfq"):  # asking for TFQ where it cannot run: at construction
        with pytest.raises(BackendUnavailableError, match="backend='tfq' cannot run here"):
            L.Expectation(backend="tfq")
        return
    with pytest.raises(CircuitError, match="not supported by the TFQ backend.*statevector"):
        L.Expectation(backend="tfq")(
            circuit, symbol_names=["a"], symbol_values=values, operators=ops
        )


def test_noisy_expectation_and_samples_match_the_density_matrix():
    nc, ops = K.noisy_circuit(), K.operators()
    vals = K.values(2)
    reps = 3000
    out = L.Expectation(backend="noisy")(
        nc, symbol_names=K.NAMES, symbol_values=vals, operators=ops, repetitions=reps
    )
    samples = L.Sample(backend="noisy")(
        nc, symbol_names=K.NAMES, symbol_values=vals, repetitions=reps
    )
    for row, exp, bits in zip(vals, out.numpy(), samples.to_list()):
        rho = (
            cirq.DensityMatrixSimulator(dtype=np.complex128)
            .simulate(
                cirq.resolve_parameters(nc, dict(zip(K.NAMES, map(float, row)))),
                qubit_order=K.QUBITS,
            )
            .final_density_matrix
        )
        qmap = {q: i for i, q in enumerate(K.QUBITS)}
        ref = [np.real(o.expectation_from_density_matrix(rho, qmap)) for o in ops]
        assert np.max(np.abs(exp - ref)) < 5 * 1.5 / np.sqrt(reps)
        # bit marginals of the samples against the density matrix diagonal
        probs = np.real(np.diag(rho))
        for i in range(3):
            p1 = sum(p for k, p in enumerate(probs) if (k >> (2 - i)) & 1)
            assert abs(np.mean(np.array(bits)[:, i]) - p1) < 5 * 0.5 / np.sqrt(reps)


# -- gradients -------------------------------------------------------------------------------------
def test_expectation_gradients_match_finite_differences(backend):
    c = cirq.Circuit(
        cirq.rx(2 * K.A + 0.3).on(K.QUBITS[0]),
        cirq.ry(K.B * K.C).on(K.QUBITS[1]),
        cirq.CNOT(*K.QUBITS[:2]),
        cirq.rz(K.C).on(K.QUBITS[1]),
        cirq.I(K.QUBITS[2]),
    )
    if backend == "tfq":
        c = cirq.Circuit(
            cirq.rx(K.A).on(K.QUBITS[0]),
            cirq.ry(K.B).on(K.QUBITS[1]),
            cirq.CNOT(*K.QUBITS[:2]),
            cirq.rz(K.C).on(K.QUBITS[1]),
            cirq.I(K.QUBITS[2]),
        )
    ops = K.operators()
    vals = K.values(2)
    cot = np.array([[1.0, -0.5], [0.3, 2.0]])
    v = tf.constant(vals)
    layer = L.Expectation(backend=backend)
    with tf.GradientTape() as tape:
        tape.watch(v)
        out = layer(c, symbol_names=K.NAMES, symbol_values=v, operators=ops)
    grad = tape.gradient(out, v, output_gradients=tf.constant(cot, tf.float32)).numpy()

    def loss(flat):
        rows = flat.reshape(vals.shape)
        return sum(
            np.dot(cot[i], reference.expectations(c, ops, dict(zip(K.NAMES, rows[i])), K.QUBITS))
            for i in range(len(rows))
        )

    np.testing.assert_allclose(
        grad.reshape(-1),
        reference.central_difference(loss, vals.astype(np.float64).reshape(-1)),
        atol=2e-3,
    )


def test_state_and_unitary_are_differentiable_on_the_statevector_backend():
    """TFQ's State and Unitary have no gradient; here they match finite differences."""
    c = cirq.Circuit(
        cirq.rx(K.A).on(K.QUBITS[0]),
        cirq.ry(K.B * 2).on(K.QUBITS[1]),
        cirq.CNOT(*K.QUBITS[:2]),
        cirq.rz(K.C).on(K.QUBITS[1]),
    )
    qubits = K.QUBITS[:2]
    vals = K.values(2)
    rng = np.random.default_rng(5)
    ws = rng.normal(size=(2, 4)) + 1j * rng.normal(size=(2, 4))
    wu = rng.normal(size=(2, 4, 4)) + 1j * rng.normal(size=(2, 4, 4))
    v = tf.constant(vals)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(v)
        st = L.State()(c, symbol_names=K.NAMES, symbol_values=v).to_tensor()
        un = L.Unitary()(c, symbol_names=K.NAMES, symbol_values=v).to_tensor()
        ls = tf.reduce_sum(tf.math.real(tf.cast(ws, tf.complex64) * st))
        lu = tf.reduce_sum(tf.math.real(tf.cast(wu, tf.complex64) * un))
    gs, gu = tape.gradient(ls, v).numpy(), tape.gradient(lu, v).numpy()

    def f_state(flat):
        rows = flat.reshape(vals.shape)
        return sum(
            np.real(np.sum(ws[i] * _state(c, dict(zip(K.NAMES, rows[i])), qubits)))
            for i in range(2)
        )

    def f_unitary(flat):
        rows = flat.reshape(vals.shape)
        return sum(
            np.real(
                np.sum(
                    wu[i] * cirq.unitary(cirq.resolve_parameters(c, dict(zip(K.NAMES, rows[i]))))
                )
            )
            for i in range(2)
        )

    x0 = vals.astype(np.float64).reshape(-1)
    np.testing.assert_allclose(gs.reshape(-1), reference.central_difference(f_state, x0), atol=2e-3)
    np.testing.assert_allclose(
        gu.reshape(-1), reference.central_difference(f_unitary, x0), atol=2e-3
    )


@pytest.mark.tfq
def test_user_written_differentiator_is_accepted_and_saving_says_to_register_it():
    import tensorflow_quantum as tfq

    class HalfShift(tfq.differentiators.ParameterShift):
        """A user's own differentiator class (here: TFQ's parameter shift, subclassed)."""

        def get_config(self):
            return {}

    c = cirq.Circuit(cirq.rx(K.A).on(K.QUBITS[0]))
    layer = L.Expectation(differentiator=HalfShift(), backend="tfq")
    v = tf.constant([[0.4], [1.2]])
    with tf.GradientTape() as tape:
        tape.watch(v)
        out = layer(c, symbol_names=["a"], symbol_values=v, operators=cirq.Z(K.QUBITS[0]))
    np.testing.assert_allclose(tape.gradient(out, v).numpy(), -np.sin(v.numpy()), atol=1e-4)
    with pytest.raises(ValueError, match="HalfShift.*cannot be saved by name.*register"):
        layer.get_config()
    registered = keras.saving.register_keras_serializable(package="tests")(HalfShift)
    layer2 = L.Expectation(differentiator=registered(), backend="tfq")
    layer2(c, symbol_names=["a"], symbol_values=v, operators=cirq.Z(K.QUBITS[0]))
    clone = L.Expectation.from_config(layer2.get_config())
    np.testing.assert_allclose(clone(v).numpy(), out.numpy(), atol=1e-6)


# -- Keras: contract check, training, saving, export ------------------------------------------------
def _configured(layer_cls, call, init=None):
    """A layer configured by one TFQ-style call, as its config (how a reloaded layer starts)."""
    layer = layer_cls(**(init or {}))
    call(layer)
    return layer.get_config()


@keras3_only
def test_keras_layer_contract(backend):
    """keras.src.testing's run_layer_test on the executor layers configured with a circuit.

    Does not apply: the training check for Sample/State/Unitary (integer or complex ragged
    outputs have no loss), and their mixed-precision check (outputs are int8/complex64 whatever
    the policy); both apply to Expectation and SampledExpectation.
    """
    from keras.src import testing

    c = cirq.Circuit(
        cirq.rx(K.A).on(K.QUBITS[0]), cirq.ry(2 * K.B).on(K.QUBITS[1]), cirq.CNOT(*K.QUBITS[:2])
    )
    if backend == "tfq":
        c = cirq.Circuit(
            cirq.rx(K.A).on(K.QUBITS[0]), cirq.ry(K.B).on(K.QUBITS[1]), cirq.CNOT(*K.QUBITS[:2])
        )
    ops = [cirq.Z(K.QUBITS[0]), cirq.X(K.QUBITS[1])]
    vals = K.values(4)[:, :2]

    class Case(testing.TestCase):
        def runTest(self):
            pass

    case = Case()
    cfg = _configured(
        L.Expectation,
        lambda ly: ly(c, symbol_names=["a", "b"], symbol_values=vals, operators=ops),
        {"backend": backend},
    )
    case.run_layer_test(
        L.Expectation,
        cfg,
        input_data=vals,
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=0,
        supports_masking=False,
    )
    cfg = _configured(
        L.SampledExpectation,
        lambda ly: ly(
            c, symbol_names=["a", "b"], symbol_values=vals, operators=ops, repetitions=100
        ),
        {"backend": backend},
    )
    case.run_layer_test(
        L.SampledExpectation,
        cfg,
        input_data=vals,
        expected_output_shape=(4, 2),
        supports_masking=False,
    )
    for cls, kwargs in ((L.Sample, {"repetitions": 3}), (L.State, {}), (L.Unitary, {})):
        cfg = _configured(
            cls,
            lambda ly, kw=kwargs: ly(c, symbol_names=["a", "b"], symbol_values=vals, **kw),
            {"backend": backend},
        )
        case.run_layer_test(
            cls,
            cfg,
            input_data=vals,
            supports_masking=False,
            run_training_check=False,
            run_mixed_precision_check=False,
            assert_built_after_instantiation=True,
        )


@keras3_only
@pytest.mark.tfq
def test_keras_layer_contract_with_quantum_data():
    """run_layer_test on an Expectation that takes serialized circuits as its input (TFQ's
    simulator runs them)."""
    from keras.src import testing

    class Case(testing.TestCase):
        def runTest(self):
            pass

    case = Case()
    ops = [cirq.Z(K.QUBITS[0]), cirq.X(K.QUBITS[1])]
    data = convert_to_tensor(K.data_circuits())
    managed = L.Expectation(backend="tfq")
    managed(data, symbol_names=["a", "b"], operators=ops)
    case.run_layer_test(
        L.Expectation,
        managed.get_config(),
        input_data=data,
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=1,
        supports_masking=False,
    )


@keras3_only
@pytest.mark.tfq
def test_keras_contract_of_the_high_level_layers_and_add_circuit():
    from keras.src import testing

    class Case(testing.TestCase):
        def runTest(self):
            pass

    case = Case()
    c, ops = K.circuit(), K.operators()
    data = convert_to_tensor(K.data_circuits())
    vals = K.values(4)
    case.run_layer_test(
        L.PQC,
        {"model_circuit": c, "operators": ops},
        input_data=data,
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=1,
        supports_masking=False,
    )
    case.run_layer_test(
        L.NoisyPQC,
        {
            "model_circuit": K.noisy_circuit(),
            "operators": ops,
            "repetitions": 50,
            "sample_based": False,
        },
        input_data=data,
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=1,
        supports_masking=False,
    )
    case.run_layer_test(
        L.ControlledPQC,
        {"model_circuit": c, "operators": ops},
        input_data=(data, vals),
        expected_output_shape=(4, 2),
        expected_num_trainable_weights=0,
        supports_masking=False,
        assert_built_after_instantiation=True,
    )
    case.run_layer_test(
        L.NoisyControlledPQC,
        {
            "model_circuit": K.noisy_circuit(),
            "operators": ops,
            "repetitions": 50,
            "sample_based": True,
        },
        input_data=(data, vals),
        expected_output_shape=(4, 2),
        supports_masking=False,
        assert_built_after_instantiation=True,
    )
    cfg = _configured(L.AddCircuit, lambda ly: ly(data, append=c))
    case.run_layer_test(
        L.AddCircuit,
        cfg,
        input_data=data,
        supports_masking=False,
        run_training_check=False,
        run_mixed_precision_check=False,
        assert_built_after_instantiation=True,
    )


def _hello_many_worlds():
    """TFQ's first tutorial: a Dense controller steers a qubit to commanded <Z> values."""
    q = cirq.GridQubit(0, 0)
    a, b, c = sympy.symbols("a b c")
    model_circuit = cirq.Circuit(cirq.rz(a)(q), cirq.ry(b)(q), cirq.rx(c)(q))
    rng = np.random.RandomState(0)
    noise = cirq.Circuit(
        cirq.rx(rng.uniform(0, 2 * np.pi))(q), cirq.ry(rng.uniform(0, 2 * np.pi))(q)
    )
    circuits_in = keras.Input(shape=(), dtype=tf.string)
    commands_in = keras.Input(shape=(1,))
    d = keras.layers.Dense(
        10, activation="elu", kernel_initializer=keras.initializers.GlorotUniform(1)
    )(commands_in)
    d = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(2))(d)
    out = L.ControlledPQC(model_circuit, operators=cirq.Z(q))([circuits_in, d])
    model = keras.Model([circuits_in, commands_in], out)
    x = [convert_to_tensor([noise, noise]), np.array([[0], [1]], np.float32)]
    y = np.array([[1], [-1]], np.float32)
    return model, x, y


@pytest.mark.tfq
def test_controller_trains_in_fit_and_round_trips_exactly(tmp_path):
    model, x, y = _hello_many_worlds()
    model.compile(keras.optimizers.Adam(0.05), "mse")
    hist = model.fit(x, y, epochs=60, verbose=0).history["loss"]
    assert hist[-1] < 0.01 < hist[0]
    path = str(tmp_path / "controller.keras")
    model.save(path)
    load_kwargs = {"safe_mode": True} if not LEGACY else {}
    reloaded = keras.models.load_model(path, **load_kwargs)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


@keras.saving.register_keras_serializable(package="tests")
class AbsSquared(keras.layers.Layer):
    """|z|**2 of a (ragged) complex tensor: a float output Keras can compare and export."""

    def call(self, z):
        return tf.abs(z.to_tensor() if isinstance(z, tf.RaggedTensor) else z) ** 2


@keras3_only
@pytest.mark.tfq
def test_every_layer_round_trips_through_keras_files_and_export(tmp_path):
    vals_in = keras.Input(shape=(3,))
    data_in = keras.Input(shape=(), dtype=tf.string)
    c, ops = K.circuit(), K.operators()
    exp = L.Expectation()(c, symbol_names=K.NAMES, symbol_values=vals_in, operators=ops)
    sexp = L.SampledExpectation(backend="statevector")(
        c, symbol_names=K.NAMES, symbol_values=vals_in, operators=ops, repetitions=10**6
    )
    probs = AbsSquared()(L.State()(c, symbol_names=K.NAMES, symbol_values=vals_in))
    unitary = AbsSquared()(L.Unitary()(c, symbol_names=K.NAMES, symbol_values=vals_in))
    pqc = L.PQC(K.deterministic_circuit(), ops)(
        L.AddCircuit()(data_in, append=cirq.Circuit(cirq.H.on_each(*K.QUBITS)))
    )
    cpqc = L.ControlledPQC(c, ops)([data_in, vals_in])
    managed = L.Expectation(backend="tfq")(data_in, symbol_names=K.NAMES, operators=ops)
    model = keras.Model([vals_in, data_in], [exp, sexp, probs, unitary, pqc, cpqc, managed])
    x = [K.values(4), convert_to_tensor(K.data_circuits())]
    before = model.predict(x, verbose=0)
    path = str(tmp_path / "all.keras")
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    after = reloaded.predict(x, verbose=0)
    for i, (a, b) in enumerate(zip(before, after)):
        # the sampled expectation (output 1) draws fresh shots: within shot noise of 1e6 shots
        np.testing.assert_allclose(a, b, atol=1e-2 if i == 1 else 0)
    export_dir = str(tmp_path / "export")
    model.export(export_dir)
    code = (
        f"import numpy as np, tensorflow as tf, tfq_layers\n"
        f"import sys\nsys.path.insert(0, {os.path.dirname(__file__)!r})\n"
        "from tfq_layers.compat import convert_to_tensor\n"
        f"import compat_cases as K\n"
        f"m = tf.saved_model.load({export_dir!r})\n"
        f"out = m.serve([K.values(4), convert_to_tensor(K.data_circuits())])\n"
        f"np.save({str(tmp_path / 'served.npy')!r}, out[0].numpy())\nprint('OK')\n"
    )
    assert "OK" in reference.run_python(code)
    np.testing.assert_allclose(np.load(tmp_path / "served.npy"), before[0], atol=0)


@pytest.mark.tfq
def test_weightless_layers_are_built_at_instantiation():
    for layer in (
        L.Sample(),
        L.State(),
        L.Unitary(),
        L.AddCircuit(),
        L.ControlledPQC(K.circuit(), K.operators()),
    ):
        assert layer.built, type(layer).__name__


# -- bad input ------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    c, ops, vals = K.circuit(), K.operators(), K.values(4)
    with pytest.raises(ValueError, match=r"symbol_values has shape \(4, 2\).*3 names"):
        L.Expectation()(c, symbol_names=K.NAMES, symbol_values=vals[:, :2], operators=ops)
    with pytest.warns(UserWarning, match=r"\['zz'\] do not appear in any circuit"):
        L.Expectation()(
            c, symbol_names=K.NAMES + ["zz"], symbol_values=np.zeros((4, 4)), operators=ops
        )
    with pytest.raises(ValueError, match=r"uses symbols \['c'\] that are not in symbol_names"):
        L.Expectation()(c, symbol_names=["a", "b"], symbol_values=vals[:, :2], operators=ops)
    with pytest.raises(RuntimeError, match="repetitions"):
        L.SampledExpectation()(c, symbol_names=K.NAMES, symbol_values=vals, operators=ops)
    with pytest.raises(ValueError, match="Number of repetitions not specified"):
        L.Sample()(c, symbol_names=K.NAMES, symbol_values=vals)
    with pytest.raises(RuntimeError, match="backend='noisy'.*repetitions"):
        L.Expectation(backend="noisy")(c, symbol_names=K.NAMES, symbol_values=vals, operators=ops)
    with pytest.raises(CircuitError, match=r"acts on \[cirq.GridQubit\(5, 5\)\], which no circuit"):
        L.Expectation()(
            c, symbol_names=K.NAMES, symbol_values=vals, operators=[cirq.Z(cirq.GridQubit(5, 5))]
        )
    with pytest.raises(ValueError, match="operators has 3 rows but there are 4 circuits"):
        L.Expectation()(
            K.circuit_list(),
            symbol_names=K.NAMES,
            symbol_values=vals,
            operators=K.per_circuit_operators()[:3],
        )
    with pytest.raises(ValueError, match="4 circuits but symbol_values has 3 rows"):
        L.Expectation()(
            K.circuit_list(), symbol_names=K.NAMES, symbol_values=vals[:3], operators=ops
        )
    with pytest.raises(TypeError, match="got list"):  # the user's type, not a Keras wrapper
        L.Expectation()(c, symbol_names=K.NAMES, symbol_values=vals, operators=[[]][0])
    with pytest.raises(TypeError, match="circuits must be cirq.Circuit.*got str"):
        L.Expectation()("not a circuit", symbol_names=K.NAMES, symbol_values=vals, operators=ops)
    with pytest.raises(ValueError, match="symbol_names must be unique"):
        L.State()(c, symbol_names=["a", "a", "b"], symbol_values=vals)
    with pytest.raises(ValueError, match="backend must be one of"):
        L.Expectation(backend="qiskit")
    with pytest.raises(ValueError, match="Values must be provided for append or prepend"):
        L.AddCircuit()(convert_to_tensor(K.data_circuits()))
    with pytest.raises(ValueError, match="specify sample_based=False.*NoisyPQC requires"):
        L.NoisyPQC(K.noisy_circuit(), ops, repetitions=10)
    with pytest.raises(ValueError, match="noise channels; use backend='noisy'"):
        L.Expectation()(K.noisy_circuit(), symbol_names=K.NAMES, symbol_values=vals, operators=ops)


@pytest.mark.tfq
def test_noisy_quantum_data_into_a_noiseless_layer_is_a_clear_error_and_works_when_noisy():
    q = K.QUBITS[0]
    model = cirq.Circuit(cirq.rx(K.A)(q))
    noisy_data = convert_to_tensor(
        [cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.X(q), cirq.bit_flip(0.2)(q))]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="noise channels.*NoisyPQC"):
        L.PQC(model, cirq.Z(q))(noisy_data)
    clean = convert_to_tensor([cirq.Circuit(cirq.Y(q) ** 0.5, cirq.X(q))] * 2)
    assert L.ControlledPQC(model, cirq.Z(q))([clean, np.zeros((2, 1), np.float32)]).shape == (2, 1)
    layer = L.NoisyPQC(model, cirq.Z(q), repetitions=2000, sample_based=False)
    layer.build(noisy_data.shape)
    layer.set_weights([np.zeros(1, np.float32)])
    out = layer(noisy_data).numpy()[:, 0]
    # X then a 20% bit flip: <Z> = -1 and -(1 - 2 * 0.2) = -0.6, within trajectory noise
    np.testing.assert_allclose(out, [-1.0, -0.6], atol=5 * 1.0 / np.sqrt(2000))


@pytest.mark.tfq
def test_a_data_symbol_shared_with_a_model_weight_is_refused_not_merged():
    """TFQ resolves the appended program with the layer's names, so a data circuit's symbol `a`
    would silently take the model weight `a`'s value."""
    from tfq_layers import PQC

    q = K.QUBITS[0]
    data = convert_to_tensor([cirq.Circuit(cirq.rx(K.A)(q))] * 2)
    for layer in (
        L.PQC(cirq.Circuit(cirq.ry(K.A)(q)), cirq.Z(q)),
        PQC(cirq.Circuit(cirq.ry(K.A)(q)), cirq.Z(q)),
    ):
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"appears both in the quantum-data circuits(.|\n)*b'a'",
        ):
            layer(data)
