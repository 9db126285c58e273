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
import sympy
from cirq.protocols.json_serialization import DEFAULT_RESOLVERS, CirqEncoder

from tfq_layers.program import SUPPORTED_FUNCTIONS

FUNCTION_TYPE = "tfq_layers.SympyFunction"
_FUNCTIONS = {name: getattr(sympy, name) for name in SUPPORTED_FUNCTIONS}
_SYMPY_TYPES = {"sympy.Symbol", "sympy.Add", "sympy.Mul", "sympy.Pow", "sympy.Integer",
                "sympy.Float", "sympy.Rational", "sympy.pi", "sympy.E"}
_PLAIN_TYPES = {"complex", "Circuit", "Moment", "GridQubit", "LineQubit", "PauliSum",
                "PauliString", "ProductOfSums", "SumOfProducts", "LinearDict"}
_ALLOWED_BASES = (cirq.Gate, cirq.Operation, cirq.Qid)


class SerializationError(ValueError):
    """A saved circuit/observable/expression that cannot be (or must not be) loaded."""


class _Encoder(CirqEncoder):
    def default(self, o):
        if isinstance(o, sympy.Function) and type(o).__name__ in _FUNCTIONS:
            return {"cirq_type": FUNCTION_TYPE, "name": type(o).__name__, "args": list(o.args)}
        if isinstance(o, sympy.Basic) and not isinstance(
                o, (sympy.Symbol, sympy.Add, sympy.Mul, sympy.Pow, sympy.Number,
                    sympy.NumberSymbol)):
            raise SerializationError(
                f"cannot save the sympy expression {o} ({type(o).__name__}); supported: + - * / "
                f"** and {', '.join(SUPPORTED_FUNCTIONS)}.")
        return super().default(o)


def _function_from_json(name, args):
    fn = _FUNCTIONS.get(name)
    if fn is None:
        raise SerializationError(
            f"saved expression uses function {name!r}, which is not on the allow-list "
            f"{sorted(_FUNCTIONS)}; the file was not written by tfq_layers or was altered.")
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


def _check_types(node, path="$"):
    if isinstance(node, dict):
        cirq_type = node.get("cirq_type")
        if cirq_type is not None and not (isinstance(cirq_type, str) and _is_allowed(cirq_type)):
            raise SerializationError(
                f"saved data at {path} has type {cirq_type!r}, which tfq_layers does not load "
                "(only qubits, gates, operations, circuits, Pauli sums and sympy arithmetic are "
                "allowed). The file was not written by tfq_layers or was altered.")
        if cirq_type == "sympy.Symbol" and not isinstance(node.get("name"), str):
            raise SerializationError(f"saved symbol at {path} has no string name.")
        for key, value in node.items():
            _check_types(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_types(value, f"{path}[{i}]")


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
        SerializationError: when the text is not valid JSON or names a type outside the allow-list.
    """
    if not isinstance(text, str):
        raise SerializationError(f"expected a JSON string, got {type(text).__name__}.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise SerializationError(f"saved circuit data is not valid JSON ({err}); the file is "
                                 "corrupt or truncated.") from None
    _check_types(document)
    try:
        return cirq.read_json(json_text=text, resolvers=[_resolver, *DEFAULT_RESOLVERS])
    except SerializationError:
        raise
    except Exception as err:  # a malformed but allowed document
        raise SerializationError(f"saved circuit data could not be rebuilt: {err}") from None
