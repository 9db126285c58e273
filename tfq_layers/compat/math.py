"""TFQ's ``tfq.math``: ``inner_product`` and ``fidelity`` of parameterized circuits.

Both run on this package's statevector simulator (no TFQ needed) and are differentiable with
respect to ``symbol_values``; ``backend='tfq'`` runs TFQ's own op instead.

Example:
    >>> import tfq_layers.compat as tfq
    >>> q = cirq.GridQubit(0, 0)
    >>> a = tfq.convert_to_tensor([cirq.Circuit(cirq.H(q))])
    >>> b = tfq.convert_to_tensor([[cirq.Circuit(cirq.H(q)), cirq.Circuit(cirq.X(q))]])
    >>> tfq.math.fidelity(a, tf.constant([], tf.string), tf.zeros((1, 0)), b).numpy().round(3)
    array([[1. , 0.5]], dtype=float32)
"""

import tensorflow as tf

from tfq_layers.compat import ops as _ops

__all__ = ["fidelity", "inner_product"]


def inner_product(programs, symbol_names, symbol_values, other_programs, backend=None):
    """TFQ's ``tfq.math.inner_product``: ``out[i, j] = <psi(programs[i]) | other_programs[i][j]>``.

    Args:
        programs: ``tf.string`` ``[batch]`` circuits (from ``convert_to_tensor``).
        symbol_names: ``tf.string`` ``[n_symbols]``.
        symbol_values: ``float32`` ``[batch, n_symbols]``.
        other_programs: ``tf.string`` ``[batch, n_other]`` symbol-free circuits, each on as many
            qubits as ``programs[i]``.
        backend: ``None`` (statevector simulator) or ``'tfq'`` (TFQ's op).

    Returns:
        ``complex64`` ``[batch, n_other]``.
    """
    if _ops._check_backend(backend, "inner_product") == "tfq":
        return _ops._tfq().math.inner_product(programs, symbol_names, symbol_values, other_programs)
    from tfq_layers.compat.executors import State

    other = tf.convert_to_tensor(other_programs)
    if other.dtype != tf.string or other.shape.rank != 2:
        raise _ops.TFQArgumentError(
            _ops.tfq_message(
                f"other_programs must be rank 2. Got rank {other.shape.rank}.",
                "Pass a tf.string tensor [batch, n_other] from convert_to_tensor.",
            )
        )
    psi = State(backend="statevector")(
        _ops._circuits(programs),
        symbol_names=_ops._names(symbol_names),
        symbol_values=_ops._values(symbol_values),
    )
    batch, n_other = int(other.shape[0]), int(other.shape[1])
    if batch != int(psi.shape[0]):
        raise _ops.TFQArgumentError(
            _ops.tfq_message(
                "programs and other_programs batch dimensions do not match.",
                f"Got {int(psi.shape[0])} and {batch}.",
            )
        )
    flat = list(_ops.from_tensor(tf.reshape(other, [-1])))
    phi = State(backend="statevector")(flat).to_tensor()
    psi = psi.to_tensor()
    width = int(psi.shape[1])
    if int(phi.shape[1]) != width:
        raise _ops.TFQArgumentError(
            _ops.tfq_message(
                "programs and other_programs must act on the same number of qubits.",
                f"States of {int(psi.shape[1])} and {int(phi.shape[1])} amplitudes.",
            )
        )
    phi = tf.reshape(phi, [batch, n_other, width])
    return tf.einsum("bk,bjk->bj", tf.math.conj(psi), phi)


def fidelity(programs, symbol_names, symbol_values, other_programs, backend=None):
    """TFQ's ``tfq.math.fidelity``: ``|inner_product|**2``, ``float32`` ``[batch, n_other]``.

    Args: as :func:`inner_product`.
    """
    if _ops._check_backend(backend, "fidelity") == "tfq":
        return _ops._tfq().math.fidelity(programs, symbol_names, symbol_values, other_programs)
    ip = inner_product(programs, symbol_names, symbol_values, other_programs)
    return tf.cast(tf.math.real(ip * tf.math.conj(ip)), tf.float32)
