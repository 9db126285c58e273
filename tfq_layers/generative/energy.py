"""Energy-based models over n-bit strings: the latent ("classical") half of a QHBM.

An energy model assigns ``E_θ(x)`` to every bitstring ``x`` and defines the Boltzmann distribution
``p_θ(x) = exp(-E_θ(x)) / Z_θ``. Both models here write the energy in the spins ``z_i = 1 - 2 x_i``
(``Z|0> = +|0>``), as a sum of products of spins with one trainable coefficient each,

    E_θ(x) = Σ_S θ_S Π_{i ∈ S} z_i,

which is also the eigenvalue of the diagonal operator ``K_θ = Σ_S θ_S Π_{i ∈ S} Z_i`` on ``|x>``:
the QHBM's latent modular Hamiltonian (Verdon et al. 2019, arXiv:1910.02071).

* :class:`BernoulliEnergy`: one term per bit (``S = {i}``); the bits are independent, so the
  partition function, the entropy and sampling are exact at any size.
* :class:`KOBEEnergy`: every product of up to ``order`` spins (``order=2``: local fields and
  pairwise couplings, an Ising model; the "K-body energy" of the paper). Exact by enumeration of
  the ``2**n`` strings up to :data:`MAX_ENUMERATION_BITS` bits; beyond, samples come from a
  Metropolis chain (single-bit flips), and the partition function and entropy are not available.

Bit 0 is the most significant bit of an index into ``2**n`` outcomes, as in
:mod:`tfq_layers.datasets`.
"""

import itertools
import numbers

import numpy as np
import tensorflow as tf

from tfq_layers._keras import keras, register
from tfq_layers.datasets import check_n_bits

__all__ = ["EnergyModel", "BernoulliEnergy", "KOBEEnergy", "MAX_ENUMERATION_BITS", "all_bitstrings"]

#: Largest register whose ``2**n`` bitstrings are enumerated for exact probabilities.
MAX_ENUMERATION_BITS = 16


def all_bitstrings(n_bits):
    """All ``2**n_bits`` bitstrings as an int32 array ``(2**n, n)``, bit 0 most significant.

    Example:
        >>> all_bitstrings(2).tolist()
        [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    idx = np.arange(2**n_bits)[:, None]
    return ((idx >> np.arange(n_bits - 1, -1, -1)) & 1).astype(np.int32)


def _spin_products(bits, terms):
    """``(B, T)`` float64 products ``Π_{i ∈ S} z_i`` of each term ``S`` for bitstrings ``(B, n)``."""
    z = 1.0 - 2.0 * tf.cast(bits, tf.float64)
    cols = [tf.reduce_prod(tf.gather(z, list(s), axis=1), axis=1) for s in terms]
    return tf.stack(cols, axis=1)


class EnergyModel(keras.layers.Layer):
    """Base class: a layer mapping bitstrings ``(B, n_bits)`` to energies ``(B,)`` (float64).

    The energy is ``E(x) = Σ_S θ_S Π_{i∈S} z_i`` over the subsets ``terms`` (tuples of bit
    indices); subclasses choose the terms and may override the exact quantities.

    Args:
        n_bits: number of bits (>= 1).
        initializer: Keras initializer of the coefficients; default ``RandomNormal(0, 0.5)``.
        seed: seed of the default initializer.
        **kwargs: ``name``, ``trainable``.
    """

    def __init__(self, n_bits, initializer=None, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float64")
        super().__init__(**kwargs)
        self.n_bits = check_n_bits(n_bits, "n_bits")
        self.seed = seed
        self.initializer = keras.initializers.get(
            initializer or keras.initializers.RandomNormal(0.0, 0.5, seed=seed)
        )
        self.theta = None
        object.__setattr__(self, "_rng", None)

    # -- structure -------------------------------------------------------------------------
    @property
    def terms(self):
        """The subsets ``S`` (tuples of bit indices), one coefficient each, in weight order."""
        raise NotImplementedError

    @property
    def exact(self):
        """Whether the partition function, probabilities and entropy are computed exactly."""
        return self.n_bits <= MAX_ENUMERATION_BITS

    def build(self, input_shape=None):
        if self.theta is None:
            self.theta = self.add_weight(
                name="theta",
                shape=(len(self.terms),),
                initializer=self.initializer,
                trainable=True,
                dtype="float64",
            )
        self._generator()  # created eagerly here, not inside a traced function
        self.built = True

    def _ensure_built(self):
        if not self.built:
            self.build()

    # -- energies --------------------------------------------------------------------------
    def call(self, bits):
        """Energies ``E(x)`` ``(B,)`` float64 of bitstrings ``(B, n_bits)``."""
        return tf.linalg.matvec(_spin_products(bits, self.terms), tf.cast(self.theta, tf.float64))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def energy(self, bits):
        """``E(x)`` for bitstrings ``(B, n_bits)``; builds the layer first if needed."""
        self._ensure_built()
        return self.call(self._checked_bits(bits))

    def _checked_bits(self, bits):
        """``bits`` as a tensor, refused (``ValueError`` naming the fix) unless its rows are
        ``n_bits`` wide and, where the values are known (eagerly), each is 0 or 1."""
        bits = tf.convert_to_tensor(bits)
        if bits.shape.rank is not None and (
            bits.shape.rank != 2 or bits.shape[-1] not in (None, self.n_bits)
        ):
            raise ValueError(
                f"bitstrings must have shape (batch, {self.n_bits}) for this {self.n_bits}-bit "
                f"{type(self).__name__}; got shape {tuple(bits.shape)}. Pass one row of "
                f"{self.n_bits} zeros and ones per bitstring."
            )
        if hasattr(bits, "numpy"):
            values = bits.numpy()
            if not np.all((values == 0) | (values == 1)):
                raise ValueError(
                    f"bitstrings must hold only 0 and 1; got the values "
                    f"{sorted(set(np.unique(values).tolist()) - {0, 1})[:5]}. Map them to 0/1 "
                    "(e.g. (1 - spin) // 2 for spins +-1)."
                )
        return bits

    def _require_exact(self, what):
        if not self.exact:
            raise ValueError(
                f"{what} of a {type(self).__name__} on {self.n_bits} bits needs the enumeration of "
                f"2**{self.n_bits} bitstrings, above the limit of {MAX_ENUMERATION_BITS} bits. "
                "Use BernoulliEnergy (exact at any size) or a smaller register."
            )

    def all_energies(self):
        """Energies of all ``2**n`` bitstrings, float64 ``(2**n,)`` (enumerable models only)."""
        self._require_exact("The exact distribution")
        self._ensure_built()
        return self.call(tf.constant(all_bitstrings(self.n_bits)))

    def log_partition(self):
        """``log Z_θ``, a differentiable float64 scalar."""
        return tf.reduce_logsumexp(-self.all_energies())

    def log_prob(self, bits):
        """``log p_θ(x)`` ``(B,)`` of bitstrings ``(B, n_bits)``; differentiable."""
        return -self.energy(bits) - self.log_partition()

    def probabilities(self):
        """``p_θ(x)`` of all ``2**n`` bitstrings (float64 ``(2**n,)``, differentiable)."""
        return tf.nn.softmax(-self.all_energies())

    def entropy(self):
        """Shannon entropy ``S(p_θ)`` in nats, a differentiable float64 scalar."""
        logp = tf.nn.log_softmax(-self.all_energies())
        return -tf.reduce_sum(tf.exp(logp) * logp)

    def operator_terms(self):
        """``[(coefficient, bit indices), ...]``: ``K_θ = Σ θ_S Π_{i∈S} Z_i`` term by term."""
        self._ensure_built()
        theta = np.asarray(self.theta.numpy(), dtype=np.float64)
        return [(float(c), tuple(s)) for c, s in zip(theta, self.terms)]

    # -- sampling --------------------------------------------------------------------------
    def _generator(self):
        if self._rng is None:
            rng = (
                tf.random.Generator.from_seed(int(self.seed))
                if self.seed is not None
                else tf.random.Generator.from_non_deterministic_state()
            )
            object.__setattr__(self, "_rng", rng)
        return self._rng

    def sample_tf(self, k):
        """``k`` bitstrings from ``p_θ`` as an int32 tensor ``(k, n_bits)`` (graph-safe)."""
        self._ensure_built()
        if self.exact:
            logits = -self.all_energies()[None, :]
            seed = self._generator().make_seeds(1)[:, 0]
            idx = tf.random.stateless_categorical(logits, k, seed=seed, dtype=tf.int32)[0]
            return tf.gather(tf.constant(all_bitstrings(self.n_bits)), idx)
        if tf.executing_eagerly():  # one traced loop instead of thousands of eager steps
            if getattr(self, "_metropolis_fn", None) is None:
                object.__setattr__(self, "_metropolis_fn", tf.function(self._metropolis))
            return self._metropolis_fn(k)
        return self._metropolis(k)

    def sample(self, k, seed=None):
        """Draw ``k`` bitstrings from ``p_θ``.

        Args:
            k: number of samples (>= 1).
            seed: optional int for a reproducible draw.

        Returns:
            int32 NumPy array ``(k, n_bits)``.
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"`k` must be a positive int; received {k!r}.")
        from tfq_layers.backends import memory

        memory.check_size(  # a float64 uniform and an int32 bit per drawn bit
            int(k) * self.n_bits * 12,
            f"drawing k={k} bitstrings of {self.n_bits} bits",
            "Draw fewer samples (several calls of a smaller k).",
        )
        if seed is not None:
            object.__setattr__(self, "_rng", tf.random.Generator.from_seed(int(seed)))
        return self.sample_tf(int(k)).numpy()

    #: Metropolis sweeps (n_bits single-bit proposals each) before a chain's state is returned.
    mcmc_sweeps = 50

    def _metropolis(self, k):
        """``k`` independent Metropolis chains of single-bit flips, ``mcmc_sweeps`` sweeps each."""
        gen = self._generator()
        n = self.n_bits
        x = tf.cast(gen.uniform((k, n)) < 0.5, tf.int32)
        e = self.call(x)
        steps = self.mcmc_sweeps * n

        def body(i, x, e):
            flip = tf.one_hot(gen.uniform((k,), 0, n, dtype=tf.int32), n, dtype=tf.int32)
            x_new = tf.bitwise.bitwise_xor(x, flip)
            e_new = self.call(x_new)
            accept = tf.math.log(gen.uniform((k,), dtype=tf.float64)) < (e - e_new)
            x = tf.where(accept[:, None], x_new, x)
            e = tf.where(accept, e_new, e)
            return i + 1, x, e

        _, x, _ = tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0), x, e))
        return x

    # -- saving ----------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update(
            n_bits=self.n_bits,
            initializer=keras.initializers.serialize(self.initializer),
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)


@register("BernoulliEnergy")
class BernoulliEnergy(EnergyModel):
    """Independent bits: ``E(x) = Σ_i θ_i z_i``, so ``p(x_i = 1) = sigmoid(2 θ_i)``.

    Exact at any size: ``log Z = Σ_i log(2 cosh θ_i)`` and ``S = Σ_i [log(2 cosh θ_i) - θ_i tanh θ_i]``.

    Args:
        n_bits: number of bits.
        initializer: initializer of ``θ``; default ``RandomNormal(0, 0.5)``.
        seed: seed of the default initializer and of sampling.
        **kwargs: ``name``, ``trainable``.

    Example:
        >>> energy = BernoulliEnergy(3, initializer="zeros")
        >>> round(float(energy.entropy()), 4)  # three fair coins: 3 log 2
        2.0794
    """

    @property
    def terms(self):
        return [(i,) for i in range(self.n_bits)]

    @property
    def exact(self):
        return True

    def _theta(self):
        self._ensure_built()
        return tf.cast(self.theta, tf.float64)

    def log_partition(self):
        t = self._theta()
        return tf.reduce_sum(_log_2cosh(t))

    def entropy(self):
        t = self._theta()
        return tf.reduce_sum(_log_2cosh(t) - t * tf.tanh(t))

    def probabilities(self):
        if self.n_bits > MAX_ENUMERATION_BITS:
            self._require_exact("The full probability vector")
        p1 = tf.sigmoid(2.0 * self._theta())
        bits = tf.constant(all_bitstrings(self.n_bits), tf.float64)
        return tf.reduce_prod(bits * p1 + (1.0 - bits) * (1.0 - p1), axis=1)

    def all_energies(self):
        if self.n_bits > MAX_ENUMERATION_BITS:
            self._require_exact("The energies of all bitstrings")
        return self.call(tf.constant(all_bitstrings(self.n_bits)))

    def sample_tf(self, k):
        p1 = tf.sigmoid(2.0 * self._theta())
        u = self._generator().uniform((k, self.n_bits), dtype=tf.float64)
        return tf.cast(u < p1, tf.int32)


def _log_2cosh(t):
    a = tf.abs(t)
    return a + tf.math.log1p(tf.exp(-2.0 * a))


@register("KOBEEnergy")
class KOBEEnergy(EnergyModel):
    """Products of up to ``order`` spins: ``E(x) = Σ_{1 <= |S| <= order} θ_S Π_{i∈S} z_i``.

    ``order=2`` is an Ising model with local fields and all pairwise couplings. Probabilities,
    ``log Z`` and the entropy are exact by enumeration up to :data:`MAX_ENUMERATION_BITS` bits, and
    sampling is exact there; larger registers sample by Metropolis chains (``mcmc_sweeps``).

    Args:
        n_bits: number of bits.
        order: largest number of spins in a term (1 <= order <= n_bits); default 2.
        initializer: initializer of ``θ``; default ``RandomNormal(0, 0.5)``.
        seed: seed of the default initializer and of sampling.
        **kwargs: ``name``, ``trainable``.

    Example:
        >>> energy = KOBEEnergy(3, order=2, initializer="zeros")
        >>> len(energy.terms), round(float(energy.entropy()), 4)
        (6, 2.0794)
    """

    def __init__(self, n_bits, order=2, initializer=None, seed=None, **kwargs):
        super().__init__(n_bits, initializer=initializer, seed=seed, **kwargs)
        if (
            isinstance(order, bool)
            or not isinstance(order, numbers.Integral)
            or not 1 <= order <= self.n_bits
        ):
            raise ValueError(
                f"`order` must be an int from 1 to n_bits = {self.n_bits}; received {order!r}."
            )
        self.order = int(order)
        self._terms = [
            s for k in range(1, self.order + 1) for s in itertools.combinations(range(n_bits), k)
        ]

    @property
    def terms(self):
        return list(self._terms)

    def get_config(self):
        config = super().get_config()
        config["order"] = self.order
        return config
