"""Evaluate the placeholder expressions of a :class:`~tfq_layers.program.Program` in TensorFlow.

``ParameterMap`` turns ``(features, weights)`` into the ``(batch, n_placeholders)`` float32 tensor a
backend consumes.  Affine placeholders are one ``matmul``; the rest are built from the sympy tree
node by node with TensorFlow ops (no ``lambdify``, no ``eval``), so gradients flow by autodiff.
"""
import numpy as np
import sympy
import tensorflow as tf

_UNARY = {
    "sin": tf.sin, "cos": tf.cos, "tan": tf.tan, "asin": tf.asin, "acos": tf.acos,
    "atan": tf.atan, "sinh": tf.sinh, "cosh": tf.cosh, "tanh": tf.tanh, "asinh": tf.asinh,
    "acosh": tf.acosh, "atanh": tf.atanh, "exp": tf.exp, "log": tf.math.log, "Abs": tf.abs,
    "sign": tf.sign, "erf": tf.math.erf, "floor": tf.floor, "ceiling": tf.math.ceil,
    "sec": lambda x: 1.0 / tf.cos(x), "csc": lambda x: 1.0 / tf.sin(x),
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
    if isinstance(expr, sympy.Add):
        return tf.add_n([_broadcast_like(a, args) for a in args])
    if isinstance(expr, sympy.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent == sympy.Rational(1, 2):
            return tf.sqrt(args[0])
        if exponent == -1:
            return 1.0 / args[0]
        if exponent.is_Integer and exponent > 0:
            out = args[0]
            for _ in range(int(exponent) - 1):
                out = out * args[0]
            return out
        return tf.pow(args[0], args[1])
    name = type(expr).__name__
    if name in _UNARY:
        return _UNARY[name](args[0])
    if name == "atan2":
        return tf.atan2(args[0], args[1])
    if name in ("Min", "Max"):
        fn = tf.minimum if name == "Min" else tf.maximum
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out
    raise ValueError(f"cannot compile {expr} ({name}) to TensorFlow")  # checked at compile time


def _broadcast_like(t, all_args):
    """``tf.add_n`` needs equal shapes; broadcast scalars against the widest argument."""
    shapes = [a.shape.rank or 0 for a in all_args]
    if (t.shape.rank or 0) == max(shapes):
        return t
    widest = all_args[int(np.argmax(shapes))]
    return tf.broadcast_to(t, tf.shape(widest))


class ParameterMap:
    """Maps ``(features, weights)`` to the placeholder values of a program, batched.

    Args:
        program: a compiled :class:`~tfq_layers.program.Program`.
    """

    def __init__(self, program):
        self.program = program
        if program.direct:
            return
        a_in, a_w, b = program.affine_coefficients()
        self._a_in = a_in.astype(np.float32)
        self._a_w = a_w.astype(np.float32)
        self._b = b.astype(np.float32)
        self._has_in = bool(np.any(a_in)) and program.n_inputs > 0
        self._has_w = bool(np.any(a_w)) and program.n_weights > 0
        self._nonlinear = program.expressions[program.n_affine:]
        # For `split`: which placeholders depend on the features (one value per example) and
        # which on the weights alone (one value for the whole batch).
        inputs = set(program.input_symbols)
        self._aff_batched = [j for j in range(program.n_affine) if np.any(a_in[:, j])]
        self._aff_shared = [j for j in range(program.n_affine) if not np.any(a_in[:, j])]
        self._nl_batched = [e for e in self._nonlinear if e.free_symbols & inputs]
        self._nl_shared = [e for e in self._nonlinear if not e.free_symbols & inputs]

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
        return ([names[j] for j in self._aff_batched] + nl_b, [names[j] for j in self._aff_shared] + nl_s)

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
            b_parts.append(tf.matmul(features, tf.constant(self._a_in[:, cols])) + tf.gather(row, cols)[None, :])
        if self._nl_batched:
            b_parts.append(tf.stack([tf.broadcast_to(to_tensorflow(e, tensors), tf.reshape(batch_size, [1]))
                                     for e in self._nl_batched], axis=1))
        if self._aff_shared:
            s_parts.append(tf.gather(row, self._aff_shared))
        if self._nl_shared:
            s_parts.append(tf.stack([tf.cast(to_tensorflow(e, tensors), tf.float32) for e in self._nl_shared]))
        batched = (tf.concat(b_parts, axis=1) if b_parts else tf.zeros(tf.stack([batch_size, 0]), tf.float32))
        shared = tf.concat(s_parts, axis=0) if s_parts else tf.zeros([0], tf.float32)
        return batched, shared

    def __call__(self, features, weights, batch_size):
        """Placeholder values, shape ``(batch_size, n_placeholders)`` float32.

        Args:
            features: ``(batch, n_inputs)`` float32 tensor, or ``None`` when there are no inputs.
            weights: ``(n_weights,)`` float32 tensor, or ``None`` when there are no weights.
            batch_size: scalar int tensor, the batch size.
        """
        prog = self.program
        if prog.direct:  # values are the symbols themselves
            parts = []
            if prog.n_inputs:
                parts.append(features)
            if prog.n_weights:
                parts.append(tf.tile(weights[None, :], tf.stack([batch_size, 1])))
            if not parts:
                return tf.zeros(tf.stack([batch_size, 0]), tf.float32)
            return parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
        parts = []
        if prog.n_affine:
            row = tf.constant(self._b)[None, :]
            if self._has_w:
                row = row + tf.linalg.matvec(tf.constant(self._a_w), weights,
                                             transpose_a=True)[None, :]
            if self._has_in:
                parts.append(tf.matmul(features, tf.constant(self._a_in)) + row)
            else:
                parts.append(tf.tile(row, tf.stack([batch_size, 1])))
        if self._nonlinear:
            tensors = {}
            for i, s in enumerate(prog.input_symbols):
                tensors[s.name] = features[:, i]
            for i, s in enumerate(prog.weight_symbols):
                tensors[s.name] = weights[i]
            cols = []
            for e in self._nonlinear:
                v = to_tensorflow(e, tensors)
                cols.append(tf.broadcast_to(v, tf.reshape(batch_size, [1])))
            parts.append(tf.stack(cols, axis=1))
        if not parts:
            return tf.zeros(tf.stack([batch_size, 0]), tf.float32)
        return parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
