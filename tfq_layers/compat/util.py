"""TFQ's ``tfq.util`` helpers that TFQ programs call, written for this package.

``exponential(operators, coefficients)``: the circuit of ``prod_k exp(-i t_k H_k)`` for Pauli
sums ``H_k`` whose terms commute, with TFQ's argument rules.
"""

import itertools
import numbers

import cirq
import numpy as np
import sympy

from tfq_layers.compat.exceptions import TFQArgumentError

__all__ = ["exponential"]


def _as_sum(op):
    return cirq.PauliSum.from_pauli_strings([op]) if isinstance(op, cirq.PauliString) else op


def _coefficient(value):
    if isinstance(value, str):
        return sympy.Symbol(value)
    if isinstance(value, (sympy.Basic, numbers.Real)):
        return value
    raise TFQArgumentError(
        "Each element in coefficients must be a float or a string or sympy.Symbol; got "
        f"{value!r} of type {type(value).__name__}."
    )


def _identity_phase(phase, qubit):
    """``exp(-i * phase)`` as gates on ``qubit``: ``X Z^a X Z^a = exp(i pi a) I``."""
    a = -phase / sympy.pi if isinstance(phase, sympy.Basic) else -phase / np.pi
    return [cirq.X(qubit), cirq.Z(qubit) ** a, cirq.X(qubit), cirq.Z(qubit) ** a]


def _term(term, t, reference):
    """``exp(-i * c * t * P)`` for one Pauli string ``c * P``: each qubit's basis turned to Z,
    a CNOT ladder onto the last qubit, ``rz(2 c t)`` there, and everything undone."""
    c = complex(term.coefficient)
    if abs(c.imag) > 1e-12:
        raise ValueError(
            f"term {term} has a complex coefficient; exponential needs Hermitian operators "
            "(real coefficients)."
        )
    angle = c.real * t
    if not term:  # the identity: a global phase
        return _identity_phase(angle, reference)
    qubits = sorted(term.qubits)
    to_z = {cirq.X: cirq.H, cirq.Y: cirq.rx(np.pi / 2), cirq.Z: None}
    basis = [to_z[term[q]].on(q) for q in qubits if to_z[term[q]] is not None]
    ladder = [cirq.CNOT(a, b) for a, b in zip(qubits, qubits[1:])]
    return (
        basis
        + ladder
        + [cirq.rz(2 * angle).on(qubits[-1])]
        + ladder[::-1]
        + [cirq.inverse(op) for op in basis[::-1]]
    )


def exponential(operators, coefficients=None):
    """The circuit of ``exp(-i t_1 H_1) exp(-i t_2 H_2) ...`` (TFQ's ``tfq.util.exponential``).

    Each ``H_k`` is a ``cirq.PauliSum`` (or ``cirq.PauliString``) whose terms commute, so its
    exponential is the product of its terms' exponentials; the identity term is a global phase
    (made of gates on the operators' first qubit, so that it survives serialization).

    Args:
        operators: a list or tuple of ``cirq.PauliSum``/``cirq.PauliString`` with real
            coefficients.
        coefficients: the ``t_k``: floats, strings (symbol names) or ``sympy`` expressions;
            default all ``1.0``.

    Returns:
        A ``cirq.Circuit`` of H, rx, CNOT, rz (and X, Z powers for identity terms).

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> c = exponential([cirq.X(q[0]) * cirq.X(q[1])], ["t"])
        >>> u = cirq.unitary(cirq.resolve_parameters(c, {"t": 0.3}))
        >>> xx = np.kron(cirq.unitary(cirq.X), cirq.unitary(cirq.X))
        >>> bool(np.allclose(u, np.cos(0.3) * np.eye(4) - 1j * np.sin(0.3) * xx))
        True
    """
    if not isinstance(operators, (list, tuple)):
        raise TFQArgumentError(
            f"operators is not a list of operators; got {type(operators).__name__}."
        )
    if not all(isinstance(op, (cirq.PauliSum, cirq.PauliString)) for op in operators):
        raise TFQArgumentError(
            "Each element in operators must be a cirq.PauliSum or cirq.PauliString object."
        )
    if coefficients is None:
        coefficients = [1.0] * len(operators)
    if not isinstance(coefficients, (list, tuple, np.ndarray)):
        raise TFQArgumentError("coefficients is not a list of coefficients.")
    if len(coefficients) != len(operators):
        raise ValueError(
            f"the number of operators should be the same as that of coefficients. Got "
            f"{len(operators)} operators and {len(coefficients)} coefficients."
        )
    sums = [_as_sum(op) for op in operators]
    qubits = sorted({q for s in sums for q in s.qubits})
    reference = qubits[0] if qubits else cirq.GridQubit(0, 0)
    circuit = cirq.Circuit()
    for k, (psum, t) in enumerate(zip(sums, coefficients)):
        terms = list(psum)
        for a, b in itertools.combinations(terms, 2):
            if not cirq.commutes(a, b):
                raise ValueError(
                    f"operators[{k}]: terms {a} and {b} do not commute; exponential needs "
                    "commuting terms (split the operator, or Trotterize it yourself)."
                )
        for term in terms:
            circuit.append(_term(term, _coefficient(t), reference))
    return circuit
