"""TFQ's call and constructor arguments, checked and normalized for the compat layers."""

import numbers

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers import backends
from tfq_layers._keras import keras

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


def check_backend(backend):
    """TFQ's ``backend`` argument, or an error naming the accepted values."""
    if backend not in TFQ_BACKENDS:
        if isinstance(backend, (cirq.Sampler, cirq.SimulatesExpectationValues)):
            raise TypeError(
                "a Cirq simulator object as backend (TFQ's Cirq-backed mode) is not supported; "
                "use backend='noiseless' (the default), 'noisy', 'tfq' or 'statevector'."
            )
        raise ValueError(f"backend must be one of {list(TFQ_BACKENDS)}; got {backend!r}.")
    return backend


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
            f"symbol_names must be a list of str or sympy.Symbol; got {type_name(symbol_names)}."
        )
    out = []
    for s in symbol_names:
        if not isinstance(s, (str, sympy.Symbol)):
            raise TypeError(
                f"each element of symbol_names must be a str or sympy.Symbol; got "
                f"{s!r} of type {type(s).__name__}."
            )
        out.append(str(s))
    dups = sorted({s for s in out if out.count(s) > 1})
    if dups:
        raise ValueError(f"symbol_names contains duplicates {dups}; give each symbol once.")
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


def parse_repetitions(repetitions, what):
    """``repetitions`` as a positive int (a scalar or uniform tensor accepted), for layer ``what``."""
    if isinstance(repetitions, bool) or not isinstance(repetitions, numbers.Integral):
        if (
            tf.is_tensor(repetitions)
            and repetitions.shape.rank in (0, 1)
            and hasattr(repetitions, "numpy")
        ):
            values = np.unique(np.asarray(repetitions.numpy()).reshape(-1))
            if values.size == 1:
                return parse_repetitions(int(values[0]), what)
        raise TypeError(f"repetitions must be a positive int for {what}; got {repetitions!r}.")
    if repetitions < 1:
        raise ValueError(f"repetitions must be greater than zero; got {repetitions}.")
    return int(repetitions)


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
    or ``"auto"`` where TFQ is installed (it then picks TFQ for them). Otherwise the compat layers
    read concrete circuit tensors into ``cirq.Circuit`` objects with
    :func:`tfq_layers.wire.from_tensor`; symbolic ones (a ``keras.Input``) stay quantum data."""
    if backend == "auto":
        return backends.tfq_installed()
    return backends.backend_class(backend).quantum_data_in_graph
