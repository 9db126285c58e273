"""A pure-TensorFlow batched statevector simulator for parameterized Cirq circuits.

Why: TFQ's qsim ops are CPU-only, cannot be XLA-compiled, have a large per-call cost and no
gradient for the state. `StatevectorSimulator` simulates the whole batch as one tensor with
plain TensorFlow ops, so it is

* differentiable by TF autodiff (gradients, Hessians, any loss of the state),
* `tf.function(jit_compile=True)` compatible (below 14 qubits it XLA-compiles its own
  kernels by default),
* device-agnostic (GPU-ready), and
* exportable as a SavedModel with no custom ops (this module never imports
  `tensorflow_quantum`).

How: the circuit is compiled once (`_sv_compile.py`): every parameterized gate is written in
Fourier form `U(theta) = sum_k C_k exp(i w_k . theta)`; the single-qubit gates that come before
any multi-qubit gate on their qubit (angle encodings) prepare a product state, built by outer
products of per-qubit vectors; the other gates are greedily fused into blocks of a few qubits,
constant permutations (CNOT rings, SWAPs, X) become one gather and diagonal gates an
elementwise phase. At run time all gate matrices of the circuit come out of a few vectorized
ops, then each fused block is one matmul on a reshaped view of the state: a single GEMM over
the whole batch when the block depends only on `shared_symbols` (a layer's weights), a batched
matmul with one matrix per example otherwise.
The state is stored as float32 (batch, 2**n, 2) (real and imaginary parts interleaved, the
memory layout of complex64) and complex matrices act through real (2d, 2d) matrices: real
GEMMs are 2-5x faster than complex ones on CPU.

Noise channels are simulated by quantum trajectories: each batch element samples one Kraus
operator per channel with its Born probability, so expectations/probabilities of noisy
circuits are Monte-Carlo estimates averaged over `trajectories` runs.

Qubit order: `qubits[0]` is the most significant bit of the amplitude index, exactly like
`cirq.Simulator().simulate(circuit, qubit_order=qubits)`.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers.backends import _sv_compile as C
from tfq_layers.backends import memory

__all__ = ["LARGE_REGISTER_QUBITS", "StatevectorSimulator", "estimate_memory_bytes"]

_RDTYPE = tf.float32


def estimate_memory_bytes(n_qubits: int, batch: int, n_steps: Optional[int] = None,
                          gradient: str = "autodiff") -> int:
    """Rough peak memory (bytes) of simulating and differentiating a batch of states; see
    :func:`tfq_layers.backends.memory.statevector_bytes` (the one home of this rule).

    Example:
        >>> estimate_memory_bytes(16, 32) / 2**20  # MiB
        592.0
    """
    return memory.statevector_bytes(n_qubits, batch, n_steps, gradient)


# --------------------------------------------------------------------------------------
# real arithmetic helpers
#
# The state is kept as a float32 tensor (batch, 2**n, 2): real and imaginary parts
# interleaved, exactly the memory layout of complex64. Complex matrices act through their
# "realification": for a row-vector product y = x @ A (x complex of length d),
# R(A) is the real (2d, 2d) matrix with y_real = x_real @ R(A). R is a homomorphism
# (R(AB) = R(A) R(B), R(A^H) = R(A)^T), and real GEMMs are 2-5x faster than complex ones
# on CPU.
# --------------------------------------------------------------------------------------
def _realify(a: np.ndarray) -> np.ndarray:
    """R(A) for A (..., d, d) complex: rows (j, c_in), columns (i, c_out)."""
    d = a.shape[-1]
    out = np.zeros(a.shape[:-2] + (d, 2, d, 2), np.float64)
    out[..., :, 0, :, 0] = a.real
    out[..., :, 1, :, 0] = -a.imag
    out[..., :, 0, :, 1] = a.imag
    out[..., :, 1, :, 1] = a.real
    return out.reshape(a.shape[:-2] + (2 * d, 2 * d))


def _row_real(u: np.ndarray) -> np.ndarray:
    """Real (2d, 2d) matrix M with state_real @ M = realified (U @ state)."""
    return _realify(np.swapaxes(u, -1, -2))


def _diag_real(c: np.ndarray) -> np.ndarray:
    """(..., d) complex diagonal -> (..., d, 2) [re, im]."""
    return np.stack([c.real, c.imag], axis=-1)


def _cmul(x, p):
    """Complex product of [re, im]-interleaved tensors (last axis 2), broadcasting."""
    xr, xi = x[..., 0], x[..., 1]
    pr, pi = p[..., 0], p[..., 1]
    return tf.stack([xr * pr - xi * pi, xr * pi + xi * pr], axis=-1)


def _kron_state(psi, v):
    """Product state psi (b, D, 2) (x) v (b', E, 2) -> (max(b, b'), D*E, 2), v's qubits last."""
    return tf.reshape(_cmul(psi[:, :, None, :], v[:, None, :, :]), [-1, psi.shape[1] * v.shape[1], 2])


def _outer_state(a, b):
    """a (b1, D1, 2) (x) b (b2, D2, 2) -> (max(b1, b2), D1*D2, 2) with one batched matmul:
    [ar, ai] @ [[br, bi], [-bi, br]] gives the interleaved [re, im] of every product."""
    br, bi = b[..., 0], b[..., 1]
    m = tf.stack([tf.stack([br, bi], axis=-1), tf.stack([-bi, br], axis=-1)], axis=1)  # (b2, 2, D2, 2)
    m = tf.reshape(m, [-1, 2, b.shape[1] * 2])
    return tf.reshape(tf.matmul(tf.cast(a, _RDTYPE), m), [-1, a.shape[1] * b.shape[1], 2])


def _names(symbols, what):
    out = []
    for s in symbols:
        if isinstance(s, sympy.Symbol):
            s = s.name
        if not isinstance(s, str):
            raise TypeError(f"{what} must contain str or sympy.Symbol, got {s!r} in {symbols!r}")
        out.append(s)
    return out


def _conj(p):
    if isinstance(p, np.ndarray):
        return p * np.array([1.0, -1.0], p.dtype)
    return p * tf.constant([1.0, -1.0], p.dtype)


def _to_complex(x):
    return tf.complex(x[..., 0], x[..., 1])


def _group_transpose(n: int, perm_axes: Sequence[int]):
    """Grouped (in_shape, perm) for transposing a (B, 2,..,2 [n], 2) tensor.

    `perm_axes` is a permutation of 0..n+1 (0 = batch, n+1 = re/im); runs of axes that stay
    adjacent are merged so the transpose has as few dimensions as possible.
    Returns None for the identity.
    """
    perm_axes = list(perm_axes)
    if perm_axes == list(range(n + 2)):
        return None
    dims = [-1] + [2] * n + [2]
    groups = []  # runs of input axes, in output order
    for a in perm_axes:
        if groups and a == groups[-1][-1] + 1:
            groups[-1].append(a)
        else:
            groups.append([a])
    in_order = sorted(range(len(groups)), key=lambda g: groups[g][0])
    in_shape = []
    for g in in_order:
        size = 1
        for a in groups[g]:
            size = -1 if (dims[a] == -1 or size == -1) else size * dims[a]
        in_shape.append(size)
    perm = [in_order.index(g) for g in range(len(groups))]
    return in_shape, perm


def _transpose(x, spec, out_flat):
    if spec is None:
        return x
    in_shape, perm = spec
    return tf.reshape(tf.transpose(tf.reshape(x, in_shape), perm), out_flat)


def _permute(x, index, inv_index):
    """x[:, index] with a cheap, re-differentiable gradient (gather by the inverse index)."""
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return _permute(dy, inv_index, index)

        return tf.gather(x, index, axis=1), grad

    return f(x)


def _as_seed(seed):
    """A shape-[2] int32 seed tensor (fresh random one when seed is None)."""
    if seed is None:
        return tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed) % (2**31 - 1), 0x5EED], dtype=tf.int32)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    if seed.shape.rank == 0:
        seed = tf.stack([seed, tf.constant(0x5EED, tf.int32)])
    return seed


# --------------------------------------------------------------------------------------
# vectorized evaluation of all parameterized matrices
# --------------------------------------------------------------------------------------
_DENSE_W_LIMIT = 2**22
# The product-state prefix pays an input gradient at the first simulation step; it saves more than
# that up to 16 qubits (measured on the reference workload: 0.8 -> 0.6 ms at 4 qubits, 3.4 -> 3.0
# at 8, 26 -> 22 at 12, neutral at 16) but costs 7-12% at 20 qubits, where the blocks it shrinks
# are no cheaper for it.
_PREFIX_MAX_QUBITS = 16
# From this many qubits on the simulator takes its large-register plan (see the constructor's
# `large_register`): passes over the state, not per-op overhead, set the cost there.
LARGE_REGISTER_QUBITS = 20


class _Buckets:
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

    def add(self, f: C.Fourier, diag: bool):
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
                        coef[g, kk] = _diag_real(c).reshape(-1)
                        coef[g, K + kk] = _diag_real(1j * c).reshape(-1)
                    else:
                        coef[g, kk] = _row_real(c).reshape(-1)
                        coef[g, K + kk] = _row_real(1j * c).reshape(-1)
            if P * G * K <= _DENSE_W_LIMIT:  # one matmul values @ W (cheapest, clean gradient)
                wmat = np.zeros((P, G, K), np.float32)
                for g in range(G):
                    for j in range(m):
                        wmat[sym[g, j], g, :] += wsel[g, :, j]
                self.arrays[key] = ("dense", wmat.reshape(P, G * K), None, coef, G, K, hi > self.n_batched)
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
                    full = tf.concat([values, tf.tile(shared[None, :], [tf.shape(values)[0], 1])], axis=1)
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


class _RStep:
    """Runtime version of a compile Step: precomputed shapes, realified constants."""

    def __init__(self, step: C.Step, n: int, buckets: _Buckets):
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
            conv = (lambda c: _diag_real(np.diag(c) if c.ndim == 2 else c)) if diag else _row_real
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
            self.fwd_t = _group_transpose(n, perm)
            self.inv_t = _group_transpose(n, list(np.argsort(perm)))
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
        if step.kind == "perm" and step.phase is not None:
            self.phase = _diag_real(step.phase).astype(np.float32)[None]
        if step.kind == "channel":
            ch = step.channel
            self.ch_probs = ch.probs
            self.ch_mats = _row_real(ch.mats).astype(np.float32)  # (nK, 2d, 2d)
            self.channel_id = step.channel_id

    # ---- matrices
    @property
    def sequential(self):
        """Apply the chain item by item to the state (cheaper than forming the block matrix
        when the state has fewer rows than the block matrix)."""
        return (self.kind == "dense" and self.refs is not None and len(self.refs) > 1
                and 2 ** (self.n - self.k) <= 2 * self.d)

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
                m = _cmul(m, cur)
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
    def apply(self, x, u, rand=None):
        n = self.n
        flat = [-1, 2**n, 2]
        if self.kind == "dense":
            xr = tf.reshape(_transpose(x, self.fwd_t, flat), self.rd)
            for m in (u if isinstance(u, list) else [u]):
                xr = self._mm(xr, m)
            return tf.reshape(xr, flat)
        if self.kind == "diag":
            ub = np.reshape(u, self._bshape(u)) if isinstance(u, np.ndarray) else tf.reshape(u, self._bshape(u))
            return tf.reshape(_cmul(tf.reshape(x, [-1] + self.group_shape), ub), flat)
        if self.kind == "perm":
            y = _permute(x, self.step.index, self.step.inv_index)
            if self.step.phase is not None:
                y = _cmul(y, self.phase)
            return y
        if self.kind == "channel":
            return self._apply_channel(x, rand)
        raise AssertionError(self.kind)

    def _apply_channel(self, x, rand):
        n, d = self.n, self.d
        u = rand[:, self.channel_id]
        xr = tf.reshape(_transpose(x, self.fwd_t, [-1, 2**n, 2]), self.rd)  # (B, R, 2d)
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
    def backward(self, y, g, u, seq):
        """Adjoint-method step: from the step's output state ``y`` and its cotangent ``g`` (both
        (B, 2**n, 2)) to its input state ``x``, the cotangent ``g_x`` and the cotangent of ``u``
        (None for a constant). Every op runs through ``seq`` (`_Sequencer`), one after the other,
        so at most three states of the batch are alive at a time (y or x, g or g_x, one result).
        """
        n = self.n
        flat = [-1, 2**n, 2]
        const = isinstance(u, np.ndarray)
        gu = None
        if self.kind == "dense":
            if _unbatched(u) and self.one_gemm:  # one GEMM over all rows; the gradient sums the batch
                dd = self.rd[2]
                x = seq(lambda: tf.matmul(tf.reshape(y, [-1, dd]), u, transpose_b=True))
                if not const:
                    gu = seq(lambda: tf.matmul(x, tf.reshape(g, [-1, dd]), transpose_a=True))
                g = seq(lambda: tf.matmul(tf.reshape(g, [-1, dd]), u, transpose_b=True))
            else:
                x = seq(lambda: tf.matmul(tf.reshape(y, self.rd), u, transpose_b=True))
                if not const:
                    gu = seq(lambda: tf.matmul(x, tf.reshape(g, self.rd), transpose_a=True))
                    if _unbatched(u):
                        gu = tf.reduce_sum(gu, axis=0)
                g = seq(lambda: tf.matmul(tf.reshape(g, self.rd), u, transpose_b=True))
            x = seq(lambda: _transpose(tf.reshape(x, flat), self.inv_t, flat))
            g = seq(lambda: _transpose(tf.reshape(g, flat), self.inv_t, flat))
            return tf.reshape(x, flat), tf.reshape(g, flat), gu
        if self.kind == "diag":
            ub = np.reshape(u, self._bshape(u)) if const else tf.reshape(u, self._bshape(u))
            shape = [-1] + self.group_shape
            x = seq(lambda: _cmul(tf.reshape(y, shape), _conj(ub)))
            if not const:
                prod = seq(lambda: _cmul(tf.reshape(g, shape), _conj(x)))
                if self.free_axes:
                    prod = tf.reduce_sum(prod, axis=self.free_axes)
                gu = tf.reshape(prod, [-1, self.d, 2])
                if _unbatched(u):
                    gu = tf.reduce_sum(gu, axis=0)
            g = seq(lambda: _cmul(tf.reshape(g, shape), _conj(ub)))
            return tf.reshape(x, flat), tf.reshape(g, flat), gu
        if self.kind == "perm":
            def undo(z):
                if self.step.phase is not None:
                    z = _cmul(z, _conj(self.phase))
                return tf.gather(z, self.step.inv_index, axis=1)
            x = seq(lambda: undo(y))
            return x, seq(lambda: undo(g)), None
        raise ValueError("The adjoint gradient does not support noise channels; use gradient='autodiff'.")


class _Sequencer:
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


# --------------------------------------------------------------------------------------
# observables
# --------------------------------------------------------------------------------------
_DENSE_OBS_LIMIT = 2**22


class _ObsPlan:
    """Precompiled list of PauliSums: groups of terms sharing the same bit-flip mask."""

    def __init__(self, observables, qindex: Dict[cirq.Qid, int], n: int, factored: bool = False):
        self.factored = factored
        obs = list(observables) if isinstance(observables, (list, tuple)) else [observables]
        self.observables = obs
        self.n_obs = len(obs)
        if self.n_obs == 0:
            raise ValueError("observables is empty; pass a list of cirq.PauliSum.")
        self.offset = np.zeros(self.n_obs, np.float64)
        groups: Dict[Tuple[int, ...], list] = {}
        self.terms = []  # (obs index, coefficient, flip tuple, sign-mask, y-count) for sampling
        for o, ob in enumerate(obs):
            if isinstance(ob, (cirq.Pauli, cirq.PauliString, cirq.GateOperation)) and not isinstance(ob, cirq.PauliSum):
                try:
                    ob = cirq.PauliSum.wrap(ob)
                except Exception as e:  # pragma: no cover - message below is the point
                    raise TypeError(f"Observable {ob!r} is not a Pauli sum: {e}") from None
            if not isinstance(ob, cirq.PauliSum):
                raise TypeError(
                    f"Observable #{o} must be a cirq.PauliSum or cirq.PauliString, got {type(ob).__name__}: {ob!r}."
                )
            for term in ob:
                coef = complex(term.coefficient)
                if abs(coef.imag) > 1e-6 * max(1.0, abs(coef)):
                    raise ValueError(
                        f"Observable #{o} {ob} has a non-real coefficient {coef} (not Hermitian); "
                        f"use real coefficients."
                    )
                flip, zmask, ny = [], 0, 0
                for q, p in term.items():
                    if q not in qindex:
                        raise ValueError(
                            f"Observable #{o} {ob} acts on qubit {q}, which is not in the simulated register "
                            f"{sorted(qindex, key=qindex.get)!r}."
                        )
                    i = qindex[q]
                    if p == cirq.X or p == cirq.Y:
                        flip.append(i)
                    if p == cirq.Z or p == cirq.Y:
                        zmask |= 1 << (n - 1 - i)
                    if p == cirq.Y:
                        ny += 1
                if not flip and zmask == 0:
                    self.offset[o] += coef.real
                    continue
                flip = tuple(sorted(flip))
                groups.setdefault(flip, []).append((o, coef.real, zmask, ny))
                self.terms.append((o, coef.real, flip, zmask, ny))
        self.n = n
        self.groups = []
        for flip, terms in groups.items():
            # D[y, o] = sum_t c_t * i^ny * (-1)^popcount(y & zmask)
            masks = np.array([t[2] for t in terms], np.int64)
            coef = np.zeros((len(terms), self.n_obs), np.complex128)
            for j, (o, c, _, ny) in enumerate(terms):
                coef[j, o] += c * (1j**ny)
            re = coef.real.astype(np.float32)
            im = coef.imag.astype(np.float32)
            self.groups.append((flip, masks, re if np.any(re) else None, im if np.any(im) else None))

    @staticmethod
    def _signs_np(masks, n):
        y = np.arange(2**n, dtype=np.int64)[:, None] & masks[None, :]
        par = np.zeros_like(y)
        while np.any(y):
            par ^= y & 1
            y >>= 1
        return (1 - 2 * par).astype(np.float32)

    def _contract(self, a, masks, coef):
        """``a @ D`` for a (B, 2**n) and D[y, o] = sum_t coef[t, o] (-1)^popcount(y & masks[t]).

        Small registers use D as one constant. Beyond ``_DENSE_OBS_LIMIT`` entries, the sign of
        a term factorizes over the high and low halves of the index bits, so
        ``a @ D = ((a viewed (B, 2**hi, 2**lo) @ S_lo) * S_hi summed over hi) @ coef`` with two
        sign tables of 2**(n/2) rows: one pass over ``a`` and no 2**n-row table (at 24 qubits and
        24 terms that table was 1.5 GiB, rebuilt at every call)."""
        n = self.n
        if not self.factored and (2**n) * max(len(masks), self.n_obs) <= _DENSE_OBS_LIMIT:
            return tf.matmul(a, tf.constant(self._signs_np(masks, n) @ coef))
        lo = (n + 1) // 2
        hi = n - lo
        s_lo = self._signs_np(masks & ((1 << lo) - 1), lo)  # (2**lo, T)
        s_hi = self._signs_np(masks >> lo, hi)  # (2**hi, T)
        q = tf.reshape(tf.matmul(tf.reshape(a, [-1, 2**lo]), s_lo), [-1, 2**hi, len(masks)])
        return tf.matmul(tf.reduce_sum(q * s_hi[None], axis=1), coef.astype(np.float32))

    def expectation(self, psi):
        """psi: canonical real-layout state (B, 2**n, 2) -> (B, n_obs) float32."""
        n = self.n
        out = tf.zeros([tf.shape(psi)[0], self.n_obs], _RDTYPE) + self.offset.astype(np.float32)[None, :]
        probs = None
        for flip, masks, re, im in self.groups:
            if not flip:
                if probs is None:
                    probs = _probabilities(psi)
                out = out + self._contract(probs, masks, re)
                continue
            phi = _flip_bits(psi, flip, n)
            # a = conj(phi) * psi
            if re is not None:
                a_re = tf.reduce_sum(phi * psi, axis=-1)
                out = out + self._contract(a_re, masks, re)
            if im is not None:
                a_im = phi[..., 0] * psi[..., 1] - phi[..., 1] * psi[..., 0]
                out = out - self._contract(a_im, masks, im)
        return out


@tf.custom_gradient
def _probabilities(psi):
    """|amplitude|**2 of a real-layout state (B, 2**n, 2); its gradient ``2 psi dp`` is one
    broadcasting product (autodiff of square-and-sum would materialize two more states)."""
    def grad(dp):
        return psi * tf.expand_dims(2.0 * dp, -1)

    return tf.reduce_sum(tf.square(psi), axis=-1), grad


def _flip_bits(psi, flip, n):
    """psi (B, 2**n, 2) with the amplitude index bits of qubits ``flip`` inverted (X on them).

    Inverting the bits of a run of adjacent qubits reverses their merged axis, so one reverse
    over (batch, runs..., re/im) does it while that view has at most 8 axes (TensorFlow's limit);
    otherwise one gather by ``index XOR mask``."""
    runs = []  # (size, flipped) of maximal runs of qubits
    for q in range(n):
        f = q in flip
        if runs and runs[-1][1] == f:
            runs[-1][0] *= 2
        else:
            runs.append([2, f])
    if len(runs) + 2 <= 8:
        shape = [-1] + [size for size, _ in runs] + [2]
        axes = [1 + i for i, (_, f) in enumerate(runs) if f]
        return tf.reshape(tf.reverse(tf.reshape(psi, shape), axes), [-1, 2**n, 2])
    mask = sum(1 << (n - 1 - q) for q in flip)
    index = tf.bitwise.bitwise_xor(tf.range(2**n, dtype=tf.int32), tf.constant(mask, tf.int32))
    return tf.gather(psi, index, axis=1)


def _obs_key(observables):
    obs = list(observables) if isinstance(observables, (list, tuple)) else [observables]
    return tuple(repr(o) for o in obs)


# ops that move no data (views, bookkeeping) in the traffic count
_FREE_OPS = frozenset({"Reshape", "Identity", "IdentityN", "Const", "Placeholder", "Shape", "StopGradient",
                       "Squeeze", "ExpandDims", "NoOp", "ZerosLike", "OnesLike", "ShapeN", "Size", "Rank"})


def _graph_traffic(graph, min_bytes):
    """(bytes, flops) of the ops of ``graph``: bytes of inputs and outputs of at least ``min_bytes``
    (ops in ``_FREE_OPS`` excluded), flops of matrix products (see `StatevectorSimulator.traffic`)."""

    def size(t):
        if not t.shape.is_fully_defined() or t.dtype == tf.resource or t.dtype == tf.variant:
            return 0
        return t.shape.num_elements() * t.dtype.size

    nbytes, flops = 0, 0
    for op in graph.get_operations():
        if op.type in _FREE_OPS:
            continue
        for t in list(op.inputs) + list(op.outputs):
            b = size(t)
            if b >= min_bytes:
                nbytes += b
        if op.type in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
            a, b = op.inputs[0].shape, op.inputs[1].shape
            o = op.outputs[0].shape
            if a.is_fully_defined() and o.is_fully_defined():
                adj_a = op.get_attr("transpose_a") if op.type == "MatMul" else op.get_attr("adj_x")
                k = a[-2] if adj_a else a[-1]
                flops += 2 * o.num_elements() * k
    return nbytes, flops


# --------------------------------------------------------------------------------------
# the simulator
# --------------------------------------------------------------------------------------
class StatevectorSimulator:
    """Batched, differentiable, XLA-compilable statevector simulator in pure TensorFlow.

    Args:
        circuit: a `cirq.Circuit`. Every gate parameter is a number, a bare `sympy.Symbol`
            from `symbol_names` or an affine `a*symbol + b` of one such symbol. Supported:
            X/Y/Z/H/CZ/CNOT/SWAP/ISWAP/XX/YY/ZZ power gates with any exponent and global
            shift (rx/ry/rz, S, T, ...), PhasedXPowGate, PhasedISwapPowGate, PhasedXZGate,
            FSimGate, CCX/CCZ powers, any EigenGate with a symbolic exponent,
            `.controlled_by(...)` of those (with control values), IdentityGate, any
            non-parameterized gate with a `cirq.unitary` (MatrixGate, TOFFOLI, CSWAP, ...),
            noise channels with a mixture or Kraus representation (depolarize, bit/phase
            flip, amplitude/phase damping, reset, ...; simulated by trajectories) and
            terminal measurements (ignored).
        symbol_names: names (str or sympy.Symbol) of the columns of `symbol_values`.
        qubits: ordered register; defaults to `sorted(circuit.all_qubits())`. `qubits[0]` is
            the most significant bit of the amplitude index.
        observables: optional default list of `cirq.PauliSum` for `expectation`.
        gradient: "autodiff" (plain TF autodiff through the simulation; supports Hessians
            and noise), "adjoint" (Jones & Gacon 2020: keeps only the final state and
            un-computes the gates backwards, at most three states of the batch alive at a time
            whatever the depth; first order only, noiseless circuits only) or "auto" (default:
            adjoint in the large-register plan for noiseless circuits, else autodiff).
        jit_compile: XLA-compile the simulation kernels (`tf.function(jit_compile=True)`);
            "auto" (default) does so below 14 qubits, where per-op overhead dominates. Above,
            plain graph mode is as fast and uses less memory. Either way the simulator also
            runs inside a user's `tf.function(jit_compile=True)`.
        fusion_qubits: maximum size of fused gate blocks (default 2 up to 6 qubits, 3 up to
            13, 4 up to 19, 5 in the large-register plan).
        trajectories: default number of trajectories per batch element for noisy circuits.
        max_fused_terms: cap on the Fourier terms of a fused parameterized matrix.
        fused_vjp: with XLA, compute gradients by re-running the simulation inside one XLA
            computation (faster on small registers; see `_fn`). Ignored without XLA.
        shared_symbols: names of symbols whose values are the same for the whole batch (a
            layer's trainable weights). Their values are passed once, as the 1-D
            ``shared_values`` argument of the simulation methods, and the blocks that depend on
            them alone are computed once and applied with one GEMM over the whole batch instead
            of one small matrix product per batch element.
        large_register: take the large-register plan (default: from `LARGE_REGISTER_QUBITS` = 20
            qubits on): the adjoint gradient (with "auto", noiseless circuits), 5-qubit fused
            blocks, no product-state prefix, no XLA (with "auto"), and Pauli readouts through
            sign tables of 2**(n/2) rows. ``True`` forces it on any register (tests do, on small
            ones); explicit `gradient`, `jit_compile` and `fusion_qubits` still win.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> a = sympy.Symbol("a")
        >>> sim = StatevectorSimulator(cirq.Circuit(cirq.rx(a).on(q[0]), cirq.CNOT(*q)), ["a"])
        >>> sim.expectation(tf.constant([[0.0], [np.pi]]), [cirq.Z(q[1])]).numpy()
        array([[ 1.],
               [-1.]], dtype=float32)
    """

    def __init__(self, circuit: cirq.AbstractCircuit, symbol_names: Sequence, qubits=None, *,
                 observables=None, gradient: str = "auto", jit_compile="auto",
                 fusion_qubits: Optional[int] = None, trajectories: int = 100,
                 max_fused_terms: int = 16, fused_vjp: bool = True, shared_symbols: Sequence = (),
                 large_register: Optional[bool] = None):
        if not isinstance(circuit, cirq.AbstractCircuit):
            raise TypeError(f"circuit must be a cirq.Circuit, got {type(circuit).__name__}: {circuit!r}")
        names = _names(symbol_names, "symbol_names")
        shared = _names(shared_symbols, "shared_symbols")
        if len(set(names + shared)) != len(names) + len(shared):
            both = names + shared
            dup = sorted({s for s in both if both.count(s) > 1})
            raise ValueError(f"symbol_names and shared_symbols have duplicates {dup}; each symbol must "
                             "appear once, either per batch element or shared.")
        self.symbol_names: Tuple[str, ...] = tuple(names)
        self.shared_symbols: Tuple[str, ...] = tuple(shared)
        if qubits is None:
            qubits = sorted(circuit.all_qubits())
        qubits = list(qubits)
        if len(set(qubits)) != len(qubits):
            raise ValueError(f"qubits has duplicates: {qubits!r}")
        missing = set(circuit.all_qubits()) - set(qubits)
        if missing:
            raise ValueError(f"qubits={qubits!r} misses circuit qubits {sorted(missing)!r}; pass the whole register.")
        if not qubits:
            raise ValueError("The register is empty: the circuit acts on no qubits and qubits= was not given.")
        if gradient not in ("auto", "autodiff", "adjoint"):
            raise ValueError(f"gradient must be 'auto', 'autodiff' or 'adjoint', got {gradient!r}")
        if int(trajectories) < 1:
            raise ValueError(f"trajectories must be >= 1, got {trajectories!r}")
        self.qubits = tuple(qubits)
        self.n_qubits = n = len(qubits)
        self._qindex = {q: i for i, q in enumerate(qubits)}
        sym_index = {s: i for i, s in enumerate(names + shared)}

        self.large_register = (n >= LARGE_REGISTER_QUBITS) if large_register is None else bool(large_register)
        items, self._global_phase = C.parse_circuit(circuit, qubits, sym_index)
        self.has_noise = any(isinstance(it, C.ChannelItem) for it in items)
        if gradient == "auto":
            gradient = "adjoint" if (self.large_register and not self.has_noise) else "autodiff"
        if gradient == "adjoint" and self.has_noise:
            raise ValueError("gradient='adjoint' needs a noiseless circuit (the adjoint method un-computes "
                             "gates); use gradient='autodiff' for circuits with noise channels.")
        self.gradient = gradient
        if fusion_qubits is None:
            # measured on the reference workload (benchmarks/simulator.py): bigger blocks
            # mean fewer passes over the state but costlier block matrices
            fusion_qubits = 5 if self.large_register else (2 if n <= 6 else (3 if n <= 13 else 4))
        self.fusion_qubits = int(fusion_qubits)
        self._buckets = _Buckets(len(names) + len(shared), len(names))
        if n <= _PREFIX_MAX_QUBITS and not self.large_register:
            prefix, items = C.split_prefix(items, n)
        else:
            prefix = {}
        self._prefix = self._prefix_plan(prefix, max_fused_terms)
        units = C.fuse(items, self.fusion_qubits, max_fused_terms)
        steps, self._final_layout = C.plan(C.schedule(units), n)
        self._steps = [_RStep(s, n, self._buckets) for s in steps]
        self._buckets.finalize()
        self.n_steps = len(self._steps)
        self.n_channels = sum(1 for s in self._steps if s.kind == "channel")
        if jit_compile == "auto":
            jit_compile = n < 14 and not self.large_register
        self.jit_compile = bool(jit_compile)
        self.fused_vjp = bool(fused_vjp)
        for st in self._steps:
            st.tiny = self.jit_compile
        self.trajectories = int(trajectories)
        fperm = [0] + [1 + self._final_layout.index(q) for q in range(n)] + [n + 1]
        self._final_t = _group_transpose(n, fperm)
        self._final_inv_t = _group_transpose(n, list(np.argsort(fperm)))
        self._obs_cache: Dict[tuple, _ObsPlan] = {}
        self._fn_cache: Dict[tuple, object] = {}
        self._default_obs = None
        if observables is not None:
            self._default_obs = self._obs_plan(observables)

    # ------------------------------------------------------------------ helpers
    def __repr__(self):
        return (f"StatevectorSimulator(n_qubits={self.n_qubits}, symbols={len(self.symbol_names)}, "
                f"steps={self.n_steps}, gradient={self.gradient!r}, noise={self.has_noise})")

    def memory_estimate_bytes(self, batch: int) -> int:
        """Rough peak bytes of a forward + gradient pass for `batch` (see `estimate_memory_bytes`)."""
        return estimate_memory_bytes(self.n_qubits, batch, self.n_steps, self.gradient)

    def traffic(self, batch: int, observables=None) -> Dict[str, float]:
        """Memory traffic and arithmetic of one call on ``batch`` examples, counted from the graph.

        The forward call (state and expectation readout) and the forward + gradient call (with
        respect to ``symbol_values`` and ``shared_values``, as a layer's training step asks) are
        traced for a fixed batch, without running them, and every op of the graph is counted:
        reshapes, identities and constants move no data; any other op reading or writing a tensor
        of at least a quarter of the batch's state adds those bytes. One *pass* is one read plus one
        write of the whole batch's state (``2 * state_bytes``), so a transpose, a gather or a
        matrix product over the state counts one pass, and a step of the adjoint method working on
        the state and its cotangent counts two. Matrix products add ``2 * M * N * K`` flops.

        Under XLA (``jit_compile``) the gradient re-runs the forward computation inside the
        backward one (see ``fused_vjp``): that forward is added to the gradient counts, and XLA's
        own fusion may then save passes the count cannot see.

        Args:
            batch: number of examples (batch elements; times ``trajectories`` for a noisy
                circuit averaged over trajectories).
            observables: the readout; defaults to the constructor's observables, or <Z> on
                every qubit when there are none.

        Returns:
            dict with ``state_bytes`` (bytes of the batch's state, complex64), ``passes_forward``
            and ``passes_gradient`` (passes in a forward call and in a forward + gradient call),
            ``bytes_forward``/``bytes_gradient`` (bytes read and written by those ops) and
            ``flops_forward``/``flops_gradient`` (matrix-product flops).

        Example:
            >>> t = sim.traffic(8)
            >>> t["state_bytes"] == 8 * 2**sim.n_qubits * 8
            True
        """
        batch = int(batch)
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch!r}")
        if observables is None and self._default_obs is None:
            observables = [cirq.Z(q) for q in self.qubits]
        plan = self._obs_plan(observables)
        state_bytes = memory.state_bytes(self.n_qubits, batch)
        specs = (tf.TensorSpec([batch, len(self.symbol_names)], _RDTYPE),
                 tf.TensorSpec([len(self.shared_symbols)], _RDTYPE))

        def forward(v, s):
            return self._layout_plan(plan).expectation(
                self._state_fn(v, s, self._rand(batch, tf.zeros([2], tf.int32)), finish=False))

        def gradient(v, s):
            with tf.GradientTape() as tape:
                tape.watch([v, s])
                loss = tf.reduce_sum(forward(v, s))
            return tape.gradient(loss, [v, s], unconnected_gradients=tf.UnconnectedGradients.ZERO)

        out = {"state_bytes": state_bytes}
        for name, fn in (("forward", forward), ("gradient", gradient)):
            graph = tf.function(fn, autograph=False).get_concrete_function(*specs).graph
            nbytes, flops = _graph_traffic(graph, state_bytes / 4)
            out[f"bytes_{name}"] = nbytes
            out[f"flops_{name}"] = flops
        if self.jit_compile and self.fused_vjp:
            out["bytes_gradient"] += out["bytes_forward"]
            out["flops_gradient"] += out["flops_forward"]
        for name in ("forward", "gradient"):
            out[f"passes_{name}"] = round(out[f"bytes_{name}"] / (2 * state_bytes), 2)
        return out

    def _obs_plan(self, observables) -> _ObsPlan:
        if observables is None:
            if self._default_obs is None:
                raise ValueError("No observables given and none were passed to the constructor.")
            return self._default_obs
        if isinstance(observables, _ObsPlan):
            return observables
        key = _obs_key(observables)
        plan = self._obs_cache.get(key)
        if plan is None:
            plan = _ObsPlan(observables, self._qindex, self.n_qubits, self.large_register)
            self._obs_cache[key] = plan
        return plan

    def _layout_plan(self, plan: _ObsPlan) -> _ObsPlan:
        """``plan`` compiled for states in the final qubit layout of the simulation plan."""
        if self._final_t is None:
            return plan
        key = ("layout", id(plan))
        lp = self._obs_cache.get(key)
        if lp is None:
            lp = _ObsPlan(plan.observables, {q: self._final_layout.index(i) for q, i in self._qindex.items()},
                          self.n_qubits, plan.factored)
            self._obs_cache[key] = lp
        return lp

    def _values(self, symbol_values, shared_values=None):
        v = tf.convert_to_tensor(symbol_values)
        if v.dtype != _RDTYPE:
            v = tf.cast(v, _RDTYPE)
        if v.shape.rank != 2:
            raise ValueError(f"symbol_values must have shape (batch, {len(self.symbol_names)}), got shape {v.shape}.")
        if v.shape[1] is not None and v.shape[1] != len(self.symbol_names):
            raise ValueError(
                f"symbol_values has {v.shape[1]} columns but the simulator has {len(self.symbol_names)} symbols "
                f"{list(self.symbol_names)[:10]}; pass shape (batch, {len(self.symbol_names)})."
            )
        return v, self._shared(shared_values)

    def _shared(self, shared_values):
        n_shared = len(self.shared_symbols)
        if shared_values is None:
            if n_shared:
                raise ValueError(f"this simulator has shared_symbols {list(self.shared_symbols)[:10]}; pass "
                                 f"their values as shared_values=, shape ({n_shared},).")
            return tf.zeros([0], _RDTYPE)
        s = tf.convert_to_tensor(shared_values)
        if s.dtype != _RDTYPE:
            s = tf.cast(s, _RDTYPE)
        if s.shape.rank != 1 or (s.shape[0] is not None and s.shape[0] != n_shared):
            raise ValueError(f"shared_values must have shape ({n_shared},) (one value per shared symbol "
                             f"{list(self.shared_symbols)[:10]}), got shape {s.shape}.")
        return s

    def _fn(self, key, builder):
        """The compiled function `f(values, shared_values, seed)` for `key`.

        In XLA mode the returned callable has a custom gradient that re-runs the simulation
        inside ONE XLA computation (forward + backward), instead of letting TF differentiate
        the XLA call: that would make the forward computation export every intermediate to
        the TF executor, which costs more than recomputing them on small registers (2x
        faster at 4-8 qubits). Higher derivatives still work: the vector-Jacobian product is
        itself an ordinary differentiable TF function.
        """
        fn = self._fn_cache.get(key)
        if fn is not None:
            return fn
        f = builder()
        fwd = tf.function(f, jit_compile=self.jit_compile, reduce_retracing=True, autograph=False)
        if not (self.jit_compile and self.fused_vjp):
            self._fn_cache[key] = fwd
            return fwd

        def vjp_py(v, s, sd, dy):
            with tf.GradientTape() as tape:
                tape.watch([v, s])
                out = f(v, s, sd)
            return tape.gradient(out, [v, s], output_gradients=dy,
                                 unconnected_gradients=tf.UnconnectedGradients.ZERO)

        vjp = tf.function(vjp_py, jit_compile=True, reduce_retracing=True, autograph=False)

        def call(v, s, sd):
            @tf.custom_gradient
            def op(v, s):
                def grad(dy):
                    return vjp(v, s, sd, dy)

                return fwd(v, s, sd), grad

            return op(v, s)

        self._fn_cache[key] = call
        return call

    # ------------------------------------------------------------------ core
    def _prefix_plan(self, prefix, max_terms):
        """Per-qubit plan of the product state the leading single-qubit gates prepare.

        Returns a list of groups: ``("const", v)`` with ``v`` a numpy (1, 2**m, 2) product state
        of a run of m qubits whose leading gates are all constant (or absent), or
        ``("param", refs)`` for one qubit whose leading gates depend on symbols, ``refs`` its
        merged chain (numpy realified matrices or bucket references). None without prefix gates.
        """
        if not prefix:
            return None
        groups = []
        for q in range(self.n_qubits):
            chain = C._merge_chain(prefix.get(q, []), max_terms)
            if all(f.is_const for f in chain):
                u = np.eye(2, dtype=complex)
                for f in chain:
                    u = f.const_matrix() @ u
                if groups and groups[-1][0] == "const":  # extend the run: a numpy kron
                    groups[-1] = ("const", np.kron(groups[-1][1], u[:, 0]))
                else:
                    groups.append(("const", u[:, 0]))  # U|0>
            else:
                refs = [("const", _row_real(f.const_matrix()).astype(np.float32)) if f.is_const
                        else ("param", self._buckets.add(f, False)) for f in chain]
                groups.append(("param", refs))
        # constant runs as (1, 2**m, 2) [re, im] arrays, the layout of the state
        return [(kind, _diag_real(item)[None].astype(np.float32) if kind == "const" else item)
                for kind, item in groups]

    def _initial_state(self, mats, batch):
        """The state after the leading single-qubit gates: a product state, built from one
        two-amplitude vector per qubit by outer products (canonical layout, (B, 2**n, 2))."""
        if self._prefix is None:
            return self._zero_state(batch)
        # Each half of the register by a chain of small outer products, then the two halves by
        # one batched matmul that writes the full state once (a chain up to the full size would
        # make several full-size broadcasting passes: 1.9x slower forward at 16 qubits). Under
        # XLA the broadcasting products fuse into one loop instead, and XLA's CPU batched matmul
        # of tiny matrices costs ~15 us per call (32 x (4x8 @ 8x8)): there the halves are joined
        # by broadcasting too (forward + gradient 0.04 ms faster at 4 qubits, equal at 8).
        tiny = self.jit_compile
        halves, half, size = [None, None], 0, 1
        for kind, item in self._prefix:
            if kind == "const":
                v = item
            else:
                v = None
                for ref_kind, ref in item:
                    m = ref if ref_kind == "const" else mats[ref[0]][ref[1]]
                    if v is None:  # U|0>: the first row of the realified row matrix
                        v = m[..., :1, :]
                    elif tiny:  # row vector times matrix as a fused multiply-reduce
                        v = tf.reduce_sum(tf.expand_dims(v[..., 0, :], -1) * m, axis=-2, keepdims=True)
                    else:  # row vector times the next (realified row) matrix, broadcasting
                        v = tf.matmul(v, m)
                v = tf.reshape(v, [-1, 2, 2])
            if half == 0 and halves[0] is not None and size * size >= 2**self.n_qubits:
                half = 1
            halves[half] = v if halves[half] is None else _kron_state(halves[half], v)
            size *= v.shape[1]
        join = _kron_state if tiny else _outer_state
        psi = halves[0] if halves[1] is None else join(halves[0], halves[1])
        psi = tf.convert_to_tensor(psi, _RDTYPE)
        if psi.shape[0] != 1:
            return psi
        return tf.broadcast_to(psi, tf.stack([batch, 2**self.n_qubits, 2]))

    def _zero_state(self, batch):
        n = self.n_qubits
        return tf.reshape(tf.one_hot(tf.zeros([batch], tf.int32), 2 ** (n + 1), dtype=_RDTYPE), [-1, 2**n, 2])

    def _forward(self, mats, batch, rand, finish=True):
        """Run all steps from |0...0>; returns the canonical real-layout state (B, 2**n, 2), or with
        ``finish=False`` the state in the plan's final qubit layout, without the global phase."""
        x = self._initial_state(mats, batch)
        for st in self._steps:
            x = st.apply(x, st.matrix(mats, product=False) if st.kind in ("dense", "diag") else None, rand)
        return self._finish(x) if finish else x

    def _finish(self, x):
        n = self.n_qubits
        x = _transpose(x, self._final_t, [-1, 2**n, 2])
        if self._global_phase != 1:
            x = _cmul(x, _diag_real(np.array(self._global_phase)).astype(np.float32))
        return x

    def _unfinish(self, x):
        n = self.n_qubits
        if self._global_phase != 1:
            x = _cmul(x, _diag_real(np.conj(np.array(self._global_phase))).astype(np.float32))
        return _transpose(x, self._final_inv_t, [-1, 2**n, 2])

    def _state_adjoint(self, values, shared, finish=True):
        """Final state with an adjoint-method custom gradient (w.r.t. the step matrices and the
        initial product state; those are differentiated by autodiff, which is cheap).
        ``finish``: as in `_forward`."""
        mats = self._buckets.evaluate(values, shared)
        batch = tf.shape(values)[0]
        param_steps = [i for i, st in enumerate(self._steps) if st.kind in ("dense", "diag") and st.refs is not None]
        us = [self._steps[i].matrix(mats) for i in param_steps]
        if not us and self._prefix is None:
            return self._forward(mats, batch, None, finish)
        psi0 = self._initial_state(mats, batch)
        steps = self._steps

        @tf.custom_gradient
        def core(x0, *us_in):
            umap = dict(zip(param_steps, us_in))

            def mat(i):
                st = steps[i]
                return umap[i] if i in umap else (st.const if st.kind in ("dense", "diag") else None)

            x = x0
            for i, st in enumerate(steps):
                x = st.apply(x, mat(i))
            psi = self._finish(x) if finish else x

            def grad(dpsi):
                seq = _Sequencer()
                y = seq(lambda: self._unfinish(psi) if finish else psi)
                g = seq(lambda: self._unfinish(dpsi) if finish else dpsi)
                grads = {}
                for i in range(len(steps) - 1, -1, -1):
                    y, g, gu = steps[i].backward(y, g, mat(i), seq)
                    if i in umap:
                        grads[i] = gu
                return [g] + [grads[i] for i in param_steps]

            return psi, grad

        return core(psi0, *us)

    def _state_fn(self, values, shared, rand, finish=True):
        if self.gradient == "adjoint" and not self.has_noise:
            return self._state_adjoint(values, shared, finish)
        mats = self._buckets.evaluate(values, shared)
        return self._forward(mats, tf.shape(values)[0], rand, finish)

    def _rand(self, batch, seed):
        if self.n_channels == 0:
            return None
        return tf.random.stateless_uniform([batch, self.n_channels], seed=seed, dtype=_RDTYPE)

    def _tile(self, values, t):
        return tf.tile(values, [t, 1])

    # ------------------------------------------------------------------ public API
    def state(self, symbol_values, seed=None, shared_values=None) -> tf.Tensor:
        """Final state vectors.

        Args:
            symbol_values: (batch, n_symbols) float values, columns in `symbol_names` order.
            seed: for noisy circuits, the trajectory seed (int or shape-[2] tensor); each
                returned state is then ONE random trajectory (a pure state).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, 2**n_qubits) complex64, `qubits[0]` the most significant bit.

        Example:
            >>> sim.state(tf.zeros([3, len(sim.symbol_names)])).shape
            TensorShape([3, 4])
        """
        v, s = self._values(symbol_values, shared_values)
        sd = _as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        def build():
            def f(v, s, sd):
                return _to_complex(self._state_fn(v, s, self._rand(tf.shape(v)[0], sd)))
            return f

        return self._fn(("state",), build)(v, s, sd)

    def probabilities(self, symbol_values, trajectories: Optional[int] = None, seed=None,
                      shared_values=None) -> tf.Tensor:
        """Probabilities of the computational basis states.

        Args:
            symbol_values: (batch, n_symbols) float values.
            trajectories: noisy circuits only: number of trajectories averaged per element
                (default: the constructor's `trajectories`).
            seed: noisy circuits only: trajectory seed.
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, 2**n_qubits) float32.

        Example:
            >>> sim.probabilities(tf.zeros([2, len(sim.symbol_names)])).shape
            TensorShape([2, 4])
        """
        v, s = self._values(symbol_values, shared_values)
        t = self._n_traj(trajectories)
        sd = _as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        def build():
            return lambda v, s, sd: self._trajectory_mean(
                v, s, sd, t, lambda psi: tf.reduce_sum(tf.square(psi), axis=-1))

        return self._fn(("probs", t), build)(v, s, sd)

    def _trajectory_mean(self, v, s, sd, t, readout, finish=True):
        """``readout(psi)`` of the states for values ``v``, averaged over ``t`` trajectories
        (``finish``: as in `_forward`)."""
        b = tf.shape(v)[0]
        vt = self._tile(v, t) if t > 1 else v
        out = readout(self._state_fn(vt, s, self._rand(tf.shape(vt)[0], sd), finish))
        if t > 1:
            out = tf.reduce_mean(tf.reshape(out, [t, b, -1]), axis=0)
        return out

    def _n_traj(self, trajectories):
        if not self.has_noise:
            return 1
        t = self.trajectories if trajectories is None else int(trajectories)
        if t < 1:
            raise ValueError(f"trajectories must be >= 1, got {trajectories!r}")
        return t

    def expectation(self, symbol_values, observables=None, trajectories: Optional[int] = None,
                    seed=None, shared_values=None) -> tf.Tensor:
        """Exact expectation values <psi|O|psi> (Monte-Carlo over trajectories if noisy).

        Args:
            symbol_values: (batch, n_symbols) float values.
            observables: list of `cirq.PauliSum`/`cirq.PauliString` on register qubits
                (compiled once and cached); defaults to the constructor's `observables`.
            trajectories: noisy circuits only: trajectories averaged per batch element.
            seed: noisy circuits only: trajectory seed (int or shape-[2] tensor).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, n_observables) float32, differentiable w.r.t. `symbol_values` and
            `shared_values`.

        Example:
            >>> sim.expectation(tf.zeros([1, 1]), [cirq.Z(q[0]) + 0.5 * cirq.X(q[1])])
        """
        v, s = self._values(symbol_values, shared_values)
        plan = self._obs_plan(observables)
        t = self._n_traj(trajectories)
        sd = _as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        # read out in the plan's final qubit layout: no closing transpose (nor its inverse in the
        # adjoint sweep); the global phase cancels in <psi|O|psi>
        layout_plan = self._layout_plan(plan)

        def build():
            return lambda v, s, sd: self._trajectory_mean(v, s, sd, t, layout_plan.expectation,
                                                          finish=False)

        return self._fn(("expectation", id(plan), t), build)(v, s, sd)

    def sample(self, symbol_values, repetitions: int, seed=None, shared_values=None) -> tf.Tensor:
        """Sample bitstrings in the computational basis.

        For noisy circuits every shot comes from its own trajectory while
        `repetitions <= trajectories`; beyond that, `trajectories` trajectories per batch
        element are each sampled several times.

        Args:
            symbol_values: (batch, n_symbols) float values.
            repetitions: shots per batch element.
            seed: int or shape-[2] tensor for reproducible samples (None: fresh randomness).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, repetitions, n_qubits) int32 bits, column j is `qubits[j]`.

        Example:
            >>> sim.sample(tf.zeros([2, 1]), 5, seed=1).shape
            TensorShape([2, 5, 2])
        """
        reps = int(repetitions)
        if reps < 1:
            raise ValueError(f"repetitions must be >= 1, got {repetitions!r}")
        v, s = self._values(symbol_values, shared_values)
        sd = _as_seed(seed)
        n = self.n_qubits
        b = tf.shape(v)[0]
        if self.has_noise:
            t = min(reps, self.trajectories)
            per = -(-reps // t)
            vt = self._tile(v, t)
            sd1, sd2 = tf.unstack(tf.random.experimental.stateless_split(sd, 2))
            p = self._probs_raw(vt, s, sd1)  # (t*b, 2**n)
            idx = self._draw(p, per, sd2)  # (t*b, per)
            idx = tf.transpose(tf.reshape(idx, [t, b, per]), [1, 0, 2])
            idx = tf.reshape(idx, [b, t * per])[:, :reps]
        else:
            p = self._probs_raw(v, s, sd)
            idx = self._draw(p, reps, sd)
        shifts = tf.constant(np.arange(n - 1, -1, -1), tf.int32)
        return tf.bitwise.bitwise_and(tf.bitwise.right_shift(idx[:, :, None], shifts[None, None, :]), 1)

    def _probs_raw(self, v, s, sd):
        def build():
            def f(v, s, sd):
                psi = self._state_fn(v, s, self._rand(tf.shape(v)[0], sd))
                return tf.reduce_sum(tf.square(psi), axis=-1)
            return f
        return self._fn(("probs_raw",), build)(v, s, sd)

    @staticmethod
    def _draw(p, reps, sd):
        cdf = tf.math.cumsum(tf.cast(p, tf.float64), axis=1)
        cdf = cdf / cdf[:, -1:]
        u = tf.random.stateless_uniform([tf.shape(p)[0], reps], seed=sd, dtype=tf.float64)
        idx = tf.searchsorted(cdf, u, side="right")
        return tf.minimum(tf.cast(idx, tf.int32), tf.shape(p)[1] - 1)

    def sampled_expectation(self, symbol_values, observables=None, repetitions: int = 1000,
                            seed=None, trajectories: Optional[int] = None,
                            shared_values=None) -> tf.Tensor:
        """Shot-noise estimate of expectation values (like TFQ's sampled expectation).

        Each Pauli term of each observable is estimated from its own `repetitions` shots
        measured in the term's eigenbasis: its +/-1 outcomes are Binomial(repetitions,
        (1 + <P>)/2), drawn directly from the exact <P>. The gradient is the exact
        (analytic) gradient of the expectation (straight-through estimator).

        Args:
            symbol_values: (batch, n_symbols) float values.
            observables: list of `cirq.PauliSum` (defaults to the constructor's).
            repetitions: shots per Pauli term.
            seed: int or shape-[2] tensor (None: fresh randomness).
            trajectories: noisy circuits only: trajectories used for <P>.
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, n_observables) float32.

        Example:
            >>> sim.sampled_expectation(tf.zeros([1, 1]), [cirq.Z(q[0])], repetitions=100, seed=3)
        """
        reps = int(repetitions)
        if reps < 1:
            raise ValueError(f"repetitions must be >= 1, got {repetitions!r}")
        plan = self._obs_plan(observables)
        v, s = self._values(symbol_values, shared_values)
        sd = _as_seed(seed)
        exact = self.expectation(v, _TermPlan.get(self, plan), trajectories=trajectories, seed=sd,
                                 shared_values=s)  # (B, T)
        terms = plan.terms
        b = tf.shape(v)[0]
        if not terms:
            return tf.zeros([b, plan.n_obs], _RDTYPE) + plan.offset.astype(np.float32)[None, :]
        p_plus = tf.clip_by_value((tf.stop_gradient(exact) + 1.0) / 2.0, 0.0, 1.0)
        counts = tf.random.stateless_binomial(
            tf.shape(p_plus), seed=tf.random.experimental.stateless_fold_in(sd, 7), counts=float(reps),
            probs=p_plus, output_dtype=_RDTYPE)
        est = 2.0 * counts / reps - 1.0
        noisy = exact + tf.stop_gradient(est - exact)
        coef = np.zeros((len(terms), plan.n_obs), np.float32)
        for j, (o, c, _, _, _) in enumerate(terms):
            coef[j, o] = c
        return tf.matmul(noisy, coef) + plan.offset.astype(np.float32)[None, :]


class _TermPlan:
    """An _ObsPlan with one observable per Pauli term of another plan (cached per plan)."""

    @staticmethod
    def get(sim: StatevectorSimulator, plan: _ObsPlan) -> _ObsPlan:
        key = ("terms", id(plan))
        tp = sim._obs_cache.get(key)
        if tp is None:
            qs = sim.qubits
            obs = []
            for (_, _, flip, zmask, ny) in plan.terms:
                ps = {}
                n = sim.n_qubits
                for i in range(n):
                    z = (zmask >> (n - 1 - i)) & 1
                    x = i in flip
                    if x and z:
                        ps[qs[i]] = cirq.Y
                    elif x:
                        ps[qs[i]] = cirq.X
                    elif z:
                        ps[qs[i]] = cirq.Z
                obs.append(cirq.PauliSum.from_pauli_strings([cirq.PauliString(ps)]))
            tp = _ObsPlan(obs, sim._qindex, sim.n_qubits, plan.factored) if obs else None
            sim._obs_cache[key] = tp
        return tp
