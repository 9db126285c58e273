"""`GenerativeModel`: a Keras model of a probability distribution over n-bit strings.

A generative model here is a Keras ``Model`` whose "prediction" is a whole distribution: the
differentiable vector ``probabilities()`` of length ``2**n`` (bit/unit/qubit 0 is the most
significant bit of the index, see :mod:`tfq_layers.datasets`). ``model.fit(bitstrings)`` learns it
from an int array ``(N, n)`` of 0/1 samples with a custom ``train_step`` that works with Keras 3
(TensorFlow backend) and with the legacy ``tf_keras`` (``TF_USE_LEGACY_KERAS=1``).

Losses (``compile(loss=...)``), each comparing the model distribution ``p`` with the empirical
distribution ``p̂`` of the current batch (its histogram over the ``2**n`` outcomes):

* ``"nll"``: negative log-likelihood ``-mean_{x in batch} log(p(x) + ε) = -Σ_x p̂(x) log(p(x) + ε)``;
* ``"kl"``: ``KL(p̂ || p) = Σ_{x: p̂(x) > 0} p̂(x) log(p̂(x) / (p(x) + ε))``. It differs from
  ``"nll"`` by the batch entropy only, so both have the same gradient; ``"kl"`` reads as a distance
  (0 when the model equals the batch histogram). ``ε = kl_epsilon`` (default ``1e-10``) keeps the
  logarithm finite where the model puts (numerically) zero mass on a data point;
* ``"mmd"``: squared maximum mean discrepancy ``(p̂ - p)ᵀ K (p̂ - p)`` with the multi-bandwidth
  Gaussian kernel ``K(x, y) = mean_σ exp(-|x - y|² / (2σ))`` on bitstrings, where ``|x - y|²`` is the
  squared Euclidean = Hamming distance, and ``σ`` runs over ``mmd_bandwidths`` (default
  ``(0.25 n, n, 4 n)``). ``K`` is a Kronecker product of 2x2 matrices, so it is applied in
  ``O(n 2**n)`` without ever forming the ``2**n x 2**n`` matrix.

Metrics (``compile(metrics=[...])``) see the distribution, not per-sample predictions: after each
batch, ``train_step``/``test_step`` call ``metric.update_state(y_true, y_pred)`` with
``y_true = p̂[None, :]`` (the batch histogram, shape ``(1, 2**n)``) and ``y_pred = p[None, :]``
(the model's probability vector *before* the gradient step, shape ``(1, 2**n)``). The metrics of
:mod:`tfq_layers.metrics` (``KLDivergenceToTarget``, ``ValidFraction``, ``PatternCoverage``) are
written for that contract; progress bars show them next to ``loss``.

Writing a subclass (e.g. a Born machine whose probabilities come from a parameterized circuit):

* create the weights in ``build(self, input_shape=None)`` with ``self.add_weight(name=..., ...)`` and
  end with ``super().build(input_shape)``; ``fit``/``load_model`` call ``build()`` with no shape;
* implement ``probabilities()`` returning a differentiable tensor of shape ``(2**n,)``;
* optionally override ``loss_and_gradients(bitstrings, empirical)`` for another gradient (exact
  formulas, bounds, shot-based estimators); ``compute_generative_loss`` stays available;
* ``get_config`` must add the constructor arguments to ``super().get_config()``.
"""

import numbers

import numpy as np
import tensorflow as tf

from tfq_layers._keras import keras, register
from tfq_layers._xla import in_xla
from tfq_layers.datasets import (
    BINARIZE_HINT,
    check_n_bits,
    non_finite_message,
    not_bits_message,
    not_numbers_message,
    rank_message,
    sample_from,
    validate_bitstrings,
    width_message,
)
from tfq_layers.saving import save_model

__all__ = ["GenerativeModel", "LOSSES", "mmd_kernel_apply", "default_mmd_bandwidths"]

LOSSES = ("kl", "nll", "mmd")
_LOSS_ALIASES = {
    "kl": "kl",
    "kld": "kl",
    "kl_divergence": "kl",
    "kullback_leibler": "kl",
    "nll": "nll",
    "negative_log_likelihood": "nll",
    "mmd": "mmd",
    "mmd2": "mmd",
}


class _CompileState:
    """What ``compile`` sets on a generative model: its loss tracker, its metrics and the extra
    compile arguments kept for ``get_compile_config``. One plain object assigned in ``__init__``;
    ``compile`` changes its fields, which Keras's attribute tracking does not see: ``compile`` may
    run after ``build`` (e.g. in ``load_model``), when Keras 3 refuses new tracked state, and these
    metrics are not model weights."""

    __slots__ = ("loss_tracker", "metrics", "extra")

    def __init__(self):
        self.loss_tracker = None
        self.metrics = []
        self.extra = {}


def default_mmd_bandwidths(n_bits):
    """The default MMD bandwidths ``(0.25 n, n, 4 n)`` for ``n_bits`` bits (variances σ)."""
    return (0.25 * n_bits, 1.0 * n_bits, 4.0 * n_bits)


def mmd_kernel_apply(vector, n_bits, bandwidths):
    """Return ``K @ vector`` for the MMD kernel over ``n_bits``-bit strings (TensorFlow, float64).

    ``K = mean_σ ⊗_{i<n} [[1, a_σ], [a_σ, 1]]`` with ``a_σ = exp(-1 / (2σ))``, which equals
    ``mean_σ exp(-hamming(x, y) / (2σ))`` entrywise.

    Args:
        vector: tensor of shape ``(2**n_bits,)``.
        n_bits: number of bits.
        bandwidths: sequence of positive variances σ.

    Example:
        >>> v = tf.constant([1.0, 0.0], tf.float64)
        >>> mmd_kernel_apply(v, 1, [0.5]).numpy().round(4).tolist()
        [1.0, 0.3679]
    """
    vector = tf.cast(vector, tf.float64)
    total = tf.zeros_like(vector)
    for sigma in bandwidths:
        a = float(np.exp(-1.0 / (2.0 * float(sigma))))
        kernel = tf.constant([[1.0, a], [a, 1.0]], dtype=tf.float64)
        out = vector
        for i in range(n_bits):
            out = tf.reshape(out, (2**i, 2, 2 ** (n_bits - i - 1)))
            out = tf.einsum("ab,ibj->iaj", kernel, out)
        total += tf.reshape(out, (-1,))
    return total / float(len(bandwidths))


def _resolve_loss(loss):
    if isinstance(loss, str):
        key = loss.strip().lower()
        if key in _LOSS_ALIASES:
            return _LOSS_ALIASES[key]
    raise ValueError(
        f"Unsupported loss {loss!r} for a generative model. Use one of {list(LOSSES)}: "
        "'nll' (negative log-likelihood), 'kl' (KL(empirical || model)) or 'mmd' (squared MMD "
        "with a Gaussian kernel on bitstrings)."
    )


def _check_bandwidths(bandwidths):
    if bandwidths is None:
        return None
    if isinstance(bandwidths, numbers.Real):
        bandwidths = [bandwidths]
    try:
        values = [float(b) for b in bandwidths]
    except (TypeError, ValueError):
        raise ValueError(
            f"`mmd_bandwidths` must be a list of positive numbers; received {bandwidths!r}."
        ) from None
    if not values or any(not np.isfinite(b) or b <= 0 for b in values):
        raise ValueError(f"`mmd_bandwidths` must be positive numbers; received {bandwidths!r}.")
    return tuple(values)


@register("GenerativeModel")
class GenerativeModel(keras.Model):
    """Base class of trainable distributions over ``n_bits``-bit strings.

    Subclasses implement ``build`` (weights) and ``probabilities()``; this class provides
    ``compile(loss="kl" | "nll" | "mmd")``, ``fit(bitstrings)``, ``evaluate``, ``sample``,
    ``call`` (probability of each given bitstring) and saving. See the module docstring for the
    exact losses and for how metrics receive the distribution.

    Args:
        n_bits: number of bits of each sample (>= 1).
        **kwargs: ``name``, ``dtype`` (variable dtype, e.g. ``"float64"``), ``trainable``.

    Example:
        >>> from tfq_layers.generative import QuantumBoltzmannMachine
        >>> from tfq_layers.datasets import bars_and_stripes
        >>> model = QuantumBoltzmannMachine(n_visible=4, n_hidden=1, seed=0)
        >>> model.compile(optimizer="adam", loss="kl")
        >>> history = model.fit(bars_and_stripes(2, 2), epochs=2, verbose=0)
        >>> model.sample(3, seed=0).shape
        (3, 4)
    """

    def __init__(self, n_bits, **kwargs):
        super().__init__(**kwargs)
        self.n_bits = check_n_bits(n_bits, "n_bits")
        self._gen_loss = None
        self._kl_epsilon = 1e-10
        self._mmd_bandwidths = None
        self._compile_state = _CompileState()

    # ------------------------------------------------------------------ weights & the distribution
    def build(self, input_shape=None):
        """Create the weights (subclasses add theirs, then call ``super().build(input_shape)``)."""
        # Do not call keras.Model.build: tf_keras refuses `input_shape=None` for subclassed models.
        self.built = True

    def get_build_config(self):
        # None for an unbuilt model: load_model then leaves it unbuilt (there are no weights saved).
        return {"n_bits": self.n_bits} if self.built else None

    def build_from_config(self, config):
        if not self.built:
            self.build()

    def probabilities(self):
        """Return the model distribution, a differentiable tensor of shape ``(2**n_bits,)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement probabilities() returning a (2**n,) tensor."
        )

    def call(self, inputs, training=None):
        """Probability ``p(x)`` of each bitstring of a batch ``(B, n_bits)``; returns ``(B,)``."""
        idx = self.bits_to_index_tf(inputs)
        return tf.gather(tf.reshape(self.probabilities(), (-1,)), idx)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def bits_to_index_tf(self, bitstrings):
        """TensorFlow version of :func:`tfq_layers.datasets.bits_to_index` (bit 0 most significant)."""
        bits = tf.cast(bitstrings, tf.int32)
        place = tf.constant(2 ** np.arange(self.n_bits - 1, -1, -1), dtype=tf.int32)
        return tf.reduce_sum(bits * place, axis=-1)

    def empirical_distribution_tf(self, bitstrings):
        """Histogram of a batch ``(B, n_bits)`` over the ``2**n_bits`` outcomes (float64, sums to 1)."""
        idx = self.bits_to_index_tf(bitstrings)
        ones = tf.ones_like(idx, dtype=tf.float64)
        counts = tf.math.unsorted_segment_sum(ones, idx, num_segments=2**self.n_bits)
        return counts / tf.reduce_sum(counts)

    def sample(self, k, seed=None):
        """Draw ``k`` bitstrings from ``probabilities()``.

        Args:
            k: number of samples.
            seed: int, ``None`` or ``np.random.Generator``.

        Returns:
            int32 NumPy array of shape ``(k, n_bits)``.
        """
        if not self.built:
            self.build()
        probs = np.asarray(self.probabilities(), dtype=np.float64)
        return sample_from(probs, k, seed)

    # ------------------------------------------------------------------ compile, losses, metrics
    def compile(
        self,
        optimizer="adam",
        loss="kl",
        metrics=None,
        kl_epsilon=1e-10,
        mmd_bandwidths=None,
        **kwargs,
    ):
        """Configure training.

        Args:
            optimizer: a Keras optimizer or its name.
            loss: ``"kl"`` (default), ``"nll"`` or ``"mmd"`` (see the module docstring). Keras'
                own loss objects are not accepted: a generator has no per-sample targets.
            metrics: list of distribution metrics, e.g. from :mod:`tfq_layers.metrics`; they are
                updated with ``(batch histogram, model probabilities)``, each of shape ``(1, 2**n)``.
            kl_epsilon: ``ε`` added to model probabilities inside logarithms (``"kl"``/``"nll"``).
            mmd_bandwidths: kernel variances σ for ``"mmd"``; default ``(0.25 n, n, 4 n)``.
            **kwargs: passed to ``keras.Model.compile`` (``run_eagerly``, ``steps_per_execution``,
                ``jit_compile``).
        """
        for bad in ("loss_weights", "weighted_metrics"):
            if kwargs.get(bad) is not None:
                raise ValueError(
                    f"`{bad}` is not supported by generative models; received {kwargs[bad]!r}."
                )
            kwargs.pop(bad, None)
        gen_loss = _resolve_loss(loss)
        if metrics is None:
            metrics = []
        elif not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        for m in metrics:
            if not isinstance(m, keras.metrics.Metric):
                raise TypeError(
                    f"Generative models take metric objects that read a probability vector, e.g. "
                    f"tfq_layers.metrics.KLDivergenceToTarget(target); received {m!r}."
                )
        eps = float(kl_epsilon)
        if not np.isfinite(eps) or eps < 0:
            raise ValueError(
                f"`kl_epsilon` must be a small non-negative number; received {kl_epsilon!r}."
            )
        bandwidths = _check_bandwidths(mmd_bandwidths)
        self._check_loss_supported(gen_loss)
        super().compile(optimizer=optimizer, loss=None, metrics=None, **kwargs)
        self._gen_loss = gen_loss
        self._kl_epsilon = eps
        self._mmd_bandwidths = bandwidths
        state = self._compile_state
        state.loss_tracker = keras.metrics.Mean(name="loss")
        state.metrics = list(metrics)
        state.extra = {
            k: v for k, v in kwargs.items() if k in ("run_eagerly", "steps_per_execution")
        }

    def _check_loss_supported(self, loss):
        """Hook for subclasses that support only some losses (raise ``ValueError``)."""

    @property
    def generative_loss(self):
        """The resolved loss name (``"kl"``, ``"nll"`` or ``"mmd"``), ``None`` before compile."""
        return self._gen_loss

    @property
    def mmd_bandwidths(self):
        """The MMD kernel variances in use (defaults resolved)."""
        return self._mmd_bandwidths or default_mmd_bandwidths(self.n_bits)

    @property
    def _gen_loss_tracker(self):
        state = getattr(self, "_compile_state", None)  # None while Keras's __init__ runs
        return None if state is None else state.loss_tracker

    @property
    def _gen_metrics(self):
        state = getattr(self, "_compile_state", None)
        return [] if state is None else state.metrics

    @property
    def _gen_compile_extra(self):
        state = getattr(self, "_compile_state", None)
        return {} if state is None else state.extra

    @property
    def metrics(self):
        out = []
        if self._gen_loss_tracker is not None:
            out.append(self._gen_loss_tracker)
        out.extend(self._gen_metrics)
        return out

    def compute_generative_loss(self, bitstrings, empirical, probs, loss=None):
        """The configured loss of ``probs`` (model) against ``empirical`` (batch histogram).

        Args:
            bitstrings: the batch ``(B, n)`` (unused by the built-in losses, there for subclasses).
            empirical: batch histogram, shape ``(2**n,)``.
            probs: model distribution, shape ``(2**n,)``.
            loss: loss name; default the compiled one.

        Returns:
            float64 scalar tensor.
        """
        loss = loss or self._gen_loss or "kl"
        probs = tf.cast(tf.reshape(probs, (-1,)), tf.float64)
        empirical = tf.cast(empirical, tf.float64)
        eps = tf.constant(self._kl_epsilon, tf.float64)
        if loss == "nll":
            return -tf.reduce_sum(empirical * tf.math.log(probs + eps))
        if loss == "kl":
            safe = tf.where(empirical > 0, empirical, tf.ones_like(empirical))
            return tf.reduce_sum(empirical * (tf.math.log(safe) - tf.math.log(probs + eps)))
        if loss == "mmd":
            diff = empirical - probs
            k_diff = mmd_kernel_apply(diff, self.n_bits, self.mmd_bandwidths)
            return tf.reduce_sum(diff * k_diff)
        raise ValueError(f"Unknown loss {loss!r}; use one of {list(LOSSES)}.")

    def loss_and_gradients(self, bitstrings, empirical):
        """Loss, gradients for ``self.trainable_variables`` and the model probabilities.

        The default differentiates ``compute_generative_loss(probabilities())`` by autodiff.
        Override for other gradient estimators; return ``(loss, grads, probs)`` where ``probs``
        (shape ``(2**n,)``) is handed to the metrics, or ``None`` to skip metrics needing it.
        """
        with tf.GradientTape() as tape:
            probs = self.probabilities()
            loss = self.compute_generative_loss(bitstrings, empirical, probs)
        grads = tape.gradient(loss, self.trainable_variables)
        return loss, grads, probs

    def _unpack_bitstrings(self, data):
        if isinstance(data, (tuple, list)):
            data = data[0]
        return self.check_bitstrings_tf(data)

    def check_bitstrings_tf(self, bits, name="x"):
        """A batch of bitstrings as int32, checked in the graph like NumPy input is checked up front
        (:func:`tfq_layers.datasets.validate_bitstrings`, same phrases): rank 2, width
        ``n_bits``, finite, only 0 and 1. ``fit`` calls it on every batch, so a ``tf.data`` set (or
        a Python generator) with a NaN, a 3 or the wrong width fails at once with a message instead
        of training on garbage or failing deep inside ``UnsortedSegmentSum``.

        A bad value raises ``tf.errors.InvalidArgumentError`` (the graph cannot raise
        ``ValueError``); a wrong static shape or dtype raises ``ValueError``/``TypeError`` while
        tracing. Under XLA (``jit_compile=True``) the value checks compile to nothing.
        """
        bits = tf.convert_to_tensor(bits)
        n = self.n_bits
        if bits.dtype.is_complex or bits.dtype == tf.string:
            raise TypeError(not_numbers_message(name, f"a tensor of dtype {bits.dtype.name}"))
        if bits.shape.rank is not None and bits.shape.rank != 2:
            raise ValueError(
                f"{rank_message(name, n)}; received batches of shape {bits.shape}. "
                "Did you forget `.batch(...)`?"
            )
        if bits.shape.rank == 2 and bits.shape[-1] is not None and bits.shape[-1] != n:
            raise ValueError(f"{width_message(name, bits.shape[-1], n)}.")
        if bits.dtype == tf.bool:
            return tf.cast(bits, tf.int32)
        if tf.executing_eagerly():  # run_eagerly=True: the NumPy check itself, same exceptions
            return tf.constant(validate_bitstrings(bits.numpy(), n, name=name))
        if in_xla():
            return tf.cast(bits, tf.int32)
        checks = [
            tf.debugging.assert_rank(bits, 2, message=rank_message(name, n)),
            tf.debugging.assert_equal(
                tf.shape(bits)[-1],
                n,
                message=width_message(name, None, n),
            ),
        ]
        if bits.dtype.is_floating:
            checks.append(
                tf.debugging.Assert(
                    tf.reduce_all(tf.math.is_finite(bits)),
                    [f"{non_finite_message(name)}; bitstrings must contain only 0 and 1."],
                )
            )
        is_bit = tf.logical_or(
            tf.equal(bits, tf.zeros_like(bits)), tf.equal(bits, tf.ones_like(bits))
        )
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all(is_bit),
                [not_bits_message(name), tf.boolean_mask(bits, ~is_bit)[:5], BINARIZE_HINT],
            )
        )
        with tf.control_dependencies(checks):
            return tf.identity(tf.cast(bits, tf.int32))  # a cast to the same dtype is no new op

    def _update_metrics(self, loss, empirical, probs):
        self._gen_loss_tracker.update_state(tf.cast(loss, tf.float32))
        if self._gen_metrics:
            if probs is None:
                probs = self.probabilities()
            y_true = tf.reshape(tf.cast(empirical, tf.float32), (1, -1))
            y_pred = tf.reshape(tf.cast(probs, tf.float32), (1, -1))
            for m in self._gen_metrics:
                m.update_state(y_true, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def _require_compiled(self):
        if self._gen_loss_tracker is None:
            raise RuntimeError(
                f"{type(self).__name__} must be compiled before training or evaluation: call "
                "model.compile(optimizer='adam', loss='kl')."
            )

    def train_step(self, data):
        bitstrings = self._unpack_bitstrings(data)
        empirical = self.empirical_distribution_tf(bitstrings)
        loss, grads, probs = self.loss_and_gradients(bitstrings, empirical)
        pairs = [(g, v) for g, v in zip(grads, self.trainable_variables) if g is not None]
        if pairs:
            self.optimizer.apply_gradients(pairs)
        return self._update_metrics(loss, empirical, probs)

    def test_step(self, data):
        bitstrings = self._unpack_bitstrings(data)
        empirical = self.empirical_distribution_tf(bitstrings)
        probs = self.probabilities()
        loss = self.compute_generative_loss(bitstrings, empirical, probs)
        return self._update_metrics(loss, empirical, probs)

    # ------------------------------------------------------------------ fit / evaluate with validation
    def _validate_input(self, x, name):
        if x is None:
            raise ValueError(
                f"`{name}` is required: pass an int array (N, {self.n_bits}) of 0/1 bitstrings."
            )
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            if isinstance(spec, (tuple, list)):
                spec = spec[0]
            width = spec.shape[-1] if spec.shape.rank else None
            if spec.shape.rank is not None and spec.shape.rank != 2:
                raise ValueError(
                    f"`{name}` dataset must yield batches of shape (batch, {self.n_bits}); "
                    f"its element spec has shape {spec.shape}. Did you forget `.batch(...)`?"
                )
            if width is not None and width != self.n_bits:
                raise ValueError(
                    f"`{name}` dataset yields bitstrings of width {width}, but the model expects "
                    f"n = {self.n_bits} bits."
                )
            return x
        if isinstance(x, (np.ndarray, list, tf.Tensor)) or hasattr(x, "__array__"):
            return validate_bitstrings(x, self.n_bits, name=name)
        return x  # generators / PyDataset: checked batch by batch by TF shapes only

    def fit(self, x=None, y=None, *args, **kwargs):
        """Train on bitstrings ``x`` of shape ``(N, n_bits)`` (validated first); ``y`` must be None.

        Accepts Keras' ``fit`` arguments (``epochs``, ``batch_size``, ``validation_data``,
        ``callbacks``, ...). ``validation_data`` is a bitstring array (or dataset) as well.
        """
        if y is not None:
            raise ValueError(
                f"{type(self).__name__}.fit learns a distribution from x alone; received y of type "
                f"{type(y).__name__}. Call fit(bitstrings, epochs=..., batch_size=...)."
            )
        self._require_compiled()
        x = self._validate_input(x, "x")
        val = kwargs.get("validation_data")
        if val is not None:
            if isinstance(val, tuple) and len(val) == 1:
                val = val[0]
            kwargs["validation_data"] = self._validate_input(val, "validation_data")
        if not self.built:
            self.build()
        return super().fit(x, None, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Loss and metrics of the model against bitstrings ``x`` ``(N, n_bits)`` (validated)."""
        if y is not None:
            raise ValueError(
                f"{type(self).__name__}.evaluate takes bitstrings x alone; received y of type "
                f"{type(y).__name__}."
            )
        self._require_compiled()
        x = self._validate_input(x, "x")
        if not self.built:
            self.build()
        return super().evaluate(x, None, *args, **kwargs)

    # ------------------------------------------------------------------ serialization
    def save(self, filepath, *args, **kwargs):
        """``keras.Model.save``, made atomic (:func:`tfq_layers.saving.save_model`): the file is
        written under a temporary name and renamed over ``filepath`` only when complete, so a
        failed save keeps the previous file."""
        if args:  # Keras' positional order: save(filepath, overwrite, ...)
            kwargs.setdefault("overwrite", args[0])
        return save_model(self, filepath, **kwargs)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype_policy.name,
            "n_bits": self.n_bits,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_compile_config(self):
        if self._gen_loss_tracker is None or getattr(self, "optimizer", None) is None:
            return None
        return {
            "optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "loss": self._gen_loss,
            "metrics": [keras.saving.serialize_keras_object(m) for m in self._gen_metrics],
            "kl_epsilon": self._kl_epsilon,
            "mmd_bandwidths": list(self._mmd_bandwidths) if self._mmd_bandwidths else None,
            **self._gen_compile_extra,
        }

    def compile_from_config(self, config):
        config = dict(config)
        optimizer = keras.saving.deserialize_keras_object(config.pop("optimizer"))
        metrics = [keras.saving.deserialize_keras_object(m) for m in config.pop("metrics", [])]
        self.compile(optimizer=optimizer, metrics=metrics, **config)
        if self.built and hasattr(self.optimizer, "build"):
            self.optimizer.build(self.trainable_variables)
