"""Observables of the statevector simulator: `ObsPlan` precompiles a list of PauliSums into groups
of terms sharing one bit-flip mask and reads expectations (and probabilities) off a state;
`ObsPlan.term_plan` splits a plan into one observable per Pauli term (used by sampled
expectations).
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers.backends.statevector.kernels import RDTYPE
from tfq_layers._xla import in_xla

_DENSE_OBS_LIMIT = 2**22


def _as_pauli_sum(ob, o):
    """Observable number ``o`` as a ``cirq.PauliSum``."""
    if isinstance(ob, (cirq.Pauli, cirq.PauliString, cirq.GateOperation)) and not isinstance(
        ob, cirq.PauliSum
    ):
        try:
            ob = cirq.PauliSum.wrap(ob)
        except Exception as e:  # pragma: no cover - message below is the point
            raise TypeError(f"Observable {ob!r} is not a Pauli sum: {e}") from None
    if not isinstance(ob, cirq.PauliSum):
        raise TypeError(
            f"Observable #{o} must be a cirq.PauliSum or cirq.PauliString, got {type(ob).__name__}: {ob!r}."
        )
    return ob


def _term_masks(term, o, ob, qindex, n):
    """``(flipped qubit indices, Z sign mask, number of Y)`` of one Pauli term."""
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
    return flip, zmask, ny


class ObsPlan:
    """Precompiled list of PauliSums: groups of terms sharing the same bit-flip mask."""

    def __init__(self, observables, qindex: Dict[cirq.Qid, int], n: int, factored: bool = False):
        self.factored = factored
        self._qindex = dict(qindex)
        self._term_plan = None
        obs = list(observables) if isinstance(observables, (list, tuple)) else [observables]
        self.observables = obs
        self.n_obs = len(obs)
        if self.n_obs == 0:
            raise ValueError("observables is empty; pass a list of cirq.PauliSum.")
        self.offset = np.zeros(self.n_obs, np.float64)
        groups: Dict[Tuple[int, ...], list] = {}
        self.terms = []  # (obs index, coefficient, flip tuple, sign-mask, y-count) for sampling
        for o, ob in enumerate(obs):
            ob = _as_pauli_sum(ob, o)
            for term in ob:
                coef = complex(term.coefficient)
                if abs(coef.imag) > 1e-6 * max(1.0, abs(coef)):
                    raise ValueError(
                        f"Observable #{o} {ob} has a non-real coefficient {coef} (not Hermitian); "
                        f"use real coefficients."
                    )
                flip, zmask, ny = _term_masks(term, o, ob, qindex, n)
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
            self.groups.append(
                (flip, masks, re if np.any(re) else None, im if np.any(im) else None)
            )

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

    def _contract_t(self, w, masks, coef):
        """The transpose of `_contract`: ``w @ D.T`` for w (B, n_obs), as (B, 2**n)."""
        n = self.n
        if not self.factored and (2**n) * max(len(masks), self.n_obs) <= _DENSE_OBS_LIMIT:
            return tf.matmul(w, tf.constant(self._signs_np(masks, n) @ coef), transpose_b=True)
        lo = (n + 1) // 2
        s_lo = self._signs_np(masks & ((1 << lo) - 1), lo)  # (2**lo, T)
        s_hi = self._signs_np(masks >> lo, n - lo)  # (2**hi, T)
        wt = tf.matmul(w, coef.astype(np.float32), transpose_b=True)  # (B, T)
        return tf.reshape(
            tf.matmul(s_hi[None] * wt[:, None, :], s_lo, transpose_b=True), [-1, 2**n]
        )

    def _diagonal_expectation(self, psi, masks, coef):
        """``sum_y |psi_y|**2 D[y, o]`` with the gradient ``2 psi (dy @ D.T)``: no probability
        vector is kept for the backward pass (half a state less alive there)."""

        @tf.custom_gradient
        def f(psi):
            def grad(dy):  # the factor 2 on dy (B, n_obs), not on a state-sized tensor
                dp = tf.expand_dims(self._contract_t(2.0 * dy, masks, coef), -1)
                # an explicit broadcast, then the product: faster than the broadcasting
                # product on large registers, same memory
                return tf.broadcast_to(dp, tf.shape(psi)) * psi

            # Outside XLA, the squared norm of each amplitude's (re, im) pair allocates no
            # state-sized square (as reduce_sum(square(psi)) does); XLA has no EuclideanNorm
            # kernel but fuses the square into the sum.
            if in_xla():
                probs = tf.reduce_sum(tf.square(psi), axis=-1)
            else:
                probs = tf.square(tf.math.reduce_euclidean_norm(psi, axis=-1))
            return self._contract(probs, masks, coef), grad

        return f(psi)

    def expectation(self, psi):
        """psi: canonical real-layout state (B, 2**n, 2) -> (B, n_obs) float32."""
        n = self.n
        out = (
            tf.zeros([tf.shape(psi)[0], self.n_obs], RDTYPE)
            + self.offset.astype(np.float32)[None, :]
        )
        for flip, masks, re, im in self.groups:
            if not flip:
                out = out + self._diagonal_expectation(psi, masks, re)
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

    def term_plan(self) -> Optional["ObsPlan"]:
        """The plan with one observable per Pauli term of this one, in the order of ``terms``
        (``None`` when every term is a constant); built once per plan."""
        if self._term_plan is None and self.terms:
            qubits = sorted(self._qindex, key=self._qindex.get)
            n = self.n
            observables = []
            for _, _, flip, zmask, _ in self.terms:
                paulis = {}
                for i in range(n):
                    z = (zmask >> (n - 1 - i)) & 1
                    x = i in flip
                    if x or z:
                        paulis[qubits[i]] = cirq.Y if x and z else (cirq.X if x else cirq.Z)
                observables.append(cirq.PauliSum.from_pauli_strings([cirq.PauliString(paulis)]))
            self._term_plan = ObsPlan(observables, self._qindex, n, self.factored)
        return self._term_plan


@tf.custom_gradient
def _probabilities(psi):
    """|amplitude|**2 of a real-layout state (B, 2**n, 2); its gradient ``2 psi dp`` is one
    broadcasting product (autodiff of square-and-sum would materialize two more states)."""

    def grad(dp):
        return tf.broadcast_to(tf.expand_dims(2.0 * dp, -1), tf.shape(psi)) * psi

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


def obs_key(observables):
    """Cache key of an observable or a list of them (their reprs)."""
    obs = list(observables) if isinstance(observables, (list, tuple)) else [observables]
    return tuple(repr(o) for o in obs)
