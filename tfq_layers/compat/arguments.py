"""TFQ's call and constructor arguments, checked and normalized for the compat layers."""

import numbers

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers import backends
from tfq_layers.backends import memory
from tfq_layers._keras import keras
from tfq_layers.compat.exceptions import TFQArgumentError, tfq_message

__all__ = [
    "TFQ_BACKENDS",
    "check_backend",
    "default_initializer",
    "is_circuit",
    "is_circuit_list",
    "is_keras_tensor",
    "lexicographic_symbols",
    "native_backend",
    "parse_operators",
    "parse_repetitions",
    "repetition_counts",
    "parse_symbol_names",
    "reads_serialized_circuits",
    "type_name",
]

TFQ_BACKENDS = ("noiseless", "noisy", None, "auto", "tfq", "statevector")


def default_initializer():
    """TFQ's default for circuit weights: uniform angles in ``[0, 2*pi)``."""
    return keras.initializers.RandomUniform(minval=0.0, maxval=2.0 * np.pi)


def type_name(x):
    """The user's type: Keras wraps lists it tracks (``TrackedList``/``ListWrapper``)."""
    if isinstance(x, (list, tuple)) or type(x).__name__ in ("TrackedList", "ListWrapper"):
        return "list"
    return type(x).__name__


def is_circuit(x):
    """Whether ``x`` is one ``cirq.Circuit`` (or ``cirq.FrozenCircuit``)."""
    return isinstance(x, (cirq.Circuit, cirq.FrozenCircuit))


def is_circuit_list(x):
    """Whether ``x`` is a non-empty list, tuple or array of circuits."""
    return isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 and all(is_circuit(c) for c in x)


def check_backend(backend, expects="cirq.sim.simulator.SimulatesExpectationValues or None."):
    """TFQ's ``backend`` argument, or an error naming the accepted values (``expects``: what
    TFQ's message for this layer says it expected). A Cirq simulator or sampler object (TFQ's
    Cirq-backed mode; or one saved in a config) becomes this package's Cirq backend."""
    if isinstance(backend, str) or backend is None:
        if backend not in TFQ_BACKENDS:
            raise TFQArgumentError(
                tfq_message(
                    f"Backend {backend} is invalid. Expected a {expects}",
                    f"backend must be one of {list(TFQ_BACKENDS)}; got {backend!r}.",
                )
            )
        return backend
    try:
        return backends.normalize_name(backend)
    except (TypeError, ValueError) as error:
        raise TFQArgumentError(
            tfq_message(f"Backend {backend} is invalid. Expected a {expects}", str(error))
        ) from None


def parse_symbol_names(symbol_names):
    """TFQ's ``symbol_names`` (list of str/sympy.Symbol, or a string tensor) as a list of str."""
    if symbol_names is None:
        return []
    if tf.is_tensor(symbol_names):
        if not tf.executing_eagerly() and not hasattr(symbol_names, "numpy"):
            raise TypeError(
                "symbol_names must be known when the layer is built: pass a list of "
                "names (or an eager tf.string tensor)."
            )
        symbol_names = [s.decode() for s in np.asarray(symbol_names.numpy()).reshape(-1)]
    if isinstance(symbol_names, (str, sympy.Symbol)):
        symbol_names = [symbol_names]
    if not isinstance(symbol_names, (list, tuple, np.ndarray)):
        raise TypeError(
            f"symbol_names cannot be parsed to string tensor given input: {symbol_names!r}; "
            f"give a list of str or sympy.Symbol, not {type_name(symbol_names)}."
        )
    out = []
    for s in symbol_names:
        if not isinstance(s, (str, sympy.Symbol)):
            raise TypeError(
                f"Each element in symbol_names must be a string or sympy.Symbol; got "
                f"{s!r} of type {type(s).__name__}."
            )
        out.append(str(s) if isinstance(s, str) else s.name)  # sympy's str() runs its printer
    if len(set(out)) != len(out):
        dups = sorted({s for s in out if out.count(s) > 1})
        raise ValueError(
            f"All elements of symbol_names must be unique; {dups} appear more than once."
        )
    return out


def parse_operators(operators, where="operators"):
    """``(distinct, index)``: the distinct observables and, for per-circuit operator lists (or a
    ``tf.string`` tensor of them, as ``tfq.convert_to_tensor`` writes), an ``(n_circuits, n_ops)``
    index into them (``None`` when every circuit shares one list)."""
    if tf.is_tensor(operators) or is_keras_tensor(operators):
        from tfq_layers.compat.operator_tensors import operators_from_tensor

        operators = operators_from_tensor(operators, where)
    if isinstance(operators, (cirq.PauliSum, cirq.PauliString)) or (
        isinstance(operators, cirq.GateOperation) and isinstance(operators.gate, cirq.Pauli)
    ):
        operators = [operators]
    if isinstance(operators, np.ndarray):
        operators = operators.tolist()
    if not isinstance(operators, (list, tuple)) or not operators:
        raise TypeError(
            f"operators must be a cirq.PauliSum/PauliString, a list of them, or one such list "
            f"per circuit; got {type_name(operators)}"
            f"{'' if operators is None else ': ' + repr(operators)[:80]}."
        )
    if not isinstance(operators[0], (list, tuple)):
        return list(operators), None
    widths = {len(row) for row in operators}
    if len(widths) != 1:
        raise ValueError(
            f"every circuit needs the same number of operators; got rows of "
            f"lengths {sorted(widths)}."
        )
    distinct, index = [], []
    for row in operators:
        index_row = []
        for op in row:
            key = str(op)
            pos = next((i for i, d in enumerate(distinct) if str(d) == key), None)
            if pos is None:
                distinct.append(op)
                pos = len(distinct) - 1
            index_row.append(pos)
        index.append(index_row)
    return distinct, np.array(index, np.int32)


def parse_repetitions(repetitions, what, per_operator=False):
    """``repetitions`` for layer ``what``: a positive int, or with ``per_operator`` TFQ's counts
    per operator (a list, array or concrete tensor of shape ``(n_operators,)`` or ``(n_circuits,
    n_operators)``) as a tuple (of tuples) of ints; uniform counts collapse to one int."""
    if isinstance(repetitions, numbers.Integral) and not isinstance(repetitions, bool):
        if repetitions < 1:
            raise ValueError(
                f"Repetitions must be greater than zero; got {repetitions} (give a count > 0)."
            )
        return memory.check_repetitions(int(repetitions), what)
    counts = None
    if tf.is_tensor(repetitions) and hasattr(repetitions, "numpy"):
        counts = np.asarray(repetitions.numpy())
    elif isinstance(repetitions, (list, tuple, np.ndarray)):
        try:
            counts = np.asarray(repetitions)
        except ValueError:  # ragged nesting
            counts = None
    if (
        counts is not None
        and counts.size
        and counts.dtype.kind in "iu"
        and (counts.ndim == 0 or (per_operator and counts.ndim <= 2))
    ):
        if np.any(counts < 1):
            raise ValueError(
                f"Repetitions must be greater than zero; got {counts.tolist()} (give counts > 0)."
            )
        for count in np.unique(counts):
            memory.check_repetitions(int(count), what)
        if counts.ndim == 0 or np.all(counts == counts.reshape(-1)[0]):
            return int(counts.reshape(-1)[0])
        return tuple(tuple(int(v) for v in row) if counts.ndim == 2 else int(row) for row in counts)
    raise TypeError(
        f"repetitions cannot be parsed to int32 tensor given input: {repetitions!r}; {what} takes "
        + (
            "a positive int, or one per operator (a list, or one list per circuit)."
            if per_operator
            else "one positive int."
        )
    )


def repetition_counts(repetitions):
    """The largest count of ``parse_repetitions``'s result (an int or nested tuples)."""
    if repetitions is None or isinstance(repetitions, int):
        return repetitions
    if isinstance(repetitions, str):  # "input": counts come with each call
        return None
    return int(np.max(np.asarray(repetitions)))


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic Keras tensor (a functional-model input)."""
    fn = getattr(keras, "KerasTensor", None)
    if fn is not None and isinstance(x, fn):
        return True
    try:
        return keras.backend.is_keras_tensor(x)
    except (AttributeError, ValueError, TypeError):
        return False


def lexicographic_symbols(circuit):
    """The names of ``circuit``'s symbols in TFQ's (lexicographic) order."""
    if not isinstance(circuit, (cirq.Circuit, cirq.FrozenCircuit)):
        raise TypeError(f"model_circuit must be a cirq.Circuit; got {type_name(circuit)}.")
    return sorted((s.name for s in cirq.parameter_symbols(circuit)))


def native_backend(backend):
    """TFQ's backend argument as a native request: 'noiseless'/'noisy' let the package choose."""
    backend = check_backend(backend)
    return backends.normalize_name(None if backend in ("noiseless", "noisy") else backend)


def reads_serialized_circuits(backend):
    """Whether the native backend request ``backend`` runs concrete ``tf.string`` circuits
    itself, in the graph: a backend that declares ``quantum_data_in_graph`` (TFQ's simulator),
    or ``"auto"`` where TFQ can run (it then picks TFQ for them). Otherwise the compat layers
    read concrete circuit tensors into ``cirq.Circuit`` objects with
    :func:`tfq_layers.wire.from_tensor`; symbolic ones (a ``keras.Input``) stay quantum data."""
    if backend == "auto":
        return backends.is_available("tfq")
    return backends.backend_class(backend).quantum_data_in_graph
