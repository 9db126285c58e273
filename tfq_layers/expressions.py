"""Evaluate the placeholder expressions of a :class:`~tfq_layers.program.Program` in TensorFlow.

``ParameterMap`` turns ``(features, weights)`` into the ``(batch, n_placeholders)`` float32 tensor a
backend consumes.  Affine placeholders are one ``matmul``; the rest are built from the sympy tree
node by node with TensorFlow ops (no ``lambdify``, no ``eval``), so gradients flow by autodiff.
"""

import contextlib
import functools
import operator

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers._xla import in_xla
from tfq_layers.errors import CircuitError

# Bounds on one gate-parameter expression, checked when a circuit is compiled and when a saved
# one is loaded (see ``check_expression``): nothing a person writes comes near them, and beyond
# them building or evaluating the expression could take unbounded time or memory.
MAX_NODES = 5000  # sympy nodes in one expression
MAX_DEPTH = 100  # nesting depth of one expression
MAX_INTEGER = 2**53  # magnitude of any integer (numerator, denominator) in an expression
MAX_EXPONENT = 1000  # magnitude of an integer exponent ``x**n``
# Largest magnitude accepted for a constant: float32's maximum with headroom for the factors
# (pi, 1/2) the simulators multiply an exponent by, so an accepted constant stays finite there.
_FLOAT32_MAX = float(np.finfo(np.float32).max) / 16
_NON_FINITE = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)
_NON_FINITE_HINT = (
    "(the simulator refuses non-finite angles). If the input features are finite, the "
    "expression overflowed or left its domain (exp of a large number, log or sqrt of a negative "
    "one): rescale the features or rewrite it. If the circuit weights are NaN, training made "
    "them so: the loss was NaN, e.g. from NaN labels (check np.isnan(y).any()) or a too large "
    "learning rate; keras.callbacks.TerminateOnNaN stops at the first NaN loss."
)

_UNARY = {
    "sin": tf.sin,
    "cos": tf.cos,
    "tan": tf.tan,
    "asin": tf.asin,
    "acos": tf.acos,
    "atan": tf.atan,
    "sinh": tf.sinh,
    "cosh": tf.cosh,
    "tanh": tf.tanh,
    "asinh": tf.asinh,
    "acosh": tf.acosh,
    "atanh": tf.atanh,
    "exp": tf.exp,
    "log": tf.math.log,
    "Abs": tf.abs,
    "sign": tf.sign,
    "erf": tf.math.erf,
    "floor": tf.floor,
    "ceiling": tf.math.ceil,
    "sec": lambda x: 1.0 / tf.cos(x),
    "csc": lambda x: 1.0 / tf.sin(x),
    "cot": lambda x: 1.0 / tf.tan(x),
}


def to_tensorflow(expr, symbol_tensors):
    """Build ``expr`` with TensorFlow ops.

    Args:
        expr: a sympy expression made of numbers, symbols, ``+ * **`` and the functions listed in
            ``tfq_layers.program.SUPPORTED_FUNCTIONS``.
        symbol_tensors: dict from symbol name to a float32 tensor (all broadcastable together).

    Returns:
        A float32 tensor.

    Example:
        >>> x = sympy.Symbol("x")
        >>> float(to_tensorflow(sympy.atan(2 * x), {"x": tf.constant(0.5)}))  # doctest: +ELLIPSIS
        0.785...
    """
    if isinstance(expr, sympy.Symbol):
        return symbol_tensors[expr.name]
    if expr.is_number:
        return tf.constant(float(expr), tf.float32)
    args = [to_tensorflow(a, symbol_tensors) for a in expr.args]
    for node_type, build in _BY_TYPE:
        if isinstance(expr, node_type):
            return build(expr, args)
    name = type(expr).__name__
    build = _BY_NAME.get(name)
    if build is None:
        raise ValueError(f"cannot compile {expr} ({name}) to TensorFlow")  # checked at compile time
    return build(expr, args)


def _power(expr, args):
    exponent = expr.args[1]
    if exponent == sympy.Rational(1, 2):
        return tf.sqrt(args[0])
    if exponent.is_Integer:
        return _integer_power(args[0], int(exponent))
    return tf.pow(args[0], args[1])


def _unary(fn):
    return lambda expr, args: fn(args[0])


def _fold(fn):
    """``fn(fn(a0, a1), a2) ...`` over a node's arguments, left to right."""
    return lambda expr, args: functools.reduce(fn, args)


# One TensorFlow builder per sympy node: ``build(expr, args)`` with ``args`` the arguments
# already built. Arithmetic nodes by type, functions by their sympy class name.
_BY_TYPE = (
    (sympy.Add, lambda expr, args: tf.add_n([_broadcast_like(a, args) for a in args])),
    (sympy.Mul, _fold(operator.mul)),
    (sympy.Pow, _power),
)
_BY_NAME = {
    **{name: _unary(fn) for name, fn in _UNARY.items()},
    "atan2": lambda expr, args: tf.atan2(args[0], args[1]),
    "Min": _fold(tf.minimum),
    "Max": _fold(tf.maximum),
}


def _integer_power(base, n):
    """``base ** n`` for an integer ``n``: exact repeated squaring (at most ``2 log2 |n|``
    multiplications) up to ``|n| = 64``, ``tf.pow`` beyond; never ``|n|`` multiplications."""
    if n == 0:
        return tf.ones_like(base)
    if abs(n) > 64:
        return tf.pow(base, tf.constant(float(n), base.dtype))
    out, square, k = None, base, abs(n)
    while k:
        if k & 1:
            out = square if out is None else out * square
        k >>= 1
        if k:
            square = square * square
    return 1.0 / out if n < 0 else out


def _broadcast_like(t, all_args):
    """``tf.add_n`` needs equal shapes; broadcast scalars against the widest argument."""
    shapes = [a.shape.rank or 0 for a in all_args]
    if (t.shape.rank or 0) == max(shapes):
        return t
    widest = all_args[int(np.argmax(shapes))]
    return tf.broadcast_to(t, tf.shape(widest))


class ParameterMap:
    """Maps ``(features, weights)`` to the placeholder values of a program, batched.

    Every value handed to the simulator is checked to be finite (``check_finite=True``): an
    expression that overflows (``exp(x)`` for large ``x``), leaves its domain (``log`` of a
    negative number) or reads a NaN weight raises ``tf.errors.InvalidArgumentError`` naming the
    gate and its expression, instead of simulating a NaN angle (which gives NaN on one backend and
    a silent number on another). Under XLA (``jit_compile=True``) the check compiles to nothing.

    Args:
        program: a compiled :class:`~tfq_layers.program.Program`.
        check_finite: check the gate angles as described above.
    """

    def __init__(self, program, check_finite=True):
        self.program = program
        self.check_finite = check_finite
        self._descriptions = None
        check_program(program)
        if program.direct:
            return
        a_in, a_w, b = program.affine_coefficients()
        self._a_in = a_in.astype(np.float32)
        self._a_w = a_w.astype(np.float32)
        self._b = b.astype(np.float32)
        self._has_in = bool(np.any(a_in)) and program.n_inputs > 0
        self._has_w = bool(np.any(a_w)) and program.n_weights > 0
        self._nonlinear = program.expressions[program.n_affine :]
        # For `split`: which placeholders depend on the features (one value per example) and
        # which on the weights alone (one value for the whole batch).
        inputs = set(program.input_symbols)
        self._aff_batched = [j for j in range(program.n_affine) if np.any(a_in[:, j])]
        self._aff_shared = [j for j in range(program.n_affine) if not np.any(a_in[:, j])]
        self._nl_batched = [e for e in self._nonlinear if e.free_symbols & inputs]
        self._nl_shared = [e for e in self._nonlinear if not e.free_symbols & inputs]

    def _gate_descriptions(self):
        """``{placeholder name: "<expression> of the gate <op> in moment <i>"}`` for messages."""
        if self._descriptions is None:
            prog = self.program
            by_name = dict(zip(prog.placeholder_names, prog.expressions))
            where = {}
            for i, (compiled, original) in enumerate(zip(prog.compiled_circuit, prog.circuit)):
                ops = list(original) if len(original) == len(compiled) else list(compiled)
                for op, shown in zip(compiled, ops):
                    for name in cirq.parameter_names(op):
                        where.setdefault(name, f"{shown} in moment {i}")
                if len(where) == len(by_name):
                    break
            self._descriptions = {
                name: f"{_short(by_name[name])} of the gate {where.get(name, '?')}"
                for name in by_name
            }
        return self._descriptions

    def _checked(self, values, names, batched):
        """``values`` (``(batch, k)`` if ``batched`` else ``(k,)``), after an assertion that they
        are finite whose message names the first offending column's gate and expression."""
        if not self.check_finite or not names:
            return values
        if in_xla():
            return values  # XLA has no string tensors and compiles assertions to nothing
        described = self._gate_descriptions()
        weights = {s.name for s in self.program.weight_symbols}
        messages = []
        for name in names:
            kind = "circuit weight" if name in weights else "gate parameter"
            messages.append(f"{kind} {described[name]} is NaN or Inf")
        finite = tf.math.is_finite(values)
        if batched:
            finite = tf.reduce_all(finite, axis=0)
        if tf.executing_eagerly():
            finite = finite.numpy()
            if not finite.all():
                raise tf.errors.InvalidArgumentError(
                    None, None, f"{messages[int(np.argmin(finite))]} {_NON_FINITE_HINT}"
                )
            return values
        first_bad = tf.argmin(tf.cast(finite, tf.int32))
        tf.debugging.Assert(
            tf.reduce_all(finite), [tf.gather(tf.constant(messages), first_bad), _NON_FINITE_HINT]
        )
        return values

    def split_names(self):
        """``(batched, shared)`` placeholder names, in the column order ``split`` returns.

        ``batched`` placeholders depend on the features (a value per example), ``shared`` ones on
        the weights alone (one value for the batch).
        """
        prog = self.program
        if prog.direct:
            return ([s.name for s in prog.input_symbols], [s.name for s in prog.weight_symbols])
        names = prog.placeholder_names
        pos = {sympy.srepr(e): j for j, e in enumerate(prog.expressions)}
        nl_b = [names[pos[sympy.srepr(e)]] for e in self._nl_batched]
        nl_s = [names[pos[sympy.srepr(e)]] for e in self._nl_shared]
        return (
            [names[j] for j in self._aff_batched] + nl_b,
            [names[j] for j in self._aff_shared] + nl_s,
        )

    def split(self, features, weights, batch_size):
        """Placeholder values split into ``(batched (batch, n_batched), shared (n_shared,))``,
        columns as named by ``split_names``: what a simulator with shared symbols takes, so
        weight-only gates are computed once per batch instead of once per example.

        Args: as for ``__call__``.
        """
        prog = self.program
        if prog.direct:
            batched = features if prog.n_inputs else tf.zeros(tf.stack([batch_size, 0]), tf.float32)
            shared = weights if prog.n_weights else tf.zeros([0], tf.float32)
            if prog.n_weights:  # features are checked by the layer
                shared = self._checked(shared, [s.name for s in prog.weight_symbols], False)
            return batched, shared
        row = tf.constant(self._b)
        if self._has_w:
            row = row + tf.linalg.matvec(tf.constant(self._a_w), weights, transpose_a=True)
        tensors = {}
        if self._nonlinear:
            for i, s in enumerate(prog.input_symbols):
                tensors[s.name] = features[:, i]
            for i, s in enumerate(prog.weight_symbols):
                tensors[s.name] = weights[i]
        b_parts, s_parts = [], []
        if self._aff_batched:
            cols = self._aff_batched
            b_parts.append(
                tf.matmul(features, tf.constant(self._a_in[:, cols]))
                + tf.gather(row, cols)[None, :]
            )
        if self._nl_batched:
            b_parts.append(
                tf.stack(
                    [
                        tf.broadcast_to(to_tensorflow(e, tensors), tf.reshape(batch_size, [1]))
                        for e in self._nl_batched
                    ],
                    axis=1,
                )
            )
        if self._aff_shared:
            s_parts.append(tf.gather(row, self._aff_shared))
        if self._nl_shared:
            s_parts.append(
                tf.stack([tf.cast(to_tensorflow(e, tensors), tf.float32) for e in self._nl_shared])
            )
        batched = (
            tf.concat(b_parts, axis=1)
            if b_parts
            else tf.zeros(tf.stack([batch_size, 0]), tf.float32)
        )
        shared = tf.concat(s_parts, axis=0) if s_parts else tf.zeros([0], tf.float32)
        batched_names, shared_names = self.split_names()
        batched = self._checked(batched, batched_names, True)
        shared = self._checked(shared, shared_names, False)
        return batched, shared

    def __call__(self, features, weights, batch_size):
        """Placeholder values, shape ``(batch_size, n_placeholders)`` float32, in
        ``program.placeholder_names`` order: ``split``'s two parts, the shared one repeated for
        every example.

        Args:
            features: ``(batch, n_inputs)`` float32 tensor, or ``None`` when there are no inputs.
            weights: ``(n_weights,)`` float32 tensor, or ``None`` when there are no weights.
            batch_size: scalar int tensor, the batch size.
        """
        batched, shared = self.split(features, weights, batch_size)
        batched_names, shared_names = self.split_names()
        if not shared_names:
            return batched
        tiled = tf.tile(shared[None, :], tf.stack([batch_size, 1]))
        values = tf.concat([batched, tiled], axis=1) if batched_names else tiled
        position = {name: i for i, name in enumerate(batched_names + shared_names)}
        order = [position[name] for name in self.program.placeholder_names]
        if order == list(range(len(order))):
            return values
        return tf.gather(values, order, axis=1)


# -- checks of expressions and values --------------------------------------------------------


def _is_finite32(value):
    return bool(np.isfinite(value)) and abs(value) <= _FLOAT32_MAX


def _number_value(node):
    """``float(node)`` for a numeric sympy node, ``None`` when it has no real float value."""
    try:
        value = complex(node)
    except (TypeError, ValueError, OverflowError):
        return None
    return value.real if value.imag == 0 else None


def check_expression(expr, where="a gate parameter"):
    """Refuse a gate-parameter expression that is too large or not finite, before it is compiled.

    Checks, without expanding or evaluating anything but constant subexpressions:

    * size: at most ``MAX_NODES`` nodes, nesting depth at most ``MAX_DEPTH``, integers of magnitude
      at most ``MAX_INTEGER`` and integer exponents of magnitude at most ``MAX_EXPONENT``;
    * finiteness: no ``nan``, ``oo``, ``-oo`` or ``zoo`` anywhere, and every constant
      subexpression (``1e40``, ``exp(1000)``, ``log(0)``) finite in float32, the precision gate
      angles are computed in.

    Args:
        expr: a sympy expression, or a number (int, float, NumPy scalar).
        where: how to name the parameter in the message, e.g. ``"moment 3, rx(x) (exponent)"``.

    Raises:
        CircuitError: naming ``where``, the expression and the fix.

    Example:
        >>> x = sympy.Symbol("x")
        >>> check_expression(sympy.atan(x) + 1)
        >>> check_expression(x + sympy.oo, "rx")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfq_layers.program.CircuitError: rx: the expression x + oo is not finite ...
    """
    if callable(where):  # computed only for a message (printing sympy is slow)
        try:
            return check_expression(expr, "")
        except Exception as err:
            raise type(err)(f"{where()}{err}") from None
    if not isinstance(expr, sympy.Basic):
        try:
            value = float(expr)
        except (TypeError, ValueError, OverflowError):
            return  # not a number: the caller's own type check reports it
        if not _is_finite32(value):
            raise CircuitError(
                f"{where}: the gate parameter {expr!r} is not finite in float32 (or beyond "
                f"{_FLOAT32_MAX:.1e}). Gate angles must be finite; replace it (or the computation "
                "that produced it)."
            )
        return
    nodes = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        _check_size(nodes, depth, where)
        if _check_node(node, expr, where):
            stack.extend((a, depth + 1) for a in node.args)


def _check_size(nodes, depth, where):
    if nodes > MAX_NODES:
        raise CircuitError(
            f"{where}: the expression has more than {MAX_NODES} nodes; a gate angle that large "
            "is refused (it would take long to compile and evaluate). Simplify it, or make "
            "part of it a trainable weight or an input feature."
        )
    if depth > MAX_DEPTH:
        raise CircuitError(
            f"{where}: the expression is nested more than {MAX_DEPTH} levels deep; simplify it."
        )


def _check_node(node, expr, where):
    """Check one node of ``expr``; whether its arguments need checking too."""
    if any(node is z for z in _NON_FINITE):
        raise CircuitError(
            f"{where}: the expression {_short(expr)} is not finite (it contains nan, oo or "
            "zoo); gate angles must be finite. Remove the infinite or undefined term."
        )
    if isinstance(node, sympy.Rational):
        if max(abs(int(node.p)), abs(int(node.q))) > MAX_INTEGER:
            raise CircuitError(
                f"{where}: the expression {_short(expr)} contains the number {_short(node)}, "
                f"larger than {MAX_INTEGER} (2**53); write it as a float."
            )
    if isinstance(node, sympy.Pow) and node.args[1].is_Integer:
        if abs(int(node.args[1])) > MAX_EXPONENT:
            raise CircuitError(
                f"{where}: the expression {_short(expr)} has the power {_short(node)}, whose "
                f"exponent exceeds {MAX_EXPONENT}; in float32 it is 0, 1 or overflows. Rewrite it."
            )
    if isinstance(node, (sympy.Integer, sympy.Float)) or node is sympy.pi:
        if isinstance(node, sympy.Float) and not _is_finite32(float(node)):
            raise CircuitError(
                f"{where}: the constant {_short(node)} in the expression {_short(expr)} is "
                f"not finite in float32 (or beyond {_FLOAT32_MAX:.1e}); gate angles must be "
                "finite. Rewrite it."
            )
        return False
    if node.is_number:
        value = _number_value(node)
        if value is not None and not _is_finite32(value):
            raise CircuitError(
                f"{where}: the constant {_short(node)} in the expression {_short(expr)} is "
                f"{value:g}, not finite in float32 (or beyond {_FLOAT32_MAX:.1e}); gate "
                "angles must be finite. Rewrite it."
            )
        return not isinstance(node, (sympy.Number, sympy.NumberSymbol))
    return True


# Numeric gate attributes a constant angle can hide in (Cirq stores rx's angle as ``exponent``).
_GATE_NUMBERS = (
    "exponent",
    "global_shift",
    "phase_exponent",
    "theta",
    "phi",
    "x_exponent",
    "z_exponent",
    "axis_phase_exponent",
    "p",
    "gamma",
)


def check_program(program):
    """Refuse a compiled program with a non-finite or oversized gate parameter (see
    :func:`check_expression`), naming the moment and the gate: every placeholder expression, and
    every constant parameter (``rx(float("nan"))``, ``rx(1e40)``), which TFQ would simulate as
    NaN and the statevector backend as a silent number.

    ``ParameterMap`` calls it, so every layer and generator checks its circuit when it is built
    and when it is loaded.

    Checking a program twice costs nothing: it is marked as checked the first time.

    Raises:
        CircuitError: naming the first offending gate.
    """
    if getattr(program, "_finite_checked", False):
        return
    checked = set()
    circuits = getattr(program, "circuits", None) or [program.circuit]
    for i, op in ((i, op) for c in circuits for i, moment in enumerate(c) for op in moment):
        gate = getattr(op, "gate", None)
        while isinstance(gate, cirq.ControlledGate):
            gate = gate.sub_gate
        if isinstance(op, cirq.ControlledOperation):
            gate = getattr(op.sub_operation, "gate", None)
        if gate is None:
            continue
        for attr in _GATE_NUMBERS:
            value = getattr(gate, attr, None)
            if value is None or callable(value):
                continue
            if isinstance(value, (int, float, complex, np.number, sympy.Basic)):
                try:
                    if value in checked:
                        continue
                except TypeError:  # unhashable
                    pass
                check_expression(
                    value, lambda i=i, op=op, attr=attr: f"moment {i}, {_short(op)} ({attr})"
                )
                with contextlib.suppress(TypeError):
                    checked.add(value)
        if isinstance(gate, cirq.MatrixGate) and not np.all(np.isfinite(cirq.unitary(gate))):
            raise CircuitError(f"moment {i}, {_short(op)}: the gate's matrix is not finite.")
    program._finite_checked = True


def _short(expr, limit=80):
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_affine(expr):
    """Whether ``expr`` is affine in its symbols *as written*: numbers and symbols combined by
    ``+`` and by ``*`` with at most one non-constant factor. Linear in the size of the tree; it
    never expands, so ``(x0 + x1 + x2)**1000`` is answered at once (``sympy.expand`` would build
    half a million terms). An expression that is affine only after expansion (``(x + 1)**2 -
    x**2``) is reported as not affine, which costs speed (it is evaluated elementwise), never
    correctness.

    Example:
        >>> x, w = sympy.symbols("x w")
        >>> is_affine(2 * (x + 3 * w) + 1), is_affine(w * x), is_affine(sympy.atan(x))
        (True, False, False)
    """
    stack = [expr]
    while stack:
        node = stack.pop()
        if not node.free_symbols:
            if any(node.has(z) for z in _NON_FINITE):
                return False
            continue
        if isinstance(node, sympy.Symbol):
            continue
        if isinstance(node, sympy.Add):
            stack.extend(node.args)
            continue
        if isinstance(node, sympy.Mul):
            variable = [a for a in node.args if a.free_symbols]
            if len(variable) != 1:
                return False
            stack.append(variable[0])
            continue
        return False
    return True


def checked_features(features, layer_name="the layer", what="input features"):
    """``features`` as finite float32 numbers: the one check of the numbers a layer feeds into
    gate angles (native layers' features, the compat layers' ``symbol_values``).

    Refuses ``None``, sparse tensors and strings at once, complex numbers (see
    :func:`as_real_features`), and NaN or Inf when the values are seen (in the graph).

    Args:
        features: a tensor or array of real numbers.
        layer_name: the layer's name, for the message.
        what: what the numbers are called, for the message.
    """
    if features is None:
        raise TypeError(
            f"{layer_name}: {what} are None; pass a float tensor or array of shape (batch, n)."
        )
    if isinstance(features, (tf.SparseTensor, tf.compat.v1.SparseTensorValue)):
        raise TypeError(
            f"{layer_name}: {what} are a sparse tensor; gate angles need every value. Pass "
            "tf.sparse.to_dense(x) (or keras.Input(..., sparse=False))."
        )
    dtype = getattr(features, "dtype", None)
    if dtype is None:
        dtype = np.asarray(features).dtype
    name = getattr(dtype, "name", str(dtype))
    if name == "string" or (isinstance(dtype, np.dtype) and dtype.kind in "OUS"):
        raise TypeError(
            f"{layer_name}: {what} hold strings (dtype {name}); gate "
            "angles are numbers. Convert them first, e.g. tf.strings.to_number(x) or "
            "np.asarray(x, dtype=np.float32)."
        )
    t = as_real_features(features, layer_name)
    return tf.debugging.check_numerics(
        t,
        f"{layer_name}: {what} contain NaN or Inf; clean or impute the data before the "
        "quantum layer",
    )


def as_real_features(features, layer_name="the layer"):
    """``features`` as float32, refusing complex input instead of dropping its imaginary part.

    ``tf.cast`` from a complex dtype to float32 silently keeps the real part only.

    Args:
        features: a tensor or array of real numbers.
        layer_name: the layer's name, for the message.

    Raises:
        TypeError: when ``features`` has a complex dtype.
    """
    t = tf.convert_to_tensor(features)
    if t.dtype.is_complex:
        raise TypeError(
            f"{layer_name}: input features have the complex dtype {t.dtype.name}; gate angles are "
            "real, and casting would drop the imaginary part. Pass real features, e.g. "
            "tf.math.real(x) and tf.math.imag(x) as separate columns, or np.abs(x)."
        )
    return tf.cast(t, tf.float32)
