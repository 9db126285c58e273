"""Quantum convolutional neural network blocks (Cong, Choi & Lukin, Nat. Phys. 15, 1273 (2019)).

The blocks follow the parameterization of TensorFlow Quantum's QCNN tutorial: power gates
``P**t`` (``P`` in ``X, Y, Z, XX, YY, ZZ``), where for a Pauli (string) ``P`` with eigenvalues
``+-1``

    P**t = (I + P)/2 + e^{i pi t} (I - P)/2,

so ``t = 1`` is ``P`` itself and ``t = 0`` the identity (no global phase shift). Parameters are
shared within a convolution or pooling layer (translation invariance), as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence

import cirq
import sympy

from tfq_layers.circuits._validation import (
    QubitsLike,
    as_parameters,
    make_symbols,
    neighbour_pairs,
    resolve_qubits,
)

__all__ = [
    "CONV_PARAMS",
    "POOL_PARAMS",
    "cluster_state_circuit",
    "qcnn",
    "qcnn_shape",
    "quantum_conv",
    "quantum_pool",
    "two_qubit_pool",
    "two_qubit_unitary",
]

#: Number of parameters of :func:`two_qubit_unitary` (and of one :func:`quantum_conv` layer).
CONV_PARAMS = 15
#: Number of parameters of :func:`two_qubit_pool` (and of one :func:`quantum_pool` layer).
POOL_PARAMS = 6


def _one_qubit(qubit, params):
    """``X**a``, then ``Y**b``, then ``Z**c`` on ``qubit``."""
    a, b, c = params
    return [(cirq.X**a).on(qubit), (cirq.Y**b).on(qubit), (cirq.Z**c).on(qubit)]


def _check_pair(q0, q1, names):
    qs = resolve_qubits([q0, q1], what=f"({names})")
    return qs[0], qs[1]


def two_qubit_unitary(q0, q1, symbols):
    """Parameterized two-qubit block of the QCNN convolution (15 parameters ``s_0 .. s_14``).

    Gates in time order:

    1. ``X**s_0, Y**s_1, Z**s_2`` on ``q0`` and ``X**s_3, Y**s_4, Z**s_5`` on ``q1``;
    2. ``ZZ**s_6``, then ``YY**s_7``, then ``XX**s_8`` on ``(q0, q1)``;
    3. ``X**s_9, Y**s_10, Z**s_11`` on ``q0`` and ``X**s_12, Y**s_13, Z**s_14`` on ``q1``.

    Args:
        q0: first qubit (``cirq.GridQubit``/``cirq.LineQubit``).
        q1: second qubit, different from ``q0``.
        symbols: 15 parameters (sympy symbols or expressions, names, or numbers).

    Returns:
        A ``cirq.Circuit``.

    Example:
        >>> import sympy
        >>> a, b = cirq.GridQubit.rect(1, 2)
        >>> len(list(two_qubit_unitary(a, b, sympy.symbols("s0:15")).all_operations()))
        15
    """
    q0, q1 = _check_pair(q0, q1, "q0, q1")
    s = as_parameters(symbols, CONV_PARAMS)
    circuit = cirq.Circuit(_one_qubit(q0, s[0:3]), _one_qubit(q1, s[3:6]))
    circuit.append(
        [(cirq.ZZ ** s[6]).on(q0, q1), (cirq.YY ** s[7]).on(q0, q1), (cirq.XX ** s[8]).on(q0, q1)]
    )
    circuit.append([_one_qubit(q0, s[9:12]), _one_qubit(q1, s[12:15])])
    return circuit


def two_qubit_pool(source, sink, symbols):
    """QCNN pooling block (6 parameters): moves information from ``source`` into ``sink``.

    With ``V(a, b, c) = Z**c Y**b X**a`` (gates ``X**a, Y**b, Z**c`` in time order), the block is

        V_sink(s_0..s_2)^dagger  CNOT(source -> sink)  [V_sink(s_0..s_2) (x) V_source(s_3..s_5)]

    i.e. a basis choice on both qubits, a CNOT controlled by ``source``, and the inverse of the
    sink's basis choice. ``source`` is afterwards ignored (traced out) by later layers.

    Args:
        source: the qubit being pooled away.
        sink: the qubit that keeps the information, different from ``source``.
        symbols: 6 parameters (sympy symbols or expressions, names, or numbers).

    Returns:
        A ``cirq.Circuit``.

    Example:
        >>> import sympy
        >>> a, b = cirq.GridQubit.rect(1, 2)
        >>> circuit = two_qubit_pool(a, b, sympy.symbols("p0:6"))
    """
    source, sink = _check_pair(source, sink, "source, sink")
    s = as_parameters(symbols, POOL_PARAMS)
    sink_basis = cirq.Circuit(_one_qubit(sink, s[0:3]))
    circuit = cirq.Circuit(sink_basis, _one_qubit(source, s[3:6]))
    circuit.append(cirq.CNOT(source, sink))
    circuit.append(cirq.inverse(sink_basis))
    return circuit


def _conv_pairs(n, periodic):
    first = [(i, i + 1) for i in range(0, n - 1, 2)]
    second = [(i, i + 1) for i in range(1, n - 1, 2)]
    if periodic and n % 2 == 0:
        second.append((n - 1, 0))
    return first + second


def _conv(qs, params, periodic=True):
    circuit = cirq.Circuit()
    for i, j in _conv_pairs(len(qs), periodic):
        circuit.append(two_qubit_unitary(qs[i], qs[j], params).all_operations())
    return circuit


def _pool(sources, sinks, params):
    circuit = cirq.Circuit()
    for source, sink in zip(sources, sinks):
        circuit.append(two_qubit_pool(source, sink, params).all_operations())
    return circuit


def quantum_conv(
    qubits: QubitsLike, prefix: str = "conv", periodic: bool = True
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """QCNN convolution layer: :func:`two_qubit_unitary` with ONE shared set of 15 parameters.

    Applied first on the pairs ``(q_0, q_1), (q_2, q_3), ...`` and then on
    ``(q_1, q_2), (q_3, q_4), ...``; with ``periodic=True`` and an even number of qubits the second
    round ends with the wrap-around pair ``(q_{n-1}, q_0)`` (for two qubits: ``(q_0, q_1)`` then
    ``(q_1, q_0)``), as in TFQ's QCNN tutorial.

    Args:
        qubits: int ``n >= 2`` or a sequence of at least two ``cirq.GridQubit``/``cirq.LineQubit``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix14``.
        periodic: include the wrap-around pair (default ``True``).

    Returns:
        ``(circuit, symbols)`` with 15 symbols.

    Example:
        >>> circuit, ss = quantum_conv(4)
        >>> len(ss)
        15
    """
    qs = resolve_qubits(qubits, minimum=2)
    symbols = make_symbols(prefix, CONV_PARAMS)
    return _conv(qs, symbols, bool(periodic)), symbols


def quantum_pool(
    sources: Sequence[cirq.Qid], sinks: Sequence[cirq.Qid], prefix: str = "pool"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """QCNN pooling layer: :func:`two_qubit_pool` on each ``(sources[k], sinks[k])``.

    All pairs share the same 6 parameters.

    Args:
        sources: qubits to pool away (sequence of ``cirq.GridQubit``/``cirq.LineQubit``).
        sinks: as many qubits receiving the information, disjoint from ``sources``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix5``.

    Returns:
        ``(circuit, symbols)`` with 6 symbols.

    Example:
        >>> qs = cirq.GridQubit.rect(1, 4)
        >>> circuit, ss = quantum_pool(qs[:2], qs[2:])
        >>> len(ss)
        6
    """
    src = resolve_qubits(sources, what="sources")
    dst = resolve_qubits(sinks, what="sinks")
    if len(src) != len(dst):
        raise ValueError(
            f"sources and sinks must have the same length; got {len(src)} sources "
            f"{src!r} and {len(dst)} sinks {dst!r}."
        )
    resolve_qubits(src + dst, what="sources + sinks (they must not share a qubit)")
    symbols = make_symbols(prefix, POOL_PARAMS)
    return _pool(src, dst, symbols), symbols


def _levels(n):
    if n < 2 or n & (n - 1):
        raise ValueError(
            f"qcnn needs a power-of-two number of qubits >= 2 (e.g. 8 for "
            f"8 -> 4 -> 2 -> 1); got {n}."
        )
    return n.bit_length() - 1


def qcnn_shape(n_qubits: QubitsLike) -> tuple[int]:
    """Shape ``(21 * log2(n),)`` of :func:`qcnn`'s symbols (15 conv + 6 pool per level).

    Example:
        >>> qcnn_shape(8)
        (63,)
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    return ((CONV_PARAMS + POOL_PARAMS) * _levels(n),)


def qcnn(qubits: QubitsLike, prefix: str = "w") -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Full QCNN: convolution + pooling per level, halving the qubits until one is left.

    With ``n = 2^k`` qubits and ``active = q_0 .. q_{n-1}``, level ``m = 0 .. k-1`` applies
    :func:`quantum_conv` (periodic) on ``active`` with parameters ``w{21m} .. w{21m+14}``, then
    :func:`quantum_pool` from the first half of ``active`` into the second half (``active[i]``
    into ``active[i + len/2]``) with ``w{21m+15} .. w{21m+20}``; the second half stays active. For
    8 qubits this is the 8 -> 4 -> 2 -> 1 network of TFQ's QCNN tutorial (63 parameters), read out
    on the last qubit (measure e.g. ``Z`` there).

    Args:
        qubits: int ``n`` (a power of two, >= 2) or a sequence of ``n`` Grid/Line qubits.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{21k-1}``.

    Returns:
        ``(circuit, symbols, readout_qubit)``; ``readout_qubit`` is ``qubits[-1]``.

    Example:
        >>> circuit, ws, readout = qcnn(8)
        >>> len(ws), readout
        (63, cirq.GridQubit(0, 7))
    """
    qs = resolve_qubits(qubits)
    levels = _levels(len(qs))
    per_level = CONV_PARAMS + POOL_PARAMS
    symbols = make_symbols(prefix, per_level * levels)
    circuit = cirq.Circuit()
    active = qs
    for m in range(levels):
        params = symbols[per_level * m : per_level * (m + 1)]
        circuit.append(_conv(active, params[:CONV_PARAMS]).all_operations())
        half = len(active) // 2
        circuit.append(_pool(active[:half], active[half:], params[CONV_PARAMS:]).all_operations())
        active = active[half:]
    return circuit, symbols, active[0]


def cluster_state_circuit(qubits: QubitsLike) -> cirq.Circuit:
    """Cluster-state preparation: ``H`` on every qubit, then ``CZ`` around the ring.

    The ``CZ`` gates act on ``(q_0, q_1), (q_1, q_2), ..., (q_{n-2}, q_{n-1})`` and, for
    ``n > 2``, ``(q_{n-1}, q_0)`` (two qubits get a single ``CZ``). For ``n >= 3`` this is exactly
    the unexcited reference circuit of ``tfq.datasets.excited_cluster_states(qubits)`` (which needs
    ``n >= 3`` GridQubits). The state is the stabilizer state with ``K_i |psi> = |psi>`` for
    ``K_i = X_i prod_{j in N(i)} Z_j``, ``N(i)`` the CZ neighbours of qubit ``i``
    (``i-1, i+1 mod n`` for ``n >= 3``).

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.

    Returns:
        A ``cirq.Circuit`` (no symbols).

    Example:
        >>> print(cluster_state_circuit(3))  # doctest: +SKIP
    """
    qs = resolve_qubits(qubits)
    n = len(qs)
    circuit = cirq.Circuit(cirq.H.on_each(*qs))
    circuit.append(cirq.CZ(qs[i], qs[j]) for i, j in neighbour_pairs(n, "ring"))
    return circuit
