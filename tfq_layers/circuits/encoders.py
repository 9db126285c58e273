"""Data encoders: circuits whose gate angles are (expressions of) classical input features.

Every builder returns the circuit and the symbols it introduced, in natural order (``x2`` before
``x10``); a Keras PQC layer binds those symbols to the columns of its input tensor. Angles may be
arbitrary sympy expressions (``w*x + b``, ``x0*x1``): the layer compiles them into TensorFlow, so
the circuits need not restrict themselves to what TFQ alone accepts (a symbol times a constant).

Conventions: ``rx(t) = exp(-i t X / 2)`` (likewise ``ry``, ``rz``), exactly as ``cirq.rx``; an
int ``qubits`` means ``cirq.GridQubit.rect(1, qubits)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import math

import cirq
import sympy

from tfq_layers._symbols import natural_sorted
from tfq_layers.circuits._validation import (
    QubitsLike,
    ROTATIONS,
    check_choice,
    check_int,
    check_rotation,
    check_unique_names,
    make_symbols,
    neighbour_pairs,
    resolve_qubits,
)

__all__ = [
    "angle_encoding",
    "basis_encoding",
    "dense_angle_encoding",
    "iqp_encoding",
    "iqp_pairs",
    "reuploading_circuit",
    "reuploading_shape",
]


def angle_encoding(
    qubits: QubitsLike, rotation: str = "rx", prefix: str = "x"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Angle (rotation) encoding: one feature per qubit.

    Circuit: on qubit ``i`` (``i = 0 .. n-1``) one rotation ``R(x_i)`` with ``R`` in
    ``{rx, ry, rz}``, so the state prepared from ``|0...0>`` is the product state

        |psi(x)> = R(x_0)|0> (x) R(x_1)|0> (x) ... (x) R(x_{n-1})|0>,

    e.g. for ``rx``: ``R(x)|0> = cos(x/2)|0> - i sin(x/2)|1>``. (``rz`` on ``|0>`` only adds a
    phase; use it after a basis change of your own.) Scale features yourself (e.g. to ``[0, pi]``).

    Args:
        qubits: int ``n`` (uses ``cirq.GridQubit.rect(1, n)``) or a sequence of
            ``cirq.GridQubit``/``cirq.LineQubit``.
        rotation: ``"rx"``, ``"ry"`` or ``"rz"``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{n-1}``.

    Returns:
        ``(circuit, symbols)``: a ``cirq.Circuit`` and the ``n`` input symbols, ``symbols[i]``
        feeding qubit ``i``.

    Example:
        >>> circuit, xs = angle_encoding(3, rotation="ry")
        >>> [str(s) for s in xs]
        ['x0', 'x1', 'x2']
    """
    qs = resolve_qubits(qubits)
    rot = ROTATIONS[check_rotation(rotation)]
    symbols = make_symbols(prefix, len(qs))
    circuit = cirq.Circuit(rot(s).on(q) for q, s in zip(qs, symbols))
    return circuit, symbols


def basis_encoding(
    qubits: QubitsLike, prefix: str = "x"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Basis encoding of a bit string: ``X**x_i`` on qubit ``i``.

    Circuit: on qubit ``i`` the gate ``X^{x_i}`` (``cirq.X**x_i``, unitary
    ``(I + X)/2 + e^{i pi x_i} (I - X)/2``). For bits ``x_i in {0, 1}`` the prepared state is the
    computational basis state ``|x_0 x_1 ... x_{n-1}>``; fractional values interpolate.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{n-1}``.

    Returns:
        ``(circuit, symbols)`` with one symbol per qubit.

    Example:
        >>> circuit, xs = basis_encoding(4)
        >>> len(xs)
        4
    """
    qs = resolve_qubits(qubits)
    symbols = make_symbols(prefix, len(qs))
    circuit = cirq.Circuit((cirq.X**s).on(q) for q, s in zip(qs, symbols))
    return circuit, symbols


def dense_angle_encoding(
    qubits: QubitsLike, prefix: str = "x"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """Dense angle encoding: two features per qubit (LaRose & Coyle 2020, up to scaling).

    Circuit: on qubit ``i`` first ``ry(x_{2i})`` then ``rz(x_{2i+1})``, giving the product state

        |psi(x)> = (x)_i  rz(x_{2i+1}) ry(x_{2i}) |0>
                 = (x)_i  e^{-i x_{2i+1}/2} (cos(x_{2i}/2)|0> + e^{i x_{2i+1}} sin(x_{2i}/2)|1>),

    i.e. feature ``2i`` sets the polar and feature ``2i+1`` the azimuthal Bloch angle of
    qubit ``i``.

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{2n-1}``.

    Returns:
        ``(circuit, symbols)`` with ``2n`` symbols; qubit ``i`` reads ``symbols[2i]`` and
        ``symbols[2i+1]``.

    Example:
        >>> circuit, xs = dense_angle_encoding(2)
        >>> [str(s) for s in xs]
        ['x0', 'x1', 'x2', 'x3']
    """
    qs = resolve_qubits(qubits)
    symbols = make_symbols(prefix, 2 * len(qs))
    circuit = cirq.Circuit()
    for i, q in enumerate(qs):
        circuit.append([cirq.ry(symbols[2 * i]).on(q), cirq.rz(symbols[2 * i + 1]).on(q)])
    return circuit, symbols


def iqp_pairs(n_qubits, pairs="all"):
    """Index pairs ``(i, j)`` that :func:`iqp_encoding` entangles.

    ``"all"``: every ``i < j`` (``n(n-1)/2`` pairs, in lexicographic order); ``"line"``:
    ``(i, i+1)``; ``"ring"``: line plus ``(n-1, 0)`` when ``n > 2``.

    Args:
        n_qubits: number of qubits (int >= 1).
        pairs: ``"all"``, ``"line"`` or ``"ring"``.

    Returns:
        A list of ``(i, j)`` tuples.

    Example:
        >>> iqp_pairs(3)
        [(0, 1), (0, 2), (1, 2)]
    """
    n = check_int(n_qubits, "n_qubits")
    pairs = check_choice(pairs, "pairs", ("all", "line", "ring"))
    if pairs == "all":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    return neighbour_pairs(n, pairs)


def iqp_encoding(
    qubits: QubitsLike, prefix: str = "x", reps: int = 1, pairs: str | Sequence = "all"
) -> tuple[cirq.Circuit, list[sympy.Symbol]]:
    """IQP / ZZ-feature-map encoding (Havlicek et al., Nature 567, 209 (2019)).

    One repetition applies ``H`` to every qubit, then ``rz(x_i)`` on qubit ``i``, then for each
    pair ``(i, j)`` (see :func:`iqp_pairs`; default ``"all"`` pairs ``i < j``) the two-qubit gate
    ``exp(-i x_i x_j Z_i Z_j / 2)`` (``cirq.ZZPowGate(exponent=x_i*x_j/pi, global_shift=-1/2)``).
    Since all these gates are diagonal, one repetition is ``U_Phi(x) H^{(x)n}`` with

        U_Phi(x) = exp(-i/2 [ sum_i x_i Z_i + sum_{(i,j)} x_i x_j Z_i Z_j ]),

    and the full circuit is ``(U_Phi(x) H^{(x)n})^reps`` (Havlicek et al. use ``reps=2``). The pair
    angle ``x_i x_j`` follows PennyLane's ``IQPEmbedding``; Havlicek et al. use
    ``(pi - x_i)(pi - x_j)``, which you get by feeding ``pi - x`` as features. The pair angles are
    products of symbols, which the package's layers compile (TFQ alone would reject them).

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        prefix: symbol-name prefix; symbols are ``prefix0 .. prefix{n-1}`` (one feature per qubit).
        reps: number of repetitions (int >= 1); every repetition reuses the same symbols.
        pairs: which pairs get a ``ZZ`` term: ``"all"`` (default), ``"line"`` or ``"ring"``.

    Returns:
        ``(circuit, symbols)`` with ``n`` input symbols.

    Example:
        >>> circuit, xs = iqp_encoding(3, reps=2)
        >>> len(xs)
        3
    """
    qs = resolve_qubits(qubits)
    reps = check_int(reps, "reps")
    index_pairs = iqp_pairs(len(qs), pairs)
    symbols = make_symbols(prefix, len(qs))
    circuit = cirq.Circuit()
    for _ in range(reps):
        circuit.append(cirq.H.on_each(*qs))
        circuit.append(cirq.rz(s).on(q) for q, s in zip(qs, symbols))
        for i, j in index_pairs:
            gate = cirq.ZZPowGate(exponent=symbols[i] * symbols[j] / sympy.pi, global_shift=-0.5)
            circuit.append(gate.on(qs[i], qs[j]))
    return circuit, symbols


def _padded_angles(n_features):
    """Number of rotation angles per qubit per layer: features padded to a multiple of 3."""
    return 3 * math.ceil(n_features / 3)


def reuploading_shape(
    n_qubits: QubitsLike, n_features: int, layers: int
) -> dict[str, tuple[int, ...]]:
    """Symbol shapes of :func:`reuploading_circuit`.

    Args:
        n_qubits: int ``n`` or a sequence of qubits (its length is used).
        n_features: number of input features ``F`` (int >= 1).
        layers: number of re-uploading layers ``L`` (int >= 1).

    Returns:
        A dict ``{"inputs": (F,), "weights": (L, n, F), "biases": (L, n, 3*ceil(F/3))}``; the
        number of trainable symbols is ``L*n*F + L*n*3*ceil(F/3)``.

    Example:
        >>> reuploading_shape(2, n_features=4, layers=3)
        {'inputs': (4,), 'weights': (3, 2, 4), 'biases': (3, 2, 6)}
    """
    n = len(resolve_qubits(n_qubits, what="n_qubits"))
    f = check_int(n_features, "n_features")
    layers = check_int(layers, "layers")
    return {"inputs": (f,), "weights": (layers, n, f), "biases": (layers, n, _padded_angles(f))}


def reuploading_circuit(
    qubits: QubitsLike,
    n_features: int,
    layers: int,
    prefix_w: str = "w",
    prefix_b: str = "b",
    input_prefix: str = "x",
    topology: str = "line",
) -> tuple[cirq.Circuit, list[sympy.Symbol], list[sympy.Symbol]]:
    """Data re-uploading circuit (Perez-Salinas et al., Quantum 4, 226 (2020)).

    The feature vector ``x = (x_0, ..., x_{F-1})`` is padded with zeros to ``P = 3*ceil(F/3)``
    entries and cut into ``P/3`` triples. In layer ``l`` (``l = 0 .. L-1``), qubit ``q`` gets for
    each triple ``t`` the general rotation (Y-Z-Y Euler angles, applied in this time order)

        ry(phi_{3t}) -> rz(phi_{3t+1}) -> ry(phi_{3t+2}),
        i.e. the unitary Ry(phi_{3t+2}) Rz(phi_{3t+1}) Ry(phi_{3t}),

    with angles ``phi_k = w_{l,q,k} * x_k + b_{l,q,k}`` for real features ``k < F`` and
    ``phi_k = b_{l,q,k}`` for padding slots. When ``n > 1`` every layer ends with ``CZ`` on the
    neighbouring pairs of ``topology`` (``"line"``: ``(0,1), (1,2), ...``; ``"ring"`` adds
    ``(n-1, 0)`` for ``n > 2``). The first slot of each triple is an ``ry`` so that even a single
    feature moves ``|0>`` off the Z axis. Angles are sympy expressions ``w*x + b``, which the
    package's layers compile (TFQ alone would reject them).

    Args:
        qubits: int ``n`` or a sequence of ``cirq.GridQubit``/``cirq.LineQubit``.
        n_features: number of input features ``F`` (int >= 1).
        layers: number of re-uploading layers ``L`` (int >= 1).
        prefix_w: prefix of the weights ``w_l_q_k`` (shape ``(L, n, F)``).
        prefix_b: prefix of the biases ``b_l_q_k`` (shape ``(L, n, P)``).
        input_prefix: prefix of the inputs ``x0 .. x{F-1}``.
        topology: ``"line"`` (default) or ``"ring"`` for the CZ entanglers.

    Returns:
        ``(circuit, input_symbols, weight_symbols)``: ``input_symbols`` are the ``F`` features,
        ``weight_symbols`` all trainable symbols (weights and biases) in natural order (with the
        default prefixes, the ``b_...`` biases come before the ``w_...`` weights). See
        :func:`reuploading_shape`.

    Example:
        >>> circuit, xs, ws = reuploading_circuit(2, n_features=2, layers=3)
        >>> len(xs), len(ws)
        (2, 30)
    """
    qs = resolve_qubits(qubits)
    n = len(qs)
    f = check_int(n_features, "n_features")
    layers = check_int(layers, "layers")
    topology = check_choice(topology, "topology", ("line", "ring"))
    p = _padded_angles(f)
    xs = make_symbols(input_prefix, f, name="input_prefix")
    ws = make_symbols(prefix_w, layers, n, f, name="prefix_w")
    bs = make_symbols(prefix_b, layers, n, p, name="prefix_b")
    check_unique_names(xs + ws + bs, "input_prefix, prefix_w and prefix_b")
    circuit = cirq.Circuit()
    axes = (cirq.ry, cirq.rz, cirq.ry)
    for layer in range(layers):
        for qi, q in enumerate(qs):
            base_w = (layer * n + qi) * f
            base_b = (layer * n + qi) * p
            for k in range(p):
                angle = bs[base_b + k]
                if k < f:
                    angle = ws[base_w + k] * xs[k] + angle
                circuit.append(axes[k % 3](angle).on(q))
        if n > 1:
            circuit.append(cirq.CZ(qs[i], qs[j]) for i, j in neighbour_pairs(n, topology))
    return circuit, xs, natural_sorted(ws + bs)
