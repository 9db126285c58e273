"""Quantum Boltzmann machine, computed exactly (Amin, Andriyash, Rolfe, Kulchytskyy, Melko 2018).

Reference: M. H. Amin et al., "Quantum Boltzmann Machine", Phys. Rev. X 8, 021050 (2018).

The machine has ``N = n_visible + n_hidden`` units (qubits); units ``0 .. n_visible-1`` are visible,
the rest hidden, and unit 0 is the most significant bit. Its Hamiltonian is

    H = Σ_i b_i Z_i + Σ_{(i,j) ∈ pairs} w_ij Z_i Z_j + Σ_i Γ_i X_i

and its distribution over visible configurations is

    p(v) = Tr[Λ_v exp(-H)] / Tr[exp(-H)],    Λ_v = |v><v| ⊗ 1_hidden.

Sign convention: ``Z|0> = +|0>``, so bit ``s_i`` has spin ``z_i = 1 - 2 s_i`` and, with ``Γ = 0``,
``p(v) ∝ Σ_h exp(-E(v, h))`` with the classical energy ``E(s) = Σ b_i z_i + Σ w_ij z_i z_j``: a
positive ``b_i`` raises the energy of bit 0 (``z_i = +1``) and so favours bit 1; a positive
``w_ij`` favours anti-aligned spins (unequal bits). Amin et al. write
``H = -Σ Γ_a σ^x_a - Σ b_a σ^z_a - Σ w_ab σ^z_a σ^z_b``; their ``b, w, Γ`` are the negatives of ours.
The sign of each ``Γ_i`` does not change ``p`` (conjugating by ``Z_i`` flips it and leaves the
diagonal of ``exp(-H)`` unchanged), so only ``|Γ_i|`` matters.

Everything is computed exactly in TensorFlow (float64) from the dense ``2**N x 2**N`` Hamiltonian:
``exp(-H)`` through the eigendecomposition ``tf.linalg.eigh`` (see :func:`thermal_diagonal`, whose
gradient is the exact Daleckii-Krein formula, finite on degenerate spectra). The cost grows as
``8**N``: on 2 CPU cores one training step takes about 5 ms at ``N = 6``, 0.1 s at ``N = 8``, a
few seconds at ``N = 10`` and minutes at ``N = 12``, the largest size accepted.

Training gradients (``gradient=``):

* ``"exact"`` (default): automatic differentiation of the exact loss (log-likelihood, KL or MMD)
  through the matrix exponential; ``b``, ``w`` and ``Γ`` are all trained (``Γ`` unless
  ``train_transverse_field=False``).
* ``"bound"``: the bound-based QBM (bQBM) of Amin et al. By the Golden-Thompson inequality,
  ``p(v) >= p̃(v) = Tr[exp(-H_v)] / Tr[exp(-H)]`` where ``H_v = <v|H|v>`` is the *clamped*
  Hamiltonian, acting on the hidden units with the visible spins fixed to ``v`` (the visible
  transverse fields drop out). Training minimizes ``-mean_v log p̃(v)``, an upper bound of the
  negative log-likelihood, whose gradient is ``<∂_θ H>_v - <∂_θ H>`` (clamped minus free thermal
  averages), which needs no derivative of a matrix exponential. As in the paper, ``Γ`` is **not**
  trained in this mode (the bound's gradient would drive the visible ``Γ`` to 0): it is a fixed
  hyperparameter. The loss reported is the bound on the NLL (``"nll"``) or on the KL (``"kl"``,
  the bound minus the batch entropy); ``"mmd"`` is not available with ``"bound"``. The model's
  ``probabilities()`` stay the exact ``p(v)``.
"""

import itertools
import numbers
import warnings
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tfq_layers._keras import keras, register
from tfq_layers.generative.base import GenerativeModel

__all__ = ["QuantumBoltzmannMachine", "MAX_UNITS", "thermal_diagonal"]

MAX_UNITS = 12
SLOW_UNITS = 11  # from here on, build() warns how long each exact evaluation takes
_GRADIENTS = ("exact", "bound")
_CONNECTIVITIES = ("full", "restricted")


def _spins(n_units):
    """(2**N, N) array of spins z = 1 - 2 s, bit 0 most significant."""
    idx = np.arange(2**n_units)[:, None]
    bits = (idx >> np.arange(n_units - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.float64)


def _exp_divided_differences(lam, f):
    """F_kl = (f_k - f_l) / (λ_k - λ_l) for f(λ) = exp(-λ), with the limit -f_k on (near) ties."""
    diff = lam[:, None] - lam[None, :]
    mid = -tf.exp(-(lam[:, None] + lam[None, :]) / 2.0)
    close = tf.abs(diff) < 1e-3
    safe = tf.where(close, tf.ones_like(diff), diff)
    # e^{-a} - e^{-b} = -2 e^{-(a+b)/2} sinh((a-b)/2); the series of sinh(x)/x near ties.
    near = mid * (1.0 + diff**2 / 24.0)
    return tf.where(close, near, (f[:, None] - f[None, :]) / safe)


# From this dimension on, an eager eigendecomposition goes to LAPACK through NumPy (multithreaded,
# divide and conquer), several times faster than tf.linalg.eigh, whose CPU kernel is
# single-threaded. Graphs (model.fit) keep tf.linalg.eigh, so they stay exportable.
_LAPACK_MIN_DIM = 256


def _eigh(ham):
    if tf.executing_eagerly() and ham.shape[0] is not None and ham.shape[0] >= _LAPACK_MIN_DIM:
        lam, vecs = np.linalg.eigh(ham.numpy())
        return tf.constant(lam, ham.dtype), tf.constant(vecs, ham.dtype)
    return tf.linalg.eigh(ham)


@tf.custom_gradient
def thermal_diagonal(ham):
    """``diag(exp(-H)) / Tr exp(-H)`` of a real symmetric matrix, with a stable exact gradient.

    Forward: ``H = U diag(λ) Uᵀ`` (``tf.linalg.eigh``), ``ρ_ss = Σ_k U_sk² e^{-(λ_k - λ_min)} / Z``.
    Backward: the Daleckii-Krein formula for the derivative of a matrix function,
    ``∂L/∂H = U [F ∘ (Uᵀ diag(g) U) + (g·ρ) diag(f)] Uᵀ / Z`` with the divided differences
    ``F_kl = (f_k - f_l)/(λ_k - λ_l)`` of ``f = e^{-(λ - λ_min)}`` (``-f_k`` on degenerate pairs),
    which stays finite when eigenvalues coincide (autodiff through ``eigh`` would divide by 0).

    Args:
        ham: float64 tensor ``(D, D)``, real symmetric.

    Returns:
        float64 tensor ``(D,)``, non-negative, summing to 1.
    """
    lam, vecs = _eigh(ham)
    lam = lam - tf.reduce_min(lam)
    f = tf.exp(-lam)
    z = tf.reduce_sum(f)
    rho = tf.linalg.matvec(tf.square(vecs), f) / z

    def grad(g):
        g = tf.cast(g, ham.dtype)
        inner = tf.matmul(vecs * g[:, None], vecs, transpose_a=True)  # Uᵀ diag(g) U
        middle = _exp_divided_differences(lam, f) * inner
        middle += tf.linalg.diag(tf.reduce_sum(g * rho) * f)
        return tf.matmul(tf.matmul(vecs, middle), vecs, transpose_b=True) / z

    return rho, grad


def _check_units(n_visible, n_hidden):
    """``n_visible + n_hidden``, after checking both counts and the dense-matrix limit."""
    for what, v, low in (("n_visible", n_visible, 1), ("n_hidden", n_hidden, 0)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ValueError(f"`{what}` must be an integer >= {low}; received {v!r}.")
    n_units = int(n_visible) + int(n_hidden)
    if n_units > MAX_UNITS:
        raise ValueError(
            f"QuantumBoltzmannMachine computes exp(-H) exactly with dense 2**N x 2**N matrices; "
            f"N = n_visible + n_hidden = {n_visible} + {n_hidden} = {n_units} exceeds the limit "
            f"of {MAX_UNITS} units. Use fewer hidden or visible units."
        )
    return n_units


def _check_choices(gradient, connectivity, n_hidden):
    if gradient not in _GRADIENTS:
        raise ValueError(f"`gradient` must be one of {list(_GRADIENTS)}; received {gradient!r}.")
    if connectivity not in _CONNECTIVITIES:
        raise ValueError(
            f"`connectivity` must be one of {list(_CONNECTIVITIES)}; received {connectivity!r}."
        )
    if connectivity == "restricted" and n_hidden == 0:
        raise ValueError(
            "connectivity='restricted' couples visible to hidden units only and needs "
            "n_hidden >= 1; received n_hidden=0. Use connectivity='full'."
        )


def _initial_field(transverse_field, gamma_init):
    """The initial transverse field Γ (0.0 for none) from ``transverse_field``/``gamma_init``."""
    if isinstance(transverse_field, bool):
        field = float(gamma_init) if transverse_field else 0.0
    elif isinstance(transverse_field, numbers.Real):
        field = float(transverse_field)
    else:
        raise ValueError(
            f"`transverse_field` must be True/False or a number (initial Γ); received "
            f"{transverse_field!r}."
        )
    if not np.isfinite(field) or not np.isfinite(float(gamma_init)):
        raise ValueError(
            f"the transverse field must be finite; received transverse_field="
            f"{transverse_field!r}, gamma_init={gamma_init!r}."
        )
    return field


@register("QuantumBoltzmannMachine")
class QuantumBoltzmannMachine(GenerativeModel):
    """Exact quantum Boltzmann machine with a transverse field, trainable with ``model.fit``.

    See the module docstring for the Hamiltonian, sign convention and the two gradient modes.

    Args:
        n_visible: number of visible units (bits of the data), >= 1.
        n_hidden: number of hidden units, >= 0; ``n_visible + n_hidden <= 12``.
        transverse_field: ``True`` for a transverse field on every unit starting at
            ``gamma_init``; a number ``g`` for a field starting at ``g``; ``False`` or ``0`` for no
            field, i.e. a classical Boltzmann machine (``p(v) ∝ Σ_h exp(-E(v, h))``, computed
            without a matrix exponential).
        train_transverse_field: whether ``Γ`` is trained; default ``True`` with
            ``gradient="exact"``, and it must be ``False`` with ``gradient="bound"``.
        gamma_init: initial ``Γ_i`` when ``transverse_field=True``.
        gradient: ``"exact"`` (autodiff of the exact loss) or ``"bound"`` (bQBM, see above).
        connectivity: ``"full"`` (every pair of units coupled) or ``"restricted"`` (only
            visible-hidden pairs, an RBM-like graph; needs ``n_hidden >= 1``).
        init_scale: standard deviation of the normal initial biases and couplings.
        seed: integer seed of the initializers (same seed, same initial ``b`` and ``w`` whatever
            the transverse field), or ``None``.
        **kwargs: ``name``, ``dtype`` (variable dtype, e.g. ``"float64"``), ``trainable``.

    Weights (created by ``build()``): ``biases`` ``(N,)``, ``couplings`` ``(len(pairs),)`` in the
    order of :attr:`pairs` (lexicographic ``(i, j)``, ``i < j``), and ``transverse_field``
    ``(N,)`` when there is one.

    Example:
        >>> from tfq_layers.datasets import bars_and_stripes
        >>> qbm = QuantumBoltzmannMachine(n_visible=4, n_hidden=2, transverse_field=True, seed=1)
        >>> qbm.compile(optimizer=keras.optimizers.Adam(0.05), loss="kl")
        >>> _ = qbm.fit(bars_and_stripes(2, 2), epochs=3, verbose=0)
        >>> p = qbm.probabilities()          # exact p(v), shape (16,)
        >>> samples = qbm.sample(100, seed=0)
    """

    def __init__(
        self,
        n_visible: int,
        n_hidden: int = 0,
        transverse_field: bool = True,
        train_transverse_field: Optional[bool] = None,
        gamma_init: float = 1.0,
        gradient: str = "exact",
        connectivity: str = "full",
        init_scale: float = 0.1,
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("n_bits", None)
        n_units = _check_units(n_visible, n_hidden)
        super().__init__(n_bits=int(n_visible), **kwargs)
        self.n_visible = int(n_visible)
        self.n_hidden = int(n_hidden)
        self.n_units = n_units

        _check_choices(gradient, connectivity, self.n_hidden)
        self.gradient = gradient
        self.connectivity = connectivity
        field = _initial_field(transverse_field, gamma_init)
        self.transverse_field = transverse_field
        self.gamma_init = float(gamma_init)
        self._gamma_value = field
        self.has_transverse_field = field != 0.0
        if train_transverse_field is None:
            train_transverse_field = gradient == "exact"
        if train_transverse_field and gradient == "bound" and self.has_transverse_field:
            raise ValueError(
                "gradient='bound' does not train the transverse field (as in Amin et al. 2018, the "
                "bound's gradient would drive it to 0); received train_transverse_field=True. Pass "
                "train_transverse_field=False (Γ fixed at its initial value) or gradient='exact'."
            )
        self.train_transverse_field = bool(train_transverse_field)

        scale = float(init_scale)
        if not np.isfinite(scale) or scale < 0:
            raise ValueError(
                f"`init_scale` must be a non-negative number; received {init_scale!r}."
            )
        self.init_scale = scale
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None; received {seed!r}.")
        self.seed = None if seed is None else int(seed)

        # Constant tables (NumPy; no weights here).
        visible = range(self.n_visible)
        if connectivity == "full":
            self.pairs = tuple(itertools.combinations(range(n_units), 2))
        else:
            self.pairs = tuple((i, j) for i in visible for j in range(self.n_visible, n_units))
        spins = _spins(n_units)
        self._spins = spins
        if self.pairs:
            pi, pj = np.array(self.pairs).T
            self._spin_pairs = spins[:, pi] * spins[:, pj]
        else:
            self._spin_pairs = np.zeros((2**n_units, 0))
        dim = 2**n_units
        states = np.arange(dim)
        self._flip_index = np.concatenate(
            [np.stack([states, states ^ (1 << (n_units - 1 - i))], axis=1) for i in range(n_units)]
        ).astype(np.int64)
        hdim = 2**self.n_hidden
        hstates = np.arange(hdim)
        if self.n_hidden:
            self._hidden_flip_index = np.concatenate(
                [
                    np.stack([hstates, hstates ^ (1 << (self.n_hidden - 1 - k))], axis=1)
                    for k in range(self.n_hidden)
                ]
            ).astype(np.int64)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape=None):
        if self.has_transverse_field and self.n_units >= SLOW_UNITS:
            dim = 2**self.n_units
            warnings.warn(
                f"QuantumBoltzmannMachine with N = {self.n_units} units: every probabilities() "
                f"call and every training step diagonalizes a dense {dim}x{dim} Hamiltonian, "
                "which costs 8x more per extra unit. Measured on 2 shared CPU cores: N = 11 about "
                "6 s per probabilities() call, N = 12 about 50 s (several minutes per training "
                "step, which uses TensorFlow's slower single-threaded eigensolver). Nothing is "
                "hung; use fewer units, or transverse_field=False (a classical Boltzmann machine, "
                "no diagonalization), for interactive work.",
                stacklevel=2,
            )
        seed = self.seed
        self.biases = self.add_weight(
            name="biases",
            shape=(self.n_units,),
            initializer=keras.initializers.RandomNormal(stddev=self.init_scale, seed=seed),
            trainable=True,
        )
        self.couplings = self.add_weight(
            name="couplings",
            shape=(len(self.pairs),),
            initializer=keras.initializers.RandomNormal(
                stddev=self.init_scale, seed=None if seed is None else seed + 1
            ),
            trainable=True,
        )
        if self.has_transverse_field:
            self.gamma = self.add_weight(
                name="transverse_field",
                shape=(self.n_units,),
                initializer=keras.initializers.Constant(self._gamma_value),
                trainable=self.train_transverse_field,
            )
        else:
            self.gamma = None
        super().build(input_shape)

    def _check_loss_supported(self, loss):
        if self.gradient == "bound" and loss == "mmd":
            raise ValueError(
                "gradient='bound' minimizes the log-likelihood bound of Amin et al. and supports "
                "loss='kl' or 'nll'; received loss='mmd'. Use gradient='exact' for MMD."
            )

    # ------------------------------------------------------------------ the physics
    def coupling_matrix(self):
        """Symmetric ``(N, N)`` NumPy matrix of the couplings ``w_ij`` (zero diagonal)."""
        if not self.built:
            self.build()
        w = np.zeros((self.n_units, self.n_units))
        for (i, j), value in zip(self.pairs, np.asarray(self.couplings.numpy(), np.float64)):
            w[i, j] = w[j, i] = value
        return w

    def energies(self):
        """Classical energies ``E(s) = Σ b_i z_i + Σ w_ij z_i z_j`` of all ``2**N`` states (float64)."""
        b = tf.cast(self.biases, tf.float64)
        w = tf.cast(self.couplings, tf.float64)
        energy = tf.linalg.matvec(tf.constant(self._spins), b)
        if self.pairs:
            energy += tf.linalg.matvec(tf.constant(self._spin_pairs), w)
        return energy

    def _gamma64(self):
        return tf.cast(self.gamma, tf.float64)

    def hamiltonian(self):
        """The dense ``(2**N, 2**N)`` float64 Hamiltonian ``H`` (units in the order visible, hidden)."""
        if not self.built:
            self.build()
        energy = self.energies()
        ham = tf.linalg.diag(energy)
        if self.gamma is not None:
            dim = 2**self.n_units
            updates = tf.repeat(self._gamma64(), dim)
            ham += tf.scatter_nd(tf.constant(self._flip_index), updates, (dim, dim))
        return ham

    def _unit_probabilities(self, energy=None):
        """Diagonal of exp(-H) / Tr exp(-H) over all units, shape (2**N,)."""
        if energy is None:
            energy = self.energies()
        if self.gamma is None:
            return tf.nn.softmax(-energy)
        dim = 2**self.n_units
        ham = tf.linalg.diag(energy) + tf.scatter_nd(
            tf.constant(self._flip_index), tf.repeat(self._gamma64(), dim), (dim, dim)
        )
        return thermal_diagonal(ham)

    def probabilities(self):
        """Exact ``p(v)`` over the ``2**n_visible`` visible configurations (float64 tensor)."""
        if not self.built:
            self.build()
        full = self._unit_probabilities()
        return tf.reduce_sum(tf.reshape(full, (2**self.n_visible, 2**self.n_hidden)), axis=1)

    def log_partition(self):
        """``log Tr exp(-H)`` (differentiable, from the eigenvalues of ``H``)."""
        energy = self.energies()
        if self.gamma is None:
            return tf.reduce_logsumexp(-energy)
        return tf.reduce_logsumexp(-tf.linalg.eigvalsh(self.hamiltonian()))

    def clamped_log_partitions(self):
        """``log Tr exp(-H_v)`` for every visible configuration ``v``, shape ``(2**n_visible,)``.

        ``H_v = <v|H|v>`` acts on the hidden units: diagonal ``E(v, h)`` plus the hidden transverse
        fields ``Σ_{k hidden} Γ_k X_k`` (visible fields vanish in ``<v|X_i|v>``).
        """
        energy = tf.reshape(self.energies(), (2**self.n_visible, 2**self.n_hidden))
        if self.gamma is None or self.n_hidden == 0:
            return tf.reduce_logsumexp(-energy, axis=1)
        hdim = 2**self.n_hidden
        gamma_h = self._gamma64()[self.n_visible :]
        off = tf.scatter_nd(
            tf.constant(self._hidden_flip_index), tf.repeat(gamma_h, hdim), (hdim, hdim)
        )
        ham_v = tf.linalg.diag(energy) + off[None, :, :]
        return tf.reduce_logsumexp(-tf.linalg.eigvalsh(ham_v), axis=1)

    def bound_nll(self, empirical):
        """Upper bound ``-Σ_v p̂(v) log p̃(v)`` of the NLL (bQBM objective), ``p̃ = Tr e^{-H_v}/Z``."""
        empirical = tf.cast(empirical, tf.float64)
        log_pt = self.clamped_log_partitions() - self.log_partition()
        return -tf.reduce_sum(tf.where(empirical > 0, empirical * log_pt, tf.zeros_like(empirical)))

    def loss_and_gradients(self, bitstrings, empirical):
        if self.gradient == "exact":
            return super().loss_and_gradients(bitstrings, empirical)
        with tf.GradientTape() as tape:
            loss = self.bound_nll(empirical)
        grads = tape.gradient(loss, self.trainable_variables)
        if self._gen_loss == "kl":
            emp = tf.cast(empirical, tf.float64)
            safe = tf.where(emp > 0, emp, tf.ones_like(emp))
            loss = loss + tf.reduce_sum(emp * tf.math.log(safe))  # minus the batch entropy
        probs = self.probabilities() if self._gen_metrics else None
        return loss, grads, probs

    # ------------------------------------------------------------------ serialization
    def get_config(self):
        config = super().get_config()
        config.pop("n_bits")
        config.update(
            n_visible=self.n_visible,
            n_hidden=self.n_hidden,
            transverse_field=self.transverse_field,
            train_transverse_field=self.train_transverse_field,
            gamma_init=self.gamma_init,
            gradient=self.gradient,
            connectivity=self.connectivity,
            init_scale=self.init_scale,
            seed=self.seed,
        )
        return config
