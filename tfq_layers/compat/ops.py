"""TFQ's op-level functions (``tfq.get_expectation_op`` ...) with TFQ's call signatures.

Each ``get_*_op(backend=None)`` returns a function of ``tf.string`` circuit tensors (from
``convert_to_tensor``), ``symbol_names`` (``tf.string``, ``[n_symbols]``) and ``symbol_values``
(``float32``, ``[batch, n_symbols]``), as TFQ's do. ``backend``:

* ``None`` (or ``'statevector'``): this package's pure-TensorFlow statevector simulator; no TFQ
  needed; gradients with respect to ``symbol_values`` by autodiff (states and unitaries too).
  The circuits are decoded eagerly, so call these ops eagerly (not inside ``tf.function``).
* ``'tfq'``: TFQ's own qsim op (TFQ must be installed), graph mode included.

Example:
    >>> import tfq_layers.compat as tfq
    >>> q = cirq.GridQubit(0, 0)
    >>> op = tfq.get_expectation_op()
    >>> op(tfq.convert_to_tensor([cirq.Circuit(cirq.X(q))]), tf.constant([], tf.string),
    ...    tf.zeros((1, 0)), tfq.convert_to_tensor([[cirq.Z(q)]])).numpy()
    array([[-1.]], dtype=float32)
"""

import inspect

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers import wire
from tfq_layers.compat.exceptions import TFQArgumentError, tfq_message

__all__ = [
    "get_expectation_op",
    "get_sampled_expectation_op",
    "get_sampling_op",
    "get_state_op",
    "get_unitary_op",
    "padded_to_ragged",
    "resolve_parameters",
]

_BACKENDS = (None, "noiseless", "statevector", "tfq")


def from_tensor(programs):
    """Serialized circuits (or PauliSums) back to Cirq objects, a nested list like the tensor.

    The one place the compat ops decode TFQ's wire format: this package's own reader
    (:func:`tfq_layers.wire.from_tensor`), so the ops run without TFQ.
    """
    return wire.from_tensor(programs)


def _tfq():
    from tfq_layers.backends.tfq_backend import import_tfq

    try:
        return import_tfq()
    except ImportError:
        raise ImportError(
            "backend='tfq' runs TensorFlow Quantum's own op; install tensorflow-quantum, or use "
            "backend=None (this package's statevector simulator)."
        ) from None


def _check_backend(backend, what):
    """``"tfq"``, ``"statevector"``, or the Cirq simulator/sampler object ``backend`` (run by the
    compat layers' Cirq backend, as TFQ's ops run Cirq objects)."""
    if isinstance(backend, str) or backend is None:
        if backend in _BACKENDS:
            return "tfq" if backend == "tfq" else "statevector"
    elif isinstance(backend, (cirq.Sampler, cirq.SimulatesExpectationValues)):
        return backend
    raise TFQArgumentError(
        tfq_message(
            f"Backend {backend} is invalid.",
            f"{what} takes backend=None (this package's statevector simulator), 'tfq' "
            "(TensorFlow Quantum's op) or a Cirq simulator or sampler object.",
        )
    )


def _eager(x, what):
    if not hasattr(x, "numpy") and not isinstance(x, (list, tuple, np.ndarray)):
        raise TypeError(
            f"{what} must be a concrete tensor with backend=None (the circuits are decoded "
            "eagerly); call the op eagerly, or use backend='tfq' inside tf.function."
        )
    return x


def _circuits(programs):
    programs = _eager(tf.convert_to_tensor(programs), "programs")
    if programs.dtype != tf.string or programs.shape.rank != 1:
        raise TFQArgumentError(
            tfq_message(
                f"programs must be rank 1. Got rank {programs.shape.rank}.",
                "Pass a tf.string tensor [batch] from convert_to_tensor.",
            )
        )
    return list(from_tensor(programs))


def _names(symbol_names):
    names = np.asarray(_eager(tf.convert_to_tensor(symbol_names, tf.string), "symbol_names"))
    return [n.decode() for n in names.reshape(-1)]


def _values(symbol_values):
    values = tf.convert_to_tensor(symbol_values, tf.float32)
    if values.shape.rank != 2:
        raise TFQArgumentError(
            tfq_message(
                f"symbol_values must be rank 2. Got rank {values.shape.rank}.",
                "Pass shape [batch, n_symbols].",
            )
        )
    return values


def _on_host(op):
    """``op`` (which decodes circuits eagerly), also callable inside a graph (``tf.function``,
    as TFQ's differentiators call an op): there it runs through one ``tf.py_function``."""

    def run(*args):
        if tf.executing_eagerly():
            return op(*args)
        out = tf.py_function(lambda *a: op(*a), list(args), tf.float32)
        out.set_shape([None, None])
        return out

    run.__name__ = op.__name__
    run.__signature__ = inspect.signature(op)
    return run


def _layer(cls, cache, backend="statevector", **kwargs):
    if cls not in cache:
        cache[cls] = cls(backend=backend, **kwargs)
    return cache[cls]


def get_expectation_op(backend=None, **kwargs):
    """TFQ's ``get_expectation_op``: ``op(programs, symbol_names, symbol_values, pauli_sums)``
    -> ``[batch, n_ops]`` float32 exact expectations.

    Args:
        backend: ``None`` (statevector simulator) or ``'tfq'`` (TFQ's qsim op).
        **kwargs: TFQ's ``use_cuquantum``/``quantum_concurrent``, passed to TFQ's op with
            ``backend='tfq'``.
    """
    sim = _check_backend(backend, "get_expectation_op")
    if sim == "tfq":
        return _tfq().get_expectation_op(**kwargs)
    from tfq_layers.compat.executors import Expectation

    cache = {}

    def expectation_op(programs, symbol_names, symbol_values, pauli_sums):
        layer = _layer(Expectation, cache, sim)
        return layer(
            _circuits(programs),
            symbol_names=_names(symbol_names),
            symbol_values=_values(symbol_values),
            operators=tf.convert_to_tensor(pauli_sums),
        )

    return _on_host(expectation_op)


def get_sampled_expectation_op(backend=None, **kwargs):
    """TFQ's ``get_sampled_expectation_op``:
    ``op(programs, symbol_names, symbol_values, pauli_sums, num_samples)`` -> ``[batch, n_ops]``
    float32 expectations estimated from ``num_samples`` (``[batch, n_ops]`` int) shots.

    Args: as :func:`get_expectation_op`.
    """
    sim = _check_backend(backend, "get_sampled_expectation_op")
    if sim == "tfq":
        return _tfq().get_sampled_expectation_op(**kwargs)
    from tfq_layers.compat.executors import SampledExpectation

    cache = {}

    def sampled_expectation_op(programs, symbol_names, symbol_values, pauli_sums, num_samples):
        layer = _layer(SampledExpectation, cache, sim)
        return layer(
            _circuits(programs),
            symbol_names=_names(symbol_names),
            symbol_values=_values(symbol_values),
            operators=tf.convert_to_tensor(pauli_sums),
            repetitions=_eager(tf.convert_to_tensor(num_samples, tf.int32), "num_samples"),
        )

    return _on_host(sampled_expectation_op)


def get_sampling_op(backend=None, **kwargs):
    """TFQ's ``get_sampling_op``: ``op(programs, symbol_names, symbol_values, num_samples)`` ->
    ``tf.RaggedTensor`` int8 ``[batch, num_samples, <n_qubits of each circuit>]``.

    Args: as :func:`get_expectation_op`.
    """
    sim = _check_backend(backend, "get_sampling_op")
    if sim == "tfq":
        return _tfq().get_sampling_op(**kwargs)
    from tfq_layers.compat.executors import Sample

    cache = {}

    def sampling_op(programs, symbol_names, symbol_values, num_samples):
        counts = np.unique(np.asarray(_eager(tf.convert_to_tensor(num_samples), "num_samples")))
        if counts.size != 1:
            raise TFQArgumentError(
                tfq_message("num_samples must be a single positive int.", f"Got {counts.tolist()}.")
            )
        return _layer(Sample, cache, sim)(
            _circuits(programs),
            symbol_names=_names(symbol_names),
            symbol_values=_values(symbol_values),
            repetitions=int(counts[0]),
        )

    return sampling_op


def get_state_op(backend=None, **kwargs):
    """TFQ's ``get_state_op``: ``op(programs, symbol_names, symbol_values)`` ->
    ``tf.RaggedTensor`` complex64 ``[batch, <2**n_qubits of each circuit>]``.

    Args: as :func:`get_expectation_op`.
    """
    sim = _check_backend(backend, "get_state_op")
    if sim == "tfq":
        return _tfq().get_state_op(**kwargs)
    from tfq_layers.compat.executors import State

    cache = {}

    def state_op(programs, symbol_names, symbol_values):
        return _layer(State, cache, sim)(
            _circuits(programs),
            symbol_names=_names(symbol_names),
            symbol_values=_values(symbol_values),
        )

    return state_op


def get_unitary_op(backend=None, **kwargs):
    """TFQ's ``get_unitary_op``: ``op(programs, symbol_names, symbol_values)`` ->
    ``tf.RaggedTensor`` complex64 ``[batch, <2**n>, <2**n>]``.

    Args: as :func:`get_expectation_op`.
    """
    if _check_backend(backend, "get_unitary_op") == "tfq":
        return _tfq().get_unitary_op(**kwargs)
    from tfq_layers.compat.executors import Unitary

    cache = {}

    def unitary_op(programs, symbol_names, symbol_values):
        return _layer(Unitary, cache)(
            _circuits(programs),
            symbol_names=_names(symbol_names),
            symbol_values=_values(symbol_values),
        )

    return unitary_op


def padded_to_ragged(masked_state):
    """TFQ's ``padded_to_ragged``: a tensor padded with ``-2`` (TFQ's raw ops pad rows of
    smaller circuits so) as a ``tf.RaggedTensor`` without the padding.

    Args:
        masked_state: ``[batch, n]`` (states, samples) tensor whose padding entries are ``-2``.
    """
    masked_state = tf.convert_to_tensor(masked_state)
    if masked_state.dtype.is_complex:
        magnitude = tf.cast(tf.abs(masked_state), tf.float32)
    else:
        magnitude = tf.abs(tf.cast(masked_state, tf.float32))
    return tf.ragged.boolean_mask(masked_state, tf.less(magnitude, 1.1))


def resolve_parameters(programs, symbol_names, symbol_values):
    """TFQ's ``tfq.resolve_parameters``: each circuit of ``programs`` with its row of values put
    in for the named symbols (symbols not named stay symbols), serialized again.

    Runs eagerly without TFQ (circuits are decoded with :func:`tfq_layers.wire.from_tensor`);
    values are float32, as TFQ's op takes them.

    Args:
        programs: ``[batch]`` ``tf.string`` circuits from ``convert_to_tensor``.
        symbol_names: ``[n_symbols]`` ``tf.string`` (or a list of str).
        symbol_values: ``[batch, n_symbols]`` values.

    Returns:
        ``[batch]`` ``tf.string`` of the resolved circuits.

    Example:
        >>> import tfq_layers.compat as tfq
        >>> q, a = cirq.GridQubit(0, 0), sympy.Symbol("a")
        >>> out = tfq.resolve_parameters(tfq.convert_to_tensor([cirq.Circuit(cirq.X(q) ** a)]),
        ...                              tf.constant(["a"]), tf.constant([[0.5]]))
        >>> tfq.from_tensor(out)[0] == cirq.Circuit(cirq.X(q) ** 0.5)
        True
    """
    circuits = _circuits(programs)
    names = _names(symbol_names)
    values = _values(tf.cast(_eager(symbol_values, "symbol_values"), tf.float32))
    values = np.asarray(values, np.float32)
    if values.shape != (len(circuits), len(names)):
        raise TFQArgumentError(
            tfq_message(
                "symbol_values must have shape [batch_size, n_symbols].",
                f"Got {list(values.shape)} for {len(circuits)} circuits and {len(names)} names.",
            )
        )
    resolved = [
        cirq.resolve_parameters(c, {n: float(v) for n, v in zip(names, row)})
        for c, row in zip(circuits, values)
    ]
    return wire.convert_to_tensor(resolved)
