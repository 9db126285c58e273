"""``QGAN``: a quantum generator against a classical discriminator, trained with ``fit``.

Reference: C. Zoufal, A. Lucchi, S. Woerner, "Quantum Generative Adversarial Networks for learning
and loading random distributions", npj Quantum Information 5, 103 (2019), arXiv:1904.00043.

The generator is any :class:`~tfq_layers.generative.base.GenerativeModel` with differentiable
``probabilities()`` over ``2**n`` outcomes, typically a :class:`BornMachine` (a circuit whose
measurement distribution ``p_θ(j) = |<j|G(θ)|0>|²`` *loads* the learned distribution into a
quantum state). Outcome ``j`` stands for the data value ``values[j]`` (by default ``j`` itself). The
discriminator is any Keras model mapping values ``(B, 1)`` to probabilities ``D(x)`` in ``(0, 1)``
that ``x`` is real data.

Each ``train_step`` (one batch of real samples ``x_1..x_m``) takes one step of each player on the
losses of the paper, with the generated samples weighted by their exact probabilities (the ``2**n``
outcomes are enumerated, so no sampling noise enters the generator's side):

* discriminator: ``L_D = -mean_i log D(x_i) - Σ_j p_θ(j) log(1 - D(v_j))``;
* generator: ``L_G = -Σ_j p_θ(j) log D(v_j)`` (the non-saturating loss).

With ``target=`` (the true distribution over the ``2**n`` outcomes) every step also reports
``kl = KL(target || p_θ)``, the relative entropy the paper tracks.

Example:
    >>> import numpy as np
    >>> from tfq_layers.generative import BornMachine, QGAN
    >>> disc = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> gan = QGAN(BornMachine(2, seed=0), disc)
    >>> gan.compile(keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01))
    >>> _ = gan.fit(np.array([0, 1, 1, 3]), epochs=1, batch_size=4, verbose=0)
    >>> gan.generator.probabilities().shape
    TensorShape([4])
"""

import numbers

import numpy as np
import tensorflow as tf

from tfq_layers._keras import keras, register
from tfq_layers.generative.base import GenerativeModel

__all__ = ["QGAN"]


@register("QGAN")
class QGAN(keras.Model):
    """Quantum GAN: ``generator`` (distribution over ``2**n`` outcomes) vs ``discriminator``.

    Args:
        generator: a :class:`GenerativeModel` (e.g. ``BornMachine(n)``).
        discriminator: a Keras model, values ``(B, 1)`` float32 -> ``D(x)`` ``(B, 1)`` in (0, 1).
        values: optional data value of each outcome (length ``2**n``); default ``0 .. 2**n - 1``.
        target: optional true distribution over the outcomes, for the ``kl`` metric.
        epsilon: floor inside the logarithms of the losses.
        **kwargs: ``name``, ``trainable``.
    """

    def __init__(self, generator, discriminator, values=None, target=None, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(generator, GenerativeModel):
            raise TypeError(
                "`generator` must be a tfq_layers.generative.GenerativeModel (e.g. BornMachine); "
                f"got {type(generator).__name__}."
            )
        if not isinstance(discriminator, keras.Model):
            raise TypeError(
                f"`discriminator` must be a Keras model; got {type(discriminator).__name__}."
            )
        self.generator = generator
        self.discriminator = discriminator
        n_out = 2**generator.n_bits
        values = np.arange(n_out) if values is None else np.asarray(values, dtype=np.float64)
        if values.shape != (n_out,) or not np.all(np.isfinite(values)):
            raise ValueError(
                f"`values` must be {n_out} finite numbers, one per outcome of the "
                f"{generator.n_bits}-qubit generator; got shape {values.shape}."
            )
        self.values = values.astype(np.float32)
        if target is not None:
            target = np.asarray(target, dtype=np.float64)
            if (
                target.shape != (n_out,)
                or not np.all(np.isfinite(target))
                or np.any(target < 0)
                or abs(target.sum() - 1) > 1e-6
            ):
                raise ValueError(
                    f"`target` must be a probability vector of length {n_out} (non-negative, "
                    "finite, summing to 1)."
                )
        self.target = target
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
            raise ValueError(f"`epsilon` must be a small positive number; got {epsilon!r}.")
        if not (np.isfinite(epsilon) and 0 < epsilon < 1):
            raise ValueError(
                f"`epsilon` (the floor that keeps log(D) finite) must be in (0, 1), e.g. 1e-8; "
                f"got {epsilon!r}."
            )
        self.epsilon = float(epsilon)
        object.__setattr__(self, "_trackers", None)

    def build(self, input_shape=None):
        if not self.generator.built:
            self.generator.build()
        if not self.discriminator.built:
            self.discriminator.build((None, 1))
        self.built = True

    def call(self, inputs, training=None):
        """``D(x)`` of values ``(B,)`` or ``(B, 1)``."""
        return self.discriminator(tf.reshape(tf.cast(inputs, tf.float32), (-1, 1)))

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        """Set one optimizer per player (Keras optimizers or names)."""
        super().compile(optimizer=None, loss=None, **kwargs)
        self.generator_optimizer = keras.optimizers.get(generator_optimizer)
        self.discriminator_optimizer = keras.optimizers.get(discriminator_optimizer)
        names = ["d_loss", "g_loss"] + (["kl"] if self.target is not None else [])
        object.__setattr__(self, "_trackers", {n: keras.metrics.Mean(name=n) for n in names})

    @property
    def metrics(self):
        return list(self._trackers.values()) if self._trackers else []

    def kl_to_target(self):
        """``KL(target || p_θ)`` in nats (float), or ``None`` without a target."""
        if self.target is None:
            return None
        p = np.asarray(self.generator.probabilities(), dtype=np.float64)
        t = self.target
        mask = t > 0
        return float(np.sum(t[mask] * np.log(t[mask] / np.maximum(p[mask], 1e-12))))

    def train_step(self, data):
        if isinstance(data, (tuple, list)):
            data = data[0]
        real = tf.reshape(tf.cast(data, tf.float32), (-1, 1))
        grid = tf.constant(self.values[:, None])
        eps = self.epsilon
        probs = tf.stop_gradient(tf.cast(self.generator.probabilities(), tf.float32))
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            d_real = self.discriminator(real, training=True)[:, 0]
            d_fake = self.discriminator(grid, training=True)[:, 0]
            d_loss = -tf.reduce_mean(tf.math.log(d_real + eps)) - tf.reduce_sum(
                probs * tf.math.log(1.0 - d_fake + eps)
            )
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            p = tf.cast(self.generator.probabilities(), tf.float32)
            d_fake = tf.stop_gradient(self.discriminator(grid, training=False)[:, 0])
            g_loss = -tf.reduce_sum(p * tf.math.log(d_fake + eps))
        self.generator_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
        self._trackers["d_loss"].update_state(d_loss)
        self._trackers["g_loss"].update_state(g_loss)
        if self.target is not None:
            t = tf.constant(self.target, tf.float64)
            q = tf.cast(p, tf.float64)
            safe = tf.where(t > 0, t, tf.ones_like(t))
            kl = tf.reduce_sum(t * (tf.math.log(safe) - tf.math.log(tf.maximum(q, 1e-12))))
            self._trackers["kl"].reset_state()  # the current value, not an epoch mean
            self._trackers["kl"].update_state(kl)
        return {n: m.result() for n, m in self._trackers.items()}

    def fit(self, x=None, y=None, **kwargs):
        """Train on real samples ``x``: data values ``(N,)`` (or ``(N, 1)``); ``y`` must be None."""
        if self._trackers is None:
            raise RuntimeError(
                "compile the QGAN first: gan.compile(generator_optimizer, discriminator_optimizer)."
            )
        if y is not None:
            raise ValueError("a QGAN learns from samples alone; pass y=None.")
        shape = getattr(x, "shape", None)
        if shape is not None and len(shape) > 1 and tuple(shape[1:]) != (1,):
            raise ValueError(
                f"a QGAN learns from samples of one real value each: x of shape (N,) or (N, 1); "
                f"got shape {tuple(shape)}. Pass the sampled values (one of `values` per sample), "
                "not bitstrings or feature rows."
            )
        self.build()
        return super().fit(x, **kwargs)
