"""TFQ's wire format written and read by this package (``tfq_layers.wire``, re-exported as
``tfq_layers.compat.convert_to_tensor``/``from_tensor``): round trips against Cirq over TFQ's
gate set, byte equality and interchange with TFQ itself (``tfq``-marked), and refusal of corrupt
or tampered bytes."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

from tfq_layers import compat, wire

a, b = sympy.symbols("a b")
GRID = cirq.GridQubit.rect(1, 3)
LINE = cirq.LineQubit.range(3)


def _gate_ops(q):
    """One operation of every gate TFQ's format holds, numbers and symbols mixed."""
    q0, q1, q2 = q
    return [
        cirq.X(q0),
        cirq.Y(q1) ** 0.25,
        cirq.Z(q2) ** a,
        cirq.H(q0) ** 0.5,
        cirq.rx(2 * a).on(q0),
        cirq.ry(-0.3).on(q1),
        cirq.rz(b / 2).on(q2),
        cirq.S(q0),
        cirq.T(q1),
        cirq.XX(q0, q1) ** 0.3,
        cirq.YY(q1, q2) ** b,
        cirq.ZZ(q0, q2) ** (3 * a),
        cirq.CZ(q0, q1) ** 0.7,
        cirq.CNOT(q1, q2),
        cirq.SWAP(q0, q2) ** 0.5,
        cirq.ISWAP(q0, q1) ** a,
        cirq.PhasedXPowGate(phase_exponent=0.25, exponent=a).on(q2),
        cirq.PhasedXPowGate(phase_exponent=b, exponent=0.5, global_shift=0.2).on(q1),
        cirq.PhasedISwapPowGate(phase_exponent=0.125, exponent=2 * b).on(q0, q1),
        cirq.FSimGate(theta=0.4, phi=a).on(q1, q2),
        cirq.FSimGate(theta=-1.5 * b, phi=0.2).on(q0, q2),
        cirq.I(q0),
        cirq.XPowGate(exponent=0.3, global_shift=0.5).on(q1),
        cirq.ControlledOperation([q0], cirq.ry(a).on(q1)),
        cirq.ControlledOperation([q0, q2], cirq.X(q1), control_values=[0, 1]),
        cirq.ControlledOperation([q2], cirq.FSimGate(0.1, 0.2).on(q0, q1)),
    ]


CHANNELS = [
    cirq.depolarize(0.01),
    cirq.asymmetric_depolarize(0.01, 0.02, 0.03),
    cirq.amplitude_damp(0.1),
    cirq.generalized_amplitude_damp(0.2, 0.3),
    cirq.phase_damp(0.05),
    cirq.phase_flip(0.07),
    cirq.bit_flip(0.125),
    cirq.ResetChannel(),
]


def _circuits(q):
    ops = _gate_ops(q)
    return [cirq.Circuit(op) for op in ops] + [
        cirq.Circuit(ops),
        cirq.Circuit(),
        cirq.Circuit([cirq.Moment(), cirq.Moment([cirq.H(q[0])])]),
        cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(*q[:2], key="m")),
    ]


def _noisy(q):
    return [cirq.Circuit(cirq.H(q[0]), channel.on(q[0])) for channel in CHANNELS]


def _pauli_sums(q):
    q0, q1, q2 = q
    return [
        cirq.PauliSum.from_pauli_strings(cirq.Z(q0)),
        cirq.Z(q0) * cirq.X(q2) + 0.5 * cirq.Y(q1),
        -1.25 * cirq.X(q0) * cirq.Y(q1) * cirq.Z(q2) + 0.1,
        cirq.PauliSum(),
        cirq.PauliSum.from_pauli_strings((0.5 + 0.25j) * cirq.Z(q1)),
    ]


def _resolver(circuit):
    names = sorted(s.name for s in cirq.parameter_symbols(circuit))
    return {n: 0.31 + 0.17 * i for i, n in enumerate(names)}


def _same_circuit(got, want):
    """Equal unitaries (channels: equal Kraus operators) once symbols get values; the
    measurements TFQ's format drops are dropped from ``want`` too."""
    want = cirq.drop_empty_moments(cirq.drop_terminal_measurements(want))
    got = cirq.drop_empty_moments(got)
    assert got.all_qubits() == want.all_qubits()
    assert cirq.parameter_symbols(got) == cirq.parameter_symbols(want)
    if not want.all_qubits():
        return
    r = _resolver(want)
    got, want = cirq.resolve_parameters(got, r), cirq.resolve_parameters(want, r)
    qubits = sorted(want.all_qubits())
    if cirq.has_unitary(want):
        np.testing.assert_allclose(
            got.unitary(qubit_order=qubits), want.unitary(qubit_order=qubits), atol=2e-6
        )
    else:
        for g, w in zip(got.all_operations(), want.all_operations()):
            np.testing.assert_allclose(cirq.kraus(g), cirq.kraus(w), atol=1e-6)


@pytest.mark.parametrize("qubits", [GRID, LINE], ids=["grid", "line"])
def test_circuits_round_trip(qubits):
    circuits = _circuits(qubits) + _noisy(qubits)
    tensor = compat.convert_to_tensor(circuits)
    assert tensor.dtype == tf.string and tensor.shape == (len(circuits),)
    back = compat.from_tensor(tensor)
    assert isinstance(back, np.ndarray) and back.dtype == object and back.shape == tensor.shape
    for got, want in zip(back, circuits):
        _same_circuit(got, want)
    # every gate id of TFQ's gate set is covered
    ids = {
        op.gate.id
        for raw in tensor.numpy()
        for m in wire.message_class("Program").FromString(raw).circuit.moments
        for op in m.operations
    }
    assert ids == set(wire.CIRCUIT_GATE_IDS)
    # what is read back is written to the same bytes again
    np.testing.assert_array_equal(compat.convert_to_tensor(list(back)).numpy(), tensor.numpy())


def test_round_trip_keeps_gates_and_symbols_exactly():
    q0, q1 = GRID[:2]
    circuit = cirq.Circuit(
        cirq.X(q0) ** a,
        cirq.CZ(q0, q1),
        cirq.rx(0.5).on(q1),
        cirq.ControlledOperation([q1], cirq.Z(q0) ** b),
        cirq.FSimGate(a, 0.25).on(q0, q1),
    )
    (back,) = compat.from_tensor(compat.convert_to_tensor([circuit]))
    ops = list(back.all_operations())
    assert ops[0] == cirq.X(q0) ** a
    assert ops[1] == cirq.CZ(q0, q1)
    assert ops[3] == cirq.ControlledOperation([q1], cirq.Z(q0) ** b)
    assert ops[4].gate.theta == a  # a symbol, rebuilt as sympy.Symbol("a")
    assert all(isinstance(s, sympy.Symbol) for s in cirq.parameter_symbols(back))


@pytest.mark.parametrize("qubits", [GRID, LINE], ids=["grid", "line"])
def test_pauli_sums_round_trip(qubits):
    sums = _pauli_sums(qubits)
    tensor = compat.convert_to_tensor([sums, sums[::-1]])
    assert tensor.shape == (2, len(sums))
    back = compat.from_tensor(tensor)
    assert back.shape == (2, len(sums))
    for got, want in zip(back[0], sums):
        assert isinstance(got, cirq.PauliSum)
        assert got == want
    assert list(back[1]) == sums[::-1]
    # a PauliString is taken as a one-term PauliSum
    (one,) = compat.from_tensor(compat.convert_to_tensor([cirq.X(qubits[0])]))
    assert one == cirq.PauliSum.from_pauli_strings(cirq.X(qubits[0]))


def test_convert_to_tensor_refuses_what_the_format_cannot_hold():
    q0, q1 = GRID[:2]
    cases = [
        ([cirq.Circuit(cirq.CCZ(*GRID))], ValueError, "not in TFQ's gate set"),
        ([cirq.Circuit(cirq.rx(a * b).on(q0))], ValueError, "number times a symbol"),
        ([cirq.Circuit(cirq.X(cirq.NamedQubit("n")))], ValueError, "GridQubit and cirq.LineQubit"),
        (
            [cirq.Circuit(cirq.measure(q0), cirq.X(q0))],
            ValueError,
            "only terminal measurements",
        ),
        ([cirq.Circuit(cirq.IdentityGate(2).on(q0, q1))], ValueError, "cirq.I.on_each"),
        ([cirq.Circuit(), cirq.Z(q0)], TypeError, "mixes circuits and PauliSums"),
        ([cirq.Circuit(), 3], TypeError, "int"),
        (cirq.Circuit(), TypeError, "must be a list"),
        ([[cirq.Circuit()], [cirq.Circuit(), cirq.Circuit()]], ValueError, "rectangular"),
    ]
    for items, error, text in cases:
        with pytest.raises(error, match=text):
            compat.convert_to_tensor(items)


def test_empty_and_deterministic():
    empty = compat.convert_to_tensor([])
    assert empty.dtype == tf.string and empty.shape == (0,)
    circuit = cirq.Circuit(_gate_ops(GRID))
    det = compat.convert_to_tensor([circuit], deterministic_proto_serialize=True).numpy()[0]
    assert (
        compat.from_tensor([det])[0] == compat.from_tensor(compat.convert_to_tensor([circuit]))[0]
    )


def _tampered():
    q0 = GRID[0]
    good = compat.convert_to_tensor([cirq.Circuit(cirq.X(q0) ** a, cirq.CZ(q0, GRID[1]))])
    raw = good.numpy()[0]
    program = wire.message_class("Program").FromString(raw)

    def edit(fn):
        p = wire.message_class("Program")()
        p.CopyFrom(program)
        fn(p)
        return p.SerializeToString()

    def gate_id(p):
        p.circuit.moments[0].operations[0].gate.id = "EVIL"

    def qubit(p):
        p.circuit.moments[0].operations[0].qubits[0].id = "__import__('os')"

    def func(p):
        p.circuit.moments[0].operations[0].args["exponent"].func.type = "add"

    def extra_arg(p):
        p.circuit.moments[0].operations[0].args["payload"].symbol = "x"

    def controls(p):
        args = p.circuit.moments[0].operations[0].args
        args["control_qubits"].arg_value.string_value = "0_2"
        args["control_values"].arg_value.string_value = "2"

    def two_qubits(p):
        p.circuit.moments[0].operations[0].qubits.add().id = "0_1"

    def overlap(p):
        moment = p.circuit.moments[0]
        moment.operations.add().CopyFrom(moment.operations[0])

    def gate_set(p):
        p.language.gate_set = "other"

    def symbol_in_number(p):
        p.circuit.moments[0].operations[0].args["global_shift"].symbol = "g"

    return [
        (edit(gate_id), "gate id 'EVIL'.*known ids"),
        (edit(qubit), "qubit id"),
        (edit(func), "function expression"),
        (edit(extra_arg), "arguments"),
        (edit(controls), "control values"),
        (edit(two_qubits), "acts on 2 qubit"),
        (edit(gate_set), "gate set is 'other'"),
        (edit(overlap), "overlap on a qubit"),
        (edit(symbol_in_number), "symbol as argument 'global_shift'"),
        (raw + b"\x28\x01", "appended or altered"),  # an unknown field 5
        (raw + b"\x1a\x03abc", "parse"),
        (raw[:-3], "parse|appended or altered"),
        (b'{"json": true}', "parse|appended or altered"),
    ]


def test_corrupt_and_tampered_bytes_are_refused_clearly():
    for raw, text in _tampered():
        with pytest.raises(ValueError, match=rf"element \(0,\).*({text})"):
            compat.from_tensor(np.array([raw], dtype=object))


def test_pauli_sum_tampering_and_limits():
    q0 = GRID[0]
    message = wire.serialize_pauli_sum(cirq.Z(q0) + cirq.X(GRID[1]))
    message.terms[0].paulis[0].pauli_type = "W"
    with pytest.raises(ValueError, match="Pauli type 'W'"):
        compat.from_tensor([message.SerializeToString()])
    message.terms[0].paulis[0].pauli_type = "Z"
    message.terms[0].paulis.add(qubit_id="0_0", pauli_type="X")
    with pytest.raises(ValueError, match="twice"):
        compat.from_tensor([message.SerializeToString()])
    big = wire.message_class("PauliSum")()
    for _ in range(wire.MAX_OPERATIONS // 2 + 1):
        big.terms.add().paulis.add(qubit_id="0_0", pauli_type="Z")
    with pytest.raises(ValueError, match="at most"):
        compat.from_tensor([big.SerializeToString()])
    with pytest.raises(TypeError, match="tf.string"):
        compat.from_tensor(tf.constant([1.0]))
    with pytest.raises(TypeError, match="one kind"):
        compat.from_tensor(
            [
                compat.convert_to_tensor([cirq.Circuit()]).numpy()[0],
                compat.convert_to_tensor([cirq.Z(q0)]).numpy()[0],
            ]
        )


def test_schema_is_private_and_matches_field_numbers():
    """The schema is in a pool of its own; its messages decode in the graph with decode_proto."""
    from google.protobuf import descriptor_pool

    descriptor = wire.message_class("Program").DESCRIPTOR
    assert descriptor.full_name == "tfq.proto.Program"
    assert descriptor.file.pool is not descriptor_pool.Default()
    assert [(f.name, f.number) for f in descriptor.fields] == [
        ("language", 1),
        ("circuit", 2),
        ("schedule", 3),
    ]
    raw = compat.convert_to_tensor([cirq.Circuit(cirq.X(GRID[0]) ** a)])
    _, (language,) = tf.io.decode_proto(
        raw,
        "tfq.proto.Program",
        ["language"],
        [tf.string],
        descriptor_source=b"bytes://" + wire.descriptor_set(),
    )
    assert wire.message_class("Language").FromString(language.numpy()[0, 0]).gate_set == (
        "tfq_gate_set"
    )


@pytest.mark.parametrize("deterministic", [False, True])
def test_the_writers_summary_is_what_a_reader_of_the_bytes_finds(deterministic):
    """The gate ids, symbols and qubit ids (controls included) that ``convert_to_tensor`` notes
    for each circuit it writes (the quantum-data checks read them instead of decoding the bytes)
    are exactly those the protobuf decoder finds in the bytes."""
    from tfq_layers.backends import quantum_data

    circuits = _circuits(GRID) + _noisy(GRID) + _circuits(LINE)
    circuits.append(cirq.Circuit(_gate_ops(LINE), cirq.depolarize(0.1).on_each(*LINE)))
    raws = wire.convert_to_tensor(circuits, deterministic).numpy()
    for circuit, raw in zip(circuits, raws):
        written = wire.written_summary(raw)
        assert written is not None and written == quantum_data._parsed_summary(raw), circuit
    assert wire.written_summary(raws[0] + b"\x00") is None  # other bytes: not known


def test_digest_table_is_bounded_and_keeps_the_recently_used():
    from tfq_layers._digests import DigestTable

    table = DigestTable(2)
    table.put(b"a" * 10_000, 1)
    table.put(b"b", 2)
    assert table.get(b"a" * 10_000) == 1  # now the most recently used
    table.put(b"c", 3)
    assert (table.get(b"a" * 10_000), table.get(b"b"), table.get(b"c")) == (1, None, 3)
    assert len(table._entries) == 2 and all(len(k) == 20 for k in table._entries)


def test_host_summary_of_bytes_that_do_not_parse_is_none_each_time():
    from tfq_layers.backends import quantum_data

    for _ in range(2):  # the second answer comes from the table
        assert quantum_data.host_summary(b"\x0a\xff\xff") is None


# -- against TensorFlow Quantum --------------------------------------------------------------------


def _all_circuits():
    return _circuits(GRID) + _noisy(GRID) + _circuits(LINE)


@pytest.mark.tfq
@pytest.mark.parametrize("deterministic", [False, True])
def test_bytes_equal_tfq(deterministic):
    import tensorflow_quantum as tfq

    for items in (_all_circuits(), [_pauli_sums(GRID), _pauli_sums(LINE)]):
        ours = compat.convert_to_tensor(items, deterministic_proto_serialize=deterministic)
        theirs = tfq.convert_to_tensor(items, deterministic_proto_serialize=deterministic)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.tfq
def test_interchangeable_with_tfq_both_ways():
    import tensorflow_quantum as tfq

    circuits = _all_circuits()
    ours = compat.convert_to_tensor(circuits)
    for got, want in zip(
        tfq.from_tensor(ours), compat.from_tensor(tfq.convert_to_tensor(circuits))
    ):
        _same_circuit(got, want)
    for got, want in zip(compat.from_tensor(tfq.convert_to_tensor(circuits)), circuits):
        _same_circuit(got, want)
    sums = [_pauli_sums(GRID)]
    assert [list(r) for r in tfq.from_tensor(compat.convert_to_tensor(sums))] == [
        list(r) for r in compat.from_tensor(tfq.convert_to_tensor(sums))
    ]


@pytest.mark.tfq
def test_tfq_expectation_op_runs_our_bytes():
    """TFQ's own expectation op on circuits and operators serialized here agrees with Cirq."""
    import tensorflow_quantum as tfq

    q = GRID
    circuits = [
        cirq.Circuit(cirq.H(q[0]), cirq.rx(2 * a).on(q[1]), cirq.CNOT(q[0], q[2])),
        cirq.Circuit(
            cirq.ControlledOperation([q[0]], cirq.ry(a).on(q[1])),
            cirq.FSimGate(0.3, a).on(q[1], q[2]),
            cirq.H(q[0]),
        ),
    ]
    ops = [cirq.Z(q[0]) * cirq.Z(q[2]) + 0.5 * cirq.X(q[1]), cirq.Y(q[1])]
    values = np.array([[0.4], [1.1]], np.float32)
    got = tfq.get_expectation_op()(
        compat.convert_to_tensor(circuits),
        tf.constant(["a"]),
        tf.constant(values),
        compat.convert_to_tensor([ops, ops]),
    ).numpy()
    sim = cirq.Simulator(dtype=np.complex128)
    for i, c in enumerate(circuits):
        want = sim.simulate_expectation_values(
            c, ops, param_resolver={"a": float(values[i, 0])}, qubit_order=q
        )
        np.testing.assert_allclose(got[i], np.real(want), atol=1e-5)


# -- AddCircuit joins serialized circuits with TensorFlow ops ---------------------------------------


def _moments(*circuits):
    """The circuits one after the other, moment by moment, as read back from TFQ's format."""
    joined = cirq.Circuit([m for c in circuits for m in c.moments])
    return compat.from_tensor(compat.convert_to_tensor([joined]))[0]


def test_add_circuit_joins_in_the_graph_without_tfq():
    from tfq_layers.compat import layers as L

    data = _circuits(GRID)[:6]
    extra = cirq.Circuit(cirq.H(GRID[0]), cirq.CNOT(GRID[0], GRID[2]) ** b)
    out = L.AddCircuit()(compat.convert_to_tensor(data), append=extra)
    assert [c for c in compat.from_tensor(out)] == [_moments(c, extra) for c in data]
    # the bytes are what convert_to_tensor writes for the joined circuits
    joined = [cirq.Circuit([*c.moments, *extra.moments]) for c in data]
    np.testing.assert_array_equal(out.numpy(), compat.convert_to_tensor(joined).numpy())
    out = L.AddCircuit()(data, prepend=extra)
    assert list(compat.from_tensor(out)) == [_moments(extra, c) for c in data]

    @tf.function
    def graph(x, y):
        return L.AddCircuit()(x, append=y)

    y = compat.convert_to_tensor([extra] * len(data))
    got = graph(compat.convert_to_tensor(data), y)
    assert list(compat.from_tensor(got)) == [_moments(c, extra) for c in data]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not serialized circuits|is not one"):
        L.AddCircuit()(compat.convert_to_tensor([cirq.Z(GRID[0])]), append=extra)
    with pytest.raises(ValueError, match="differ in number"):
        graph(compat.convert_to_tensor(data), y[:2])
    dynamic = tf.function(
        graph.python_function, input_signature=[tf.TensorSpec([None], tf.string)] * 2
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="differ in number"):
        dynamic(compat.convert_to_tensor(data), y[:2])


@pytest.mark.tfq
def test_add_circuit_matches_tfq_append():
    import tensorflow_quantum as tfq

    from tfq_layers.compat import layers as L

    data = _circuits(GRID)[:6]
    extra = cirq.Circuit(cirq.H(GRID[0]), cirq.CNOT(GRID[0], GRID[2]) ** b)
    ours = L.AddCircuit()(compat.convert_to_tensor(data), append=extra)
    theirs = tfq.append_circuit(
        tfq.convert_to_tensor(data), tfq.convert_to_tensor([extra] * len(data))
    )
    assert list(tfq.from_tensor(ours)) == list(tfq.from_tensor(theirs))


# -- the compat executors read circuit tensors without TFQ ------------------------------------------


def test_executors_read_circuit_tensors_on_the_statevector_backend():
    """Circuits and operators from convert_to_tensor run on the statevector backend (no TFQ op
    involved) and agree with Cirq."""
    from tfq_layers.compat import layers as L

    q = GRID
    circuits = [
        cirq.Circuit(cirq.H(q[0]), cirq.rx(2 * a).on(q[1]), cirq.CNOT(q[0], q[2])),
        cirq.Circuit(
            cirq.ControlledOperation([q[0]], cirq.ry(a).on(q[1])),
            cirq.FSimGate(0.3, a).on(q[1], q[2]),
            cirq.H(q[0]),
        ),
    ]
    ops = [cirq.Z(q[0]) * cirq.Z(q[2]) + 0.5 * cirq.X(q[1]), cirq.Y(q[1])]
    values = np.array([[0.4], [1.1]], np.float32)
    tensor = compat.convert_to_tensor(circuits)
    for operators in (ops, compat.convert_to_tensor([ops, ops])):
        got = L.Expectation(backend="statevector")(
            tensor, symbol_names=["a"], symbol_values=values, operators=operators
        ).numpy()
        for i, c in enumerate(circuits):
            want = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
                c, ops, param_resolver={"a": float(values[i, 0])}, qubit_order=q
            )
            np.testing.assert_allclose(got[i], np.real(want), atol=1e-5)
    states = L.State(backend="statevector")(tensor, symbol_names=["a"], symbol_values=values)
    for i, c in enumerate(circuits):
        want = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(cirq.resolve_parameters(c, {"a": float(values[i, 0])}), qubit_order=q)
            .final_state_vector
        )
        np.testing.assert_allclose(states[i].numpy(), want, atol=1e-5)
    with pytest.raises(ValueError, match="cannot be read.*element"):
        L.Expectation(backend="statevector")(
            tf.constant([b"garbage"]), operators=ops, symbol_names=["a"], symbol_values=values[:1]
        )
    with pytest.raises(TypeError, match="holds PauliSums"):
        L.Expectation(backend="statevector")(compat.convert_to_tensor(ops), operators=ops)


NO_TFQ_SCRIPT = r"""
import sys
sys.modules["tensorflow_quantum"] = None  # as if TFQ were not installed (find_spec: None)
import json
import cirq, numpy as np, sympy
from tfq_layers import compat
from tfq_layers.compat import layers as L

q = cirq.GridQubit.rect(1, 3)
a = sympy.Symbol("a")
circuits = [
    cirq.Circuit(cirq.H(q[0]), cirq.rx(2 * a).on(q[1]), cirq.CNOT(q[0], q[2])),
    cirq.Circuit(cirq.ControlledOperation([q[0]], cirq.ry(a).on(q[1])),
                 cirq.FSimGate(0.3, a).on(q[1], q[2]), cirq.H(q[0])),
]
ops = [cirq.Z(q[0]) * cirq.Z(q[2]) + 0.5 * cirq.X(q[1]), cirq.Y(q[1])]
values = np.array([[0.4], [1.1]], np.float32)
out = {}
for name, inputs in (("list", circuits), ("tensor", compat.convert_to_tensor(circuits))):
    for kind, operators in (("ops", ops), ("op_tensor", compat.convert_to_tensor([ops, ops]))):
        out[name + "_" + kind] = L.Expectation()(
            inputs, symbol_names=["a"], symbol_values=values, operators=operators
        ).numpy().tolist()
joined = L.AddCircuit()(compat.convert_to_tensor(circuits), append=cirq.Circuit(cirq.X(q[0])))
out["joined_moments"] = [len(c) for c in compat.from_tensor(joined)]
print(json.dumps(out))
"""


def test_compat_layers_read_tensors_where_tfq_is_not_installed():
    """The issue's check, in a process where TFQ cannot be imported: the compat Expectation on
    cirq.Circuit inputs and on convert_to_tensor output (operators as PauliSums or as a tensor)
    agrees with Cirq to 1e-5 under the default backend, and AddCircuit joins circuits."""
    import json

    import reference

    out = json.loads(reference.run_python(NO_TFQ_SCRIPT).strip().splitlines()[-1])
    q = GRID
    circuits = [
        cirq.Circuit(cirq.H(q[0]), cirq.rx(2 * a).on(q[1]), cirq.CNOT(q[0], q[2])),
        cirq.Circuit(
            cirq.ControlledOperation([q[0]], cirq.ry(a).on(q[1])),
            cirq.FSimGate(0.3, a).on(q[1], q[2]),
            cirq.H(q[0]),
        ),
    ]
    ops = [cirq.Z(q[0]) * cirq.Z(q[2]) + 0.5 * cirq.X(q[1]), cirq.Y(q[1])]
    sim = cirq.Simulator(dtype=np.complex128)
    want = [
        np.real(sim.simulate_expectation_values(c, ops, param_resolver={"a": v}, qubit_order=q))
        for c, v in zip(circuits, (0.4, 1.1))
    ]
    for key in ("list_ops", "list_op_tensor", "tensor_ops", "tensor_op_tensor"):
        np.testing.assert_allclose(out[key], want, atol=1e-5, err_msg=key)
    assert out["joined_moments"] == [len(c) + 1 for c in circuits]
