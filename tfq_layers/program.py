"""Compile a Cirq circuit with sympy expressions into something a simulator backend can run.

TFQ accepts a gate angle only as a bare symbol or ``number * symbol``.  We lift that limit once, at
layer construction: every symbolic gate parameter (an EigenGate's ``exponent``, a PhasedXPowGate's
``phase_exponent`` ...) is replaced by a fresh *placeholder* symbol, and the parameter's expression
is compiled into TensorFlow.  At call time the whole batch of placeholder values is computed in one
shot from ``(features, weights)``; gradients flow through the expression by autodiff and through the
circuit by the backend's differentiator.

Placeholders are deduplicated (two gates with the same expression share one) and ordered so that
every *affine* expression comes first: those are evaluated together as a single matrix product,
which is all the work a plain ``c*symbol`` circuit ever needs.  Non-affine expressions (``atan(x)``,
``x0*x1``) are evaluated elementwise after it.
"""

import dataclasses
import logging
from typing import Any, Optional, Sequence, Union

import cirq
import numpy as np
import sympy

from tfq_layers import _symbols
from tfq_layers import expressions
from tfq_layers.backends import memory as _memory
from tfq_layers.errors import CircuitError

PLACEHOLDER_PREFIX = "_tfql_p"

# Cirq gate classes whose parameters the compiler rewrites, with a plain constructor per class.
# Subclasses (Rx is an XPowGate) are rebuilt as their base class, which has the same unitary.
# Which gates a backend *accepts* is the backend's own rule (its ``gate_set``); this table only
# says how to substitute placeholders.
_EIGEN_BASES = (
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.HPowGate,
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.SwapPowGate,
    cirq.ISwapPowGate,
    cirq.XXPowGate,
    cirq.YYPowGate,
    cirq.ZZPowGate,
)


def _is_symbolic(value):
    return isinstance(value, sympy.Basic) and bool(value.free_symbols)


def _as_number(value, where, name):
    """A numeric gate parameter as a Python float (sympy numbers included)."""
    if isinstance(value, sympy.Basic):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    raise CircuitError(
        f"{where} ({name}) has a parameter {value!r} that is neither a number nor "
        "a sympy expression."
    )


class _Where:
    """``moment i, operation op`` for messages, formatted only when a message is built (printing
    every operation of a long circuit would dominate its compile time)."""

    __slots__ = ("moment", "op")

    def __init__(self, moment, op):
        self.moment, self.op = moment, op

    def __str__(self):
        return f"moment {self.moment}, operation {self.op}"


physical_memory_bytes = _memory.physical_memory_bytes


def check_memory(n_qubits, batch=1, states_kept=_memory.TFQ_STATES_KEPT, what="this circuit"):
    """Raise ``MemoryError`` when the register cannot fit (see :func:`memory.check_register`)."""
    return _memory.check_register(n_qubits, batch, states_kept, what)


def _check_qubits(qubits, what):
    bad = [q for q in qubits if not isinstance(q, (cirq.GridQubit, cirq.LineQubit))]
    if bad:
        raise CircuitError(
            f"{what} uses qubit {bad[0]!r} of type {type(bad[0]).__name__}; TFQ simulates only "
            "cirq.GridQubit and cirq.LineQubit. Replace it, e.g. with "
            "circuit.transform_qubits({q: cirq.LineQubit(i) for i, q in "
            "enumerate(sorted(circuit.all_qubits()))})."
        )


def as_pauli_sums(observables):
    """Normalize one or a list of ``cirq.PauliSum``/``cirq.PauliString`` into a list of PauliSums."""
    if isinstance(observables, np.ndarray):
        raise CircuitError(
            "observables is a numpy array; pass a Python list instead (numpy turns Pauli strings "
            "into arrays of their qubits, so the observables are lost)."
        )
    if isinstance(observables, (cirq.PauliSum, cirq.PauliString)) or not isinstance(
        observables, (list, tuple)
    ):
        observables = [observables]
    if not observables:
        raise CircuitError(
            "observables is empty: give at least one cirq.PauliSum, e.g. "
            "cirq.Z(q) for a qubit q of the circuit."
        )
    out = []
    for i, ob in enumerate(observables):
        if isinstance(ob, cirq.PauliString):
            ob = cirq.PauliSum.from_pauli_strings([ob])
        elif isinstance(ob, cirq.GateOperation) and isinstance(ob.gate, cirq.Pauli):
            ob = cirq.PauliSum.from_pauli_strings([cirq.PauliString(ob)])
        if not isinstance(ob, cirq.PauliSum):
            raise CircuitError(
                f"observables[{i}] is {ob!r} of type {type(ob).__name__}; observables must be "
                "cirq.PauliSum or cirq.PauliString (e.g. cirq.Z(q), 0.5 * cirq.X(a) * cirq.X(b)). "
                "Write other Hermitian operators as a sum of Pauli strings."
            )
        for ps in ob:
            if isinstance(ps.coefficient, sympy.Basic) and ps.coefficient.free_symbols:
                raise CircuitError(
                    f"observables[{i}] has a symbolic coefficient {ps.coefficient} in {ps}; "
                    "observables need numeric coefficients. A trainable scale belongs in a "
                    "layer after the quantum layer (e.g. keras.layers.Dense)."
                )
            if abs(complex(ps.coefficient).imag) > 1e-12:
                raise CircuitError(
                    f"observables[{i}] has a complex coefficient {ps.coefficient} in {ps}; an "
                    "observable must be Hermitian, so use real coefficients."
                )
        _check_qubits(ob.qubits, f"observables[{i}]")
        out.append(ob)
    return out


class _ExpressionTable:
    """Placeholders for symbolic gate parameters, deduplicated by expression."""

    def __init__(self, reserved_names):
        self.expressions = []
        self._index = {}
        prefix = PLACEHOLDER_PREFIX
        while any(name.startswith(prefix) for name in reserved_names):
            prefix = "_" + prefix
        self.prefix = prefix

    def placeholder(self, expression):
        key = expression  # sympy expressions hash and compare structurally
        if key not in self._index:
            self._index[key] = len(self.expressions)
            self.expressions.append(expression)
        return self._index[key]


def _rebuild_eigen(gate, p, where):
    base = next(b for b in _EIGEN_BASES if isinstance(gate, b))
    if _is_symbolic(gate.global_shift):
        raise CircuitError(
            f"{where} has a symbolic global_shift; only exponents may be "
            "symbolic. Use a numeric global_shift."
        )
    return base(exponent=p(gate.exponent, "exponent"), global_shift=float(gate.global_shift))


# One rebuild per parameterized gate class: ``rebuild(gate, p, where)`` with ``p(value, name)``
# the parameter (a placeholder when symbolic, a float otherwise).
_REBUILDS = (
    (_EIGEN_BASES, _rebuild_eigen),
    (
        cirq.PhasedXPowGate,
        lambda gate, p, where: cirq.PhasedXPowGate(
            phase_exponent=p(gate.phase_exponent, "phase_exponent"),
            exponent=p(gate.exponent, "exponent"),
            global_shift=float(gate.global_shift),
        ),
    ),
    (
        cirq.PhasedISwapPowGate,
        lambda gate, p, where: cirq.PhasedISwapPowGate(
            phase_exponent=p(gate.phase_exponent, "phase_exponent"),
            exponent=p(gate.exponent, "exponent"),
        ),
    ),
    (
        cirq.FSimGate,
        lambda gate, p, where: cirq.FSimGate(theta=p(gate.theta, "theta"), phi=p(gate.phi, "phi")),
    ),
    (
        cirq.PhasedXZGate,
        lambda gate, p, where: cirq.PhasedXZGate(
            x_exponent=p(gate.x_exponent, "x_exponent"),
            z_exponent=p(gate.z_exponent, "z_exponent"),
            axis_phase_exponent=p(gate.axis_phase_exponent, "axis_phase_exponent"),
        ),
    ),
)


def _compile_gate(gate, param, where):
    """A copy of ``gate`` whose symbolic parameters go through ``param``.

    Constant gates with a unitary (or a Kraus representation, for channels) are kept as they are;
    parameterized gates are rebuilt for the classes whose parameters the simulators understand
    (EigenGate exponents, PhasedXPow/PhasedISwap/PhasedXZ/FSim parameters).
    """

    def p(value, name):
        if _is_symbolic(value):
            return param(value)
        return _as_number(value, where, name)

    for gate_type, rebuild in _REBUILDS:
        if isinstance(gate, gate_type):
            return rebuild(gate, p, where)
    if not cirq.is_parameterized(gate):
        if cirq.has_unitary(gate) or cirq.has_kraus(gate):
            return gate
    elif not cirq.has_unitary(
        cirq.resolve_parameters(gate, {s: 0.0 for s in cirq.parameter_names(gate)})
    ):
        raise CircuitError(
            f"{where} is a noise channel with a symbolic probability; channel "
            "probabilities must be numbers."
        )
    elif (
        isinstance(gate, cirq.EigenGate)
        and not _is_symbolic(gate.global_shift)
        and cirq.parameter_names(gate) == cirq.parameter_names(gate.exponent)
    ):
        return gate._with_exponent(p(gate.exponent, "exponent"))
    raise CircuitError(
        f"{where}: gate {gate!r} ({type(gate).__name__}) cannot be simulated: it has no "
        "unitary (or its parameters are not exponents). Decompose it, e.g. with "
        "cirq.decompose(circuit)."
    )


#: From this many operations on, building a layer says how long it will take (see below).
LONG_CIRCUIT_OPERATIONS = 20_000


def _note_long_build(n_operations):
    """One line on stderr before a build that takes long enough to look like a hang.

    Building (and loading) a layer checks and rewrites every operation in Python, then the
    backend compiles (statevector) or serializes (TFQ's serializer) it: on the order of 1 ms per
    operation on a 2-core machine (BENCHMARKS.md, "Simulator design measurements").
    """
    if n_operations >= LONG_CIRCUIT_OPERATIONS:
        logging.getLogger("tfq_layers").warning(
            "tfq_layers: building a layer from a circuit of %d operations; this takes about "
            "%d s or more (the circuit is checked, rewritten and compiled operation by "
            "operation, about 1 ms each). It is not hung.",
            n_operations,
            n_operations // 1000,
        )


def _strip_terminal_measurements(circuit):
    """Drop terminal measurements; refuse a measurement that is followed by a gate on its qubits."""
    if not circuit.has_measurements():
        return circuit
    if not circuit.are_all_measurements_terminal():
        for i, moment in enumerate(circuit):
            for op in moment:
                if (
                    cirq.is_measurement(op)
                    and circuit.next_moment_operating_on(op.qubits, i + 1) is not None
                ):
                    raise CircuitError(
                        f"the circuit measures {op.qubits} in moment {i} and then acts on them "
                        "again; mid-circuit measurements cannot be simulated here. Remove the "
                        "measurement (outputs are expectation values; terminal measurements are "
                        "dropped automatically)."
                    )
    return cirq.Circuit(cirq.Moment(op for op in m if not cirq.is_measurement(op)) for m in circuit)


def _as_circuit(circuit, what="circuit"):
    if isinstance(circuit, cirq.FrozenCircuit):
        return circuit.unfreeze()
    if not isinstance(circuit, cirq.Circuit):
        raise CircuitError(
            f"{what} must be a cirq.Circuit; got {type(circuit).__name__}. Build one with "
            "cirq.Circuit(...) or a tfq_layers.circuits builder."
        )
    return circuit


def _as_circuits(circuit):
    """The circuit (or list of circuits) as a list of ``cirq.Circuit`` without terminal
    measurements."""
    if isinstance(circuit, (list, tuple)):
        if not circuit:
            raise CircuitError("the list of circuits is empty; give at least one cirq.Circuit.")
        bad = [c for c in circuit if not isinstance(c, (cirq.Circuit, cirq.FrozenCircuit))]
        if bad:
            raise CircuitError(
                f"circuit must be a cirq.Circuit (or a list of them); got a list containing "
                f"{type(bad[0]).__name__}. Wrap operations in cirq.Circuit(...)."
            )
        circuits = [_as_circuit(c) for c in circuit]
    else:
        circuits = [_as_circuit(circuit)]
    return [_strip_terminal_measurements(c) for c in circuits]


def _input_symbols(input_symbols, free, allow_unused):
    symbols = _symbols.as_symbols(input_symbols, "input_symbols")
    free_names = {s.name for s in free}
    missing = [s.name for s in symbols if s.name not in free_names]
    if missing and not allow_unused:
        raise CircuitError(
            f"input symbols {missing} do not appear in the circuit (its symbols are "
            f"{[s.name for s in _symbols.natural_sorted(free)]}). Remove them from "
            "input_symbols or use them in a gate."
        )
    return symbols


def _weight_symbols(weight_symbols, free, input_symbols, symbol_order):
    """The trainable symbols: every free symbol that is not an input, in ``weight_symbols``'s
    order when given (then it must list exactly those), else in ``symbol_order``."""
    input_names = {s.name for s in input_symbols}
    trainable = [s for s in free if s.name not in input_names]
    if weight_symbols is None:
        if symbol_order == "natural":
            return _symbols.natural_sorted(trainable)
        return sorted(trainable, key=lambda s: s.name)
    symbols = _symbols.as_symbols(weight_symbols, "weight_symbols")
    if {s.name for s in symbols} != {s.name for s in trainable}:
        raise CircuitError(
            f"weight_symbols {[s.name for s in symbols]} must list exactly "
            f"the circuit's trainable symbols {[s.name for s in _symbols.natural_sorted(trainable)]}."
        )
    return symbols


def _register(circuits, observables, allow_empty):
    """The sorted qubits of the circuits and observables, checked to fit in memory."""
    qubits = set()
    for c in circuits:
        qubits |= set(c.all_qubits())
    for ob in observables:
        qubits |= set(ob.qubits)
    if not qubits and not allow_empty:
        raise CircuitError("the circuit acts on no qubits; add gates (or cirq.I on each qubit).")
    if qubits:
        check_memory(len(qubits), what="the circuit")
    return sorted(qubits)


@dataclasses.dataclass(frozen=True)
class CompileOptions:
    """Compile choices that one caller each makes (defaults: what every native layer uses).

    Args:
        allow_direct: allow direct mode (see ``Program.direct``); ``False`` makes every symbolic
            gate parameter a placeholder equal to that parameter (the Born machine's shot mode
            shifts each exponent).
        allow_unused_inputs: accept input symbols that no circuit uses (TFQ's layers take a
            ``symbol_names`` list that may name more symbols than a circuit has).
        symbol_order: ``"natural"`` (``w2`` before ``w10``) or ``"lexicographic"`` (TFQ's order)
            for the default ``weight_symbols``.
        allow_empty: accept circuits on no qubits (a TFQ layer whose circuits all come as
            quantum data).
    """

    allow_direct: bool = True
    allow_unused_inputs: bool = False
    symbol_order: str = "natural"
    allow_empty: bool = False

    def __post_init__(self):
        if self.symbol_order not in ("natural", "lexicographic"):
            raise ValueError(
                f"symbol_order must be 'natural' or 'lexicographic'; got {self.symbol_order!r}."
            )


class Program:
    """One circuit (or several sharing symbols) compiled for a batched simulator.

    Args:
        circuit: ``cirq.Circuit`` whose gate parameters may be any sympy expression, or a list of
            them (a batch of different circuits that share symbols; each example then says which
            circuit it runs).
        observables: ``cirq.PauliSum``/``cirq.PauliString`` or a list of them.
        input_symbols: symbols (or names) fed column by column from the input features.
        weight_symbols: optional explicit order of the trainable symbols; defaults to every other
            free symbol of the circuits in natural order (``w2`` before ``w10``).
        gate_set: the :class:`~tfq_layers.backends.base.GateSet` of the backend that will run the
            program (its rule decides which gates are accepted); ``None`` accepts every gate the
            compiler can rewrite (:class:`~tfq_layers.engine.Engine` checks the gate set of the
            backend it binds).

    Choices only one caller makes (the Born machine's shot mode, TFQ's symbol order in
    ``tfq_layers.compat``) are a :class:`CompileOptions` record given to the non-public factory
    ``Program._with_options``.

    Attributes:
        circuits: the user's circuits with terminal measurements removed (``circuit``: the first).
        compiled_circuits: the same circuits, every symbolic parameter a bare placeholder symbol
            (``compiled_circuit``: the first).
        placeholder_names: names of those placeholders, affine ones first.
        expressions: sympy expression of each placeholder in terms of input and weight symbols.
        n_affine: how many leading placeholders are affine in the symbols.
        direct: every gate parameter is ``c * symbol``: the placeholders are the input and weight
            symbols themselves (``placeholder_names == input names + weight names``) and the
            compiled circuits keep the ``c * symbol`` parameters, which TFQ takes natively.
        qubits: sorted qubits of the circuits and the observables.
    """

    def __init__(
        self,
        circuit: Union[cirq.AbstractCircuit, Sequence[cirq.AbstractCircuit]],
        observables: Any = None,
        input_symbols: Optional[Sequence[Union[str, sympy.Symbol]]] = None,
        weight_symbols: Optional[Sequence[Union[str, sympy.Symbol]]] = None,
        gate_set: Any = None,
    ) -> None:
        self._setup(circuit, observables, input_symbols, weight_symbols, gate_set, CompileOptions())

    @classmethod
    def _with_options(
        cls, options, circuit, observables=None, input_symbols=None, weight_symbols=None
    ):
        """A program compiled with ``options`` (a :class:`CompileOptions`), for the callers that
        own those choices."""
        program = cls.__new__(cls)
        program._setup(circuit, observables, input_symbols, weight_symbols, None, options)
        return program

    def _setup(self, circuit, observables, input_symbols, weight_symbols, gate_set, options):
        circuits = _as_circuits(circuit)
        for i, c in enumerate(circuits):
            _check_qubits(c.all_qubits(), "the circuit" if len(circuits) == 1 else f"circuits[{i}]")
        self.circuits = circuits
        _note_long_build(sum(len(list(c.all_operations())) for c in circuits))
        # non-finite or oversized gate parameters, named now (before symbol bookkeeping could
        # report a NaN-folded expression as "input symbols do not appear")
        expressions.check_program(self)
        self.observables = [] if observables is None else as_pauli_sums(observables)
        free = {
            s for c in circuits for op in c.all_operations() for s in cirq.parameter_symbols(op)
        }
        free_names = {s.name for s in free}
        self.input_symbols = _input_symbols(input_symbols, free, options.allow_unused_inputs)
        self.weight_symbols = _weight_symbols(
            weight_symbols, free, self.input_symbols, options.symbol_order
        )
        self.qubits = _register(circuits, self.observables, options.allow_empty)
        self.gate_set = gate_set
        self.allow_direct = options.allow_direct
        self._compile(free_names)

    # -- compile ------------------------------------------------------------------------------
    def _rebuild(self, circuit, param):
        """``circuit`` with every symbolic gate parameter replaced by ``param(expression)``."""
        moments = []
        for m_index, moment in enumerate(circuit):
            ops = []
            for op in moment:
                where = _Where(m_index, op)
                controls, control_values, sub = None, None, op
                if isinstance(op, cirq.ControlledOperation):
                    controls, control_values, sub = op.controls, op.control_values, op.sub_operation
                gate = getattr(sub, "gate", None)
                if isinstance(sub, cirq.ClassicallyControlledOperation):
                    raise CircuitError(
                        f"{where} is classically controlled (with_classical_controls): it depends "
                        "on a mid-circuit measurement result, which cannot be simulated here. "
                        "Replace the classical control by a quantum one (.controlled_by(qubit)) "
                        "or remove it."
                    )
                if gate is None:
                    raise CircuitError(
                        f"{where} has no gate ({type(sub).__name__}); flatten it first "
                        "(e.g. cirq.unroll_circuit_op(circuit))."
                    )
                if self.gate_set is not None:
                    self.gate_set.check(gate, where)
                new_op = _compile_gate(gate, param, where).on(*sub.qubits)
                if controls is not None:
                    new_op = new_op.controlled_by(*controls, control_values=control_values)
                ops.append(new_op)
            moments.append(cirq.Moment(ops))
        return cirq.Circuit(moments)

    def check_gate_set(self, gate_set):
        """Check every gate against ``gate_set`` and adopt it, without compiling again (the
        rewrite does not depend on the gate set, only what is accepted does)."""
        for circuit in self.circuits:
            for m_index, moment in enumerate(circuit):
                for op in moment:
                    sub = op.sub_operation if isinstance(op, cirq.ControlledOperation) else op
                    gate = getattr(sub, "gate", None)
                    if gate is not None:
                        gate_set.check(gate, _Where(m_index, op))
        self.gate_set = gate_set

    def _rebuild_all(self, param):
        return [self._rebuild(c, param) for c in self.circuits]

    def _compile(self, free_names):
        # Pass 1: collect the distinct symbolic parameter expressions (and validate every gate).
        table = _ExpressionTable(free_names)

        def collect(expr):
            _check_supported_expression(expr)
            table.placeholder(expr)
            return 0.0

        self._rebuild_all(collect)
        symbols = self.input_symbols + self.weight_symbols
        if self.allow_direct and all(_is_scaled_symbol(e) for e in table.expressions):
            # Direct mode: every parameter is c*symbol, which both backends take natively, so the
            # backend gets the symbols themselves: values = concat(features, weights), nothing
            # computed in between (the layer then costs nothing over TFQ's raw op).
            self.direct = True
            self.expressions = list(symbols)
            self.n_affine = len(symbols)
            self.placeholder_names = [s.name for s in symbols]
            self.compiled_circuits = self._rebuild_all(lambda expr: expr)
            return
        self.direct = False
        # Affine placeholders first: they are computed together by one matrix product.
        exprs = table.expressions
        affine = [_is_affine(e) for e in exprs]
        self.expressions = [e for e, a in zip(exprs, affine) if a] + [
            e for e, a in zip(exprs, affine) if not a
        ]
        self.n_affine = sum(affine)
        self.placeholder_names = [f"{table.prefix}{i}" for i in range(len(exprs))]
        by_key = {
            e: sympy.Symbol(name) for e, name in zip(self.expressions, self.placeholder_names)
        }
        # Pass 2: the circuits the backend runs, each symbolic parameter a bare placeholder.
        self.compiled_circuits = self._rebuild_all(lambda expr: by_key[expr])

    # -- introspection ------------------------------------------------------------------------
    @property
    def circuit(self):
        return self.circuits[0]

    @property
    def compiled_circuit(self):
        return self.compiled_circuits[0]

    @property
    def n_inputs(self):
        return len(self.input_symbols)

    @property
    def n_weights(self):
        return len(self.weight_symbols)

    @property
    def n_qubits(self):
        return len(self.qubits)

    @property
    def has_channels(self):
        """Whether a circuit contains a noise channel (an operation with no unitary)."""
        return any(
            not cirq.has_unitary(op)
            for c in self.compiled_circuits
            for op in c.all_operations()
            if not cirq.is_parameterized(op)
        )

    def affine_coefficients(self):
        """``(A_in, A_w, b)``: the affine placeholders equal ``features @ A_in + weights @ A_w + b``."""
        n_aff = self.n_affine
        a_in = np.zeros((self.n_inputs, n_aff), dtype=np.float64)
        a_w = np.zeros((self.n_weights, n_aff), dtype=np.float64)
        b = np.zeros((n_aff,), dtype=np.float64)
        pos_in = {s: i for i, s in enumerate(self.input_symbols)}
        pos_w = {s: i for i, s in enumerate(self.weight_symbols)}
        for j, e in enumerate(self.expressions[:n_aff]):
            e = sympy.expand(e)
            zero = {s: 0 for s in e.free_symbols}
            b[j] = float(e.subs(zero))
            for s in e.free_symbols:
                c = float(sympy.diff(e, s))
                if s in pos_in:
                    a_in[pos_in[s], j] = c
                else:
                    a_w[pos_w[s], j] = c
        return a_in, a_w, b


def _is_scaled_symbol(expr):
    """Whether ``expr`` is ``c * symbol`` with a real numeric ``c`` (what TFQ takes natively)."""
    if isinstance(expr, sympy.Symbol):
        return True
    if isinstance(expr, sympy.Mul) and len(expr.free_symbols) == 1:
        coeff, rest = expr.as_independent(*expr.free_symbols, as_Add=False)
        return isinstance(rest, sympy.Symbol) and coeff.is_number and bool(coeff.is_extended_real)
    return False


def _is_affine(expr):
    return expressions.is_affine(expr)  # never expands: (x0 + ... + x9)**1000 stays cheap


# Sympy functions the TensorFlow evaluator understands (see tfq_layers.expressions).
SUPPORTED_FUNCTIONS = (
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "exp",
    "log",
    "Abs",
    "sign",
    "erf",
    "sec",
    "csc",
    "cot",
    "Min",
    "Max",
    "floor",
    "ceiling",
)


def _check_supported_expression(expr):
    for node in sympy.preorder_traversal(expr):
        if isinstance(
            node, (sympy.Symbol, sympy.Number, sympy.NumberSymbol, sympy.Add, sympy.Mul, sympy.Pow)
        ):
            continue
        if isinstance(node, sympy.Basic) and type(node).__name__ in SUPPORTED_FUNCTIONS:
            continue
        if node is sympy.I:
            raise CircuitError(f"gate parameter {expr} is complex; gate angles must be real.")
        raise CircuitError(
            f"gate parameter {expr} uses {type(node).__name__}, which cannot be compiled to "
            f"TensorFlow. Supported: + - * / ** and {', '.join(SUPPORTED_FUNCTIONS)}."
        )


__all__ = ["Program", "CircuitError", "as_pauli_sums", "check_memory"]
