"""TensorFlow Quantum's wire format, without TensorFlow Quantum.

TFQ 0.7.6 passes circuits and PauliSums to its ops as ``tf.string`` tensors of serialized protocol
buffers: a ``tfq.proto.Program`` per circuit and a ``tfq.proto.PauliSum`` per operator, written by
``tfq.convert_to_tensor``. This module is this package's own definition of those two messages
(same package, message names and field numbers, so the bytes are interchangeable) and its own
reader and writer of them:

* :func:`convert_to_tensor` / :func:`from_tensor`: TFQ's functions of the same names (re-exported
  as ``tfq_layers.compat.convert_to_tensor`` / ``from_tensor``);
* :func:`descriptor_set` for ``tf.io.decode_proto`` (the in-graph checks of quantum data and of
  operator tensors in :mod:`tfq_layers.backends.quantum_data`).

The schema lives in a private ``DescriptorPool``, so it never clashes with TFQ's registered
descriptors when both are imported. Reading is safe: only TFQ's gate ids are accepted (an unknown
one is named in the error), sizes are bounded, symbols are rebuilt as ``sympy.Symbol(name)`` (no
string is ever parsed as an expression), and bytes that are not such a message, or that carry
fields TFQ never writes, are refused with an error naming the element.

Facts of the format (TFQ 0.7.6): a circuit is written moment by moment, gate set name
``"tfq_gate_set"``; each operation has a gate id, its qubits (``"row_col"`` for a
``cirq.GridQubit``, ``"x"`` for a ``cirq.LineQubit``) and named arguments. A parameter is a float32
or a symbol with a separate float ``*_scalar`` (``cirq.rx(2 * a)`` is ``XP`` with exponent ``a``,
scalar ``2/pi`` rounded to 6 decimals). Controls (``cirq.ControlledOperation``) are the
``control_qubits``/``control_values`` string arguments of the target gate. Terminal measurements
are dropped. Numbers read back are rounded to 6 decimals, as TFQ's reader does.
"""

import functools
import numbers
import re

import cirq
import numpy as np
import sympy

from tfq_layers._digests import DigestTable

__all__ = [
    "CIRCUIT_GATE_IDS",
    "GATE_SET",
    "MAX_ELEMENT_BYTES",
    "MAX_OPERATIONS",
    "convert_to_tensor",
    "deserialize_circuit",
    "deserialize_pauli_sum",
    "descriptor_set",
    "from_tensor",
    "message_class",
    "qubit_from_id",
    "qubit_id",
    "serialize_circuit",
    "serialize_pauli_sum",
    "written_summary",
]

#: The gate-set name every serialized circuit carries (how a circuit is told from a PauliSum).
GATE_SET = "tfq_gate_set"

#: One serialized element may hold at most this many bytes ...
MAX_ELEMENT_BYTES = 16 * 2**20
#: ... and at most this many operations (or Pauli factors), each becoming a Python cirq object.
MAX_OPERATIONS = 200_000
#: Longest symbol name or argument string read.
_MAX_STRING = 1024
#: Bytes of a bad element shown in an error.
_SHOWN = 24

# -- the schema -------------------------------------------------------------------------------

_T = {"string": 9, "message": 11, "float": 2, "double": 1, "bool": 8, "enum": 14, "int64": 3}
_OPTIONAL, _REPEATED = 1, 3

# message -> [(field, number, type, label, type name or None, oneof index or None)]
_PROGRAM_MESSAGES = {
    "Program": (
        [
            ("language", 1, "message", _OPTIONAL, "Language", None),
            ("circuit", 2, "message", _OPTIONAL, "Circuit", 0),
            ("schedule", 3, "message", _OPTIONAL, "Schedule", 0),
        ],
        ["program"],
    ),
    "Circuit": (
        [
            ("scheduling_strategy", 1, "enum", _OPTIONAL, "Circuit.SchedulingStrategy", None),
            ("moments", 2, "message", _REPEATED, "Moment", None),
        ],
        [],
    ),
    "Moment": ([("operations", 1, "message", _REPEATED, "Operation", None)], []),
    "Schedule": (
        [("scheduled_operations", 3, "message", _REPEATED, "ScheduledOperation", None)],
        [],
    ),
    "ScheduledOperation": (
        [
            ("operation", 1, "message", _OPTIONAL, "Operation", None),
            ("start_time_picos", 2, "int64", _OPTIONAL, None, None),
        ],
        [],
    ),
    "Language": (
        [
            ("gate_set", 1, "string", _OPTIONAL, None, None),
            ("arg_function_language", 2, "string", _OPTIONAL, None, None),
        ],
        [],
    ),
    "Operation": (
        [
            ("gate", 1, "message", _OPTIONAL, "Gate", None),
            ("args", 2, "message", _REPEATED, "Operation.ArgsEntry", None),
            ("qubits", 3, "message", _REPEATED, "Qubit", None),
        ],
        [],
    ),
    "Gate": ([("id", 1, "string", _OPTIONAL, None, None)], []),
    "Qubit": ([("id", 2, "string", _OPTIONAL, None, None)], []),
    "Arg": (
        [
            ("arg_value", 1, "message", _OPTIONAL, "ArgValue", 0),
            ("symbol", 2, "string", _OPTIONAL, None, 0),
            ("func", 3, "message", _OPTIONAL, "ArgFunction", 0),
        ],
        ["arg"],
    ),
    "ArgValue": (
        [
            ("float_value", 1, "float", _OPTIONAL, None, 0),
            ("bool_values", 2, "message", _OPTIONAL, "RepeatedBoolean", 0),
            ("string_value", 3, "string", _OPTIONAL, None, 0),
            ("double_value", 4, "double", _OPTIONAL, None, 0),
        ],
        ["arg_value"],
    ),
    "RepeatedBoolean": ([("values", 1, "bool", _REPEATED, None, None)], []),
    "ArgFunction": (
        [
            ("type", 1, "string", _OPTIONAL, None, None),
            ("args", 2, "message", _REPEATED, "Arg", None),
        ],
        [],
    ),
}

_PAULI_MESSAGES = {
    "PauliSum": ([("terms", 1, "message", _REPEATED, "PauliTerm", None)], []),
    "PauliTerm": (
        [
            ("coefficient_real", 1, "float", _OPTIONAL, None, None),
            ("coefficient_imag", 2, "float", _OPTIONAL, None, None),
            ("paulis", 3, "message", _REPEATED, "PauliQubitPair", None),
        ],
        [],
    ),
    "PauliQubitPair": (
        [
            ("qubit_id", 1, "string", _OPTIONAL, None, None),
            ("pauli_type", 2, "string", _OPTIONAL, None, None),
        ],
        [],
    ),
}

_PACKAGE = "tfq.proto"


def _add_fields(message, fields, oneofs):
    for name in oneofs:
        message.oneof_decl.add(name=name)
    for name, number, kind, label, type_name, oneof in fields:
        field = message.field.add(name=name, number=number, type=_T[kind], label=label)
        if type_name is not None:
            field.type_name = f".{_PACKAGE}.{type_name}"
        if oneof is not None:
            field.oneof_index = oneof


def _file(name, messages):
    from google.protobuf import descriptor_pb2

    proto = descriptor_pb2.FileDescriptorProto(name=name, package=_PACKAGE, syntax="proto3")
    for message_name, (fields, oneofs) in messages.items():
        message = proto.message_type.add(name=message_name)
        _add_fields(message, fields, oneofs)
        if message_name == "Circuit":
            enum = message.enum_type.add(name="SchedulingStrategy")
            enum.value.add(name="SCHEDULING_STRATEGY_UNSPECIFIED", number=0)
            enum.value.add(name="MOMENT_BY_MOMENT", number=1)
        if message_name == "Operation":  # map<string, Arg> args = 2
            entry = message.nested_type.add(name="ArgsEntry")
            _add_fields(
                entry,
                [
                    ("key", 1, "string", _OPTIONAL, None, None),
                    ("value", 2, "message", _OPTIONAL, "Arg", None),
                ],
                [],
            )
            entry.options.map_entry = True
    return proto


@functools.lru_cache(maxsize=None)
def _files():
    """This package's FileDescriptorProtos of TFQ's two messages (file names of our own)."""
    return (
        _file("tfq_layers/wire/program.proto", _PROGRAM_MESSAGES),
        _file("tfq_layers/wire/pauli_sum.proto", _PAULI_MESSAGES),
    )


@functools.lru_cache(maxsize=None)
def _pool():
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.DescriptorPool()  # private: TFQ's registered descriptors are untouched
    for proto in _files():
        pool.Add(proto)
    return pool


@functools.lru_cache(maxsize=None)
def message_class(name):
    """The Python message class of ``tfq.proto.<name>`` (e.g. ``"Program"``, ``"PauliSum"``)
    from this package's schema."""
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(f"{_PACKAGE}.{name}"))


@functools.lru_cache(maxsize=None)
def descriptor_set():
    """The serialized ``FileDescriptorSet`` of the schema, for ``tf.io.decode_proto``'s
    ``descriptor_source="bytes://" + descriptor_set()``."""
    from google.protobuf import descriptor_pb2

    files = descriptor_pb2.FileDescriptorSet()
    for proto in _files():
        files.file.add().CopyFrom(proto)
    return files.SerializeToString()


# -- qubits -----------------------------------------------------------------------------------

_GRID_ID = re.compile(r"q?(-?\d{1,9})_(-?\d{1,9})")
_LINE_ID = re.compile(r"q?(-?\d{1,9})")


def qubit_id(qubit):
    """TFQ's id of a ``cirq.GridQubit`` (``"row_col"``) or ``cirq.LineQubit`` (``"x"``)."""
    if isinstance(qubit, cirq.GridQubit):
        return f"{qubit.row}_{qubit.col}"
    if isinstance(qubit, cirq.LineQubit):
        return f"{qubit.x}"
    raise ValueError(
        f"TFQ's format holds only cirq.GridQubit and cirq.LineQubit qubits; got {qubit!r} of type "
        f"{type(qubit).__name__}. Map the circuit onto grid or line qubits first "
        "(circuit.transform_qubits)."
    )


def qubit_from_id(text):
    """The qubit of TFQ's id (an optional ``q`` prefix accepted, as TFQ's reader does), or None."""
    m = _GRID_ID.fullmatch(text)
    if m:
        return cirq.GridQubit(int(m.group(1)), int(m.group(2)))
    m = _LINE_ID.fullmatch(text)
    if m:
        return cirq.LineQubit(int(m.group(1)))
    return None


# -- gates ------------------------------------------------------------------------------------

_CONTROLS = ("control_qubits", "control_values")

#: TFQ's eigen gates: id -> cirq type (arguments exponent, exponent_scalar, global_shift).
_EIGEN = {
    "XP": cirq.XPowGate,
    "XXP": cirq.XXPowGate,
    "YP": cirq.YPowGate,
    "YYP": cirq.YYPowGate,
    "ZP": cirq.ZPowGate,
    "ZZP": cirq.ZZPowGate,
    "HP": cirq.HPowGate,
    "CZP": cirq.CZPowGate,
    "CNP": cirq.CNotPowGate,
    "SP": cirq.SwapPowGate,
    "ISP": cirq.ISwapPowGate,
}
#: Phased eigen gates (phase_exponent and exponent, each with a scalar; global_shift).
_PHASED = {"PXP": cirq.PhasedXPowGate, "PISP": cirq.PhasedISwapPowGate}
#: Noise channels: id -> (cirq type, its float arguments).
_CHANNELS = {
    "AD": (cirq.AmplitudeDampingChannel, ("gamma",)),
    "ADP": (cirq.AsymmetricDepolarizingChannel, ("p_x", "p_y", "p_z")),
    "BF": (cirq.BitFlipChannel, ("p",)),
    "DP": (cirq.DepolarizingChannel, ("p",)),
    "GAD": (cirq.GeneralizedAmplitudeDampingChannel, ("p", "gamma")),
    "PD": (cirq.PhaseDampingChannel, ("gamma",)),
    "PF": (cirq.PhaseFlipChannel, ("p",)),
    "RST": (cirq.ResetChannel, ()),
}

#: Every argument name of each gate id, in the order TFQ writes them (which fixes the order of
#: the map entries in the bytes when both use the same protobuf runtime).
_ARGS = {
    **{k: ("exponent", "exponent_scalar", "global_shift") + _CONTROLS for k in _EIGEN},
    **{
        k: ("phase_exponent", "phase_exponent_scalar", "exponent", "exponent_scalar")
        + ("global_shift",)
        + _CONTROLS
        for k in _PHASED
    },
    "FSIM": ("theta", "phi", "theta_scalar", "phi_scalar") + _CONTROLS,
    "I": ("unused",) + _CONTROLS,
    **{k: args + _CONTROLS for k, (_, args) in _CHANNELS.items()},
}

#: The allow-list of gate ids this module reads and writes: TFQ 0.7.6's whole gate set.
CIRCUIT_GATE_IDS = tuple(sorted(_ARGS))

#: Arguments that may be a symbol (each has a ``<name>_scalar`` companion).
_SYMBOLIC = ("exponent", "phase_exponent", "theta", "phi")

# cirq type -> gate id, looked up along a gate's MRO (so cirq.Rx, a subclass of XPowGate, is XP)
_IDS = {
    **{t: k for k, t in _EIGEN.items()},
    **{t: k for k, t in _PHASED.items()},
    **{t: k for k, (t, _) in _CHANNELS.items()},
    cirq.FSimGate: "FSIM",
    cirq.IdentityGate: "I",
}


def _gate_id(gate):
    for cls in type(gate).mro():
        if cls in _IDS:
            return _IDS[cls]
    return None


def _round6(x):
    return float(np.round(x, 6))


def _split_parameter(value, what):
    """``(symbol or float, scalar)``: TFQ's form of a gate parameter (a number, a symbol, or a
    number times a symbol), numbers rounded to 6 decimals."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _round6(float(value)), 1.0
    if isinstance(value, sympy.Symbol):
        return value, 1.0
    if isinstance(value, sympy.Expr):
        if value.is_number and value.is_real:
            return _round6(float(value)), 1.0
        expr = value.evalf()
        if isinstance(expr, sympy.Mul) and len(expr.args) == 2:
            a, b = expr.args
            if isinstance(b, sympy.Number):
                a, b = b, a
            if isinstance(a, sympy.Number) and a.is_real and isinstance(b, sympy.Symbol):
                return b, _round6(float(a))
    raise ValueError(
        f"{what} is {value!r}: TFQ's format holds a number, a symbol or a number times a symbol. "
        "Introduce a new symbol for the expression (and compute it from the others in the model), "
        "or resolve it first (cirq.resolve_parameters)."
    )


def _gate_values(gate, gate_id, what):
    """The argument values (before controls) of ``gate`` in TFQ's order."""
    if gate_id in _EIGEN:
        e, es = _split_parameter(gate.exponent, what)
        return [e, es, float(gate._global_shift)]
    if gate_id in _PHASED:
        p, ps = _split_parameter(gate.phase_exponent, what)
        e, es = _split_parameter(gate.exponent, what)
        return [p, ps, e, es, float(getattr(gate, "global_shift", 0.0))]
    if gate_id == "FSIM":
        t, ts = _split_parameter(gate.theta, what)
        p, ps = _split_parameter(gate.phi, what)
        return [t, p, ts, ps]
    if gate_id == "I":
        if gate.num_qubits() != 1:
            raise ValueError(
                f"{what}: TFQ's format holds single-qubit identities only; use "
                "cirq.I.on_each(qubits) instead of a multi-qubit cirq.IdentityGate."
            )
        return [1.0]  # TFQ writes an unused flag
    names = _CHANNELS[gate_id][1]
    return [float(getattr(gate, name)) for name in names]


def _put(arg, value):
    """Write a Python value into an ``Arg`` message."""
    if isinstance(value, sympy.Symbol):
        arg.symbol = value.name
    elif isinstance(value, str):
        arg.arg_value.string_value = value
    else:
        arg.arg_value.float_value = value


class _Described:
    """``"<where>: <repr(op)>"`` for an error message, formatted only if one is raised (a
    circuit's reprs would cost more than writing it)."""

    __slots__ = ("where", "op")

    def __init__(self, where, op):
        self.where, self.op = where, op

    def __str__(self):
        return f"{self.where}: {self.op!r}"


def _write_operation(message, op, where, seen=None):
    controls, values, qubits = (), (), op.qubits  # a controlled operation's controls included
    if isinstance(op, cirq.ControlledOperation):
        controls = op.controls
        try:
            values = [int(v[0]) for v in op.control_values]
        except (TypeError, IndexError, ValueError):
            values = None
        if values is None or len(values) != len(controls) or any(v not in (0, 1) for v in values):
            raise ValueError(
                f"{where}: {op!r} has control values {op.control_values!r}; TFQ's format holds "
                "one value (0 or 1) per control qubit."
            )
        op = op.sub_operation
    gate = getattr(op, "gate", None)
    gate_id = None if gate is None else _gate_id(gate)
    if gate_id is None:
        raise ValueError(
            f"{where}: {op!r} is not in TFQ's gate set (eigen gates X/Y/Z/H/XX/YY/ZZ/CZ/CNOT/"
            "SWAP/ISWAP powers and rotations, PhasedXPowGate, PhasedISwapPowGate, FSimGate, "
            "single-qubit I, the common noise channels, controlled versions of these). Decompose "
            "it first, e.g. cirq.optimize_for_target_gateset(circuit, gateset=cirq.CZTargetGateset())."
        )
    if controls and gate_id in _CHANNELS:
        raise ValueError(f"{where}: a controlled noise channel ({op!r}) is not in TFQ's format.")
    args = _gate_values(gate, gate_id, _Described(where, op))
    args += [",".join(qubit_id(q) for q in controls), ",".join(str(v) for v in values)]
    message.gate.id = gate_id
    for qubit in op.qubits:
        message.qubits.add().id = qubit_id(qubit)
    for name, value in zip(_ARGS[gate_id], args):
        _put(message.args[name], value)
    if seen is not None:  # what a reader of the bytes finds (see written_summary)
        seen[0].add(gate_id)
        for value in args:
            if isinstance(value, sympy.Symbol):
                seen[1].add(value.name)
        seen[2].update(qubits)


def _without_terminal_measurements(circuit, where):
    """The operations of each moment of ``circuit`` without its measurements, which must be
    terminal (TFQ's format drops them)."""
    measured = set()
    moments = []
    for i, moment in enumerate(circuit.moments):
        kept = []
        for op in moment:
            late = measured.intersection(op.qubits)
            if late:
                raise ValueError(
                    f"{where}, moment {i}: {op!r} acts after a measurement of {sorted(late)}; "
                    "TFQ's format holds only terminal measurements (they are dropped). Move "
                    "measurements to the end of the circuit."
                )
            if isinstance(getattr(op, "gate", None), cirq.MeasurementGate):
                measured.update(op.qubits)
            else:
                kept.append(op)
        moments.append(kept)
    return moments


def serialize_circuit(circuit, where="circuit", seen=None):
    """The ``tfq.proto.Program`` message of ``circuit``, as TFQ 0.7.6 writes it.

    Args:
        circuit: a ``cirq.Circuit`` (or ``cirq.FrozenCircuit``) on grid or line qubits, with
            gates of TFQ's gate set.
        where: how the circuit is named in errors.
        seen: optional three sets, filled with the gate ids and the symbol names written and
            the qubits (``cirq.Qid``, controls included) of the operations written.

    Returns:
        A message of :func:`message_class` ``("Program")``.
    """
    if not isinstance(circuit, (cirq.Circuit, cirq.FrozenCircuit)):
        raise TypeError(f"{where}: expected a cirq.Circuit; got {type(circuit).__name__}.")
    for qubit in circuit.all_qubits():
        qubit_id(qubit)
    program = message_class("Program")()
    program.language.gate_set = GATE_SET
    program.circuit.scheduling_strategy = 1  # MOMENT_BY_MOMENT
    for i, ops in enumerate(_without_terminal_measurements(circuit, where)):
        moment = program.circuit.moments.add()
        for op in ops:
            _write_operation(moment.operations.add(), op, f"{where}, moment {i}", seen)
    return program


# What :func:`convert_to_tensor` wrote recently: the quantum-data checks read a circuit's gate
# ids, symbols and qubits from here instead of parsing the bytes again (Python's protobuf walks a
# deep circuit at ~6 us an operation).
_WRITTEN = DigestTable(8192)


def _remember_written(raw, seen):
    gates, symbols, qubits = seen
    _WRITTEN.put(
        raw, (frozenset(gates), frozenset(symbols), frozenset(qubit_id(q) for q in qubits))
    )


def written_summary(raw):
    """``(gate_ids, symbols, qubit_ids)`` (frozensets of str) of a serialized circuit ``raw``
    (bytes) that :func:`convert_to_tensor` wrote in this process (among the last 8192), else
    ``None``. The same sets a reader decoding ``raw`` finds (controls among the qubits)."""
    return _WRITTEN.get(raw)


def serialize_pauli_sum(psum, where="operator"):
    """The ``tfq.proto.PauliSum`` message of a ``cirq.PauliSum`` or ``cirq.PauliString``, as TFQ
    0.7.6 writes it (coefficients as float32, each term's qubits in sorted order)."""
    if isinstance(psum, cirq.PauliString):
        psum = cirq.PauliSum.from_pauli_strings(psum)
    if not isinstance(psum, cirq.PauliSum):
        raise TypeError(
            f"{where}: expected a cirq.PauliSum or cirq.PauliString; got {type(psum).__name__}."
        )
    message = message_class("PauliSum")()
    for term in psum:
        coefficient = complex(term.coefficient)
        out = message.terms.add()
        out.coefficient_real = coefficient.real
        out.coefficient_imag = coefficient.imag
        for qubit, pauli in sorted(term.items()):
            out.paulis.add(qubit_id=qubit_id(qubit), pauli_type=str(pauli))
    return message


# -- reading ----------------------------------------------------------------------------------


class _Refused(ValueError):
    """A problem found in one element (the caller adds which element)."""


def _float(value):
    """A float32 read back as the shortest decimal that gives the same float32."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def _tidy(x):
    """TFQ's reader: 6 decimals, an integral value as an int."""
    x = _round6(x)
    return int(x) if x.is_integer() else x


def _string(text, what):
    if len(text) > _MAX_STRING:
        raise _Refused(f"{what} is {len(text)} characters long (at most {_MAX_STRING} are read)")
    return text


def _read_arg(arg, name, gate_id):
    """A Python value of one argument: a float, a str, or a ``sympy.Symbol``."""
    kind = arg.WhichOneof("arg")
    if kind == "symbol":
        if name not in _SYMBOLIC:
            raise _Refused(
                f"gate {gate_id!r} has a symbol as argument {name!r}, which holds numbers"
            )
        text = _string(arg.symbol, f"a symbol name of gate {gate_id!r}")
        if not text:
            raise _Refused(f"gate {gate_id!r} has an empty symbol name")
        return sympy.Symbol(text)
    if kind == "arg_value":
        which = arg.arg_value.WhichOneof("arg_value")
        if name in _CONTROLS:
            if which == "string_value":
                return _string(arg.arg_value.string_value, f"argument {name!r}")
        elif which == "float_value":
            return _float(arg.arg_value.float_value)
        elif which == "double_value":
            return float(arg.arg_value.double_value)
        raise _Refused(
            f"argument {name!r} of gate {gate_id!r} holds a {which}, which TFQ never writes"
        )
    if kind == "func":
        raise _Refused(
            f"argument {name!r} of gate {gate_id!r} is a function expression, which TFQ's own "
            "writer never produces and this reader does not evaluate"
        )
    raise _Refused(f"argument {name!r} of gate {gate_id!r} is empty")


def _combine(value, scalar):
    """TFQ's parameter from a value (float or symbol) and its scalar."""
    if isinstance(value, sympy.Symbol):
        scalar = _tidy(scalar)
        return value if scalar == 1 else scalar * value
    return _tidy(_tidy(value) * _tidy(scalar)) if scalar != 1.0 else _tidy(value)


def _finite(values, gate_id):
    for name, v in values.items():
        if isinstance(v, float) and not np.isfinite(v):
            raise _Refused(f"argument {name!r} of gate {gate_id!r} is {v}")


def _build_gate(gate_id, a):
    if gate_id in _EIGEN:
        return _EIGEN[gate_id](
            exponent=_combine(a["exponent"], a["exponent_scalar"]),
            global_shift=_tidy(a["global_shift"]),
        )
    if gate_id in _PHASED:
        kwargs = dict(
            exponent=_combine(a["exponent"], a["exponent_scalar"]),
            phase_exponent=_combine(a["phase_exponent"], a["phase_exponent_scalar"]),
        )
        if a["global_shift"] != 0:
            kwargs["global_shift"] = _tidy(a["global_shift"])
        return _PHASED[gate_id](**kwargs)
    if gate_id == "FSIM":
        return cirq.FSimGate(
            theta=_combine(a["theta"], a["theta_scalar"]), phi=_combine(a["phi"], a["phi_scalar"])
        )
    if gate_id == "I":
        return cirq.I
    cls, names = _CHANNELS[gate_id]
    return cls(**{n: a[n] for n in names})


def _qubits(ids, what):
    out = []
    for text in ids:
        qubit = qubit_from_id(text)
        if qubit is None:
            raise _Refused(f"{what} has qubit id {text[:_SHOWN]!r} (TFQ writes 'row_col' or 'x')")
        out.append(qubit)
    return out


def _read_operation(message, i):
    gate_id = message.gate.id
    what = f"moment {i}: gate {gate_id[:_SHOWN]!r}"
    if gate_id not in _ARGS:
        raise _Refused(
            f"moment {i} has gate id {gate_id[:_SHOWN]!r}, which is not in TFQ's gate set "
            f"(known ids: {', '.join(CIRCUIT_GATE_IDS)})"
        )
    names = _ARGS[gate_id]
    extra = sorted(set(message.args) - set(names))
    missing = [n for n in names if n not in message.args]
    if extra or missing:
        raise _Refused(
            f"{what} has arguments {sorted(message.args)}; TFQ writes exactly {list(names)}"
        )
    a = {n: _read_arg(message.args[n], n, gate_id) for n in names}
    _finite(a, gate_id)
    if gate_id in _CHANNELS and any(not 0.0 <= a[n] <= 1.0 for n in _CHANNELS[gate_id][1]):
        raise _Refused(f"{what} has a probability outside [0, 1]: {a}")
    targets = _qubits([q.id for q in message.qubits], what)
    try:
        gate = _build_gate(gate_id, a)
        n = gate.num_qubits()
        if len(targets) != n:
            raise _Refused(f"{what} acts on {len(targets)} qubit(s); the gate takes {n}")
        op = gate.on(*targets)
        if a["control_qubits"] or a["control_values"]:
            text = a["control_qubits"]
            controls = _qubits(text.split(","), what) if text else []
            values = a["control_values"].split(",") if a["control_values"] else []
            if len(values) != len(controls) or any(v not in ("0", "1") for v in values):
                raise _Refused(
                    f"{what} has control values {a['control_values'][:_SHOWN]!r} for "
                    f"{len(controls)} control qubit(s) (TFQ writes one 0 or 1 per control)"
                )
            if gate_id in _CHANNELS:
                raise _Refused(f"{what} is a noise channel with controls")
            op = cirq.ControlledOperation(controls, op, control_values=[int(v) for v in values])
    except _Refused:
        raise
    except ValueError as e:  # cirq's own checks: repeated qubits, bad probabilities, ...
        raise _Refused(f"{what}: {e}") from None
    return op


def _parse(cls, raw, kind):
    """``cls`` parsed from ``raw``, refusing bytes that do not re-encode to the same length once
    unknown fields are dropped (not this message, or fields appended or altered)."""
    from google.protobuf.message import DecodeError

    if len(raw) > MAX_ELEMENT_BYTES:
        raise _Refused(f"it is {len(raw)} bytes long (at most {MAX_ELEMENT_BYTES} are read)")
    message = cls()
    try:
        message.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError):
        raise _Refused(f"it does not parse as a serialized {kind}") from None
    message.DiscardUnknownFields()
    if message.ByteSize() != len(raw):
        raise _Refused(f"it is not a serialized {kind}, or has bytes appended or altered")
    return message


def _circuit_from_message(program):
    if program.language.gate_set != GATE_SET:
        raise _Refused(f"its gate set is {program.language.gate_set[:_SHOWN]!r}, not {GATE_SET!r}")
    if program.language.arg_function_language not in ("", "linear", "exp"):
        raise _Refused("its arg_function_language is not one TFQ knows")
    if program.WhichOneof("program") != "circuit":
        raise _Refused("it holds a schedule, not a circuit (TFQ writes circuits only)")
    n_ops = sum(len(m.operations) for m in program.circuit.moments)
    if n_ops > MAX_OPERATIONS:
        raise _Refused(f"it has {n_ops} operations (at most {MAX_OPERATIONS} are read)")
    moments = []
    for i, moment in enumerate(program.circuit.moments):
        ops = [_read_operation(op, i) for op in moment.operations]
        try:
            moments.append(cirq.Moment(ops))
        except ValueError:
            raise _Refused(f"moment {i} has operations that overlap on a qubit") from None
    return cirq.Circuit(moments)


def _pauli_sum_from_message(message):
    n = sum(len(t.paulis) for t in message.terms) + len(message.terms)
    if n > MAX_OPERATIONS:
        raise _Refused(f"it has {n} terms and factors (at most {MAX_OPERATIONS} are read)")
    psum = cirq.PauliSum()
    paulis = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
    for k, term in enumerate(message.terms):
        coefficient = complex(
            _tidy(_float(term.coefficient_real)), _tidy(_float(term.coefficient_imag))
        )
        if not np.isfinite(coefficient):
            raise _Refused(f"term {k} has coefficient {coefficient}")
        factors = {}
        for pair in term.paulis:
            qubit = qubit_from_id(pair.qubit_id)
            if qubit is None or pair.pauli_type not in paulis or qubit in factors:
                problem = (
                    f"qubit id {pair.qubit_id[:_SHOWN]!r}"
                    if qubit is None
                    else f"Pauli type {pair.pauli_type[:_SHOWN]!r}"
                    if pair.pauli_type not in paulis
                    else f"qubit {qubit} twice"
                )
                raise _Refused(
                    f"term {k} has {problem}, which TFQ never writes (qubit ids 'row_col' or "
                    "'x', Pauli types X, Y, Z, each qubit once per term)"
                )
            factors[qubit] = paulis[pair.pauli_type]
        psum += cirq.PauliString(factors, coefficient=coefficient)
    return psum


def deserialize_circuit(raw):
    """The ``cirq.Circuit`` of one serialized ``tfq.proto.Program`` (bytes), or ``ValueError``."""
    try:
        return _circuit_from_message(_parse(message_class("Program"), raw, "circuit"))
    except _Refused as e:
        raise ValueError(_bad("the serialized circuit", raw, e)) from None


def deserialize_pauli_sum(raw):
    """The ``cirq.PauliSum`` of one serialized ``tfq.proto.PauliSum`` (bytes), or ``ValueError``."""
    try:
        return _pauli_sum_from_message(_parse(message_class("PauliSum"), raw, "PauliSum"))
    except _Refused as e:
        raise ValueError(_bad("the serialized PauliSum", raw, e)) from None


def _bad(what, raw, problem):
    return (
        f"{what} starting {bytes(raw[:_SHOWN])!r} cannot be read: {problem}. Elements must be "
        "written by convert_to_tensor (tfq_layers.compat's or TFQ's); if the tensor was read from "
        "a file, the file is corrupt or holds something else."
    )


def _read_element(raw):
    """A circuit or a PauliSum: a Program carries the gate-set name (so bytes that hold it are
    read, and refused, as a circuit), a PauliSum never parses to one that does."""
    is_circuit = GATE_SET.encode() in raw
    if not is_circuit:
        program = message_class("Program")()
        try:
            program.ParseFromString(raw[:MAX_ELEMENT_BYTES])
            # a PauliSum has field 1 only: bytes with a circuit (field 2) are a circuit
            is_circuit = program.language.gate_set == GATE_SET or program.HasField("circuit")
        except Exception:  # noqa: BLE001 -- not a circuit; the PauliSum reader says what is wrong
            is_circuit = False
    if is_circuit:
        return deserialize_circuit(raw)
    return deserialize_pauli_sum(raw)


# -- TFQ's two functions ----------------------------------------------------------------------


def convert_to_tensor(items_to_convert, deterministic_proto_serialize=False):
    """TFQ's ``convert_to_tensor``: a (nested) list of ``cirq.Circuit`` or of ``cirq.PauliSum``
    as a ``tf.string`` tensor of the same shape, the bytes TFQ 0.7.6 writes.

    Args:
        items_to_convert: a list, or nested lists of equal lengths, of ``cirq.Circuit`` (on grid
            or line qubits, gates of TFQ's gate set, terminal measurements dropped) or of
            ``cirq.PauliSum``/``cirq.PauliString``; not both kinds.
        deterministic_proto_serialize: write the arguments of each gate in sorted order (TFQ's
            argument of the same name). Without it the order is the protobuf runtime's map order,
            which is TFQ's own when both use the same protobuf.

    Returns:
        A ``tf.string`` tensor.

    Example:
        >>> q = cirq.GridQubit(0, 0)
        >>> t = convert_to_tensor([cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q))])
        >>> t.shape, t.dtype
        (TensorShape([2]), tf.string)
        >>> from_tensor(t)[1] == cirq.Circuit(cirq.H(q))
        True
    """
    import tensorflow as tf

    kinds = set()

    def convert(items, path):
        out = []
        for i, item in enumerate(items):
            where = f"items_to_convert{path}[{i}]"
            if isinstance(item, (list, tuple, np.ndarray)):
                out.append(convert(item, f"{path}[{i}]"))
                continue
            if isinstance(item, (cirq.PauliSum, cirq.PauliString)):
                kinds.add("PauliSum")
                message = serialize_pauli_sum(item, where)
            elif isinstance(item, (cirq.Circuit, cirq.FrozenCircuit)):
                kinds.add("circuit")
                seen = (set(), set(), set())
                message = serialize_circuit(item, where, seen)
            else:
                raise TypeError(
                    f"{where} is a {type(item).__name__}; convert_to_tensor takes (nested) lists "
                    "of cirq.Circuit or of cirq.PauliSum."
                )
            if len(kinds) > 1:
                raise TypeError(
                    f"{where}: items_to_convert mixes circuits and PauliSums; convert each kind "
                    "to its own tensor."
                )
            out.append(message.SerializeToString(deterministic=deterministic_proto_serialize))
            if "circuit" in kinds:
                _remember_written(out[-1], seen)
        return out

    if not isinstance(items_to_convert, (list, tuple, np.ndarray)):
        raise TypeError(
            f"items_to_convert must be a list (or nested lists) of cirq.Circuit or cirq.PauliSum; "
            f"got {type(items_to_convert).__name__}."
        )
    nested = convert(items_to_convert, "")
    try:
        return tf.constant(nested, dtype=tf.string)
    except ValueError as e:
        raise ValueError(
            f"items_to_convert must be rectangular (nested lists of equal lengths): {e}"
        ) from None


def from_tensor(tensor_to_convert):
    """TFQ's ``from_tensor``: the circuits or PauliSums of a ``tf.string`` tensor written by
    :func:`convert_to_tensor` (this package's or TFQ's), as a numpy object array of its shape.

    Args:
        tensor_to_convert: a ``tf.Tensor``, numpy array or (nested) list of serialized elements.

    Returns:
        ``np.ndarray`` (dtype object) of ``cirq.Circuit`` or of ``cirq.PauliSum``.

    Raises:
        TypeError: for an input that is not a tensor/array/list, or one that mixes kinds.
        ValueError: for an element that is not a serialized circuit or PauliSum (naming its
            index), a gate id outside TFQ's gate set, or sizes over :data:`MAX_ELEMENT_BYTES` /
            :data:`MAX_OPERATIONS`.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> from_tensor(convert_to_tensor([[cirq.Z(q) + 0.5 * cirq.X(q)]])).shape
        (1, 1)
    """
    import tensorflow as tf

    if isinstance(tensor_to_convert, tf.Tensor):
        if tensor_to_convert.dtype != tf.string:
            raise TypeError(
                f"from_tensor takes a tf.string tensor; got dtype {tensor_to_convert.dtype.name}."
            )
        tensor_to_convert = tensor_to_convert.numpy()
    if not isinstance(tensor_to_convert, (np.ndarray, list, tuple)):
        raise TypeError(
            f"from_tensor takes a tf.string tensor, numpy array or list; got "
            f"{type(tensor_to_convert).__name__}."
        )
    array = np.asarray(tensor_to_convert, dtype=object)
    out = np.empty(array.shape, dtype=object)
    kind = None
    for index, raw in np.ndenumerate(array):
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        if not isinstance(raw, (bytes, np.bytes_)):
            raise TypeError(f"element {index} is a {type(raw).__name__}, not serialized bytes.")
        try:
            item = _read_element(bytes(raw))
        except ValueError as e:
            raise ValueError(f"from_tensor: element {index}: {e}") from None
        if kind is not None and type(item) is not kind:
            raise TypeError(
                f"from_tensor: element {index} is a {type(item).__name__} but earlier ones are "
                f"{kind.__name__}; a tensor holds one kind."
            )
        kind = type(item)
        out[index] = item
    return out
