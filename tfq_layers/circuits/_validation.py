"""Argument checks and small helpers shared by the circuit builders (Cirq + sympy only)."""

import numbers
import re
from collections.abc import Sequence

import cirq
import sympy

from tfq_layers._symbols import symbol_grid

#: Single-qubit rotation names accepted by the builders, mapped to the Cirq gate factory.
#: ``cirq.rx(t)`` is ``exp(-i t X / 2)`` (likewise ``ry``/``rz``): an ``XPowGate`` with exponent
#: ``t/pi`` and global shift ``-1/2``, which TFQ serializes.
ROTATIONS = {"rx": cirq.rx, "ry": cirq.ry, "rz": cirq.rz}

#: What the builders accept as ``qubits``: a number of qubits (a ``1 x n`` grid) or the qubits.
QubitsLike = int | cirq.Qid | Sequence[cirq.Qid]

_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def resolve_qubits(qubits, what="qubits", minimum=1):
    """Turn ``qubits`` (an int ``n`` or a sequence of Grid/Line qubits) into a list of qubits.

    An int ``n`` gives ``cirq.GridQubit.rect(1, n)``. A single ``GridQubit``/``LineQubit`` is taken
    as a one-element list. Anything else (``NamedQubit``, strings, duplicates, too few qubits)
    raises ``TypeError``/``ValueError`` naming the offending value.
    """
    if isinstance(qubits, bool):
        raise TypeError(
            f"{what} must be an int or a sequence of cirq.GridQubit/cirq.LineQubit; "
            f"got the bool {qubits!r}."
        )
    if isinstance(qubits, numbers.Integral):
        n = int(qubits)
        if n < minimum:
            raise ValueError(
                f"{what} must be at least {minimum} when given as a number of qubits; got {n}."
            )
        return list(cirq.GridQubit.rect(1, n))
    if isinstance(qubits, (cirq.GridQubit, cirq.LineQubit)):
        qubits = [qubits]
    if isinstance(qubits, (str, bytes)) or not hasattr(qubits, "__iter__"):
        raise TypeError(
            f"{what} must be an int or a sequence of cirq.GridQubit/cirq.LineQubit; "
            f"got {qubits!r} of type {type(qubits).__name__}."
        )
    out = list(qubits)
    for q in out:
        if not isinstance(q, (cirq.GridQubit, cirq.LineQubit)):
            raise TypeError(
                f"{what} must contain only cirq.GridQubit or cirq.LineQubit (the only qubit types "
                f"TensorFlow Quantum simulates); got {q!r} of type {type(q).__name__}. "
                f"Use cirq.GridQubit.rect(1, n) or cirq.LineQubit.range(n)."
            )
    dups = sorted({str(q) for q in out if out.count(q) > 1})
    if dups:
        raise ValueError(f"{what} contain duplicates: {dups}. Give each qubit once.")
    if len(out) < minimum:
        raise ValueError(f"{what} must hold at least {minimum} qubit(s); got {len(out)}: {out!r}.")
    return out


def check_int(value, name, minimum=1):
    """Return ``value`` as an int, raising if it is not an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int >= {minimum}; got {value!r} of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)


def check_prefix(prefix, name="prefix", one_dimensional=True):
    """Check a symbol-name prefix: an identifier-like string.

    For 1-D symbol lists (``x0, x1, ...``) a prefix ending in a digit is rejected because names
    would be ambiguous (prefix ``"x1"`` gives ``x10``, which prefix ``"x"`` also gives).
    """
    if not isinstance(prefix, str):
        raise TypeError(f"{name} must be a string; got {prefix!r} of type {type(prefix).__name__}.")
    if not _PREFIX.match(prefix):
        raise ValueError(
            f"{name} must be a non-empty identifier (letters, digits, underscores, "
            f"not starting with a digit); got {prefix!r}."
        )
    if one_dimensional and prefix[-1].isdigit():
        raise ValueError(
            f"{name}={prefix!r} ends with a digit, so symbol names such as "
            f"'{prefix}0' would be ambiguous; end it with a letter or '_' "
            f"(e.g. {prefix + '_'!r})."
        )
    return prefix


def make_symbols(prefix, *shape, name="prefix"):
    """Validated ``symbol_grid(prefix, *shape)``: flat ``p0, p1, ...`` or ``p_i_j...`` for n-D."""
    check_prefix(prefix, name=name, one_dimensional=len(shape) == 1)
    return symbol_grid(prefix, *shape)


def check_rotation(rotation, name="rotation"):
    """Normalize a rotation name (``'rx'``, ``'ry'``, ``'rz'``, any case) or raise."""
    if not isinstance(rotation, str) or rotation.lower() not in ROTATIONS:
        raise ValueError(f"{name} must be one of {sorted(ROTATIONS)}; got {rotation!r}.")
    return rotation.lower()


def check_choice(value, name, choices):
    """Normalize a string option (any case) that must be one of ``choices``."""
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}.")
    return value.lower()


def check_names(values, name, choices, what):
    """Normalize one name or a non-empty sequence of names (any case), each one of ``choices``.

    Returns a tuple of lower-case names; ``what`` names one item in the "at least one" message.
    """
    if isinstance(values, str):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of names from {sorted(choices)}; got {values!r}."
        ) from None
    if not values:
        raise ValueError(
            f"{name} must name at least one {what} from {sorted(choices)}; got {values!r}."
        )
    return tuple(check_choice(v, f"each entry of {name}", sorted(choices)) for v in values)


def neighbour_pairs(n, topology):
    """Index pairs ``(i, j)`` of a ``'line'`` or ``'ring'`` of ``n`` qubits.

    ``'line'`` is ``(0, 1), (1, 2), ..., (n-2, n-1)``; ``'ring'`` adds ``(n-1, 0)`` when ``n > 2``
    (for two qubits the closing pair would repeat ``(0, 1)``, so a 2-qubit ring equals a line).
    """
    pairs = [(i, i + 1) for i in range(n - 1)]
    if topology == "ring" and n > 2:
        pairs.append((n - 1, 0))
    return pairs


def as_parameters(symbols, count, name="symbols"):
    """Check a sequence of ``count`` gate parameters (names, sympy expressions or numbers)."""
    if isinstance(symbols, (str, sympy.Basic)) or not hasattr(symbols, "__len__"):
        raise TypeError(
            f"{name} must be a sequence of {count} sympy symbols/expressions, names or "
            f"numbers; got {symbols!r}."
        )
    if len(symbols) != count:
        raise ValueError(
            f"{name} must hold exactly {count} parameters; got {len(symbols)}: {list(symbols)!r}."
        )
    out = []
    for s in symbols:
        if isinstance(s, str) and s:
            out.append(sympy.Symbol(s))
        elif isinstance(s, (sympy.Basic, numbers.Real)) and not isinstance(s, bool):
            out.append(s)
        else:
            raise TypeError(
                f"{name} entries must be sympy symbols/expressions, non-empty names or "
                f"real numbers; got {s!r} of type {type(s).__name__}."
            )
    return out


def check_unique_names(symbols, what):
    """Raise ``ValueError`` if two symbol lists produced the same name (clashing prefixes)."""
    names = [str(s) for s in symbols]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError(
            f"{what} produced clashing symbol names {dups[:5]}; use distinct prefixes."
        )
