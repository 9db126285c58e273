"""TFQ's ``operators`` given as a ``tf.string`` tensor of serialized PauliSums.

``tfq.convert_to_tensor([[psum, ...], ...])`` writes one ``tfq.proto.PauliSum`` per entry, shape
``[batch, n_ops]``, and TFQ's ``Expectation``/``SampledExpectation`` take that tensor as
``operators``. Two cases:

* a concrete tensor (eager, or a constant) is decoded once, with TensorFlow ops
  (:func:`tfq_layers.backends.quantum_data.decode_pauli_sums`, which shares its proto
  descriptors with the quantum-data checks), checked, and turned into ``cirq.PauliSum`` objects:
  from then on the call is the same as with a list of PauliSums (one list per circuit), on every
  backend;
* a symbolic tensor (a ``keras.Input``, or a value inside a ``tf.function``) is known only when
  the graph runs: it becomes an input of the layer, is checked in the graph
  (:func:`tfq_layers.backends.quantum_data.checked_operators`) and goes to a backend that reads
  operator tensors (``reads_operator_tensors``: TFQ's simulator).

No protobuf is parsed in Python.
"""

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers import wire
from tfq_layers.backends import quantum_data

__all__ = [
    "MAX_OPERATOR_BYTES",
    "MAX_OPERATOR_TERMS",
    "check_symbolic",
    "is_symbolic",
    "operators_from_tensor",
    "qubit_ids",
]

#: The distinct serialized operators of one tensor may hold at most this many bytes ...
MAX_OPERATOR_BYTES = 16 * 2**20
#: ... and at most this many Pauli terms in all (each becomes a Python cirq object).
MAX_OPERATOR_TERMS = 100_000

_PAULIS = {b"X": cirq.X, b"Y": cirq.Y, b"Z": cirq.Z}
_SHOWN = 24

_FORM = (
    "operators as a tensor must be what tfq_layers.compat.convert_to_tensor([[psum, ...], ...]) returns: "
    "tf.string, shape [batch, n_ops], one row of serialized cirq.PauliSum per circuit"
)


def is_symbolic(operators):
    """Whether ``operators`` is a tensor whose value is known only when a graph runs."""
    from tfq_layers.compat.arguments import is_keras_tensor

    if is_keras_tensor(operators):
        return True
    if not tf.is_tensor(operators) or isinstance(operators, tf.RaggedTensor):
        return False
    if hasattr(operators, "numpy") and tf.executing_eagerly():
        return False
    return tf.get_static_value(operators) is None


def check_symbolic(operators, where="operators"):
    """The dtype and (where known) the rank of a symbolic operators tensor, or an error."""
    dtype = getattr(operators, "dtype", None)
    if dtype not in (tf.string, "string"):
        raise TypeError(f"{where}: {_FORM}; got a tensor of dtype {getattr(dtype, 'name', dtype)}.")
    shape = getattr(operators, "shape", None)
    try:
        rank = len(shape)
    except (TypeError, ValueError):  # rank unknown until the graph runs
        rank = None
    if rank is not None and rank != 2:
        raise ValueError(
            f"{where}: {_FORM}; got a tensor of shape {tuple(shape)}. For a "
            "keras.Input use shape=(n_ops,) and dtype=tf.string."
        )


def qubit_ids(circuits):
    """TFQ's ids of the qubits of ``circuits`` (``None`` if one is neither a GridQubit nor a
    LineQubit: TFQ's simulator would refuse the circuit anyway)."""
    ids = set()
    for qubit in set().union(*[c.all_qubits() for c in circuits]):
        if isinstance(qubit, cirq.GridQubit):
            ids.add(f"{qubit.row}_{qubit.col}")
        elif isinstance(qubit, cirq.LineQubit):
            ids.add(str(qubit.x))
        else:
            return None
    return sorted(ids)


def _concrete(operators, where):
    """The numpy value of a tensor known now (eager, or a constant in a graph), else an error."""
    value = None
    if hasattr(operators, "numpy") and not isinstance(operators, tf.RaggedTensor):
        try:
            value = operators.numpy()
        except (AttributeError, NotImplementedError, ValueError, TypeError):
            value = None
    if value is None and tf.is_tensor(operators) and not isinstance(operators, tf.RaggedTensor):
        value = tf.get_static_value(operators)
    if value is None:
        raise TypeError(
            f"{where}: operators is a symbolic tensor (a keras.Input or a value computed in a "
            "graph); this package needs the operators when the layer is called. Pass the "
            "operators themselves (cirq.PauliSum objects, or one list of them per circuit), or "
            "a concrete tensor from tfq_layers.compat.convert_to_tensor([[psum, ...], ...]) -- to measure "
            "different operators per example, list every operator and select the columns of "
            "the layer's output."
        )
    return np.asarray(value)


def _where_bad(flat, inverse, shape, k):
    """``operators[i, j]`` of the first entry that is distinct element ``k``, and its bytes."""
    pos = int(np.flatnonzero(inverse == k)[0])
    i, j = divmod(pos, shape[1])
    return f"operators[{i}, {j}] (starting {bytes(flat[pos])[:_SHOWN]!r})"


def operators_from_tensor(operators, where="operators"):
    """The ``[batch, n_ops]`` string tensor ``operators`` as a list of lists of ``cirq.PauliSum``
    (what TFQ's ops measure from it), or an error naming the problem and the fix."""
    dtype = getattr(operators, "dtype", None)
    if dtype not in (tf.string, "string"):
        raise TypeError(f"{where}: {_FORM}; got a tensor of dtype {getattr(dtype, 'name', dtype)}.")
    if isinstance(operators, tf.RaggedTensor):
        raise ValueError(
            f"{where}: {_FORM}; got a ragged tensor. Pad every row to the same "
            "number of operators (cirq.PauliSum() measures 0)."
        )
    value = _concrete(operators, where)
    if value.ndim != 2:
        hint = (
            " For one list of operators for every circuit use "
            "tfq_layers.compat.convert_to_tensor([ops]), or pass the list ops itself."
            if value.ndim == 1
            else ""
        )
        raise ValueError(f"{where}: {_FORM}; got shape {tuple(value.shape)}.{hint}")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(
            f"{where}: {_FORM}; got shape {tuple(value.shape)}, which holds no "
            "operators. Give at least one operator per circuit."
        )
    flat = value.reshape(-1)
    distinct, inverse = np.unique(flat, return_inverse=True)
    inverse = inverse.reshape(-1)
    size = sum(len(s) for s in distinct)
    _within(where, f"hold {size} bytes", size, MAX_OPERATOR_BYTES)
    key = tuple(distinct)
    sums = _DECODED.get(key)
    if sums is None:
        sums = _decode_distinct(distinct, flat, inverse, value.shape, where)
        if size <= _CACHE_MAX_BYTES:
            if len(_DECODED) >= _CACHE_SIZE:
                _DECODED.pop(next(iter(_DECODED)))
            _DECODED[key] = sums
    n_terms = sum(len(psum) for psum in sums)
    _within(where, f"have {n_terms} Pauli terms", n_terms, MAX_OPERATOR_TERMS)
    return [[sums[k] for k in row] for row in inverse.reshape(value.shape)]


def _within(where, what, count, limit):
    """Refuse an operators tensor over one of the size limits (``what``: the count in words)."""
    if count > limit:
        raise ValueError(
            f"{where}: the distinct operators of the tensor {what}, more than the {limit} this "
            "package decodes from an operators tensor. Pass the cirq.PauliSum objects themselves "
            "instead."
        )


#: Decoded PauliSums of the last few distinct operator sets (an eager loop passes the same
#: tensor at every step), keyed by the serialized bytes themselves; small sets only.
_DECODED = {}
_CACHE_SIZE = 16
_CACHE_MAX_BYTES = 2**20


def _decode_distinct(distinct, flat, inverse, shape, where):
    """The checked PauliSums of the distinct serialized elements."""
    try:
        parts = {
            k: v.numpy()
            for k, v in quantum_data.decode_pauli_sums(tf.constant(distinct, tf.string)).items()
        }
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
        parts = None
    if parts is None:  # name the first element that does not parse
        for k, raw in enumerate(distinct):
            try:
                quantum_data.decode_pauli_sums(tf.constant([raw], tf.string))
            except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
                raise ValueError(
                    _not_pauli_sum(where, _where_bad(flat, inverse, shape, k))
                ) from None
        raise ValueError(_not_pauli_sum(where, "an element"))
    bad = np.flatnonzero(~parts["canonical"])
    if bad.size:
        raise ValueError(_not_pauli_sum(where, _where_bad(flat, inverse, shape, bad[0])))
    n_terms = int(parts["term_counts"].sum())
    if n_terms > MAX_OPERATOR_TERMS:  # before a Python object is built for each
        raise ValueError(
            f"{where}: the distinct operators of the tensor have {n_terms} Pauli terms, more than "
            f"the {MAX_OPERATOR_TERMS} this package decodes from an operators tensor. Pass the "
            "cirq.PauliSum objects themselves instead."
        )
    return _pauli_sums(parts, lambda k: _where_bad(flat, inverse, shape, k), where)


def _not_pauli_sum(where, what):
    return (
        f"{where}: {what} is not a serialized cirq.PauliSum. {_FORM[0].upper()}{_FORM[1:]}; "
        "if the tensor was read from a file, the file is corrupt or holds something else "
        "(serialized circuits belong in the layer's first input)."
    )


def _pauli_sums(parts, locate, where):
    """One ``cirq.PauliSum`` per decoded element (coefficients are TFQ's float32 values)."""
    sums = []
    term, pauli = 0, 0
    for k, count in enumerate(parts["term_counts"]):
        psum = cirq.PauliSum()
        for _ in range(count):
            real, imag = float(parts["real"][term]), float(parts["imag"][term])
            if not np.isfinite(real) or imag != 0.0:
                raise ValueError(
                    f"{where}: {locate(k)} has a term with coefficient {complex(real, imag)}; "
                    "an observable needs finite real coefficients. Fix the PauliSum (for a "
                    "non-Hermitian operator measure its Hermitian parts separately)."
                )
            factors = {}
            for _ in range(parts["pauli_counts"][term]):
                qid = parts["qubit_ids"][pauli].decode("utf-8", "replace")
                kind = parts["pauli_types"][pauli]
                qubit = wire.qubit_from_id(qid)
                if qubit is None or kind not in _PAULIS or qubit in factors:
                    problem = (
                        f"qubit id {qid[:_SHOWN]!r}"
                        if qubit is None
                        else f"Pauli type {kind[:_SHOWN]!r}"
                        if kind not in _PAULIS
                        else f"qubit {qubit} twice in one term"
                    )
                    raise ValueError(
                        f"{where}: {locate(k)} has {problem}, which TFQ never writes (qubit ids "
                        "'row_col' or 'x', Pauli types X, Y, Z, each qubit once per term); the "
                        "tensor was altered. Rebuild it with tfq_layers.compat.convert_to_tensor."
                    )
                factors[qubit] = _PAULIS[kind]
                pauli += 1
            psum += cirq.PauliString(factors, coefficient=real)
            term += 1
        sums.append(psum)
    return sums
