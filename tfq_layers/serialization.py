"""Circuits, observables and symbol expressions to and from plain JSON, safely.

We build on Cirq's own JSON format (``cirq.to_json``/``cirq.read_json``), which rebuilds objects from
a registry of classes and never executes code, and add two things:

* sympy functions (``atan``, ``exp`` ...) that Cirq's encoder does not know are written as
  ``{"cirq_type": "tfq_layers.SympyFunction", "name": "atan", "args": [...]}`` and rebuilt only from
  an allow-list of sympy classes: a name outside it is refused, never looked up or evaluated;
* before anything is constructed, every ``cirq_type`` in the document is checked against an
  allow-list (qubits, gates, operations, circuits, Pauli sums, the sympy node types), so a tampered
  config cannot make the loader build arbitrary objects.

Nothing here calls ``eval``, ``exec``, ``pickle`` or ``sympify``.
"""

import json

import cirq
import numpy as np
import sympy
from cirq.protocols.json_serialization import DEFAULT_RESOLVERS, CirqEncoder

from tfq_layers import expressions
from tfq_layers.program import SUPPORTED_FUNCTIONS

FUNCTION_TYPE = "tfq_layers.SympyFunction"
_FUNCTIONS = {name: getattr(sympy, name) for name in SUPPORTED_FUNCTIONS}
_SYMPY_TYPES = {
    "sympy.Symbol",
    "sympy.Add",
    "sympy.Mul",
    "sympy.Pow",
    "sympy.Integer",
    "sympy.Float",
    "sympy.Rational",
    "sympy.pi",
    "sympy.E",
}
_PLAIN_TYPES = {
    "complex",
    "Circuit",
    "Moment",
    "GridQubit",
    "LineQubit",
    "PauliSum",
    "PauliString",
    "ProductOfSums",
    "SumOfProducts",
    "LinearDict",
}
_ALLOWED_BASES = (cirq.Gate, cirq.Operation, cirq.Qid)


class SerializationError(ValueError):
    """A saved circuit/observable/expression that cannot be (or must not be) loaded."""


class _Encoder(CirqEncoder):
    def default(self, o):
        if isinstance(o, sympy.Function) and type(o).__name__ in _FUNCTIONS:
            return {"cirq_type": FUNCTION_TYPE, "name": type(o).__name__, "args": list(o.args)}
        if isinstance(o, sympy.Basic) and not isinstance(
            o, (sympy.Symbol, sympy.Add, sympy.Mul, sympy.Pow, sympy.Number, sympy.NumberSymbol)
        ):
            raise SerializationError(
                f"cannot save the sympy expression {o} ({type(o).__name__}); supported: + - * / "
                f"** and {', '.join(SUPPORTED_FUNCTIONS)}."
            )
        return super().default(o)


def _function_from_json(name, args):
    fn = _FUNCTIONS.get(name)
    if fn is None:
        raise SerializationError(
            f"saved expression uses function {name!r}, which is not on the allow-list "
            f"{sorted(_FUNCTIONS)}; the file was not written by tfq_layers or was altered."
        )
    return fn(*args)


def _resolver(cirq_type):
    if cirq_type == FUNCTION_TYPE:
        return _function_from_json
    return None


def _is_allowed(cirq_type):
    if cirq_type in _SYMPY_TYPES or cirq_type in _PLAIN_TYPES or cirq_type == FUNCTION_TYPE:
        return True
    for resolve in DEFAULT_RESOLVERS:
        cls = resolve(cirq_type)
        if cls is not None:
            return isinstance(cls, type) and issubclass(cls, _ALLOWED_BASES)
    return False


_EXPRESSION_TYPES = _SYMPY_TYPES | {FUNCTION_TYPE}
# Nesting allowed in a whole document: a circuit, its moments, operations and gates take about
# ten levels, and each level of a sympy expression two (the node and its argument list).
MAX_JSON_DEPTH = 2 * expressions.MAX_DEPTH + 32


def _check_number(value, path):
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > expressions.MAX_INTEGER:
        raise SerializationError(
            f"saved data at {path} holds the integer {value}, larger than "
            f"{expressions.MAX_INTEGER} (2**53), which tfq_layers never writes; the file was "
            "altered."
        )
    if isinstance(value, float) and not abs(value) <= expressions._FLOAT32_MAX:
        raise SerializationError(
            f"saved data at {path} holds the number {value}, which is not a finite float32 "
            "number; the file was altered or was saved from a circuit with an infinite angle."
        )


def _check_document(document):
    """Walk a parsed JSON document (no recursion) and refuse, before anything is built: types off
    the allow-list, nesting deeper than ``MAX_JSON_DEPTH``, numbers out of range, and sympy
    expressions beyond the bounds of :func:`tfq_layers.expressions.check_expression`."""
    # stack items: (node, path, depth, (expression root path, its node counter) or None)
    stack = [(document, "$", 1, None)]
    while stack:
        node, path, depth, expr = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise SerializationError(
                f"saved data at {path[:120]}... is nested more than {MAX_JSON_DEPTH} levels deep; "
                "tfq_layers never writes that. The file was altered or is not a tfq_layers model."
            )
        if isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1, expr) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            _check_number(node, path)
            continue
        cirq_type = node.get("cirq_type")
        if cirq_type is not None and not (isinstance(cirq_type, str) and _is_allowed(cirq_type)):
            raise SerializationError(
                f"saved data at {path} has type {cirq_type!r}, which tfq_layers does not load "
                "(only qubits, gates, operations, circuits, Pauli sums and sympy arithmetic are "
                "allowed). The file was not written by tfq_layers or was altered."
            )
        if cirq_type == "sympy.Symbol" and not isinstance(node.get("name"), str):
            raise SerializationError(f"saved symbol at {path} has no string name.")
        if cirq_type in _EXPRESSION_TYPES:
            if expr is None:  # the root of an expression
                expr = (path, depth, [0])
            root, root_depth, count = expr
            count[0] += 1
            too_deep = (depth - root_depth) // 2 >= expressions.MAX_DEPTH
            if count[0] > expressions.MAX_NODES or too_deep:
                raise SerializationError(
                    f"saved expression at {root} has more than {expressions.MAX_NODES} nodes or is "
                    f"nested more than {expressions.MAX_DEPTH} levels deep; tfq_layers refuses "
                    "such gate angles when a circuit is built, so the file was altered."
                )
            if cirq_type == "sympy.Pow":
                _check_exponent(node.get("args"), path)
        else:
            expr = None
        for key, value in node.items():
            stack.append((value, f"{path}.{key}", depth + 1, expr))


def _check_exponent(args, path):
    if (
        isinstance(args, list)
        and len(args) == 2
        and isinstance(args[1], dict)
        and args[1].get("cirq_type") == "sympy.Integer"
        and isinstance(args[1].get("i"), int)
        and abs(args[1]["i"]) > expressions.MAX_EXPONENT
    ):
        raise SerializationError(
            f"saved expression at {path} raises to the power {args[1]['i']}, beyond "
            f"{expressions.MAX_EXPONENT}; tfq_layers refuses such gate angles when a circuit is "
            "built, so the file was altered."
        )


def _refuse_constant(name):
    raise SerializationError(
        f"saved circuit data contains {name}; gate angles and coefficients must be finite. The "
        "file was altered or was saved from a circuit with an infinite or undefined angle."
    )


def dumps(obj):
    """Serialize a circuit, observable, expression or a list of them to a JSON string.

    Args:
        obj: a ``cirq.Circuit``, ``cirq.PauliSum``, sympy expression, or a list of them.

    Returns:
        A compact JSON string.

    Example:
        >>> x = sympy.Symbol("x")
        >>> loads(dumps(sympy.atan(2 * x))) == sympy.atan(2 * x)
        True
    """
    return cirq.to_json(obj, indent=None, separators=(",", ":"), cls=_Encoder)


def loads(text):
    """Inverse of :func:`dumps`. Refuses unknown types before constructing anything.

    Args:
        text: a JSON string written by :func:`dumps`.

    Raises:
        SerializationError: when the text is not valid JSON, names a type outside the
            allow-list, holds NaN, infinities or numbers beyond float32 / 2**53, is nested deeper
            than ``MAX_JSON_DEPTH``, or holds an expression beyond the bounds of
            :func:`tfq_layers.expressions.check_expression` (node count, depth, exponents).
    """
    if not isinstance(text, str):
        raise SerializationError(f"expected a JSON string, got {type(text).__name__}.")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise SerializationError(
            f"saved circuit data is nested more than {MAX_JSON_DEPTH} levels deep; tfq_layers "
            "never writes that. The file was altered or is not a tfq_layers model."
        ) from None
    except SerializationError:
        raise
    except ValueError as err:  # JSONDecodeError, or an integer literal of thousands of digits
        raise SerializationError(
            f"saved circuit data is not valid JSON ({err}); the file is corrupt or truncated."
        ) from None
    _check_document(document)
    try:
        loaded = cirq.read_json(json_text=text, resolvers=[_resolver, *DEFAULT_RESOLVERS])
    except SerializationError:
        raise
    except Exception as err:  # a malformed but allowed document
        raise SerializationError(f"saved circuit data could not be rebuilt: {err}") from None
    _check_channels(loaded)
    return loaded


#: How far ``sum K^dagger K`` of a loaded channel may be from the identity.
CHANNEL_ATOL = 1e-5


def _check_channels(obj):
    """Refuse a loaded circuit with a noise channel that is not trace preserving (a saved
    ``KrausChannel`` whose operators were edited, e.g. ``3 * I``): simulated, it would give
    probabilities that do not sum to one."""
    if isinstance(obj, (list, tuple)):
        for item in obj:
            _check_channels(item)
        return
    if not isinstance(obj, cirq.AbstractCircuit):
        return
    for op in obj.all_operations():
        if cirq.is_parameterized(op) or cirq.has_unitary(op) or not cirq.has_kraus(op):
            continue
        kraus = cirq.kraus(op)
        total = sum(np.conj(k).T @ k for k in kraus)
        error = float(np.max(np.abs(total - np.eye(total.shape[0]))))
        if not error <= CHANNEL_ATOL:
            raise SerializationError(
                f"saved circuit data holds the channel {op!r}, which is not trace preserving "
                f"(the sum of K^dagger K of its Kraus operators is off the identity by {error:.3g}). "
                "The file was altered; rebuild the channel with operators whose sum of "
                "K^dagger K is the identity."
            )
