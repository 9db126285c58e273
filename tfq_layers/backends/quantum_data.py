"""Checks of quantum-data input: TFQ's serialized circuits (``tf.string`` tensors), read in the graph.

TFQ's ops report bad quantum data late and opaquely ("Unparseable proto: ...", "Could not find
symbol in parameter map: d", "Could not parse gate id") or not at all (a data symbol that is also
one of the layer's own symbols silently takes the layer's value). This module decodes the
serialized ``tfq.proto.Program`` messages with ``tf.io.decode_proto`` -- inside the graph, so the
checks also hold in ``model.fit``, ``predict`` and an exported SavedModel -- and puts assertions
with clear messages in front of the TFQ op.

The descriptors are this package's own schema of TFQ's format (:mod:`tfq_layers.wire`), so the
checks run without TFQ installed. The same descriptors decode serialized PauliSums
(``convert_to_tensor`` of operators): :func:`decode_pauli_sums` for the compat layers'
``operators`` tensors, and :func:`checked_operators` in front of TFQ's op when those are known
only in the graph.

Only the binary wire format is accepted (what ``tfq.convert_to_tensor`` and
``tfq_layers.compat.convert_to_tensor`` write).
"""

import functools

from tfq_layers._digests import DigestTable
from tfq_layers.backends.check_once import CheckOnce

#: The protobuf fields of a serialized circuit, from the Program down to an argument's symbol.
_PROGRAM = "tfq.proto.Program"

#: A binary Program starts with field 1, 2 or 3 (tags 0x0a, 0x12, 0x1a), or is empty.
_FIRST_BYTES = (0x0A, 0x12, 0x1A)

#: Where a bad element is reported by its first bytes, at most this many are shown.
_SHOWN_BYTES = 24

#: The name given to the decoding op, which appears in the error if a graph run meets bytes
#: that are not a serialized circuit (the only check that cannot carry a message of its own).
DECODE_OP_NAME = "quantum_data_is_not_serialized_circuits__use_tfq_convert_to_tensor"


def _descriptor_source():
    """``bytes://`` + the FileDescriptorSet of this package's schema of TFQ's Program and
    PauliSum (:mod:`tfq_layers.wire`): the one home of the descriptors every ``decode_proto``
    here uses (TFQ itself is not needed)."""
    from tfq_layers import wire

    return b"bytes://" + wire.descriptor_set()


def _decode_padded(strings, message, fields, types, op_name):
    """``decode_proto`` of the 1-D ``strings`` as ``tfq.proto.<message>``, with one empty
    message appended (``decode_proto`` needs a non-empty input at every level): per field, the
    sizes (1-D) and the padded table of values (at least one column, the field's default where
    a message lacks it). The appended message is the last row; its repeated fields have size
    0, so :func:`_flat` skips it."""
    import tensorflow as tf

    strings = tf.concat([strings, tf.constant([b""])], axis=0)
    sizes, values = tf.io.decode_proto(
        strings,
        f"tfq.proto.{message}",
        list(fields),
        list(types),
        descriptor_source=_descriptor_source(),
        name=op_name,
    )
    return tf.unstack(sizes, num=len(fields), axis=1), values


def _flat(sizes, values):
    """The entries of a repeated field, flattened in message order."""
    import tensorflow as tf

    # positions of the filled cells, gathered: a handful of ops (boolean_mask is ~20)
    width = tf.gather(tf.shape(values), 1)
    filled = tf.range(width) < tf.expand_dims(sizes, 1)
    return tf.gather_nd(values, tf.where(filled))


def _fields(strings, message, fields, op_name=None):
    """The flattened values of each string/message ``field`` (repeated or single) of every
    ``message`` in the 1-D ``strings``, from one ``decode_proto``: a list of 1-D tensors."""
    import tensorflow as tf

    sizes, values = _decode_padded(
        strings, message, fields, [tf.string] * len(fields), op_name or DECODE_OP_NAME
    )
    return [_flat(n, v) for n, v in zip(sizes, values)]


def _first_bad_element(data):
    """Index and first bytes of the first element of eager ``data`` that does not parse as a
    binary ``tfq.proto.Program``, or None."""
    from google.protobuf.message import DecodeError

    from tfq_layers import wire

    program = wire.message_class("Program")
    for i, raw in enumerate(data.numpy().reshape(-1)):
        if raw and raw[0] not in _FIRST_BYTES:
            return i, raw[:_SHOWN_BYTES]
        try:
            program.FromString(raw)
        except DecodeError:
            return i, raw[:_SHOWN_BYTES]
    return None


def _not_circuits_message(where):
    return (
        "tfq_layers: the quantum-data input must hold serialized circuits, as "
        f"tfq_layers.compat.convert_to_tensor([...cirq.Circuit...]) writes them; {where} is not one. If "
        "you have cirq.Circuit objects, pass tfq_layers.compat.convert_to_tensor(circuits); if the "
        "tensor was read from a file, the file is corrupt or holds something else."
    )


def decode(data):
    """The gate ids and the argument symbols of every circuit in the 1-D string tensor ``data``.

    Returns two 1-D ``tf.string`` tensors (over the whole batch, in no particular order).
    Eagerly, an element that is not a serialized circuit raises ``ValueError`` naming its index;
    in a graph, the same input fails in the op named :data:`DECODE_OP_NAME`, behind a first-byte
    check with a message of its own (text, JSON and other non-protobuf strings).
    """
    import tensorflow as tf

    if not (tf.executing_eagerly() and hasattr(data, "numpy")):
        return _decode(data)
    try:
        return _decode(data)
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
        # Only on failure: find the element in Python, to name it (valid data is decoded once).
        bad = _first_bad_element(data)
        if bad is None:
            raise
        raise ValueError(_not_circuits_message(f"element {bad[0]} (starting {bad[1]!r})")) from None


def _decode(data):
    """:func:`decode` as graph ops (eagerly: run at once)."""
    gate_ids, symbols, _ = _circuit_fields(data)
    return gate_ids, symbols


def _circuit_fields(data, qubits=False):
    """The gate ids, argument symbols and (with ``qubits``, else None) qubit ids, controls
    included, of every circuit in the 1-D string ``data``: one ``decode_proto`` per level of
    the message, shared by the three, behind a first-byte check of the elements."""
    import tensorflow as tf

    first = tf.strings.substr(data, 0, 1)
    starts = tf.constant([[bytes([b]) for b in _FIRST_BYTES]])
    looks_binary = tf.reduce_all(
        (tf.strings.length(data) == 0)
        | tf.reduce_any(tf.equal(tf.expand_dims(first, 1), starts), axis=1)
    )
    check = tf.debugging.Assert(looks_binary, [_not_circuits_message("an element")])
    with tf.control_dependencies([check]):
        data = tf.identity(data)
    (circuits,) = _fields(data, "Program", ["circuit"])
    (moments,) = _fields(circuits, "Circuit", ["moments"])
    (operations,) = _fields(moments, "Moment", ["operations"])
    gates, entries, targets = _fields(operations, "Operation", ["gate", "args", "qubits"])
    (gate_ids,) = _fields(gates, "Gate", ["id"])
    # map entries: key and value are single fields, one row per entry (the padding row last,
    # with empty defaults that name no symbol and no control qubits)
    (_, (keys, values)) = _decode_padded(
        entries,
        "Operation.ArgsEntry",
        ["key", "value"],
        [tf.string, tf.string],
        DECODE_OP_NAME,
    )
    keys, values = tf.reshape(keys, [-1]), tf.reshape(values, [-1])
    if not qubits:
        (symbols,) = _fields(values, "Arg", ["symbol"])
        return gate_ids, symbols, None
    # an entry's Arg holds a symbol or an arg_value; the control-qubit lists are the
    # arg_values of the entries keyed "control_qubits" (the padding row of this decode, last,
    # is dropped to keep the rows aligned with the keys)
    (symbol_n, _), (symbol, arg_value) = _decode_padded(
        values, "Arg", ["symbol", "arg_value"], [tf.string, tf.string], DECODE_OP_NAME
    )
    symbols = _flat(symbol_n, symbol)
    controls = tf.gather(
        tf.reshape(arg_value[:-1], [-1]),
        tf.reshape(tf.where(tf.equal(keys, "control_qubits")), [-1]),
    )
    (listed,) = _fields(controls, "ArgValue", ["string_value"])
    named = tf.strings.split(listed, ",").flat_values
    named = tf.gather(named, tf.reshape(tf.where(tf.strings.length(named) > 0), [-1]))
    (target_ids,) = _fields(targets, "Qubit", ["id"])
    return gate_ids, symbols, tf.concat([target_ids, named], axis=0)


def host_summary(raw):
    """What the checks read from one serialized circuit ``raw`` (bytes), on the host:
    ``(gate_ids, symbols, qubit_ids)`` as frozensets of str (the same fields :func:`decode` and
    :func:`qubit_ids` read in the graph), or ``None`` when ``raw`` does not parse as a binary
    Program (the graph's checks then say why). Bytes that ``convert_to_tensor`` wrote in this
    process are looked up (:func:`tfq_layers.wire.written_summary`); others are decoded."""
    from tfq_layers import wire

    summary = wire.written_summary(raw)
    if summary is None:
        summary = _parsed(raw)
    return None if summary is _UNPARSED else summary


#: Summaries of bytes decoded here (:func:`_parsed_summary`), by digest; ``_UNPARSED`` marks
#: bytes that do not parse.
_PARSED = DigestTable(4096)
_UNPARSED = ()


def _parsed(raw):
    summary = _PARSED.get(raw)
    if summary is None:
        summary = _parsed_summary(raw)
        summary = _UNPARSED if summary is None else summary
        _PARSED.put(raw, summary)
    return summary


def _parsed_summary(raw):
    """:func:`host_summary` of ``raw`` decoded with this package's protobuf schema."""
    from google.protobuf.message import DecodeError

    from tfq_layers import wire

    if raw and raw[0] not in _FIRST_BYTES:
        return None
    try:
        program = wire.message_class("Program").FromString(raw)
    except DecodeError:
        return None
    gates, symbols, qubits = set(), set(), set()
    for moment in program.circuit.moments:
        for op in moment.operations:
            gates.add(op.gate.id)
            qubits.update(q.id for q in op.qubits)
            for key, arg in op.args.items():
                if arg.WhichOneof("arg") == "symbol":
                    symbols.add(arg.symbol)
                if key == "control_qubits" and arg.WhichOneof("arg") == "arg_value":
                    qubits.update(x for x in arg.arg_value.string_value.split(",") if x)
    return frozenset(gates), frozenset(symbols), frozenset(qubits)


def host_passes(raws, *, noisy, layer_names, value_names, channel_ids, register=None):
    """Whether every serialized circuit in ``raws`` (bytes) passes :func:`checked` (and, with
    ``register``, the register check of TFQ's backend), decided on the host. ``False`` also
    when that cannot be told here: the graph's checks then run and name the problem."""
    from tfq_layers import wire

    channels = {c.decode() if isinstance(c, bytes) else c for c in channel_ids}
    known = set(wire.CIRCUIT_GATE_IDS)
    layer = set(layer_names or ())
    values = set(value_names)
    allowed = None if register is None else set(register)
    for raw in raws:
        summary = host_summary(bytes(raw))
        if summary is None:
            return False
        gates, symbols, qubits = summary
        if not gates <= known:
            return False
        if (not noisy and gates & channels) or symbols & layer or not symbols <= values:
            return False
        if allowed is not None and not qubits <= allowed:
            return False
    return True


def host_width(raws):
    """How many distinct qubits the serialized circuits ``raws`` act on (host-decoded), or
    ``None`` if one does not parse."""
    found = set()
    for raw in raws:
        summary = host_summary(bytes(raw))
        if summary is None:
            return None
        found |= summary[2]
    return len(found)


#: The name of the op decoding circuits to append, which appears in the error if a graph run
#: meets bytes that are not serialized circuits.
JOIN_OP_NAME = "add_circuit_inputs_are_not_serialized_circuits__use_convert_to_tensor"


def _embedded(field_tag, payloads):
    """Each string of ``payloads`` as a length-delimited field with the one-byte ``field_tag``
    (0x12: field 2, as Program.circuit and Circuit.moments are): one ``encode_proto`` writes
    the tag, the length varint and the bytes."""
    import tensorflow as tf

    if field_tag != 0x12:
        raise ValueError(f"_embedded writes field 2 (tag 0x12) only; got tag {field_tag:#x}")
    column = tf.expand_dims(payloads, 1)
    return tf.io.encode_proto(
        tf.ones_like(column, dtype=tf.int32),
        [column],
        ["circuit"],
        f"{_PROGRAM}",
        descriptor_source=_descriptor_source(),
    )


def join(first, second):
    """The serialized circuits of ``first`` followed by those of ``second`` (1-D ``tf.string``,
    one circuit each, equal batch), as graph ops: TFQ's ``append_circuit`` without TFQ.

    The moments of the second circuit follow those of the first; the result is written as
    :func:`tfq_layers.wire.serialize_circuit` writes a circuit (the moments' bytes unchanged).
    An element that is not a serialized circuit fails an assertion (or, if it does not parse,
    the op named :data:`JOIN_OP_NAME`). The ops are one traced function, shared by every graph
    and eager call of the process.
    """
    import tensorflow as tf

    first, second = tf.convert_to_tensor(first), tf.convert_to_tensor(second)
    n1, n2 = first.shape[0], second.shape[0]
    if n1 is not None and n2 is not None and n1 != n2:
        raise ValueError(f"{_JOIN_SIZES} (got {n1} and {n2}).")
    if not _JOIN:
        _JOIN.append(tf.function(_join, autograph=False, reduce_retracing=True))
    return _JOIN[0](first, second)


_JOIN = []

_JOIN_SIZES = (
    "tfq_layers: the circuits to join differ in number; give one circuit to append (or "
    "prepend) per input circuit, or a single cirq.Circuit for all"
)


def _join(first, second):
    """:func:`join` as TensorFlow ops: the moments of each circuit decoded as a padded table,
    then written back by ``encode_proto`` (the first circuit with the scheduling strategy, the
    second with its moments only: concatenated, the two are one Circuit message)."""
    import tensorflow as tf

    from tfq_layers import wire

    def moments(data):
        # each decode appends one padding row (empty, no moments); every level keeps the rows
        (lang_n, _), (language, circuit) = _decode_padded(
            data, "Program", ["language", "circuit"], [tf.string, tf.string], JOIN_OP_NAME
        )
        (_,), (gate_set,) = _decode_padded(
            tf.reshape(language, [-1]), "Language", ["gate_set"], [tf.string], JOIN_OP_NAME
        )
        ok = tf.reduce_all(tf.equal(lang_n[:-1], 1)) & tf.reduce_all(
            tf.equal(gate_set[:-2], wire.GATE_SET)
        )
        check = tf.debugging.Assert(ok, [_not_circuits_message("an element to join")])
        with tf.control_dependencies([check]):
            circuit = tf.reshape(circuit, [-1])
        # a Program without a circuit field has the empty default: no moments
        (counts,), (values,) = _decode_padded(
            circuit, "Circuit", ["moments"], [tf.string], JOIN_OP_NAME
        )
        return counts[:-1], values[:-1]  # one row per element, and the first padding row

    check = tf.debugging.assert_equal(tf.shape(first)[0], tf.shape(second)[0], message=_JOIN_SIZES)
    with tf.control_dependencies([check]):
        first = tf.identity(first)
    (n1, m1), (n2, m2) = moments(first), moments(second)
    source = _descriptor_source()
    head = tf.io.encode_proto(
        tf.stack([tf.ones_like(n1), n1], axis=1),
        [tf.expand_dims(tf.ones_like(n1), 1), m1],
        ["scheduling_strategy", "moments"],
        "tfq.proto.Circuit",
        descriptor_source=source,
    )
    tail = tf.io.encode_proto(
        tf.expand_dims(n2, 1), [m2], ["moments"], "tfq.proto.Circuit", descriptor_source=source
    )
    header = wire.message_class("Program")()
    header.language.gate_set = wire.GATE_SET
    joined = tf.strings.join([header.SerializeToString(), _embedded(0x12, head + tail)])
    return joined[:-1]  # without the padding row


def qubit_ids(data):
    """TFQ's ids (``"row_col"`` for a GridQubit, ``"x"`` for a LineQubit) of every qubit the
    circuits of the 1-D string tensor ``data`` act on, controls included: one 1-D ``tf.string``
    tensor over the whole batch (repeats kept). Decoded in the graph, like :func:`decode`."""
    return _circuit_fields(data, qubits=True)[2]


#: The name of the op decoding an operators tensor, which appears in the error if a graph run
#: meets bytes that are not a serialized PauliSum.
PAULI_DECODE_OP_NAME = "operators_are_not_serialized_pauli_sums__use_tfq_convert_to_tensor"


def _scatter_back(sizes, values, flat):
    """``values`` (padded table of a repeated field) with its filled cells replaced by ``flat``,
    in the order :func:`_flat` reads them."""
    import tensorflow as tf

    width = tf.gather(tf.shape(values), 1)
    return tf.tensor_scatter_nd_update(
        values, tf.where(tf.range(width) < tf.expand_dims(sizes, 1)), flat
    )


def _encode(sizes, values, message, fields):
    """``encode_proto`` of the rows of ``values`` (one table per field) as ``tfq.proto.<message>``
    with the per-field ``sizes``."""
    import tensorflow as tf

    return tf.io.encode_proto(
        tf.stack(sizes, axis=1),
        list(values),
        list(fields),
        f"tfq.proto.{message}",
        descriptor_source=_descriptor_source(),
    )


def decode_pauli_sums(operators):
    """The terms of every serialized ``tfq.proto.PauliSum`` in the 1-D string tensor
    ``operators`` (what ``tfq.convert_to_tensor`` writes for ``cirq.PauliSum`` objects), decoded
    with TensorFlow ops.

    Returns a dict of tensors (entries flattened in message order):

    * ``term_counts`` ``(n,)`` int32: terms of each PauliSum;
    * ``real``, ``imag`` ``(n_terms,)`` float32: each term's coefficient;
    * ``pauli_counts`` ``(n_terms,)`` int32: single-qubit Paulis of each term;
    * ``qubit_ids``, ``pauli_types`` ``(n_paulis,)`` string (TFQ writes ``"row_col"`` for a
      ``cirq.GridQubit``, ``"x"`` for a ``cirq.LineQubit``, and ``"X"``/``"Y"``/``"Z"``);
    * ``canonical`` ``(n,)`` bool: the element is exactly the bytes its decoded fields encode
      to. A PauliSum written by TFQ (or any protobuf library) is; bytes of another message that
      happen to parse (a serialized circuit, say), or a PauliSum with fields appended or
      altered, are not, since the parser skips fields it does not know.

    Bytes that do not parse at all fail in the op named :data:`PAULI_DECODE_OP_NAME`.
    """
    import tensorflow as tf

    name = PAULI_DECODE_OP_NAME
    sum_fields = ["terms"]
    term_fields = ["coefficient_real", "coefficient_imag", "paulis"]
    pair_fields = ["qubit_id", "pauli_type"]
    # every decode appends one empty padding row (the last), which re-encodes to b""
    (term_counts,), (term_table,) = _decode_padded(
        operators, "PauliSum", sum_fields, [tf.string], name
    )
    terms = _flat(term_counts, term_table)
    (re_n, im_n, pauli_counts), (real, imag, pair_table) = _decode_padded(
        terms, "PauliTerm", term_fields, [tf.float32, tf.float32, tf.string], name
    )
    pairs = _flat(pauli_counts, pair_table)
    (id_n, type_n), (qubit_ids, pauli_types) = _decode_padded(
        pairs, "PauliQubitPair", pair_fields, [tf.string, tf.string], name
    )

    # Encode the decoded fields again, bottom-up, each level from the level below as encoded
    # again: an element is canonical if and only if this gives back its bytes.
    pairs_again = _encode([id_n, type_n], [qubit_ids, pauli_types], "PauliQubitPair", pair_fields)
    terms_again = _encode(
        [re_n, im_n, pauli_counts],
        [real, imag, _scatter_back(pauli_counts, pair_table, pairs_again[:-1])],
        "PauliTerm",
        term_fields,
    )
    sums_again = _encode(
        [term_counts],
        [_scatter_back(term_counts, term_table, terms_again[:-1])],
        "PauliSum",
        sum_fields,
    )
    return dict(
        term_counts=term_counts[:-1],
        real=real[:-1, 0],
        imag=imag[:-1, 0],
        pauli_counts=pauli_counts[:-1],
        qubit_ids=qubit_ids[:-1, 0],
        pauli_types=pauli_types[:-1, 0],
        canonical=tf.equal(sums_again[:-1], operators),
    )


def _operators_message(problem):
    return (
        "tfq_layers: " + problem + " The operators input must hold serialized cirq.PauliSum "
        "objects as tfq_layers.compat.convert_to_tensor([[psum, ...], ...]) writes them, one row per "
        "circuit; if the tensor was read from a file, the file is corrupt or holds something "
        "else (serialized circuits belong in the layer's first input)."
    )


#: The operator checks of each circuit register (``None``: any qubits): one traced check each,
#: shared by every layer and graph of the process.
_OPERATOR_CHECKS = {}


def checked_operators(operators, qubit_ids=None):
    """The ``(batch, n_ops)`` string tensor ``operators`` behind in-graph checks that every
    element is a serialized PauliSum as TFQ writes it (canonical bytes, Pauli types X/Y/Z, real
    finite coefficients) and, when ``qubit_ids`` (TFQ's ids of the circuit qubits) is given, acts
    on those qubits only. Bytes that do not parse fail in :data:`PAULI_DECODE_OP_NAME`.

    The checks are one traced function per register (:class:`~.check_once.CheckOnce`): a graph
    calls it on the distinct elements, an eager call skips content that already passed."""
    key = None if qubit_ids is None else tuple(sorted(qubit_ids))
    check = _OPERATOR_CHECKS.get(key)
    if check is None:
        check = _OPERATOR_CHECKS[key] = CheckOnce(
            functools.partial(_checked_operators, qubit_ids=None if key is None else list(key))
        )
    return check(operators)


def _checked_operators(operators, qubit_ids=None):
    """:func:`checked_operators`'s checks, in TensorFlow ops."""
    import tensorflow as tf

    # a batch usually repeats a few operators: decode each distinct element once
    parts = decode_pauli_sums(tf.unique(tf.reshape(operators, [-1])).y)
    checks = [
        tf.debugging.Assert(
            tf.reduce_all(parts["canonical"]),
            [
                _operators_message(
                    "an element of the operators tensor is not a serialized PauliSum, or has bytes "
                    "appended or altered."
                )
            ],
        ),
        _refuse(
            _missing(parts["pauli_types"], ["X", "Y", "Z"]),
            [
                _operators_message(
                    "the operators tensor has Pauli types other than X, Y, Z (it was altered)."
                )
                + " Found:"
            ],
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(parts["real"]) & tf.equal(parts["imag"], 0.0)),
            [
                "tfq_layers: an operator of the operators tensor has a complex or non-finite "
                "coefficient; an observable needs finite real coefficients (TFQ would drop the "
                "imaginary part). Fix the PauliSum, e.g. measure its Hermitian parts separately."
            ],
        ),
    ]
    if qubit_ids is not None:
        checks.append(
            _refuse(
                _missing(parts["qubit_ids"], list(qubit_ids)),
                [
                    "tfq_layers: an operator of the operators tensor acts on qubits the circuits do not "
                    f"use (circuit qubit ids: {sorted(qubit_ids)}); measure qubits of the circuit, or add "
                    "cirq.I on those qubits to the circuit. Qubit id(s) not in the circuit:"
                ],
            )
        )
    with tf.control_dependencies(checks):
        return tf.identity(operators)


def _missing(found, allowed):
    """The elements of 1-D ``found`` not in the Python list ``allowed`` (unique)."""
    import tensorflow as tf

    found = tf.unique(found).y
    if not allowed:
        return found
    known = tf.reduce_any(
        tf.equal(tf.expand_dims(found, 1), tf.constant([allowed], tf.string)), axis=1
    )
    return tf.gather(found, tf.reshape(tf.where(tf.logical_not(known)), [-1]))


def _present(found, names):
    """The elements of the Python list ``names`` that occur in 1-D ``found``."""
    import tensorflow as tf

    names = tf.constant(names, tf.string)
    hit = tf.reduce_any(tf.equal(tf.expand_dims(names, 1), tf.expand_dims(found, 0)), axis=1)
    return tf.gather(names, tf.reshape(tf.where(hit), [-1]))


def _refuse(found, message):
    """An assertion that ``found`` is empty, printing ``message`` and then ``found``."""
    import tensorflow as tf

    return tf.debugging.Assert(tf.equal(tf.size(found), 0), message + [found])


def checked(data, *, noisy, layer_names, value_names, channel_ids, register=None, qubits=None):
    """``data`` behind in-graph checks, for an op that runs the data circuits (joined with the
    layer's own circuit when ``layer_names`` is not None).

    Args:
        data: 1-D ``tf.string`` tensor of serialized circuits.
        noisy: whether the op simulates noise channels; if not, a channel in the data is refused.
        layer_names: the symbols of the layer's own circuit (their values come from the layer),
            or None when the data circuits are the whole program (TFQ's executor layers).
        value_names: the symbols the op gets values for, in TFQ's parameter map.
        channel_ids: TFQ's gate ids of noise channels.
        register: optional TFQ ids of the layer's qubits: the data circuits may act on no
            other qubit (TFQ's join of the two circuits computes wrong expectations then).
            Checked after the others, so that bytes that are not circuits get their message
            first.
        qubits: the layer's qubits, named in the register check's message.
    """
    import tensorflow as tf

    from tfq_layers import wire

    if tf.executing_eagerly() and hasattr(data, "numpy"):
        decode(data)  # an element that is not a circuit: named, as a ValueError
    gate_ids, symbols, found = _circuit_fields(data, qubits=register is not None)
    checks = [
        _refuse(
            _missing(gate_ids, list(wire.CIRCUIT_GATE_IDS)),
            [
                "tfq_layers: a circuit of the quantum-data input has an unknown gate id (below), "
                "not one of TFQ's gate set: the bytes were not written by convert_to_tensor, or "
                "were altered. Write the data with tfq_layers.compat.convert_to_tensor(circuits) "
                f"(known ids: {', '.join(wire.CIRCUIT_GATE_IDS)}). Unknown gate id(s):"
            ],
        )
    ]
    if not noisy:
        checks.append(
            _refuse(
                _present(gate_ids, list(channel_ids)),
                [
                    "tfq_layers: a circuit of the quantum-data input has noise channels (TFQ gate ids "
                    "below), but this layer simulates noiselessly. Use a noisy layer (NoisyPQC, "
                    "NoisyControlledPQC, or backend='noisy' with repetitions=N trajectories), or remove "
                    "the channels from the data."
                ],
            )
        )
    if layer_names:
        checks.append(
            _refuse(
                _present(symbols, list(layer_names)),
                [
                    "tfq_layers: a symbol appears both in the quantum-data circuits and in this layer's "
                    "circuit, so the data's symbol would silently take the layer's value. Resolve the "
                    "data circuits first (cirq.resolve_parameters) or rename the symbol in one of them. "
                    "Shared symbol(s):"
                ],
            )
        )
    if layer_names is None:
        fix = (
            "Give it a value: add it to symbol_names with a column in symbol_values, or "
            "resolve the data circuits first (cirq.resolve_parameters)."
        )
    else:
        fix = (
            "Only the layer's own circuit can have trainable or input symbols: resolve the "
            "data circuits first (cirq.resolve_parameters(circuit, {...})), or move the "
            "symbol into the layer's circuit."
        )
    unknown = _missing(symbols, list(value_names))
    checks.append(
        _refuse(
            unknown,
            [
                "tfq_layers: the quantum-data circuits have symbol(s) that get no value. "
                + fix
                + " Unresolved symbol(s):"
            ],
        )
    )
    with tf.control_dependencies(checks):
        data = tf.identity(data)
    if register is None:
        return data
    with tf.control_dependencies([data]):
        outside = _missing(found, list(register))
    check = _refuse(
        outside,
        [
            "tfq_layers: the quantum-data circuits act on qubits the layer's circuit "
            f"does not have (the layer's register: {qubits}); TFQ would join "
            "them into a wrong result. Build the layer's circuit on every qubit of "
            "the data (add cirq.I on the missing ones) or map the data onto the "
            "layer's qubits. Qubit id(s) outside the register:"
        ],
    )
    with tf.control_dependencies([check]):
        return tf.identity(data)


__all__ = [
    "DECODE_OP_NAME",
    "JOIN_OP_NAME",
    "PAULI_DECODE_OP_NAME",
    "checked",
    "checked_operators",
    "decode",
    "decode_pauli_sums",
    "join",
    "qubit_ids",
]
