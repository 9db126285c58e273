"""Runtime steps of the statevector simulator: `Buckets` evaluates every parameterized gate
matrix of a circuit with a few vectorized ops, `FusedStep` applies one compiled step (a fused
block, a permutation, a diagonal phase or a noise channel) to the state, forward and adjoint, and
`Sequencer` orders the ops of the adjoint sweep.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np
import tensorflow as tf

from tfq_layers.backends.statevector.compile import (
    ChannelStep,
    DenseStep,
    DiagStep,
    Fourier,
    PermStep,
    Step,
)
from tfq_layers.backends.statevector.kernels import (
    cmul,
    conj,
    diag_real,
    group_transpose,
    permute,
    row_real,
    transpose_grouped,
)


# --------------------------------------------------------------------------------------
# vectorized evaluation of all parameterized matrices
# --------------------------------------------------------------------------------------
_DENSE_W_LIMIT = 2**22


class BucketArrays(NamedTuple):
    """The arrays that evaluate one bucket of G Fourier forms with at most K terms each."""

    method: str  # 'dense': phases = values @ w; 'gather': from the few symbols each form reads
    w: Optional[np.ndarray]  # dense: (P, G*K), P the symbol columns the bucket reads
    symbols: Optional[np.ndarray]  # gather: (G, m) the symbol columns each form reads
    weights: Optional[np.ndarray]  # gather: (G, K, m) their weight in each term's phase
    coef: np.ndarray  # (G, 2K, size): [cos, sin] of the phases -> realified matrices
    n_forms: int  # G
    n_terms: int  # K
    needs_shared: bool  # whether a batched bucket also reads the shared symbols


class Buckets:
    """Collects Fourier forms and evaluates them all with a few ops per (dim, diag, shared) bucket.

    For a bucket of G forms with at most K terms: phases (B, G, K) = values @ W, then
    [cos, sin] (B, G, 2K) @ coefficients (G, 2K, size) gives every realified matrix
    (size = 4 d^2) or diagonal (size = 2 d) at once.

    Symbols ``n_batched..n_symbols-1`` are *shared*: one value for the whole batch (a layer's
    weights). Forms that depend on shared symbols only are evaluated once, without a batch axis,
    so their blocks are applied with one plain GEMM over the whole batch.
    """

    def __init__(self, n_symbols: int, n_batched: Optional[int] = None):
        self._items: Dict[Tuple[int, bool, bool], list] = {}
        self.arrays = {}
        self.n_symbols = n_symbols
        self.n_batched = n_symbols if n_batched is None else n_batched

    def add(self, f: Fourier, diag: bool):
        shared = all(s >= self.n_batched for s in f.symbols())
        key = (f.dim, diag, shared)
        lst = self._items.setdefault(key, [])
        lst.append(f)
        return key, len(lst) - 1

    def finalize(self):
        for key, fs in self._items.items():
            d, diag, shared = key
            # the symbol columns this bucket reads: shared values alone, or the batched values
            # (plus the shared ones, tiled, only if some form of the bucket uses them)
            lo = self.n_batched if shared else 0
            uses_shared = any(s >= self.n_batched for f in fs for s in f.symbols())
            hi = self.n_symbols if (shared or uses_shared) else self.n_batched
            P = hi - lo
            K = max(f.n_terms for f in fs)
            G = len(fs)
            size = 2 * d if diag else 4 * d * d
            coef = np.zeros((G, 2 * K, size), np.float32)
            m = max(1, max(len(f.symbols()) for f in fs))
            sym = np.zeros((G, m), np.int32)  # the few symbols each form uses
            wsel = np.zeros((G, K, m), np.float32)
            for g, f in enumerate(fs):
                ss = f.symbols()
                sym[g, : len(ss)] = [x - lo for x in ss]
                for kk, (k, c) in enumerate(f.terms.items()):
                    for sy, w in k:
                        wsel[g, kk, ss.index(sy)] += w
                    if diag:
                        c = np.diag(c) if c.ndim == 2 else c
                        coef[g, kk] = diag_real(c).reshape(-1)
                        coef[g, K + kk] = diag_real(1j * c).reshape(-1)
                    else:
                        coef[g, kk] = row_real(c).reshape(-1)
                        coef[g, K + kk] = row_real(1j * c).reshape(-1)
            if P * G * K <= _DENSE_W_LIMIT:  # one matmul values @ W (cheapest, clean gradient)
                wmat = np.zeros((P, G, K), np.float32)
                for g in range(G):
                    for j in range(m):
                        wmat[sym[g, j], g, :] += wsel[g, :, j]
                self.arrays[key] = BucketArrays(
                    "dense", wmat.reshape(P, G * K), None, None, coef, G, K, hi > self.n_batched
                )
            else:
                self.arrays[key] = BucketArrays(
                    "gather", None, sym, wsel, coef, G, K, hi > self.n_batched
                )

    def evaluate(self, values, shared=None):
        """dict key -> list of G realified row matrices (B, 2d, 2d) or diagonals (B, d, 2);
        shared buckets give (2d, 2d) / (d, 2) without the batch axis.

        Args:
            values: (B, n_batched) batched symbol values.
            shared: (n_symbols - n_batched,) shared symbol values (None when there are none).
        """
        out = {}
        full = None
        for key, arrays in self.arrays.items():
            d, diag, is_shared = key
            G, K = arrays.n_forms, arrays.n_terms
            if is_shared:
                vals = shared[None, :]
            elif arrays.needs_shared:
                if full is None:
                    full = tf.concat(
                        [values, tf.tile(shared[None, :], [tf.shape(values)[0], 1])], axis=1
                    )
                vals = full
            else:
                vals = values
            if arrays.method == "dense":
                phase = tf.reshape(tf.matmul(vals, arrays.w), [-1, G, K])
            else:
                sym = arrays.symbols
                v = tf.reshape(tf.gather(vals, sym.reshape(-1), axis=1), [-1, G, sym.shape[1]])
                phase = tf.einsum("bgm,gkm->bgk", v, arrays.weights)
            cs = tf.concat([tf.cos(phase), tf.sin(phase)], axis=2)  # (B, G, 2K)
            mats = tf.einsum("bgk,gkx->bgx", cs, arrays.coef)
            if is_shared:
                mats = tf.reshape(mats, [G, d, 2] if diag else [G, 2 * d, 2 * d])
            else:
                mats = tf.reshape(mats, [-1, G, d, 2] if diag else [-1, G, 2 * d, 2 * d])
            # unstack once: per-item slicing would make the gradient O(G^2) (pad + add per slice)
            out[key] = tf.unstack(mats, num=G, axis=0 if is_shared else 1)
        return out


# --------------------------------------------------------------------------------------
# runtime steps
# --------------------------------------------------------------------------------------
def _unbatched(u) -> bool:
    """Whether a step matrix (2d, 2d) / diagonal (d, 2) is the same for the whole batch (a numpy
    constant or a matrix of shared symbols) rather than one per batch element."""
    return isinstance(u, np.ndarray) or u.shape.rank == 2


class FusedStep:
    """One compiled step ready to run (its shapes precomputed, its constants realified): the base
    class of one runtime class per kind of `compile.Step`, made by :func:`runtime_step`.

    Each kind implements ``apply`` (forward) and ``backward`` (the adjoint method); a kind with a
    gate matrix also implements ``matrix``. ``tiny`` is set by the simulator when XLA compiles.
    """

    kind = ""
    const = None  # a constant step's realified matrix / diagonal
    invertible = True  # whether the adjoint sweep can un-compute the step's input
    parameterized = False  # whether the matrix comes from `Buckets` (depends on symbols)

    def __init__(self, step: Step, n: int):
        self.step = step
        self.n = n
        self.k = len(step.targets)
        self.d = 2**self.k
        self.tiny = False

    def matrix(self, mats, product=True):
        """The step's matrix from the evaluated buckets ``mats``; ``None`` for a step without one."""
        return None

    def apply(self, x, u, rand=None, keep=False):
        """The step's output state; with ``keep=True`` the pair (output, kept), ``kept`` what
        `backward` takes as ``saved`` instead of un-computing the input (the input state, unless a
        kind says otherwise)."""
        y = self._apply(x, u, rand)
        return (y, x) if keep else y

    def _apply(self, x, u, rand):
        raise NotImplementedError

    def backward(self, y, g, u, seq, need_x=True, saved=None):
        """Adjoint-method step: from the step's output state ``y`` and its cotangent ``g`` (both
        (B, 2**n, 2)) to its input state ``x``, the cotangent ``g_x`` and the cotangent of ``u``
        (None for a constant). Every op runs through ``seq`` (`Sequencer`), one after the other,
        so at most three states of the batch are alive at a time (y or x, g or g_x, one result).

        Args:
            need_x: whether to return the input state (the step before un-computes from it);
                None is returned in its place otherwise.
            saved: what ``apply(..., keep=True)`` kept in the forward pass: the input is read
                from it instead of being un-computed from ``y`` (which may then be None).
        """
        raise NotImplementedError


def _trailing_transposes(step, n, k):
    """``(forward, inverse, rows shape)``: the transposes that bring ``step``'s targets to the
    trailing axes and back, and the ``(B, 2**(n-k), 2*2**k)`` shape the GEMM sees."""
    lay_in = step.layout_in
    free = [1 + i for i, q in enumerate(lay_in) if q not in step.targets]
    tpos = [1 + lay_in.index(q) for q in step.targets]
    perm = [0] + free + tpos + [n + 1]
    return (
        group_transpose(n, perm),
        group_transpose(n, list(np.argsort(perm))),
        (-1, 2 ** (n - k), 2 * 2**k),
    )


class _MatrixRun(FusedStep):
    """A step with a gate matrix: a constant, or the product of a chain whose parameterized
    members are evaluated by `Buckets` (``refs`` names them)."""

    diagonal = False

    def __init__(self, step, n, buckets: Buckets):
        super().__init__(step, n)
        self.refs = None
        if step.const is not None:
            self.const = self._realify(step.const).astype(np.float32)
        else:
            self.refs = []
            for f in step.chain:
                if f.is_const:
                    self.refs.append(("const", self._realify(f.const_matrix()).astype(np.float32)))
                else:
                    self.refs.append(("param", buckets.add(f, self.diagonal)))

    @property
    def parameterized(self):
        return self.refs is not None

    @property
    def sequential(self):
        """Apply the chain item by item to the state instead of forming the block matrix."""
        return False

    def matrix(self, mats, product=True):
        """Realified (2d, 2d) row matrix / (d, 2) diagonal: np constant or batched tensor.

        With product=False and a `sequential` step, the list of chain matrices instead."""
        if self.refs is None:
            return self.const
        items = [ref if kind == "const" else mats[ref[0]][ref[1]] for kind, ref in self.refs]
        if not product and self.sequential:
            return items
        m = None
        for cur in items:
            if m is None:
                m = cur if not isinstance(cur, np.ndarray) else tf.constant(cur)
            else:
                m = self._compose(m, cur)
        return m


class DenseRun(_MatrixRun):
    """A dense block: transpose its qubits to the trailing axes, one GEMM, back."""

    kind = "dense"

    def __init__(self, step, n, buckets):
        super().__init__(step, n, buckets)
        self.fwd_t, self.inv_t, self.rd = _trailing_transposes(step, n, self.k)

    @staticmethod
    def _realify(c):
        return row_real(c)

    @staticmethod
    def _compose(m, cur):
        return tf.matmul(m, cur)  # row convention: earlier gate on the left

    @property
    def sequential(self):
        """Apply the chain item by item to the state (cheaper than forming the block matrix
        when the state has fewer rows than the block matrix)."""
        return self.refs is not None and len(self.refs) > 1 and 2 ** (self.n - self.k) <= 2 * self.d

    def _mm(self, xr, m):
        """xr (B, R, 2d) @ m. A matrix shared by the batch is one 2-D GEMM over all rows; a
        per-example matrix of tiny shape a broadcast-multiply-reduce, which XLA fuses into one
        loop and which beats a batched GEMM call (BENCHMARKS.md, "Simulator design measurements")."""
        r, dd = self.rd[1], self.rd[2]
        if _unbatched(m) and self.one_gemm:  # a plain 2-D GEMM: also the fastest tiny case
            return tf.reshape(tf.matmul(tf.reshape(xr, [-1, dd]), m), tf.shape(xr))
        if self.tiny and r * dd * dd <= 256:  # per-example m here: a shared one took the GEMM
            return tf.reduce_sum(xr[..., :, None] * m[:, None], axis=-2)
        return tf.matmul(xr, m)  # batched, or broadcasting one matrix over the batch

    @property
    def one_gemm(self):
        """Apply a matrix shared by the batch as ONE GEMM over all rows of all examples: faster
        than a broadcasting batched matmul up to about 18 qubits; from about 19 the gradient's
        long (batch * rows) contraction into a small matrix parallelises poorly (BENCHMARKS.md,
        "Simulator design measurements")."""
        return self.rd[1] * self.rd[2] < 2**19

    def apply(self, x, u, rand=None, keep=False):
        """As `FusedStep.apply`; what is kept is the input already in the GEMM's arrangement."""
        flat = [-1, 2**self.n, 2]
        xr = tf.reshape(transpose_grouped(x, self.fwd_t, flat), self.rd)
        kept = xr
        for m in u if isinstance(u, list) else [u]:
            xr = self._mm(xr, m)
        return (tf.reshape(xr, flat), kept) if keep else tf.reshape(xr, flat)

    def backward(self, y, g, u, seq, need_x=True, saved=None):
        flat = [-1, 2**self.n, 2]
        const = isinstance(u, np.ndarray)
        one = _unbatched(u) and self.one_gemm  # one GEMM over all rows; the gradient sums the batch
        rows = [-1, self.rd[2]] if one else self.rd
        x = gu = None
        if need_x or not const:  # the cotangent of u is read from the input state
            if saved is None:
                saved = seq(lambda: tf.matmul(tf.reshape(y, rows), u, transpose_b=True))
            x = tf.reshape(saved, rows)
        if not const:
            gu = seq(lambda: tf.matmul(x, tf.reshape(g, rows), transpose_a=True))
            if _unbatched(u) and not one:
                gu = tf.reduce_sum(gu, axis=0)
        g = seq(lambda: tf.matmul(tf.reshape(g, rows), u, transpose_b=True))
        if need_x:
            x = tf.reshape(
                seq(lambda: transpose_grouped(tf.reshape(x, flat), self.inv_t, flat)), flat
            )
        else:
            x = None
        g = seq(lambda: transpose_grouped(tf.reshape(g, flat), self.inv_t, flat))
        return x, tf.reshape(g, flat), gu


class DiagRun(_MatrixRun):
    """A diagonal block: a complex multiply broadcast over the state's grouped axes."""

    kind = "diag"
    diagonal = True

    def __init__(self, step, n, buckets):
        super().__init__(step, n, buckets)
        shape, tmask = [], []
        for q in step.layout_in:
            is_t = q in step.targets
            if shape and not is_t and not tmask[-1]:
                shape[-1] *= 2
            else:
                shape.append(2)
                tmask.append(is_t)
        self.group_shape = shape + [2]
        self.bc_shape = [2 if t else 1 for t in tmask] + [2]
        self.free_axes = [1 + i for i, t in enumerate(tmask) if not t]

    @staticmethod
    def _realify(c):
        return diag_real(np.diag(c) if c.ndim == 2 else c)

    @staticmethod
    def _compose(m, cur):
        return cmul(m, cur)

    def _bshape(self, u):
        return ([1] if _unbatched(u) else [-1]) + self.bc_shape

    def _apply(self, x, u, rand):
        ub = (
            np.reshape(u, self._bshape(u))
            if isinstance(u, np.ndarray)
            else tf.reshape(u, self._bshape(u))
        )
        return tf.reshape(cmul(tf.reshape(x, [-1] + self.group_shape), ub), [-1, 2**self.n, 2])

    def backward(self, y, g, u, seq, need_x=True, saved=None):
        flat = [-1, 2**self.n, 2]
        const = isinstance(u, np.ndarray)
        ub = np.reshape(u, self._bshape(u)) if const else tf.reshape(u, self._bshape(u))
        shape = [-1] + self.group_shape
        x = gu = None
        if need_x or not const:  # the cotangent of u is read from the input state
            x = saved if saved is not None else seq(lambda: cmul(tf.reshape(y, shape), conj(ub)))
        if not const:
            prod = seq(lambda: cmul(tf.reshape(g, shape), conj(tf.reshape(x, shape))))
            if self.free_axes:
                prod = tf.reduce_sum(prod, axis=self.free_axes)
            gu = tf.reshape(prod, [-1, self.d, 2])
            if _unbatched(u):
                gu = tf.reduce_sum(gu, axis=0)
        g = seq(lambda: cmul(tf.reshape(g, shape), conj(ub)))
        return tf.reshape(x, flat) if need_x else None, tf.reshape(g, flat), gu


class PermRun(FusedStep):
    """A permutation with phases: one gather along the span's axes (then a phase multiply)."""

    kind = "perm"

    def __init__(self, step, n, buckets=None):
        super().__init__(step, n)
        start, m = step.span
        # gather along the span's axes: (B * 2**start, 2**m, rest)
        self.span_shape = [-1, 2**m, 2 ** (n - start - m) * 2]
        self.phase_shape = [-1, 2**m, 2 ** (n - start - m), 2]
        if step.phase is not None:
            self.phase = diag_real(step.phase).astype(np.float32).reshape(2**m, -1, 2)

    def _apply(self, x, u, rand):
        y = permute(tf.reshape(x, self.span_shape), self.step.index, self.step.inv_index)
        if self.step.phase is not None:
            y = cmul(tf.reshape(y, self.phase_shape), self.phase)
        return tf.reshape(y, [-1, 2**self.n, 2])

    def backward(self, y, g, u, seq, need_x=True, saved=None):
        flat = [-1, 2**self.n, 2]

        def undo(z):
            if self.step.phase is not None:
                z = cmul(tf.reshape(z, self.phase_shape), conj(self.phase))
            return tf.reshape(
                tf.gather(tf.reshape(z, self.span_shape), self.step.inv_index, axis=1), flat
            )

        x = None
        if need_x:
            x = saved if saved is not None else seq(lambda: undo(y))
        return x, seq(lambda: undo(g)), None


class ChannelRun(FusedStep):
    """A noise channel: per example, one operator drawn from the random number of its column."""

    kind = "channel"
    invertible = False

    def __init__(self, step, n, buckets=None):
        super().__init__(step, n)
        self.fwd_t, self.inv_t, self.rd = _trailing_transposes(step, n, self.k)
        self.ch_probs = step.channel.probs
        self.ch_mats = row_real(step.channel.mats).astype(np.float32)  # (nK, 2d, 2d)
        self.channel_id = step.channel_id

    def _apply(self, x, u, rand):
        n, d = self.n, self.d
        u = rand[:, self.channel_id]
        xr = tf.reshape(transpose_grouped(x, self.fwd_t, [-1, 2**n, 2]), self.rd)  # (B, R, 2d)
        if self.ch_probs is not None:  # mixture: state-independent probabilities
            cdf = np.cumsum(self.ch_probs)[:-1].astype(np.float32)
            idx = tf.reduce_sum(tf.cast(u[:, None] >= cdf[None, :], tf.int32), axis=1)
            y = tf.matmul(xr, tf.gather(self.ch_mats, idx))
            return tf.reshape(y, [-1, 2**n, 2])
        nk = self.ch_mats.shape[0]
        big = np.concatenate(list(self.ch_mats), axis=1)  # (2d, nK*2d)
        ys = tf.reshape(tf.matmul(xr, big), [-1, 2 ** (n - self.k), nk, 2 * d])
        p = tf.reduce_sum(tf.square(ys), axis=[1, 3])  # (B, nK) Born probabilities
        cdf = tf.math.cumsum(p, axis=1) / tf.reduce_sum(p, axis=1, keepdims=True)
        idx = tf.stop_gradient(tf.reduce_sum(tf.cast(u[:, None] >= cdf[:, :-1], tf.int32), axis=1))
        y = tf.gather(ys, idx, axis=2, batch_dims=1)  # (B, R, 2d)
        norm = tf.sqrt(tf.maximum(tf.gather(p, idx, batch_dims=1), 1e-30))
        return tf.reshape(y / norm[:, None, None], [-1, 2**n, 2])

    def backward(self, y, g, u, seq, need_x=True, saved=None):
        raise ValueError(
            "The adjoint gradient does not support noise channels; use gradient='autodiff'."
        )


# The runtime class of each kind of compiled step.
_RUNTIME = {DenseStep: DenseRun, DiagStep: DiagRun, PermStep: PermRun, ChannelStep: ChannelRun}


def runtime_step(step: Step, n: int, buckets: Buckets) -> FusedStep:
    """The runtime step for the compiled ``step`` on ``n`` qubits (parameterized matrices are
    registered with ``buckets``)."""
    return _RUNTIME[type(step)](step, n, buckets)


class Sequencer:
    """Runs graph ops one after another (each waits for the previous one's result): the executor
    would otherwise run independent ops of the adjoint sweep side by side and keep more states of
    the batch alive than the sweep needs. A no-op when executing eagerly."""

    def __init__(self):
        self.last = None

    def __call__(self, fn):
        if self.last is None:
            out = fn()
        else:
            with tf.control_dependencies([self.last]):
                out = fn()
        self.last = out
        return out
