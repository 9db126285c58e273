"""Observables for expectation layers, always as ``cirq.PauliSum`` (what TFQ's ops take).

An int ``qubits`` means ``cirq.GridQubit.rect(1, qubits)``, the same qubits the circuit builders
make for an int, so ``z_observables(4)`` matches ``hardware_efficient(4, ...)``.
"""

from __future__ import annotations

import cirq

from tfq_layers.circuits._validation import QubitsLike, resolve_qubits

__all__ = ["parity", "pauli_observables", "total_z", "z_observables"]

_PAULIS = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def _check_pauli(pauli):
    if isinstance(pauli, cirq.Pauli):
        return pauli
    if isinstance(pauli, str) and pauli.upper() in _PAULIS:
        return _PAULIS[pauli.upper()]
    raise ValueError(f"pauli must be 'X', 'Y' or 'Z' (or cirq.X/cirq.Y/cirq.Z); got {pauli!r}.")


def pauli_observables(qubits: QubitsLike, pauli: str = "Z") -> list[cirq.PauliSum]:
    """One single-qubit Pauli observable per qubit: ``[P(q_0), P(q_1), ...]``.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        pauli: ``"X"``, ``"Y"`` or ``"Z"`` (any case), or ``cirq.X``/``cirq.Y``/``cirq.Z``.

    Returns:
        A list of ``n`` ``cirq.PauliSum``, the ``i``-th being ``1.0 * P(q_i)``.

    Example:
        >>> [str(o) for o in pauli_observables(2, "x")]
        ['1.000*X(q(0, 0))', '1.000*X(q(0, 1))']
    """
    qs = resolve_qubits(qubits)
    p = _check_pauli(pauli)
    return [cirq.PauliSum.wrap(p(q)) for q in qs]


def z_observables(qubits: QubitsLike) -> list[cirq.PauliSum]:
    """``Z`` on each qubit: ``[Z(q_0), Z(q_1), ...]`` as ``cirq.PauliSum`` (one output per qubit).

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.

    Returns:
        A list of ``n`` ``cirq.PauliSum``.

    Example:
        >>> len(z_observables(3))
        3
    """
    return pauli_observables(qubits, "Z")


def total_z(qubits: QubitsLike) -> cirq.PauliSum:
    """Total magnetization ``sum_i Z(q_i)`` as one ``cirq.PauliSum`` (expectation in ``[-n, n]``).

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.

    Returns:
        A ``cirq.PauliSum``.

    Example:
        >>> str(total_z(2))
        '1.000*Z(q(0, 0))+1.000*Z(q(0, 1))'
    """
    qs = resolve_qubits(qubits)
    return cirq.PauliSum.from_pauli_strings([cirq.Z(q) for q in qs])


def parity(qubits: QubitsLike) -> cirq.PauliSum:
    """Parity ``Z(q_0) Z(q_1) ... Z(q_{n-1})`` as one ``cirq.PauliSum``.

    Its expectation is ``sum_b p(b) (-1)^{b_0 + ... + b_{n-1}}`` over measured bit strings ``b``:
    ``+1`` for even, ``-1`` for odd parity.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.

    Returns:
        A ``cirq.PauliSum``.

    Example:
        >>> str(parity(2))
        '1.000*Z(q(0, 0))*Z(q(0, 1))'
    """
    qs = resolve_qubits(qubits)
    return cirq.PauliSum.wrap(cirq.PauliString({q: cirq.Z for q in qs}))
