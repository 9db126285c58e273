"""Cirq simulator and sampler objects as a backend (``backend=cirq.Simulator()`` and the like).

What TFQ accepts as ``backend=`` besides its names: a ``cirq.Simulator``, a
``cirq.DensityMatrixSimulator`` (with or without a noise model), or any ``cirq.Sampler`` /
``cirq.SimulatesExpectationValues`` object (a hardware sampler included). This backend runs the
program's circuits on that object behind the :class:`~tfq_layers.backends.base.Backend` interface:

* ``expectation``: from ``simulate_sweep``'s final states where the object simulates them (as
  Cirq's simulators compute expectations, without their per-state validity check, which a
  complex64 density matrix can fail by rounding), else ``simulate_expectation_values_sweep``,
  else an estimate from ``DEFAULT_REPETITIONS`` samples per Pauli term;
* ``sampled_expectation``, ``sample``: ``run_sweep`` (the object must be a ``cirq.Sampler``);
* ``state``, ``probabilities``: ``simulate_sweep`` (a ``cirq.SimulatesFinalState``); ``state``
  gives density matrices ``(batch, 2**n, 2**n)`` where the object's final states are density
  matrices (``cirq.DensityMatrixSimulator``), as TFQ's ``State`` does;
* ``unitary``: refused (a simulator object runs circuits, it does not build unitaries).

Quantum data (circuits as a ``tf.string`` tensor, a ``keras.Input`` included) is decoded on the
host and runs before the program's circuit, its symbols taking the values of the placeholders of
the same name (as in TFQ); operators may come as TFQ's ``(batch, n_ops)`` ``tf.string`` tensor.
Rows that share a data circuit and operators run as one sweep.

The whole batch crosses into Python through one ``tf.py_function`` per operation (and one more
for its gradient): each example's parameter values become one ``cirq.ParamResolver`` of one
sweep per circuit.

Gradients are exact parameter-shift rules. Every symbolic parameter *occurrence* (a gate's
exponent, phase, angle) gets its own symbol, so a placeholder used by several gates or with a
coefficient (``c * x``) is differentiated by the chain rule over its occurrences. As a function
of one occurrence's value ``t`` an expectation is a trigonometric polynomial
``sum_k a_k cos(k w t) + b_k sin(k w t)``, ``k <= R``, where ``w`` and ``R`` follow from the
differences of the gate's eigenphases (for an rx/ry/rz-type power gate ``w = pi``, ``R = 1``: the
two-term rule ``df/dt = pi/2 (f(t + 1/2) - f(t - 1/2))``; a controlled rotation or an
``ISwapPowGate`` exponent have ``R = 2``); the derivative is then exact from ``2R`` shifted
evaluations (the equidistant rule of Wierichs et al., Quantum 6, 677 (2022)). Sampled outputs
are differentiated with the same rule applied to sampled values.

Random seeds belong to the Cirq object (``cirq.Simulator(seed=...)``); the ``seed`` argument of the
operations is not used. This module never imports TensorFlow Quantum.
"""

import fractions
import math

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers.backends.base import Backend, GateSet
from tfq_layers.errors import CircuitError

#: Samples per Pauli term when ``expectation`` runs on an object that only samples.
DEFAULT_REPETITIONS = 1000

_OCC_PREFIX = "_tfql_occ"


def is_cirq_backend(obj):
    """Whether ``obj`` is a Cirq object this backend runs on."""
    return isinstance(obj, (cirq.Sampler, cirq.SimulatesExpectationValues))


def _simulable(gate):
    if not cirq.is_parameterized(gate):
        return cirq.has_unitary(gate) or cirq.has_kraus(gate)
    return True  # parameterized gates: the compiler checks them, __init__ finds their shift rule


CIRQ_GATES = GateSet(
    "cirq",
    _simulable,
    "any gate with a unitary or a Kraus representation, and parameterized "
    "EigenGate/PhasedXPow/PhasedISwap/PhasedXZ/FSim gates (and .controlled_by(...) of those)",
    "Decompose it into gates with a unitary, e.g. with cirq.decompose(circuit).",
    title="Cirq simulator",
)


# -- saving ---------------------------------------------------------------------------------------
_SAVABLE = {"Simulator": cirq.Simulator, "DensityMatrixSimulator": cirq.DensityMatrixSimulator}


def to_config(obj):
    """A JSON-able description of ``obj`` for a layer's config, or a ``ValueError`` saying why
    it cannot be saved.

    Only ``cirq.Simulator`` and ``cirq.DensityMatrixSimulator`` themselves (not subclasses) are
    saved: their class name, dtype and noise, where the noise is none or one gate applied to
    every qubit after each moment (what ``noise=cirq.depolarize(p)`` gives), saved with the
    allow-listed circuit format of :mod:`tfq_layers.serialization`. The random state is not saved.
    Any other object (a hardware sampler, a custom noise model) would need code to rebuild, which
    loading never runs.
    """
    from tfq_layers import serialization

    cls = type(obj)
    name = next((n for n, c in _SAVABLE.items() if cls is c), None)
    noise = getattr(obj, "noise", None)
    if name is not None and (noise is None or noise == cirq.NO_NOISE):
        noise_text = None
    elif name is not None and isinstance(noise, cirq.ConstantQubitNoiseModel):
        noise_text = serialization.dumps(noise.qubit_noise_gate)
    else:
        raise ValueError(
            f"cannot save a layer whose backend is the Cirq object {obj!r}: only "
            "cirq.Simulator and cirq.DensityMatrixSimulator with no noise or a constant per-qubit "
            "noise gate (noise=cirq.depolarize(p) etc.) are saved, since rebuilding anything else "
            "would run code at load time. Save the weights instead (model.save_weights), or save "
            "a copy of the model built with backend='statevector' and set the Cirq backend again "
            "after loading."
        )
    dtype = np.dtype(getattr(obj, "_dtype", np.complex64)).name
    return {"cirq_simulator": name, "noise": noise_text, "dtype": dtype}


def is_config(value):
    """Whether ``value`` is what :func:`to_config` returns."""
    return isinstance(value, dict) and "cirq_simulator" in value


def from_config(config):
    """The Cirq simulator described by ``config`` (:func:`to_config`)."""
    from tfq_layers import serialization

    name = config.get("cirq_simulator")
    if name not in _SAVABLE:
        raise ValueError(
            f"saved backend names Cirq simulator {name!r}; only {sorted(_SAVABLE)} are saved. "
            "The file was altered or not written by tfq_layers."
        )
    dtype = config.get("dtype", "complex64")
    if dtype not in ("complex64", "complex128"):
        raise ValueError(f"saved Cirq simulator dtype {dtype!r} is not complex64/complex128.")
    noise = config.get("noise")
    if noise is not None:
        noise = serialization.loads(noise)
        if not isinstance(noise, cirq.Gate):
            raise ValueError("saved Cirq simulator noise is not a gate; the file was altered.")
    return _SAVABLE[name](dtype=np.dtype(dtype).type, noise=noise)


# -- parameter-shift rules ------------------------------------------------------------------------
def _frequency(phases, scale, where):
    """``(w, R)`` for a parameter whose unitary's entries have phases ``scale * p * x``,
    ``p`` in ``phases``: every difference of phases is a multiple ``k * w`` with ``k <= R``."""
    diffs = sorted({abs(a - b) for a in phases for b in phases if abs(a - b) > 1e-12})
    if not diffs:
        return None  # a global phase only: no gradient
    fracs = [fractions.Fraction(d).limit_denominator(64) for d in diffs]
    if any(abs(float(f) - d) > 1e-9 for f, d in zip(fracs, diffs)):
        raise CircuitError(
            f"{where}: no exact parameter-shift rule for its eigenphase differences {diffs} "
            "(not multiples of one frequency). Use a numeric global_shift of 0 or +-0.5, or "
            "backend='statevector'."
        )
    g = fracs[0]
    for f in fracs[1:]:
        g = fractions.Fraction(
            math.gcd(g.numerator * f.denominator, f.numerator * g.denominator),
            g.denominator * f.denominator,
        )
    return scale * float(g), int(round(float(max(fracs) / g)))


def _parameters(gate):
    """``[(field, value, phases, scale)]``: each parameter of a compiled gate, the phases (in
    units of ``scale`` times the parameter) its unitary's entries carry, and how to rebuild it."""
    if isinstance(gate, cirq.PhasedISwapPowGate):  # an EigenGate with a second parameter
        return [
            ("exponent", gate.exponent, [-0.5, 0.0, 0.5], math.pi),
            ("phase_exponent", gate.phase_exponent, [-2.0, -1.0, 0.0, 1.0, 2.0], math.pi),
        ]
    if isinstance(gate, cirq.EigenGate):
        gs = float(gate.global_shift)
        return [("exponent", gate.exponent, [s + gs for s in gate._eigen_shifts()], math.pi)]
    if isinstance(gate, cirq.PhasedXPowGate):
        gs = float(gate.global_shift)
        return [
            ("exponent", gate.exponent, [gs, 1.0 + gs], math.pi),
            ("phase_exponent", gate.phase_exponent, [-1.0, 0.0, 1.0], math.pi),
        ]
    if isinstance(gate, cirq.PhasedXZGate):
        return [
            ("x_exponent", gate.x_exponent, [0.0, 1.0], math.pi),
            ("z_exponent", gate.z_exponent, [0.0, 1.0], math.pi),
            ("axis_phase_exponent", gate.axis_phase_exponent, [-1.0, 0.0, 1.0], math.pi),
        ]
    if isinstance(gate, cirq.FSimGate):
        return [("theta", gate.theta, [-1.0, 0.0, 1.0], 1.0), ("phi", gate.phi, [-1.0, 0.0], 1.0)]
    return []


def _rebuild(gate, fields):
    if isinstance(gate, cirq.PhasedISwapPowGate):
        return cirq.PhasedISwapPowGate(**fields)
    if isinstance(gate, cirq.EigenGate):
        return gate._with_exponent(fields["exponent"])
    if isinstance(gate, cirq.PhasedXPowGate):
        return cirq.PhasedXPowGate(
            phase_exponent=fields["phase_exponent"],
            exponent=fields["exponent"],
            global_shift=gate.global_shift,
        )
    if isinstance(gate, cirq.PhasedXZGate):
        return cirq.PhasedXZGate(**fields)
    return cirq.FSimGate(**fields)


class _Occurrence:
    """One symbolic gate parameter: ``value = coeff * full[:, column]``; shift rule ``(w, R)``."""

    __slots__ = ("column", "coeff", "w", "R")

    def __init__(self, column, coeff, w, R):
        self.column, self.coeff, self.w, self.R = column, coeff, w, R

    def shifts(self):
        """``[(shift of the value, weight)]``: ``df/dt = sum weight * f(t + shift)``."""
        out = []
        for mu in range(1, 2 * self.R + 1):
            x = (2 * mu - 1) * math.pi / (2 * self.R)
            weight = (-1) ** (mu - 1) / (4 * self.R * math.sin(x / 2) ** 2)
            out.append((x / self.w, weight * self.w))
        return out


def _split_occurrences(circuit, columns):
    """``circuit`` with a fresh symbol per symbolic parameter, and the :class:`_Occurrence` list
    (symbol ``k`` is ``_tfql_occ{k}``)."""
    occurrences = []
    moments = []
    for m_index, moment in enumerate(circuit):
        ops = []
        for op in moment:
            controls, values, sub = None, None, op
            if isinstance(op, cirq.ControlledOperation):
                controls, values, sub = op.controls, op.control_values, op.sub_operation
            gate = getattr(sub, "gate", None)
            if gate is None or not cirq.is_parameterized(gate):
                ops.append(op)
                continue
            where = f"moment {m_index}, operation {op}"
            fields = {}
            for field, value, phases, scale in _parameters(gate):
                if not isinstance(value, sympy.Basic) or not value.free_symbols:
                    fields[field] = value
                    continue
                symbol = next(iter(value.free_symbols))
                coeff = sympy.simplify(value / symbol)
                if len(value.free_symbols) > 1 or coeff.free_symbols or symbol.name not in columns:
                    raise CircuitError(f"{where}: parameter {value} is not c * placeholder.")
                if controls is not None:
                    phases = list(phases) + [0.0]  # the control-off block has phase 0
                rule = _frequency(phases, scale, where)
                fields[field] = sympy.Symbol(f"{_OCC_PREFIX}{len(occurrences)}")
                occurrences.append(
                    _Occurrence(columns[symbol.name], float(coeff), *(rule or (1.0, 0)))
                )
            if not fields:
                raise CircuitError(
                    f"{where}: gate {gate!r} has symbolic parameters this backend has no "
                    "parameter-shift rule for; decompose it (cirq.decompose) or use "
                    "backend='statevector'."
                )
            new = _rebuild(gate, fields).on(*sub.qubits)
            if any(not s.name.startswith(_OCC_PREFIX) for s in cirq.parameter_symbols(new)):
                raise CircuitError(
                    f"{where}: gate {gate!r} has a symbolic parameter this backend has no "
                    "parameter-shift rule for; decompose it (cirq.decompose) or use "
                    "backend='statevector'."
                )
            if controls is not None:
                new = new.controlled_by(*controls, control_values=values)
            ops.append(new)
        moments.append(cirq.Moment(ops))
    return cirq.Circuit(moments), occurrences


class CirqBackend(Backend):
    """The program on a Cirq simulator or sampler object (:attr:`simulator`).

    Built through :meth:`bound` (``backends.backend_class(obj)``), which gives a subclass holding
    the object, so that class attributes answer for it as for the other backends.
    """

    name = "cirq"
    gate_set = CIRQ_GATES
    supports_xla = False
    reads_quantum_data = True
    reads_operator_tensors = True
    simulator = None
    #: ``state`` gives density matrices (the object's final states are density matrices).
    state_is_density_matrix = False

    @classmethod
    def bound(cls, simulator):
        """A subclass of this backend that runs on ``simulator``."""
        if not is_cirq_backend(simulator):
            raise TypeError(
                f"backend {simulator!r} is not a cirq.Sampler or "
                "cirq.SimulatesExpectationValues object."
            )
        density = False
        if isinstance(simulator, cirq.SimulatesFinalState):
            probe = simulator.simulate(cirq.Circuit(cirq.I(cirq.LineQubit(0))))
            density = not hasattr(probe, "final_state_vector")
        attrs = {"simulator": simulator, "state_is_density_matrix": density}
        return type(cls.__name__, (cls,), attrs)

    def __init__(
        self,
        circuits,
        batched_names,
        shared_names,
        qubits,
        differentiator=None,
        trajectories=None,
        noisy=False,
    ):
        super().__init__(
            circuits, batched_names, shared_names, qubits, differentiator, trajectories, noisy
        )
        if self.simulator is None:
            raise TypeError("CirqBackend runs on an object: use CirqBackend.bound(simulator).")
        if differentiator is not None and differentiator.get("name") != "parameter_shift":
            raise ValueError(
                f"differentiator {differentiator.get('name')!r} applies to TFQ's simulator; a "
                "Cirq object as backend is differentiated by exact parameter-shift rules. Drop "
                "differentiator (or pass tfq.differentiators.ParameterShift())."
            )
        self.noisy = noisy
        self._columns = {n: i for i, n in enumerate(self.batched_names + self.shared_names)}
        self._split = [_split_occurrences(c, self._columns) for c in self.circuits]
        self._reserved = {s.name for c in self.circuits for s in cirq.parameter_symbols(c)}
        self._parts = {}

    def differentiator_for(self, sampled=False):
        return {"name": "parameter_shift", "config": {}}

    @classmethod
    def check_operation(cls, operation):
        if operation == "unitary":
            cls._refuse_unitary()
        sampler = (cirq.Sampler, "Give a cirq.Sampler (or Simulator).")
        final = (cirq.SimulatesFinalState, "Give a cirq.Simulator.")
        needs = {"sampled_expectation": sampler, "sample": sampler, "state": final}
        needs["probabilities"] = final
        if operation in needs:
            cls._needs(needs[operation][0], operation.replace("_", " "), needs[operation][1])

    @classmethod
    def _needs(cls, capability, operation, fix):
        if not isinstance(cls.simulator, capability):
            raise TypeError(
                f"backend {cls.simulator!r} cannot run {operation}: it is not a "
                f"{capability.__module__.split('.')[0]}.{capability.__name__}. {fix}"
            )

    @classmethod
    def _refuse_unitary(cls):
        raise TypeError(
            f"backend {cls.simulator!r} cannot compute unitaries: a Cirq simulator object "
            "runs circuits. Use backend='statevector' (or TFQ's Unitary, which has no backend)."
        )

    # -- numpy core: rows of occurrence values -> outputs -------------------------------------
    def _resolvers(self, occ_rows):
        return [
            cirq.ParamResolver({f"{_OCC_PREFIX}{k}": float(v) for k, v in enumerate(row)})
            for row in occ_rows
        ]

    def _part(self, kind, k, raw):
        """The :class:`_Part` run for circuit ``k`` after the quantum-data circuit ``raw``
        (serialized bytes, or ``None``), cached by both."""
        key = (kind in _FIXED_WIDTH, k, raw)
        part = self._parts.get(key)
        if part is None:
            if raw is None:
                circuit, occ = self._split[k]
                part = _Part(circuit, occ, self.qubits, self.noisy)
            else:
                data = _data_circuit(raw, self._columns, self._reserved)
                extra_qubits = sorted(set(data.all_qubits()) - set(self.qubits))
                if extra_qubits and kind in _FIXED_WIDTH:
                    raise ValueError(
                        f"a quantum-data circuit acts on qubits {extra_qubits} that the model's "
                        f"circuit does not use (model qubits: {self.qubits}); {kind} returns "
                        "one column per model qubit. Add those qubits to the model's circuit "
                        "(e.g. cirq.I on them) or drop them from the data."
                    )
                circuit, occ = _split_occurrences(data + self.circuits[k], self._columns)
                noisy = self.noisy or cirq.has_kraus(data) and not cirq.has_unitary(data)
                part = _Part(circuit, occ, self.qubits + extra_qubits, noisy)
            self._parts[key] = part
        return part

    def _evaluate(self, kind, part, occ_rows, extra):
        """Outputs of ``part`` for each row of occurrence values."""
        circuit, order = part.circuit, cirq.QubitOrder.explicit(part.qubits)
        params = self._resolvers(occ_rows)
        sim = self.simulator
        if kind in ("expectation", "probabilities") and isinstance(sim, cirq.SimulatesFinalState):
            return self._from_final_states(kind, part, params, extra)
        if kind == "expectation" and isinstance(sim, cirq.SimulatesExpectationValues):
            out = sim.simulate_expectation_values_sweep(
                circuit, extra["observables"], params, qubit_order=order
            )
            return np.real(np.asarray(out, dtype=np.complex128)).reshape(len(params), -1)
        if kind in ("expectation", "sampled_expectation"):
            return self._sampled(circuit, params, extra["observables"], extra["reps"])
        if kind == "sample":
            measured = circuit + cirq.measure(*self.qubits, key="_tfql_m")
            results = sim.run_sweep(measured, params, repetitions=extra["reps"])
            return np.stack([r.measurements["_tfql_m"] for r in results]).astype(np.int32)
        results = sim.simulate_sweep(circuit, params, qubit_order=order)  # state
        if self.state_is_density_matrix:
            return np.stack([r.final_density_matrix for r in results]).astype(np.complex64)
        return np.stack([r.final_state_vector for r in results]).astype(np.complex64)

    def _from_final_states(self, kind, part, params, extra):
        """Expectations or probabilities from each row's final state. A state-vector simulator
        runs a noisy circuit as one random trajectory per run: ``trajectories`` runs are then
        averaged per row (a density-matrix simulator is exact in one run)."""
        runs = int(self.trajectories or 1) if part.noisy else 1
        swept = [p for p in params for _ in range(runs)]
        qmap = {q: i for i, q in enumerate(part.qubits)}
        observables = extra.get("observables", [])
        order = cirq.QubitOrder.explicit(part.qubits)
        out = []
        for r in self.simulator.simulate_sweep(part.circuit, swept, qubit_order=order):
            if hasattr(r, "final_density_matrix"):
                rho = r.final_density_matrix
                if kind == "probabilities":
                    out.append(np.real(np.diagonal(rho)))
                    continue
                out.append(
                    [
                        np.real(
                            ob.expectation_from_density_matrix(rho, qmap, check_preconditions=False)
                        )
                        for ob in observables
                    ]
                )
            else:
                psi = r.final_state_vector
                if kind == "probabilities":
                    out.append(np.abs(psi) ** 2)
                    continue
                out.append(
                    [
                        np.real(
                            ob.expectation_from_state_vector(psi, qmap, check_preconditions=False)
                        )
                        for ob in observables
                    ]
                )
        out = np.asarray(out, np.float64).reshape(len(params), runs, -1)
        return out.mean(axis=1)

    def _sampled(self, circuit, params, observables, reps):
        """Pauli-term estimates: each term measured in its own basis, ``reps[row, j]`` shots."""
        n, n_ops = len(params), len(observables)
        reps = np.broadcast_to(np.asarray(reps, np.int64), (n, n_ops))
        out = np.zeros((n, n_ops))
        for j, ob in enumerate(observables):
            for term in ob:
                coeff = float(np.real(term.coefficient))
                if not term:  # identity
                    out[:, j] += coeff
                    continue
                qubits = sorted(term.qubits)
                measured = (
                    circuit
                    + cirq.Circuit(term.with_coefficient(1).to_z_basis_ops())
                    + cirq.measure(*qubits, key="_tfql_t")
                )
                for r in np.unique(reps[:, j]):
                    rows = np.nonzero(reps[:, j] == r)[0]
                    if r < 1:
                        raise ValueError(f"repetitions must be positive; got {r}.")
                    results = self.simulator.run_sweep(
                        measured, [params[i] for i in rows], repetitions=int(r)
                    )
                    for i, res in zip(rows, results):
                        bits = res.measurements["_tfql_t"]
                        out[i, j] += coeff * np.mean(1 - 2 * (np.sum(bits, axis=1) % 2))
        return out

    def _groups(self, kind, batch, index, data, ops, extra):
        """``[(part, rows, extra)]``: the rows that run the same circuit (program circuit ``k``
        after the same quantum-data circuit) with the same operators."""
        keys = {}
        for row in range(batch):
            k = 0 if index is None else int(index[row])
            raw = None if data is None else bytes(data[row])
            op_key = None if ops is None else tuple(bytes(b) for b in ops[row])
            keys.setdefault((k, raw, op_key), []).append(row)
        out = []
        for (k, raw, op_key), rows in keys.items():
            row_extra = extra
            if op_key is not None:
                row_extra = dict(extra, observables=[_pauli_sum(b) for b in op_key])
            out.append((self._part(kind, k, raw), np.array(rows), row_extra))
        return out

    def _forward_np(self, kind, full, index, extra, data=None, ops=None):
        full = np.asarray(full)
        out = None
        for part, rows, row_extra in self._groups(kind, full.shape[0], index, data, ops, extra):
            o = self._evaluate(kind, part, part.occ_values(full[rows]), row_extra)
            if out is None:
                out = np.zeros((full.shape[0],) + o.shape[1:], o.dtype)
            out[rows] = o
        return out

    def _gradient_np(self, kind, full, index, dy, extra, data=None, ops=None):
        """``d(sum dy * out) / d full`` by the shift rule of every occurrence."""
        full, dy = np.asarray(full), np.asarray(dy, np.float64)
        grad = np.zeros(full.shape, np.float64)
        for part, rows, row_extra in self._groups(kind, full.shape[0], index, data, ops, extra):
            base = part.occ_values(full[rows])
            shifted, plan = [], []
            for j, o in enumerate(part.occ):
                for shift, weight in o.shifts():
                    moved = base.copy()
                    moved[:, j] += shift
                    shifted.append(moved)
                    plan.append((j, weight))
            if not shifted:
                continue
            values = self._evaluate(kind, part, np.concatenate(shifted), row_extra)
            values = values.reshape(len(plan), rows.size, -1)
            for (j, weight), f in zip(plan, values):
                d_occ = weight * np.sum(dy[rows] * f, axis=1)  # (rows,)
                grad[rows, part.occ[j].column] += part.occ[j].coeff * d_occ
        return grad.astype(np.float32)

    # -- the TensorFlow boundary --------------------------------------------------------------
    def _full(self, values, shared):
        values = tf.convert_to_tensor(values, tf.float32)
        if not self.shared_names:
            return values
        tiled = tf.tile(tf.reshape(shared, [1, -1]), tf.stack([tf.shape(values)[0], 1]))
        return tf.concat([values, tf.cast(tiled, tf.float32)], axis=1)

    def _split_grad(self, grad, shared):
        n = len(self.batched_names)
        if not self.shared_names:
            return grad, None if shared is None else tf.zeros_like(shared)
        return grad[:, :n], tf.reduce_sum(grad[:, n:], axis=0)

    def _run(self, kind, values, shared, index, extra, tout, width, differentiable, data=None):
        """One ``tf.py_function`` over the batch (and one for its gradient). ``data``: quantum
        data, ``(batch,)`` tf.string; ``extra["operators"]``: operators as a ``(batch, n_ops)``
        tf.string tensor (TFQ's form), decoded per row."""
        index_t = tf.zeros([0], tf.int32) if index is None else tf.cast(index, tf.int32)
        shared_t = tf.zeros([0], tf.float32) if shared is None else tf.cast(shared, tf.float32)
        values_t = tf.convert_to_tensor(values, tf.float32)
        data_t = tf.zeros([0], tf.string) if data is None else tf.reshape(data, [-1])
        ops = extra.pop("operators", None)
        ops_t = tf.zeros([0, 0], tf.string) if ops is None else ops

        def host(t, given):
            return t.numpy() if given else None

        def forward(full, idx, d, o):
            args = host(idx, index is not None), extra, host(d, data is not None)
            out = self._forward_np(kind, full.numpy(), *args, host(o, ops is not None))
            if out is None:
                return np.zeros((0,) + tuple(width), tout.as_numpy_dtype)
            return out.astype(tout.as_numpy_dtype)

        def backward(full, idx, d, o, dy):
            args = host(idx, index is not None), dy.numpy(), extra, host(d, data is not None)
            return self._gradient_np(kind, full.numpy(), *args, host(o, ops is not None))

        @tf.custom_gradient
        def op(v, s):
            full = self._full(v, s)
            out = tf.py_function(forward, [full, index_t, data_t, ops_t], tout)
            out.set_shape([None] + list(width))

            def grad(dy):
                if not differentiable:
                    raise TypeError(f"{kind} on a Cirq object as backend has no gradient.")
                g = tf.py_function(backward, [full, index_t, data_t, ops_t, dy], tf.float32)
                g.set_shape(full.shape)
                gv, gs = self._split_grad(g, s)
                return gv, gs

            return out, grad

        return op(values_t, shared_t)

    # -- operations -----------------------------------------------------------------------------
    def expectation(self, values, shared, observables, index=None, data=None, seed=None):
        if not isinstance(self.simulator, cirq.SimulatesExpectationValues):
            self._needs(cirq.Sampler, "expectation", "Give a cirq.Simulator.")
        extra = {"reps": self.trajectories or DEFAULT_REPETITIONS}
        width = self._operators(observables, extra)
        return self._run("expectation", values, shared, index, extra, tf.float32, width, True, data)

    def sampled_expectation(
        self, values, shared, observables, repetitions, index=None, data=None, seed=None
    ):
        self.check_operation("sampled_expectation")
        extra = {"reps": _static(repetitions, "repetitions")}
        width = self._operators(observables, extra)
        return self._run(
            "sampled_expectation", values, shared, index, extra, tf.float32, width, True, data
        )

    def sample(self, values, shared, repetitions, index=None, data=None, seed=None):
        self.check_operation("sample")
        reps = int(np.asarray(_static(repetitions, "repetitions")).reshape(-1)[0])
        width = [reps, self.n_qubits]
        return self._run(
            "sample", values, shared, index, {"reps": reps}, tf.int32, width, False, data
        )

    def state(self, values, shared, index=None, data=None):
        """Final state vectors ``(batch, 2**n)``, or ``(batch, 2**n, 2**n)`` density matrices
        where the object's final states are density matrices (:attr:`state_is_density_matrix`)."""
        self.check_operation("state")
        if self.noisy and not self.state_is_density_matrix:
            raise ValueError(
                "a circuit with noise channels has no single final state vector; use "
                "probabilities or expectations (averaged over trajectories), a "
                "cirq.DensityMatrixSimulator (density matrices), or drop the channels."
            )
        dim = 2**self.n_qubits
        width = [dim, dim] if self.state_is_density_matrix else [dim]
        return self._run("state", values, shared, index, {}, tf.complex64, width, False, data)

    def probabilities(self, values, shared, index=None, seed=None, data=None):
        self.check_operation("probabilities")
        width = [2**self.n_qubits]
        return self._run("probabilities", values, shared, index, {}, tf.float32, width, True, data)

    def unitary(self, values, shared, index=None, data=None):
        self._refuse_unitary()

    @staticmethod
    def _operators(observables, extra):
        """Put ``observables`` into ``extra`` (a list of PauliSums, or TFQ's ``(batch, n_ops)``
        tf.string tensor, decoded per row on the host); return the output width."""
        if tf.is_tensor(observables):
            if observables.dtype != tf.string or observables.shape.rank != 2:
                raise TypeError(
                    "operators as a tensor must be a (batch, n_operators) tf.string tensor from "
                    f"convert_to_tensor([[psum, ...], ...]); got {observables.dtype.name} of "
                    f"shape {observables.shape}."
                )
            extra["operators"] = observables
            return [observables.shape[1]]
        extra["observables"] = [
            cirq.PauliSum.from_pauli_strings([ob]) if isinstance(ob, cirq.PauliString) else ob
            for ob in observables
        ]
        return [len(extra["observables"])]

    def memory_bytes(self, batch):
        return 0  # the Cirq object holds its own memory


class _Part:
    """One circuit as this backend runs it: occurrence symbols, their :class:`_Occurrence` list,
    the register (the model's qubits, then any other qubits of quantum data) and whether it has
    noise channels."""

    __slots__ = ("circuit", "occ", "qubits", "noisy")

    def __init__(self, circuit, occ, qubits, noisy):
        self.circuit, self.occ, self.qubits, self.noisy = circuit, occ, list(qubits), noisy

    def occ_values(self, full):
        """``(rows, n_occurrences)`` float64 occurrence values from the placeholder columns."""
        if not self.occ:
            return np.zeros((full.shape[0], 0))
        cols = np.array([o.column for o in self.occ])
        coeffs = np.array([o.coeff for o in self.occ])
        return full[:, cols].astype(np.float64) * coeffs


#: Operations whose output has one column (or amplitude) per qubit of the model's register.
_FIXED_WIDTH = ("sample", "state", "probabilities")


def _data_circuit(raw, columns, reserved):
    """The quantum-data circuit serialized in ``raw``: its symbols must be placeholders with
    values (``columns``) and not symbols of the model's circuit (``reserved``)."""
    from tfq_layers import wire  # lazy: wire's protobuf schema loads only for quantum data

    circuit = wire.deserialize_circuit(raw)
    names = {s.name for s in cirq.parameter_symbols(circuit)}
    clash = sorted(names & set(reserved))
    if clash:
        raise ValueError(
            "a symbol appears both in the quantum-data circuits and in this layer's circuit; "
            f"resolve the data circuits (cirq.resolve_parameters) or rename one symbol: {clash}"
        )
    unknown = sorted(names - set(columns))
    if unknown:
        raise ValueError(
            f"a quantum-data circuit has unresolved symbols {unknown} (symbols with values: "
            f"{sorted(columns)}). Resolve them first (cirq.resolve_parameters), or give their "
            "values (symbol_names/symbol_values)."
        )
    return circuit


def _pauli_sum(raw):
    """One serialized PauliSum of an operator tensor (empty bytes: TFQ's padding, zero)."""
    from tfq_layers import wire  # lazy: as in _data_circuit

    return wire.deserialize_pauli_sum(raw) if raw else cirq.PauliSum()


def _static(value, what):
    """A number (or array) known when the layer is built: the Cirq object needs it in Python."""
    if tf.is_tensor(value):
        static = tf.get_static_value(value)
        if static is None:
            raise TypeError(
                f"{what} is a tensor known only when the graph runs; a Cirq object as backend "
                "needs it when the layer is built. Pass a Python int."
            )
        return static
    return value


__all__ = [
    "CIRQ_GATES",
    "DEFAULT_REPETITIONS",
    "CirqBackend",
    "from_config",
    "is_config",
    "is_cirq_backend",
    "to_config",
]
