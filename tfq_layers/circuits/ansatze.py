"""Trainable ansatze (variational circuits) with shape helpers to size their weights.

Each builder returns ``(circuit, symbols)`` with the trainable symbols in natural order, which for
these builders is also row-major order of the documented shape: ``w_l_q_k`` is the ``k``-th angle of
qubit ``q`` in layer ``l``. ``<name>_shape(n_qubits, layers)`` returns that shape, so
``math.prod(shape) == len(symbols)``.

Conventions: ``rx(t) = exp(-i t X / 2)`` (likewise ``ry``, ``rz``), exactly as ``cirq.rx``;
``CNOT(a, b)`` has control ``a`` and target ``b``; an int ``qubits`` means
``cirq.GridQubit.rect(1, qubits)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numbers

import cirq
import sympy

from tfq_layers.circuits._validation import (
    QubitsLike,
    ROTATIONS,
    check_choice,
    check_int,
    check_names,
    check_rotation,
    make_symbols,
    neighbour_pairs,
    resolve_qubits,
)

__all__ = [
    "basic_entangler",
    "basic_entangler_shape",
    "born_ansatz",
    "hardware_efficient",
    "hardware_efficient_shape",
    "strongly_entangling",
    "strongly_entangling_ranges",
    "strongly_entangling_shape",
]

_ENTANGLERS = {"cz": cirq.CZ, "cnot": cirq.CNOT}


def _check_rotations(rotations):
    return check_names(rotations, "rotations", ROTATIONS, "rotation")


def hardware_efficient_shape(
    n_qubits: QubitsLike, layers: int, rotations: Sequence[str] = ("ry", "rz")
) -> tuple[int, int, int]:
    """Shape ``(layers, n_qubits, len(rotations))`` of :func:`hardware_efficient`'s symbols.

    Args:
        n_qubits: int ``n`` or a sequence of qubits (its length is used).
        layers: number of layers (int >= 1).
        rotations: the rotation names passed to :func:`hardware_efficient`.

    Returns:
        A tuple ``(L, n, R)``.

    Example:
        >>> hardware_efficient_shape(4, layers=2)
        (2, 4, 2)
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    return (check_int(layers, "layers"), n, len(_check_rotations(rotations)))


def hardware_efficient(
    qubits: QubitsLike,
    layers: int,
    rotations: Sequence[str] = ("ry", "rz"),
    entangler: str = "cz",
    topology: str = "ring",
    prefix: str = "w",
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Hardware-efficient ansatz (Kandala et al., Nature 549, 242 (2017) style).

    Each layer ``l`` applies, on every qubit ``q``, the rotations named in ``rotations`` in that
    order with angles ``w_{l,q,0}, w_{l,q,1}, ...`` (for the default ``("ry", "rz")``:
    ``ry(w_l_q_0)`` then ``rz(w_l_q_1)``), followed by the two-qubit ``entangler`` ``E``
    (``CZ`` or ``CNOT``) on the neighbouring pairs ``(0, 1), (1, 2), ..., (n-2, n-1)`` in that
    order, and for ``topology="ring"`` with ``n > 2`` also ``(n-1, 0)`` (a 2-qubit ring is a line,
    since the closing pair would repeat ``(0, 1)``). One qubit gets no entanglers. The layer
    unitary is

        U_l = E  (x)_q [ R_{K-1}(w_{l,q,K-1}) ... R_0(w_{l,q,0}) ],   U = U_{L-1} ... U_0.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        layers: number of layers ``L`` (int >= 1).
        rotations: non-empty sequence of ``"rx"``, ``"ry"``, ``"rz"`` (a single name is allowed).
        entangler: ``"cz"`` or ``"cnot"`` (``CNOT(q_i, q_j)``: control ``i``, target ``j``).
        topology: ``"ring"`` or ``"line"``.
        prefix: symbol-name prefix.

    Returns:
        ``(circuit, symbols)`` with symbols ``w_l_q_k`` of shape
        :func:`hardware_efficient_shape` ``(L, n, len(rotations))`` in row-major (= natural) order.

    Example:
        >>> circuit, ws = hardware_efficient(3, layers=2)
        >>> len(ws), str(ws[0]), str(ws[-1])
        (12, 'w_0_0_0', 'w_1_2_1')
    """
    qs = resolve_qubits(qubits)
    layers = check_int(layers, "layers")
    rots = _check_rotations(rotations)
    gate2 = _ENTANGLERS[check_choice(entangler, "entangler", tuple(_ENTANGLERS))]
    topology = check_choice(topology, "topology", ("ring", "line"))
    n, r = len(qs), len(rots)
    symbols = make_symbols(prefix, layers, n, r)
    pairs = neighbour_pairs(n, topology)
    circuit = cirq.Circuit()
    for layer in range(layers):
        for qi, q in enumerate(qs):
            for k, name in enumerate(rots):
                circuit.append(ROTATIONS[name](symbols[(layer * n + qi) * r + k]).on(q))
        circuit.append(gate2(qs[i], qs[j]) for i, j in pairs)
    return circuit, symbols


def strongly_entangling_shape(n_qubits: QubitsLike, layers: int) -> tuple[int, int, int]:
    """Shape ``(layers, n_qubits, 3)`` of :func:`strongly_entangling`'s symbols.

    Example:
        >>> strongly_entangling_shape(4, layers=3)
        (3, 4, 3)
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    return (check_int(layers, "layers"), n, 3)


def strongly_entangling_ranges(n_qubits, layers, ranges=None):
    """The CNOT range ``r_l`` of every layer of :func:`strongly_entangling` (validated).

    Default: ``r_l = (l mod (n - 1)) + 1`` for ``n > 1``; an empty list of CNOTs (ranges ``None``
    each) for ``n = 1``. Given ``ranges`` must hold ``layers`` ints with ``1 <= r_l <= n - 1``.

    Args:
        n_qubits: int ``n`` or a sequence of qubits.
        layers: number of layers (int >= 1).
        ranges: optional sequence of ``layers`` ints.

    Returns:
        A list of ``layers`` ints; for one qubit (no CNOTs) a list of ``layers`` ``None``.

    Example:
        >>> strongly_entangling_ranges(4, layers=4)
        [1, 2, 3, 1]
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    layers = check_int(layers, "layers")
    if n == 1:
        if ranges is not None:
            raise ValueError(
                f"ranges only apply with 2 or more qubits (there are no CNOTs on one "
                f"qubit); got ranges={ranges!r} with 1 qubit. Pass ranges=None."
            )
        return [None] * layers
    if ranges is None:
        return [(layer % (n - 1)) + 1 for layer in range(layers)]
    if isinstance(ranges, (str, bytes)) or not hasattr(ranges, "__len__"):
        raise TypeError(f"ranges must be a sequence of {layers} ints; got {ranges!r}.")
    if len(ranges) != layers:
        raise ValueError(
            f"ranges must hold one int per layer ({layers}); got {len(ranges)}: {list(ranges)!r}."
        )
    out = []
    for r in ranges:
        if isinstance(r, bool) or not isinstance(r, numbers.Integral) or not 1 <= r <= n - 1:
            raise ValueError(
                f"each range must be an int with 1 <= r <= n_qubits - 1 = {n - 1}; "
                f"got {r!r} in ranges={list(ranges)!r}."
            )
        out.append(int(r))
    return out


def strongly_entangling(
    qubits: QubitsLike, layers: int, ranges: Sequence[int] | None = None, prefix: str = "w"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Strongly entangling layers (Schuld, Bocharov, Svore & Wiebe, PRA 101, 032308 (2020)).

    Layer ``l`` first applies on every qubit ``q`` a general rotation, in time order
    ``rz(w_l_q_0) -> ry(w_l_q_1) -> rz(w_l_q_2)``, i.e. the unitary
    ``Rz(w_l_q_2) Ry(w_l_q_1) Rz(w_l_q_0)`` (PennyLane's ``Rot(w_l_q_0, w_l_q_1, w_l_q_2)``), then,
    when ``n > 1``, the CNOTs ``CNOT(q_i, q_{(i + r_l) mod n})`` for ``i = 0, 1, ..., n-1`` in that
    order (control ``i``), with range ``r_l = (l mod (n-1)) + 1`` unless ``ranges`` is given.
    For two qubits this is ``CNOT(0,1)`` then ``CNOT(1,0)`` every layer, as in PennyLane.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        layers: number of layers ``L`` (int >= 1).
        ranges: optional sequence of ``L`` ints in ``[1, n-1]`` (see
            :func:`strongly_entangling_ranges`).
        prefix: symbol-name prefix.

    Returns:
        ``(circuit, symbols)`` with symbols ``w_l_q_k`` of shape ``(L, n, 3)``
        (:func:`strongly_entangling_shape`) in row-major (= natural) order.

    Example:
        >>> circuit, ws = strongly_entangling(4, layers=2, ranges=[1, 2])
        >>> len(ws)
        24
    """
    qs = resolve_qubits(qubits)
    layers = check_int(layers, "layers")
    n = len(qs)
    rs = strongly_entangling_ranges(n, layers, ranges)
    symbols = make_symbols(prefix, layers, n, 3)
    circuit = cirq.Circuit()
    for layer in range(layers):
        for qi, q in enumerate(qs):
            a, b, c = symbols[(layer * n + qi) * 3 : (layer * n + qi) * 3 + 3]
            circuit.append([cirq.rz(a).on(q), cirq.ry(b).on(q), cirq.rz(c).on(q)])
        if n > 1:
            circuit.append(cirq.CNOT(qs[i], qs[(i + rs[layer]) % n]) for i in range(n))
    return circuit, symbols


def basic_entangler_shape(n_qubits: QubitsLike, layers: int) -> tuple[int, int]:
    """Shape ``(layers, n_qubits)`` of :func:`basic_entangler`'s symbols.

    Example:
        >>> basic_entangler_shape(3, layers=2)
        (2, 3)
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    return (check_int(layers, "layers"), n)


def basic_entangler(
    qubits: QubitsLike, layers: int, rotation: str = "rx", prefix: str = "w"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Basic entangler layers (as PennyLane's ``BasicEntanglerLayers``).

    Layer ``l`` applies ``R(w_l_q)`` on every qubit ``q`` (``R`` = ``rotation``), then a ring of
    CNOTs ``CNOT(q_0, q_1), CNOT(q_1, q_2), ..., CNOT(q_{n-2}, q_{n-1})`` and, for ``n > 2``, the
    closing ``CNOT(q_{n-1}, q_0)``. Two qubits get the single ``CNOT(q_0, q_1)``; one qubit none.

        U_l = CNOT_ring  (x)_q R(w_{l,q}),   U = U_{L-1} ... U_0.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        layers: number of layers ``L`` (int >= 1).
        rotation: ``"rx"`` (default), ``"ry"`` or ``"rz"``.
        prefix: symbol-name prefix.

    Returns:
        ``(circuit, symbols)`` with symbols ``w_l_q`` of shape ``(L, n)``
        (:func:`basic_entangler_shape`) in row-major (= natural) order.

    Example:
        >>> circuit, ws = basic_entangler(3, layers=2, rotation="ry")
        >>> [str(w) for w in ws[:3]]
        ['w_0_0', 'w_0_1', 'w_0_2']
    """
    qs = resolve_qubits(qubits)
    layers = check_int(layers, "layers")
    rot = ROTATIONS[check_rotation(rotation)]
    n = len(qs)
    symbols = make_symbols(prefix, layers, n)
    circuit = cirq.Circuit()
    for layer in range(layers):
        circuit.append(rot(symbols[layer * n + qi]).on(q) for qi, q in enumerate(qs))
        circuit.append(cirq.CNOT(qs[i], qs[j]) for i, j in neighbour_pairs(n, "ring"))
    return circuit, symbols


#: The deepest default Born-machine ansatz built (about 1 ms per operation to build and check).
MAX_BORN_LAYERS = 1000


def born_ansatz(qubits, layers, prefix="w"):
    """The default :class:`~tfq_layers.BornMachine` ansatz: rotations and all-to-all Ising couplings.

    Per layer: ``rx(w)`` then ``rz(w)`` on every qubit, then ``ZZ**w`` on every pair ``(i, j)``
    (``exp(-iπ w Z_i Z_j / 2)`` up to phase: the all-to-all couplings of Benedetti et al. 2019, who
    used Mølmer-Sørensen XX gates, equal to ZZ up to basis rotations). A last ``rx``/``rz`` layer
    closes the circuit, so the couplings of the final layer act on the measured distribution.
    Every gate parameter is one symbol, so the ±1/2 parameter-shift rule applies (shot mode).

    Args:
        qubits: int ``n`` (``cirq.GridQubit.rect(1, n)``) or a list of GridQubit/LineQubit.
        layers: number of entangling layers (>= 1).
        prefix: symbol prefix.

    Returns:
        ``(circuit, symbols)`` with symbols in natural order.

    Example:
        >>> circuit, symbols = born_ansatz(3, layers=2)
        >>> len(symbols)   # 2 * (2 * 3 + 3) + 2 * 3
        24
    """
    if isinstance(qubits, numbers.Integral):
        qubits = cirq.GridQubit.rect(1, int(qubits))
    qubits = list(qubits)
    if isinstance(layers, bool) or not isinstance(layers, numbers.Integral) or layers < 1:
        raise ValueError(f"layers must be a positive int; got {layers!r}.")
    if layers > MAX_BORN_LAYERS:
        raise ValueError(
            f"layers={layers} exceeds {MAX_BORN_LAYERS}: the ansatz would take minutes to hours "
            "to build (a saved config with such a count was altered). Use fewer layers, or pass "
            "your own circuit."
        )
    symbols = []

    def new():
        s = sympy.Symbol(f"{prefix}{len(symbols)}")
        symbols.append(s)
        return s

    circuit = cirq.Circuit()
    n = len(qubits)
    for _ in range(layers):
        circuit.append(cirq.rx(new()).on(q) for q in qubits)
        circuit.append(cirq.rz(new()).on(q) for q in qubits)
        for i in range(n):
            for j in range(i + 1, n):
                circuit.append(cirq.ZZPowGate(exponent=new()).on(qubits[i], qubits[j]))
    circuit.append(cirq.rx(new()).on(q) for q in qubits)
    circuit.append(cirq.rz(new()).on(q) for q in qubits)
    return circuit, symbols
