"""Runtime steps of the statevector simulator: `Buckets` evaluates every parameterized gate
matrix of a circuit with a few vectorized ops, `FusedStep` applies one compiled step (a fused
block, a permutation, a diagonal phase or a noise channel) to the state, forward and adjoint, and
`Sequencer` orders the ops of the adjoint sweep.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

from tfq_layers.backends.statevector.compile import Fourier, Step
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
                self.arrays[key] = (
                    "dense",
                    wmat.reshape(P, G * K),
                    None,
                    coef,
                    G,
                    K,
                    hi > self.n_batched,
                )
            else:
                self.arrays[key] = ("gather", sym, wsel, coef, G, K, hi > self.n_batched)

    def evaluate(self, values, shared=None):
        """dict key -> list of G realified row matrices (B, 2d, 2d) or diagonals (B, d, 2);
        shared buckets give (2d, 2d) / (d, 2) without the batch axis.

        Args:
            values: (B, n_batched) batched symbol values.
            shared: (n_symbols - n_batched,) shared symbol values (None when there are none).
        """
        out = {}
        full = None
        for key, (mode, a1, a2, coef, G, K, needs_shared) in self.arrays.items():
            d, diag, is_shared = key
            if is_shared:
                vals = shared[None, :]
            elif needs_shared:
                if full is None:
                    full = tf.concat(
                        [values, tf.tile(shared[None, :], [tf.shape(values)[0], 1])], axis=1
                    )
                vals = full
            else:
                vals = values
            if mode == "dense":
                phase = tf.reshape(tf.matmul(vals, a1), [-1, G, K])
            else:
                v = tf.reshape(tf.gather(vals, a1.reshape(-1), axis=1), [-1, G, a1.shape[1]])
                phase = tf.einsum("bgm,gkm->bgk", v, a2)
            cs = tf.concat([tf.cos(phase), tf.sin(phase)], axis=2)  # (B, G, 2K)
            mats = tf.einsum("bgk,gkx->bgx", cs, coef)
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
    """Runtime version of a compile Step: precomputed shapes, realified constants."""

    def __init__(self, step: Step, n: int, buckets: Buckets):
        self.kind = step.kind
        self.step = step
        self.n = n
        k = len(step.targets)
        self.k = k
        self.d = 2**k
        self.refs = None
        self.const = None
        self.tiny = False  # set by the simulator when XLA-compiling
        if step.kind in ("dense", "diag"):
            diag = step.kind == "diag"
            conv = (lambda c: diag_real(np.diag(c) if c.ndim == 2 else c)) if diag else row_real
            if step.const is not None:
                self.const = conv(step.const).astype(np.float32)
            else:
                self.refs = []
                for f in step.chain:
                    if f.is_const:
                        self.refs.append(("const", conv(f.const_matrix()).astype(np.float32)))
                    else:
                        self.refs.append(("param", buckets.add(f, diag)))
        if step.kind in ("dense", "channel"):
            lay_in = step.layout_in
            free = [1 + i for i, q in enumerate(lay_in) if q not in step.targets]
            tpos = [1 + lay_in.index(q) for q in step.targets]
            perm = [0] + free + tpos + [n + 1]
            self.fwd_t = group_transpose(n, perm)
            self.inv_t = group_transpose(n, list(np.argsort(perm)))
            self.rd = (-1, 2 ** (n - k), 2 * self.d)
        if step.kind == "diag":
            lay = step.layout_in
            shape, tmask = [], []
            for q in lay:
                is_t = q in step.targets
                if shape and not is_t and not tmask[-1]:
                    shape[-1] *= 2
                else:
                    shape.append(2)
                    tmask.append(is_t)
            self.group_shape = shape + [2]
            self.bc_shape = [2 if t else 1 for t in tmask] + [2]
            self.free_axes = [1 + i for i, t in enumerate(tmask) if not t]
        if step.kind == "perm":
            start, m = step.span
            # gather along the span's axes: (B * 2**start, 2**m, rest)
            self.span_shape = [-1, 2**m, 2 ** (n - start - m) * 2]
            self.phase_shape = [-1, 2**m, 2 ** (n - start - m), 2]
            if step.phase is not None:
                self.phase = diag_real(step.phase).astype(np.float32).reshape(2**m, -1, 2)
        if step.kind == "channel":
            ch = step.channel
            self.ch_probs = ch.probs
            self.ch_mats = row_real(ch.mats).astype(np.float32)  # (nK, 2d, 2d)
            self.channel_id = step.channel_id

    # ---- matrices
    @property
    def sequential(self):
        """Apply the chain item by item to the state (cheaper than forming the block matrix
        when the state has fewer rows than the block matrix)."""
        return (
            self.kind == "dense"
            and self.refs is not None
            and len(self.refs) > 1
            and 2 ** (self.n - self.k) <= 2 * self.d
        )

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
            elif self.kind == "diag":
                m = cmul(m, cur)
            else:
                m = tf.matmul(m, cur)  # row convention: earlier gate on the left
        return m

    def _mm(self, xr, m):
        """xr (B, R, 2d) @ m. A matrix shared by the batch is one 2-D GEMM over all rows; a
        per-example matrix of tiny shape a broadcast-multiply-reduce, which XLA fuses into one
        loop and which beats a batched GEMM call (measured: 2x at n=4)."""
        r, dd = self.rd[1], self.rd[2]
        if _unbatched(m) and self.one_gemm:  # a plain 2-D GEMM: also the fastest tiny case
            # (forward + gradient 0.03 ms faster at 4 qubits under XLA than multiply-reduce)
            return tf.reshape(tf.matmul(tf.reshape(xr, [-1, dd]), m), tf.shape(xr))
        if self.tiny and r * dd * dd <= 256:  # per-example m here: a shared one took the GEMM
            return tf.reduce_sum(xr[..., :, None] * m[:, None], axis=-2)
        return tf.matmul(xr, m)  # batched, or broadcasting one matrix over the batch

    @property
    def one_gemm(self):
        """Apply a matrix shared by the batch as ONE GEMM over all rows of all examples. Measured
        (forward + gradient of the reference workload): faster than a broadcasting batched matmul
        up to 16 qubits (2.4 vs 3.0 ms at 8, 23 vs 31 ms at 12, 6.2 vs 7.6 ms per 32-wide block at
        16), slower from about 19 (64 vs 49 ms per 64-wide block at 20 qubits, batch 8), where the
        gradient's long (batch * rows) contraction into a small matrix parallelises poorly."""
        return self.rd[1] * self.rd[2] < 2**19

    def _bshape(self, u):
        return ([1] if _unbatched(u) else [-1]) + self.bc_shape

    # ---- forward
    def apply(self, x, u, rand=None, keep=False):
        """The step's output state; with ``keep=True`` the pair (output, kept), ``kept`` what
        `backward` takes as ``saved`` instead of un-computing the input (for a dense step the
        input already in the GEMM's arrangement, for the others the input state)."""
        n = self.n
        flat = [-1, 2**n, 2]
        if self.kind == "dense":
            xr = tf.reshape(transpose_grouped(x, self.fwd_t, flat), self.rd)
            kept = xr
            for m in u if isinstance(u, list) else [u]:
                xr = self._mm(xr, m)
            return (tf.reshape(xr, flat), kept) if keep else tf.reshape(xr, flat)
        if keep:
            return self.apply(x, u, rand), x
        if self.kind == "diag":
            ub = (
                np.reshape(u, self._bshape(u))
                if isinstance(u, np.ndarray)
                else tf.reshape(u, self._bshape(u))
            )
            return tf.reshape(cmul(tf.reshape(x, [-1] + self.group_shape), ub), flat)
        if self.kind == "perm":
            y = permute(tf.reshape(x, self.span_shape), self.step.index, self.step.inv_index)
            if self.step.phase is not None:
                y = cmul(tf.reshape(y, self.phase_shape), self.phase)
            return tf.reshape(y, flat)
        if self.kind == "channel":
            return self._apply_channel(x, rand)
        raise AssertionError(self.kind)

    def _apply_channel(self, x, rand):
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

    # ---- adjoint (inverse) and gradient
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
        n = self.n
        flat = [-1, 2**n, 2]
        const = u is None or isinstance(u, np.ndarray)  # None: a permutation
        need_in = need_x or not const  # the cotangent of u is read from the input state
        gu = x = None
        if self.kind == "dense":
            one = (
                _unbatched(u) and self.one_gemm
            )  # one GEMM over all rows; the gradient sums the batch
            rows = [-1, self.rd[2]] if one else self.rd
            if need_in:
                x = (
                    saved
                    if saved is not None
                    else seq(lambda: tf.matmul(tf.reshape(y, rows), u, transpose_b=True))
                )
                x = tf.reshape(x, rows)
            if not const:
                gu = seq(lambda: tf.matmul(x, tf.reshape(g, rows), transpose_a=True))
                if _unbatched(u) and not one:
                    gu = tf.reduce_sum(gu, axis=0)
            g = seq(lambda: tf.matmul(tf.reshape(g, rows), u, transpose_b=True))
            x = (
                tf.reshape(
                    seq(lambda: transpose_grouped(tf.reshape(x, flat), self.inv_t, flat)), flat
                )
                if need_x
                else None
            )
            g = seq(lambda: transpose_grouped(tf.reshape(g, flat), self.inv_t, flat))
            return x, tf.reshape(g, flat), gu
        if self.kind == "diag":
            ub = np.reshape(u, self._bshape(u)) if const else tf.reshape(u, self._bshape(u))
            shape = [-1] + self.group_shape
            if need_in:
                x = (
                    saved
                    if saved is not None
                    else seq(lambda: cmul(tf.reshape(y, shape), conj(ub)))
                )
            if not const:
                prod = seq(lambda: cmul(tf.reshape(g, shape), conj(tf.reshape(x, shape))))
                if self.free_axes:
                    prod = tf.reduce_sum(prod, axis=self.free_axes)
                gu = tf.reshape(prod, [-1, self.d, 2])
                if _unbatched(u):
                    gu = tf.reduce_sum(gu, axis=0)
            g = seq(lambda: cmul(tf.reshape(g, shape), conj(ub)))
            return tf.reshape(x, flat) if need_x else None, tf.reshape(g, flat), gu
        if self.kind == "perm":

            def undo(z):
                if self.step.phase is not None:
                    z = cmul(tf.reshape(z, self.phase_shape), conj(self.phase))
                return tf.reshape(
                    tf.gather(tf.reshape(z, self.span_shape), self.step.inv_index, axis=1), flat
                )

            if need_x:
                x = saved if saved is not None else seq(lambda: undo(y))
            return x, seq(lambda: undo(g)), None
        raise ValueError(
            "The adjoint gradient does not support noise channels; use gradient='autodiff'."
        )


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
