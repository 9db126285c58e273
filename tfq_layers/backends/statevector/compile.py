"""Compile a `cirq.Circuit` into a simulation plan for the TensorFlow statevector simulator.

This module is numpy + cirq + sympy only (no TensorFlow): it runs once, when a
`StatevectorSimulator` is built, and produces a list of *steps* that the runtime (``steps.py``,
``engine.py``) turns into TensorFlow ops. At about 720 lines it is the package's one module over
~500 on purpose: parsing, Fourier forms, fusion, scheduling and planning are one pipeline over the
same data types and are kept together.

Parameterized gates are represented in **Fourier form**::

    U(theta) = sum_k C_k * exp(i * sum_j w_kj * theta_j)

where `theta` are the symbol values, `C_k` constant complex matrices and `w_kj` real
numbers.  Every gate TFQ serializes (EigenGates such as rx/ry/rz/CZ/ISWAP/XX/ZZ powers,
PhasedXPowGate, PhasedISwapPowGate, FSimGate, controlled versions) and PhasedXZGate have
such a form with at most a handful of terms, products of Fourier forms are Fourier forms
(the frequencies add), and the whole circuit's gate matrices are then computed with a
couple of vectorized TF ops (`exp(i * values @ W) @ C`), differentiable to any order.

Pipeline: `parse_circuit` (ops -> gates/channels) -> `split_prefix` (leading single-qubit
gates, which prepare a product state) -> `fuse` (greedy fusion into blocks of at most `k`
qubits, Fourier products) -> `plan` (axis layouts, fast paths, permutations).
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple

import cirq
import numpy as np
import sympy

_ATOL = 1e-10

Key = Tuple[Tuple[int, float], ...]


# --------------------------------------------------------------------------------------
# Fourier forms
# --------------------------------------------------------------------------------------
def _key_add(k1: Key, k2: Key) -> Key:
    acc: Dict[int, float] = dict(k1)
    for s, c in k2:
        acc[s] = acc.get(s, 0.0) + c
    return tuple(sorted((s, round(c, 10)) for s, c in acc.items() if abs(c) > 1e-12))


def _key_scale(k: Key, a: float) -> Key:
    return tuple((s, round(c * a, 10)) for s, c in k if abs(c * a) > 1e-12)


class Fourier:
    """U(theta) = sum over terms {key: C} of C * exp(i * sum_{(s, w) in key} w * theta_s)."""

    __slots__ = ("terms", "dim")

    def __init__(self, terms: Dict[Key, np.ndarray]):
        clean = {}
        for k, c in terms.items():
            c = np.asarray(c, dtype=np.complex128)
            if np.any(np.abs(c) > 1e-13):
                clean[k] = clean.get(k, 0) + c
        if not clean:  # keep the shape information for an all-zero form
            k, c = next(iter(terms.items()))
            clean = {(): np.zeros_like(c, dtype=np.complex128)}
        self.terms = clean
        self.dim = next(iter(clean.values())).shape[0]

    @staticmethod
    def const(u) -> "Fourier":
        return Fourier({(): np.asarray(u, dtype=np.complex128)})

    def __matmul__(self, other: "Fourier") -> "Fourier":
        out: Dict[Key, np.ndarray] = {}
        for ka, ca in self.terms.items():
            for kb, cb in other.terms.items():
                k = _key_add(ka, kb)
                out[k] = out.get(k, 0) + ca @ cb
        return Fourier(out)

    def kron(self, other: "Fourier") -> "Fourier":
        out: Dict[Key, np.ndarray] = {}
        for ka, ca in self.terms.items():
            for kb, cb in other.terms.items():
                k = _key_add(ka, kb)
                out[k] = out.get(k, 0) + np.kron(ca, cb)
        return Fourier(out)

    def map(self, fn) -> "Fourier":
        return Fourier({k: fn(c) for k, c in self.terms.items()})

    @property
    def n_terms(self) -> int:
        return len(self.terms)

    @property
    def is_const(self) -> bool:
        return all(k == () for k in self.terms)

    @property
    def is_diag(self) -> bool:
        return all(np.allclose(c, np.diag(np.diag(c)), atol=_ATOL) for c in self.terms.values())

    def symbols(self) -> List[int]:
        return sorted({s for k in self.terms for s, _ in k})

    def const_matrix(self) -> np.ndarray:
        assert self.is_const
        return self.terms[()]

    def evaluate(self, values: Sequence[float]) -> np.ndarray:
        """Numeric matrix at the given symbol values (used by tests and debugging)."""
        out = 0
        for k, c in self.terms.items():
            out = out + c * np.exp(1j * sum(w * values[s] for s, w in k))
        return out


def _permute_matrix(u: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Reorder the qubits of a (d, d) matrix (or (d,) diagonal): new qubit j = old order[j]."""
    k = len(order)
    if u.ndim == 1:
        return u.reshape((2,) * k).transpose(order).reshape(-1)
    t = u.reshape((2,) * (2 * k)).transpose(list(order) + [k + o for o in order])
    return t.reshape(2**k, 2**k)


def _embed(u: np.ndarray, positions: Sequence[int], k: int) -> np.ndarray:
    """Embed a matrix acting on `positions` (in its own qubit order) into k qubits."""
    m = len(positions)
    rest = [p for p in range(k) if p not in positions]
    full = np.kron(u, np.eye(2 ** (k - m)))
    # qubit order of `full` is positions + rest; bring it back to 0..k-1
    cur = list(positions) + rest
    order = [cur.index(p) for p in range(k)]
    return _permute_matrix(full, order)


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
class Param:
    """An affine gate parameter: value = sum_j coef_j * theta_j + offset (one symbol)."""

    __slots__ = ("key", "offset")

    def __init__(self, key: Key, offset: float):
        self.key = key
        self.offset = offset

    def phase(self, alpha: float) -> Tuple[Key, complex]:
        """Fourier key and constant factor of exp(i * alpha * value)."""
        return _key_scale(self.key, alpha), np.exp(1j * alpha * self.offset)


def _op_str(op) -> str:
    s = repr(op)
    return s if len(s) < 300 else s[:300] + "..."


def _affine_param(value, s, sym_index) -> Optional[Param]:
    """``value`` as ``a*s + b`` of its one symbol ``s``, or ``None`` when it is not affine."""
    # fast path for a*s + b with numbers a, b (every angle the compile step emits)
    const, rest = value.as_independent(s, as_Add=True)
    coef, sym = rest.as_independent(s, as_Add=False)
    if sym == s and const.is_number and coef.is_number:
        key = ((sym_index[s.name], round(float(coef), 10)),) if abs(float(coef)) > 1e-12 else ()
        return Param(key, float(const))
    try:
        poly = sympy.Poly(value, s)
    except sympy.PolynomialError:
        return None
    if poly.degree() <= 1:
        coeffs = dict(poly.as_dict())
        a = complex(coeffs.get((1,), 0))
        b = complex(coeffs.get((0,), 0))
        if abs(a.imag) < 1e-12 and abs(b.imag) < 1e-12:
            key = ((sym_index[s.name], round(a.real, 10)),) if abs(a.real) > 1e-12 else ()
            return Param(key, b.real)
    return None


def make_param(value, sym_index: Dict[str, int], op) -> Param:
    if isinstance(value, numbers.Number) and not isinstance(value, sympy.Basic):
        if isinstance(value, complex) and abs(value.imag) > 1e-12:
            raise ValueError(f"Gate parameter {value!r} of {_op_str(op)} is complex.")
        return Param((), float(np.real(value)))
    if isinstance(value, sympy.Basic):
        if value.is_number:
            return Param((), float(value))
        free = value.free_symbols
        for s in free:
            if s.name not in sym_index:
                raise ValueError(
                    f"Operation {_op_str(op)} uses symbol {s.name!r}, which is not in "
                    f"symbol_names={sorted(sym_index, key=sym_index.get)!r}. Add it to "
                    f"symbol_names or resolve it with cirq.resolve_parameters first."
                )
        if isinstance(value, sympy.Symbol):
            return Param(((sym_index[value.name], 1.0),), 0.0)
        if len(free) == 1:
            param = _affine_param(value, next(iter(free)), sym_index)
            if param is not None:
                return param
        raise ValueError(
            f"Gate parameter {value} of {_op_str(op)} is not supported: each parameter must "
            f"be a number, a bare sympy.Symbol or an affine expression a*symbol + b of one "
            f"symbol. Replace the expression by a fresh symbol and compute its value in "
            f"TensorFlow (the tfq_layers compile step does this)."
        )
    raise TypeError(
        f"Gate parameter {value!r} of {_op_str(op)} has unsupported type {type(value)}."
    )


# --------------------------------------------------------------------------------------
# Gate -> Fourier form
# --------------------------------------------------------------------------------------
def _eigen_fourier(gate: cirq.EigenGate, exponent: Param) -> Fourier:
    shift = float(getattr(gate, "_global_shift", 0.0))
    terms: Dict[Key, np.ndarray] = {}
    for lam, proj in gate._eigen_components():
        k, f = exponent.phase(np.pi * (float(lam) + shift))
        terms[k] = terms.get(k, 0) + f * np.asarray(proj, dtype=np.complex128)
    return Fourier(terms)


def _zpow(p: Param, sign: float = 1.0) -> Fourier:
    k, f = p.phase(np.pi * sign)
    terms = {(): np.diag([1.0, 0.0]).astype(complex)}
    # A constant exponent has key () too: add, do not overwrite.
    terms[k] = terms.get(k, 0) + np.diag([0.0, f])
    return Fourier(terms)


def _conj_diag(u: Fourier, p: Param, h: Sequence[float]) -> Fourier:
    """D(p) U D(p)^dagger with D(p) = diag(exp(i*pi*p*h))."""
    h = np.asarray(h, dtype=float)
    delta = h[:, None] - h[None, :]
    out: Dict[Key, np.ndarray] = {}
    for key, c in u.terms.items():
        for dv in np.unique(np.round(delta, 12)):
            mask = np.isclose(delta, dv)
            part = np.where(mask, c, 0)
            if not np.any(np.abs(part) > 1e-13):
                continue
            k2, f = p.phase(np.pi * dv)
            k = _key_add(key, k2)
            out[k] = out.get(k, 0) + f * part
    return Fourier(out)


def _fsim(theta: Param, phi: Param) -> Fourier:
    e = lambda i, j: np.outer(np.eye(4)[i], np.eye(4)[j])  # noqa: E731
    diag = e(1, 1) + e(2, 2)
    off = e(1, 2) + e(2, 1)
    kp, fp = theta.phase(1.0)
    km, fm = theta.phase(-1.0)
    kf, ff = phi.phase(-1.0)
    terms: Dict[Key, np.ndarray] = {(): e(0, 0)}
    for k, c in (
        (kp, fp * (0.5 * diag - 0.5 * off)),
        (km, fm * (0.5 * diag + 0.5 * off)),
        (kf, ff * e(3, 3)),
    ):
        terms[k] = terms.get(k, 0) + c
    return Fourier(terms)


def _controlled(sub: Fourier, active: Sequence[int], n_controls: int) -> Fourier:
    dc = 2**n_controls
    pa = np.zeros((dc, dc))
    for a in active:
        pa[a, a] = 1.0
    pi = np.eye(dc) - pa
    terms = {k: np.kron(pa, c) for k, c in sub.terms.items()}
    terms[()] = terms.get((), 0) + np.kron(pi, np.eye(sub.dim))
    return Fourier(terms)


def _active_control_patterns(control_values, n_controls: int) -> List[int]:
    out = []
    for conj in control_values.expand():
        v = 0
        for bit in conj:
            v = (v << 1) | int(bit)
        out.append(v)
    if not out and n_controls == 0:
        out = [0]
    return sorted(set(out))


def gate_fourier(
    op: cirq.Operation, sym_index: Dict[str, int], depth: int = 0
) -> Optional[Fourier]:
    """Fourier form of a (possibly parameterized) unitary operation, or None if not unitary."""
    gate = op.gate
    if not cirq.is_parameterized(op):
        if cirq.has_unitary(op):
            return Fourier.const(cirq.unitary(op))
        return None
    P = lambda v: make_param(v, sym_index, op)  # noqa: E731
    if isinstance(op, cirq.ControlledOperation) or isinstance(gate, cirq.ControlledGate):
        return _controlled_fourier(op, sym_index, depth)
    for gate_type, form in _GATE_FORMS:
        if isinstance(gate, gate_type):
            return form(gate, P)
    if isinstance(gate, cirq.EigenGate):
        probe = gate._with_exponent(0.5)
        if not cirq.is_parameterized(probe):
            return _eigen_fourier(gate, P(gate.exponent))
    total = _decomposed_fourier(op, sym_index, depth) if depth < 4 else None
    if total is not None:
        return total
    _refuse_parameterized(op)


def _phased_x_form(gate, P):
    x = _eigen_fourier(
        cirq.XPowGate(exponent=1.0, global_shift=gate.global_shift), P(gate.exponent)
    )
    return _conj_diag(x, P(gate.phase_exponent), [0.0, 1.0])


def _phased_iswap_form(gate, P):
    shift = float(getattr(gate, "global_shift", 0.0))
    sw = _eigen_fourier(cirq.ISwapPowGate(exponent=1.0, global_shift=shift), P(gate.exponent))
    return _conj_diag(sw, P(gate.phase_exponent), [0.0, 1.0, -1.0, 0.0])


def _phased_xz_form(gate, P):
    x = _eigen_fourier(cirq.XPowGate(exponent=1.0), P(gate.x_exponent))
    return _zpow(P(gate.z_exponent)) @ _conj_diag(x, P(gate.axis_phase_exponent), [0.0, 1.0])


# The Fourier form of each parameterized gate type that is not a plain EigenGate power:
# ``form(gate, P)`` with ``P(value)`` the gate parameter as a `Param`. A new parameterized gate
# type gets its entry here.
_GATE_FORMS = (
    (cirq.PhasedXPowGate, _phased_x_form),
    (cirq.PhasedISwapPowGate, _phased_iswap_form),
    (cirq.PhasedXZGate, _phased_xz_form),
    (cirq.FSimGate, lambda gate, P: _fsim(P(gate.theta), P(gate.phi))),
)


def _controlled_fourier(op, sym_index, depth):
    gate = op.gate
    if isinstance(op, cirq.ControlledOperation):
        controls, sub_op, cv = op.controls, op.sub_operation, op.control_values
    else:
        nc = gate.num_controls()
        controls, sub_op, cv = (
            op.qubits[:nc],
            gate.sub_gate.on(*op.qubits[nc:]),
            gate.control_values,
        )
    if any(q.dimension != 2 for q in controls):
        raise ValueError(f"Only qubit controls are supported, got {_op_str(op)}.")
    sub = gate_fourier(sub_op, sym_index, depth + 1)
    if sub is None:
        return None
    return _controlled(sub, _active_control_patterns(cv, len(controls)), len(controls))


def _decomposed_fourier(op, sym_index, depth):
    """The product of the Fourier forms of ``op``'s one-level decomposition, or ``None``."""
    try:
        sub_ops = cirq.decompose_once(op, default=None)
    except (TypeError, ValueError):
        sub_ops = None
    if not sub_ops:
        return None
    qs = list(op.qubits)
    total = Fourier.const(np.eye(2 ** len(qs)))
    for sop in sub_ops:
        f = gate_fourier(sop, sym_index, depth + 1)
        if f is None or any(q not in qs for q in sop.qubits):
            return None
        pos = [qs.index(q) for q in sop.qubits]
        total = Fourier({k: _embed(c, pos, len(qs)) for k, c in f.terms.items()}) @ total
    return total


def _refuse_parameterized(op):
    try:
        probe_op = cirq.resolve_parameters(op, {p: 0.1 for p in cirq.parameter_names(op)})
        is_channel = not cirq.has_unitary(probe_op) and cirq.has_kraus(probe_op)
    except Exception:  # pragma: no cover - best effort diagnosis
        is_channel = False
    if is_channel:
        raise ValueError(
            f"Operation {_op_str(op)} is a parameterized channel; only channels with numeric "
            f"parameters are supported. Resolve its parameters first."
        )
    raise ValueError(
        f"Cannot simulate parameterized operation {_op_str(op)}: its gate type "
        f"{type(op.gate).__name__} has no known symbolic form. Use a supported gate (X/Y/Z/H/CZ/"
        f"CNOT/SWAP/ISWAP/XX/YY/ZZ powers, PhasedXPowGate, PhasedISwapPowGate, PhasedXZGate, "
        f"FSimGate, controlled versions) or resolve its parameters."
    )


# --------------------------------------------------------------------------------------
# Circuit parsing
# --------------------------------------------------------------------------------------
@dataclasses.dataclass
class GateItem:
    qubits: Tuple[int, ...]
    fourier: Fourier


@dataclasses.dataclass
class ChannelItem:
    qubits: Tuple[int, ...]
    probs: Optional[np.ndarray]  # mixture probabilities (state independent) or None
    mats: np.ndarray  # (n_ops, d, d): mixture unitaries or Kraus operators
    name: str


def _unwrap(op):
    while isinstance(op, cirq.TaggedOperation):
        op = op.sub_operation
    return op


def parse_circuit(
    circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid], sym_index: Dict[str, int]
):
    """Return (items, global_phase). Items are GateItem / ChannelItem in circuit order."""
    qindex = {q: i for i, q in enumerate(qubits)}
    measured: Dict[cirq.Qid, cirq.Operation] = {}
    items: list = []
    global_phase = 1.0 + 0j
    for op in circuit.all_operations():
        op = _unwrap(op)
        is_meas = cirq.is_measurement(op) and (
            isinstance(op.gate, cirq.MeasurementGate) or not cirq.has_unitary(op)
        )
        _check_op_qubits(op, is_meas, measured, qindex)
        if is_meas:
            for q in op.qubits:
                measured[q] = op
            continue
        if isinstance(op.gate, cirq.IdentityGate):
            continue
        if isinstance(op.gate, cirq.GlobalPhaseGate) or (len(op.qubits) == 0):
            if cirq.is_parameterized(op):
                raise ValueError(f"Parameterized global phase {_op_str(op)} is not supported.")
            global_phase *= complex(np.asarray(cirq.unitary(op)).reshape(-1)[0])
            continue
        if any(q.dimension != 2 for q in op.qubits):
            raise ValueError(f"Only qubits (dimension 2) are supported, got {_op_str(op)}.")
        idx = tuple(qindex[q] for q in op.qubits)
        f = gate_fourier(op, sym_index)
        if f is not None:
            items.append(GateItem(idx, f))
            continue
        items.append(_channel_item(op, idx))
    return items, global_phase


def _check_op_qubits(op, is_meas, measured, qindex):
    for q in op.qubits:
        if q in measured and not is_meas:
            raise ValueError(
                f"Operation {_op_str(op)} acts on qubit {q} after the measurement "
                f"{_op_str(measured[q])}. Only terminal measurements are supported (they are "
                f"ignored); remove mid-circuit measurements or defer them."
            )
        if q not in qindex:
            raise ValueError(
                f"Operation {_op_str(op)} acts on qubit {q}, which is not in "
                f"qubits={sorted(qindex, key=qindex.get)!r}."
            )


def _channel_item(op, idx) -> ChannelItem:
    """A non-unitary operation as a mixture or a Kraus channel."""
    if cirq.is_parameterized(op):
        raise ValueError(
            f"Operation {_op_str(op)} is a parameterized channel; only channels with numeric "
            f"parameters are supported. Resolve its parameters first."
        )
    if cirq.has_mixture(op):
        mix = cirq.mixture(op)
        probs = np.array([p for p, _ in mix], dtype=np.float64)
        mats = np.stack([np.asarray(u, dtype=np.complex128) for _, u in mix])
        return ChannelItem(idx, probs / probs.sum(), mats, _op_str(op))
    if cirq.has_kraus(op):
        mats = np.stack([np.asarray(k, dtype=np.complex128) for k in cirq.kraus(op)])
        return ChannelItem(idx, None, mats, _op_str(op))
    raise ValueError(
        f"Operation {_op_str(op)} has no unitary, mixture or Kraus representation, so it "
        f"cannot be simulated. Remove it or replace it by supported gates."
    )


def split_prefix(items: list, n: int) -> Tuple[Dict[int, List[Fourier]], list]:
    """Split off the single-qubit gates that act on each qubit before anything else touches it.

    Applied to |0...0>, those gates leave a *product state*, so the simulator builds that state
    from n two-component vectors (one outer product per qubit) instead of running the gates on the
    full register. This covers every angle encoding (rx/ry/rz of the features, often followed by
    a first layer of trainable rotations). Moving a gate ahead of gates on other qubits is exact:
    operations on disjoint qubits commute.

    Returns:
        (prefix, rest): ``prefix[q]`` is the list of 2x2 Fourier forms acting first on qubit
        ``q`` (circuit order), ``rest`` the remaining items in circuit order.
    """
    prefix: Dict[int, List[Fourier]] = {}
    closed = set()
    rest = []
    for it in items:
        if isinstance(it, GateItem) and len(it.qubits) == 1 and it.qubits[0] not in closed:
            prefix.setdefault(it.qubits[0], []).append(it.fourier)
            continue
        closed.update(it.qubits)
        rest.append(it)
    return prefix, rest


# --------------------------------------------------------------------------------------
# Fusion
# --------------------------------------------------------------------------------------
@dataclasses.dataclass
class Unit:
    """A fused block: `chain` applied right-to-left order (chain[0] first) on `qubits`."""

    qubits: Tuple[int, ...]  # block qubit order (sorted register indices)
    chain: List[Fourier]


def merge_chain(chain: List[Fourier], max_terms: int) -> List[Fourier]:
    """Multiply neighbours when cheap: constants always, parameterized while terms stay small.

    Used by fusion here and by the engine for the per-qubit chains of the product-state prefix."""
    out: List[Fourier] = []
    for f in chain:
        if out:
            prev = out[-1]
            if f.is_const or prev.is_const or f.n_terms * prev.n_terms <= max_terms:
                out[-1] = f @ prev
                continue
        out.append(f)
    return out


def fuse(items: list, k: int, max_terms: int = 16) -> list:
    """Greedy fusion of gates into blocks of at most max(k, gate size) qubits.

    Returns a list of Unit / ChannelItem in a valid execution order.
    """
    open_blocks: List[Tuple[set, List[GateItem]]] = []
    out: list = []

    def close(block):
        qs, gates = block
        bq = tuple(sorted(qs))
        chain = []
        for g in gates:
            pos = [bq.index(q) for q in g.qubits]
            chain.append(
                Fourier({kk: _embed(c, pos, len(bq)) for kk, c in g.fourier.terms.items()})
            )
        out.append(Unit(bq, merge_chain(chain, max_terms)))

    for it in items:
        q = set(it.qubits)
        inter = [b for b in open_blocks if b[0] & q]
        if isinstance(it, ChannelItem):
            for b in inter:
                open_blocks.remove(b)
                close(b)
            out.append(it)
            continue
        limit = max(k, len(q))
        inter.sort(key=lambda b: -len(b[0]))
        while inter and len(q.union(*[b[0] for b in inter])) > limit:
            b = inter.pop(0)
            open_blocks.remove(b)
            close(b)
        if inter:
            merged_q = set(q).union(*[b[0] for b in inter])
            # Blocks on disjoint qubits commute, so concatenation in any order is exact: grow the
            # longest block's list in place (copying it at every gate would make long circuits on
            # few qubits quadratic).
            gates = max(inter, key=lambda b: len(b[1]))[1]
            for b in inter:
                open_blocks.remove(b)
                if b[1] is not gates:
                    gates.extend(b[1])
            gates.append(it)
            open_blocks.append((merged_q, gates))
        else:
            open_blocks.append((set(q), [it]))
    for b in open_blocks:
        close(b)
    return out


# --------------------------------------------------------------------------------------
# Classification and scheduling
# --------------------------------------------------------------------------------------
def _monomial(u: np.ndarray):
    """(cols, phases) if u has exactly one nonzero per row and column, else None."""
    nz = np.abs(u) > 1e-9
    if not (np.all(nz.sum(1) == 1) and np.all(nz.sum(0) == 1)):
        return None
    cols = nz.argmax(1)
    return cols, u[np.arange(u.shape[0]), cols]


def classify(unit: Unit):
    """Kind of a unit: 'identity', 'const_diag', 'perm', 'const_dense', 'diag', 'dense'."""
    if len(unit.chain) == 1 and unit.chain[0].is_const:
        u = unit.chain[0].const_matrix()
        if np.allclose(u, np.eye(u.shape[0]), atol=1e-9):
            return "identity"
        if np.allclose(u, np.diag(np.diag(u)), atol=1e-12):
            return "const_diag"
        if _monomial(u) is not None:
            return "perm"
        return "const_dense"
    if len(unit.chain) == 1 and unit.chain[0].is_diag:
        return "diag"
    return "dense"


def schedule(units: list) -> list:
    """Topological order that delays constant permutations so that runs of them can merge."""
    kinds = [classify(u) if isinstance(u, Unit) else "channel" for u in units]
    n = len(units)
    last: Dict[int, int] = {}
    deps = [set() for _ in range(n)]
    users = [[] for _ in range(n)]
    for i, u in enumerate(units):
        for q in u.qubits:
            if q in last:
                deps[i].add(last[q])
            last[q] = i
        for d in deps[i]:
            users[d].append(i)
    indeg = [len(d) for d in deps]
    ready = [i for i in range(n) if indeg[i] == 0]
    order = []
    while ready:
        ready.sort()
        pick = next((i for i in ready if kinds[i] != "perm"), None)
        if pick is None:
            pick = ready[0]
        ready.remove(pick)
        order.append(pick)
        for j in users[pick]:
            indeg[j] -= 1
            if indeg[j] == 0:
                ready.append(j)
    return [(units[i], kinds[i]) for i in order]


# --------------------------------------------------------------------------------------
# Plan with axis layouts
# --------------------------------------------------------------------------------------
@dataclasses.dataclass
class Step:
    """One step of a plan: the qubits it acts on (in the order of its matrix axes) and the state's
    axis layout before and after it. One record type per kind of step (below); ``kind`` names it
    for reports and the cost model."""

    kind: ClassVar[str] = ""
    targets: Tuple[int, ...]
    layout_in: Tuple[int, ...]
    layout_out: Tuple[int, ...]

    @property
    def parameterized(self) -> bool:
        return False


@dataclasses.dataclass
class MatrixStep(Step):
    """A gate block given as a constant (already reordered to ``targets``) or as a chain of
    Fourier forms whose product it is (earliest gate first)."""

    const: Optional[np.ndarray] = None
    chain: Optional[List[Fourier]] = None

    @property
    def parameterized(self) -> bool:
        return self.chain is not None


@dataclasses.dataclass
class DenseStep(MatrixStep):
    """A block matrix applied by one GEMM after moving its qubits to the trailing axes."""

    kind: ClassVar[str] = "dense"
    mode: str = "general"  # 'trail' (targets already trailing) | 'general' (a transpose first)


@dataclasses.dataclass
class DiagStep(MatrixStep):
    """A diagonal block (its diagonal in ``const`` / the chain), applied in the current layout."""

    kind: ClassVar[str] = "diag"


@dataclasses.dataclass
class PermStep(Step):
    """A monomial block (a permutation with phases): one gather over a span of layout axes."""

    kind: ClassVar[str] = "perm"
    index: np.ndarray = None  # gather index over the span (layout coordinates)
    inv_index: np.ndarray = None
    phase: Optional[np.ndarray] = None  # phases over the span, or None
    span: Tuple[int, int] = (0, 0)  # (first layout axis, number of axes) the index covers


@dataclasses.dataclass
class ChannelStep(Step):
    """A noise channel: one of its operators drawn per example and trajectory."""

    kind: ClassVar[str] = "channel"
    channel: ChannelItem = None
    channel_id: int = -1  # column of the random numbers drawn for channels
    mode: str = "general"  # as for DenseStep


def _layout_to_canon(layout: Sequence[int], n: int) -> np.ndarray:
    """canon[i] = canonical basis index of flat index i in `layout`."""
    i = np.arange(2**n, dtype=np.int64)
    canon = np.zeros(2**n, dtype=np.int64)
    for j, q in enumerate(layout):  # bit by bit: a (2**n, n) table of bits would be n times larger
        canon |= ((i >> (n - 1 - j)) & 1) << (n - 1 - q)
    return canon


def _perm_full(u: np.ndarray, targets: Sequence[int], layout: Sequence[int], n: int):
    """Full-state gather index/phases (in `layout` coordinates) of a monomial gate."""
    cols, ph = _monomial(u)
    k = len(targets)
    canon = _layout_to_canon(layout, n)
    inv_canon = np.empty_like(canon)
    inv_canon[canon] = np.arange(2**n)
    # sub-index of target bits
    r = np.zeros(2**n, dtype=np.int64)
    for j, q in enumerate(targets):
        r |= ((canon >> (n - 1 - q)) & 1) << (k - 1 - j)
    c = cols[r]
    src = canon.copy()
    for j, q in enumerate(targets):
        bit = (c >> (k - 1 - j)) & 1
        src = (src & ~(1 << (n - 1 - q))) | (bit << (n - 1 - q))
    index = inv_canon[src]
    return index, ph[r]


# A permutation on qubits that are not adjacent gathers the whole state by a full index (2**n
# entries) up to FULL_PERM_QUBITS; above, where that gather costs more passes over the state than
# the transpose and GEMM of a block of up to 5 qubits (`cost.py`), it runs as a dense step.
FULL_PERM_QUBITS = 16
# A permutation whose qubits lie within this many adjacent layout axes, none of them the last one,
# gathers slices along that run of axes only (an index of 2**span entries instead of 2**n, a
# fraction of a full gather's time). Spans ending at the last axis gather 8-byte slices, as slow
# as the full gather.
LOCAL_PERM_SPAN = 12


def _local_perm(u: np.ndarray, targets: Sequence[int], layout: Sequence[int], n: int):
    """(span, index, phases) of a monomial gate on a run of layout axes, or None."""
    pos = [layout.index(q) for q in targets]
    start, stop = min(pos), max(pos) + 1
    if stop == n or stop - start > LOCAL_PERM_SPAN:
        return None
    m = stop - start
    idx, ph = _perm_full(u, [p - start for p in pos], tuple(range(m)), m)
    return (start, m), idx, ph


def _lift_perm(span, idx, ph, new_span):
    """The gather index/phases of a permutation on ``span`` as one on the wider ``new_span``."""
    (s0, m0), (s1, m1) = span, new_span
    hi, lo = s0 - s1, (s1 + m1) - (s0 + m0)  # axes of new_span before / after span
    u = np.arange(2**m1, dtype=np.int64)
    mid = (u >> lo) & (2**m0 - 1)
    out = (u & ~(((1 << m0) - 1) << lo)) | (idx[mid] << lo)
    assert hi >= 0 and lo >= 0
    return out, ph[mid]


def _perm_step(u, bq, layout, n, prev):
    """A 'perm' step for the monomial ``u`` on qubits ``bq`` (merged into ``prev``, the previous
    step, when that is a permutation too and the two fit one span), or None when it must run as a
    dense step (more than FULL_PERM_QUBITS qubits and no short span)."""
    local = _local_perm(u, bq, layout, n)
    if local is None and n > FULL_PERM_QUBITS:
        return None, False
    if local is None:
        span, (idx, ph) = (0, n), _perm_full(u, bq, layout, n)
    else:
        span, idx, ph = local
    merged = False
    if isinstance(prev, PermStep):
        lo = min(span[0], prev.span[0])
        hi = max(span[0] + span[1], prev.span[0] + prev.span[1])
        union = (lo, hi - lo)
        if union[1] == n or (hi < n and union[1] <= LOCAL_PERM_SPAN):
            pph = prev.phase if prev.phase is not None else np.ones(2 ** prev.span[1], complex)
            pidx, pph = _lift_perm(prev.span, prev.index, pph, union)
            idx, ph = _lift_perm(span, idx, ph, union)
            idx, ph, span, merged = pidx[idx], ph * pph[idx], union, True
    ph = None if np.allclose(ph, 1.0) else ph
    inv = np.empty_like(idx)
    inv[idx] = np.arange(idx.size)
    return PermStep(
        targets=tuple(bq),
        layout_in=layout,
        layout_out=layout,
        index=idx,
        inv_index=inv,
        phase=ph,
        span=span,
    ), merged


def _dense_layout(layout, bq):
    """(mode, order, layout_out) for a step on block qubits bq: targets end up trailing."""
    k, n = len(bq), len(layout)
    pos = [layout.index(q) for q in bq]
    if sorted(pos) == list(range(n - k, n)):
        return "trail", sorted(range(k), key=lambda j: pos[j]), layout
    return "general", list(range(k)), tuple(q for q in layout if q not in bq) + tuple(bq)


def plan(scheduled: list, n: int) -> Tuple[List[Step], Tuple[int, ...]]:
    """Turn scheduled units into steps with axis layouts. Returns (steps, final layout).

    Dense steps and channels move their target qubits to the trailing axes (a transpose
    unless they already are), so the matrix multiply is a plain batched GEMM; diagonal and
    permutation steps keep the layout.
    """
    layout = tuple(range(n))
    steps: List[Step] = []
    n_channels = 0
    for unit, kind in scheduled:
        if kind == "identity":
            continue
        if kind == "channel":
            ch: ChannelItem = unit
            mode, order, lay_out = _dense_layout(layout, tuple(ch.qubits))
            mats = np.stack([_permute_matrix(m, order) for m in ch.mats])
            ch2 = ChannelItem(tuple(ch.qubits[j] for j in order), ch.probs, mats, ch.name)
            steps.append(
                ChannelStep(
                    targets=ch2.qubits,
                    layout_in=layout,
                    layout_out=lay_out,
                    mode=mode,
                    channel=ch2,
                    channel_id=n_channels,
                )
            )
            n_channels += 1
            layout = lay_out
            continue
        bq = unit.qubits
        k = len(bq)
        if kind == "perm":
            step, merged = _perm_step(
                unit.chain[0].const_matrix(), bq, layout, n, steps[-1] if steps else None
            )
            if step is not None:
                if merged:
                    steps.pop()
                steps.append(step)
                continue
            kind = "const_dense"
        pos = [layout.index(q) for q in bq]
        if kind in ("const_diag", "diag"):
            order = sorted(range(k), key=lambda j: pos[j])  # targets in layout order
            targets = tuple(bq[j] for j in order)
            if kind == "const_diag":
                const = _permute_matrix(np.diag(unit.chain[0].const_matrix()), order)
                steps.append(
                    DiagStep(targets=targets, layout_in=layout, layout_out=layout, const=const)
                )
            else:
                chain = [
                    f.map(lambda c, order=order: _permute_matrix(np.diag(c), order))
                    for f in unit.chain
                ]
                steps.append(
                    DiagStep(targets=targets, layout_in=layout, layout_out=layout, chain=chain)
                )
            continue
        mode, order, lay_out = _dense_layout(layout, bq)
        targets = tuple(bq[j] for j in order)
        if kind == "const_dense":
            m = np.eye(2**k, dtype=complex)
            for f in unit.chain:
                m = f.const_matrix() @ m
            steps.append(
                DenseStep(
                    targets=targets,
                    layout_in=layout,
                    layout_out=lay_out,
                    mode=mode,
                    const=_permute_matrix(m, order),
                )
            )
        else:
            chain = [f.map(lambda c, order=order: _permute_matrix(c, order)) for f in unit.chain]
            steps.append(
                DenseStep(
                    targets=targets,
                    layout_in=layout,
                    layout_out=lay_out,
                    mode=mode,
                    chain=chain,
                )
            )
        layout = lay_out
    return steps, layout
