"""Readout-qubit quantum neural networks (Farhi & Neven, arXiv:1802.06002) and bit-string data.

The network of TensorFlow Quantum's MNIST tutorial: a data register holds a classical bit string as
a computational basis state (quantum data, :func:`bits_to_circuits`), and a separate readout qubit
is coupled to every data qubit by parameterized two-qubit Pauli power gates. The prediction is
``<Z>`` of the readout qubit, a number in ``[-1, 1]`` trained with a hinge loss on labels ``+-1``.

Conventions: for a two-qubit Pauli string ``PP`` (``XX``, ``YY``, ``ZZ``), ``PP**t`` is
``(I + PP)/2 + e^{i pi t} (I - PP)/2`` (``cirq.XX**t``; ``t = 1`` gives ``PP``, ``t = 0`` the
identity), i.e. ``exp(-i pi t PP / 2)`` up to a global phase. An int ``qubits`` means
``cirq.GridQubit.rect(1, n)``.
"""

import cirq
import numpy as np

from tfq_layers._symbols import symbol_grid
from tfq_layers.circuits._validation import check_names, check_prefix, resolve_qubits

__all__ = ["bits_to_circuits", "readout_layer", "readout_qnn", "readout_qnn_shape"]

_PAIR_GATES = {"xx": cirq.XX, "yy": cirq.YY, "zz": cirq.ZZ}


def _check_gates(gates):
    return check_names(gates, "gates", _PAIR_GATES, "gate")


def _check_readout(data_qubits, readout):
    data = resolve_qubits(data_qubits, what="data_qubits")
    (readout,) = resolve_qubits(readout, what="readout")
    if readout in data:
        raise ValueError(
            f"readout {readout!r} must not be one of the data_qubits {data!r}; "
            "use a separate qubit (e.g. cirq.GridQubit(-1, -1))."
        )
    return data, readout


def readout_layer(data_qubits, readout, gate, prefix):
    """One Farhi-Neven layer: ``PP**w_i`` on ``(data_qubits[i], readout)`` for every ``i``.

    The gates act in order ``i = 0, 1, ..., n-1``; all share the readout qubit, so they run one
    after the other. Each data qubit has its own weight ``w_i``.

    Args:
        data_qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        readout: the readout qubit (not one of ``data_qubits``).
        gate: ``"xx"``, ``"yy"`` or ``"zz"`` (any case).
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{n-1}``.

    Returns:
        ``(circuit, symbols)`` with ``n`` symbols, ``symbols[i]`` the exponent of the gate on
        data qubit ``i``.

    Example:
        >>> circuit, ws = readout_layer(4, cirq.GridQubit(-1, -1), "xx", prefix="xx")
        >>> [str(w) for w in ws]
        ['xx0', 'xx1', 'xx2', 'xx3']
    """
    data, readout = _check_readout(data_qubits, readout)
    (name,) = _check_gates(gate)
    check_prefix(prefix)
    symbols = symbol_grid(prefix, len(data))
    return _layer(data, readout, name, symbols), symbols


def _layer(data, readout, name, symbols):
    pp = _PAIR_GATES[name]
    return cirq.Circuit((pp**s).on(q, readout) for q, s in zip(data, symbols))


def readout_qnn_shape(n_data_qubits, gates=("xx", "zz")):
    """Shape ``(len(gates), n)`` of :func:`readout_qnn`'s symbols (one weight per gate and qubit).

    Args:
        n_data_qubits: int ``n`` or a sequence of data qubits (its length is used).
        gates: the gate names passed to :func:`readout_qnn`.

    Returns:
        A tuple ``(G, n)``.

    Example:
        >>> readout_qnn_shape(16)
        (2, 16)
    """
    n = len(resolve_qubits(n_data_qubits, what="n_data_qubits"))
    return (len(_check_gates(gates)), n)


def readout_qnn(data_qubits, readout, gates=("xx", "zz"), prefix="w"):
    """The Farhi-Neven readout QNN of TensorFlow Quantum's MNIST tutorial.

    Circuit, in time order: ``X`` then ``H`` on the readout qubit (preparing ``|->``); for each
    entry ``g`` of ``gates`` one :func:`readout_layer` (``g**w_{g,i}`` on
    ``(data_qubits[i], readout)``); then ``H`` on the readout. Measure ``cirq.Z(readout)``: with all
    weights zero the readout ends in ``|1>`` (``<Z> = -1``), and each coupling rotates it depending
    on the data qubit's state. The data qubits carry the input (see :func:`bits_to_circuits`), so
    use the circuit with a PQC layer fed quantum data.

    Args:
        data_qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        readout: the readout qubit (not one of ``data_qubits``).
        gates: non-empty sequence of ``"xx"``, ``"yy"``, ``"zz"``; default ``("xx", "zz")`` as in
            the tutorial.
        prefix: symbol-name prefix; the weight of gate ``g`` on data qubit ``i`` is
            ``{prefix}_{g}_{i}`` (row-major order of :func:`readout_qnn_shape`, natural order).

    Returns:
        ``(circuit, symbols)`` with ``len(gates) * n`` trainable symbols in natural order.

    Example:
        >>> data = cirq.GridQubit.rect(4, 4)
        >>> circuit, ws = readout_qnn(data, cirq.GridQubit(-1, -1))
        >>> len(ws)
        32
    """
    data, readout = _check_readout(data_qubits, readout)
    names = _check_gates(gates)
    check_prefix(prefix, one_dimensional=False)
    n = len(data)
    symbols = symbol_grid(prefix, len(names), n)
    circuit = cirq.Circuit(cirq.X(readout), cirq.H(readout))
    for g, name in enumerate(names):
        circuit += _layer(data, readout, name, symbols[g * n : (g + 1) * n])
    circuit.append(cirq.H(readout))
    return circuit, symbols


def bits_to_circuits(bits, qubits):
    """Basis-state data circuits: ``X`` on ``qubits[j]`` wherever ``bits[k, j]`` is 1.

    The quantum-data encoding of TensorFlow Quantum's MNIST tutorial. A row of zeros gives an empty
    circuit (the state ``|0...0>``); TFQ pads circuits to the union of qubits when it simulates them
    together with a model circuit.

    Args:
        bits: array-like of shape ``(N, n)`` (or ``(N, ...)``, flattened row-major per example)
            holding only 0/1 (``bool`` or integers).
        qubits: int ``n`` or a sequence of ``n`` ``cirq.GridQubit``/``cirq.LineQubit``.

    Returns:
        A list of ``N`` ``cirq.Circuit``.

    Example:
        >>> cs = bits_to_circuits([[1, 0], [0, 1]], 2)
        >>> [len(list(c.all_operations())) for c in cs]
        [1, 1]
    """
    qs = resolve_qubits(qubits)
    arr = np.asarray(bits)
    if arr.ndim < 2:
        raise ValueError(
            f"bits must have shape (N, {len(qs)}) (one row per example); got shape "
            f"{arr.shape}. Wrap a single example as [bits]."
        )
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[1] != len(qs):
        raise ValueError(
            f"each example has {arr.shape[1]} bits but there are {len(qs)} qubits; "
            "pass one qubit per bit."
        )
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not (np.issubdtype(arr.dtype, np.number) and np.isin(arr, (0, 1)).all()):
        bad = arr[~np.isin(arr, (0, 1))][:3] if np.issubdtype(arr.dtype, np.number) else arr.dtype
        raise ValueError(
            f"bits must hold only 0 and 1; got values such as {bad!r}. Binarize "
            "first, e.g. (images > threshold)."
        )
    return [cirq.Circuit(cirq.X(q) for q, b in zip(qs, row) if b) for row in arr]
